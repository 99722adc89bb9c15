"""The world builder: mothers, their children in given authorities, the clients that act on
them. Built through the API, as a client would; each test asks for the shape it is about."""

import uuid
from typing import Any

from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client
from tests.support.api import Api


def child(first_name: str, authority: str = "801", **fields: Any) -> dict[str, Any]:
    """One child of a family to build: her name, her local authority, any other field."""
    return {"first_name": first_name, "local_authority_code": authority, **fields}


# Siblings split across authorities: what most scope rules are about.
SPLIT = {"bristol": child("Rhys", "801"), "surrey": child("Nia", "936")}


def family(
    api: Api, children: dict[str, dict[str, Any]] | None = None, **mother: Any
) -> dict[str, Any]:
    """A mother (`mother`: her fields over the defaults, e.g. prison_code="SDI") with these
    children, each under its key: {"mother": {...}, "bristol": {...}, "surrey": {...}}.
    Without `children`: a Bristol child and a Surrey child."""
    made = api.mother(**mother)
    built = {key: api.child(made["id"], **fields) for key, fields in (children or SPLIT).items()}
    return {"mother": made, **built}


def ids(world: dict[str, Any]) -> dict[str, str]:
    """The same family by ids only, for tests that name records by id."""
    return {key: record["id"] for key, record in world.items()}


def linked_mother(api: Api, *authorities: str) -> dict[str, Any]:
    """A mother each of these authorities (Bristol by default) is linked to: the prison side
    recorded an older child of hers in it (one child each, counted by tests that count)."""
    mother = api.mother()
    for authority in authorities or ("801",):
        api.child(
            mother["id"],
            local_authority_code=authority,
            first_name="Eldest",
            date_of_birth="2009-01-02",
        )
    return mother


def surrey_system(api: Api) -> dict[str, str]:
    """Headers for Surrey's case-management system (a second authority's la_system client)."""

    async def make() -> str:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            _, token = await create_client(
                session,
                name=f"surrey-system-{uuid.uuid4().hex[:8]}",
                role=Role.la_system,
                local_authority_code="936",
            )
        return token

    token = api.client.portal.call(make)  # type: ignore[union-attr]
    return {"Authorization": f"Bearer {token}"}
