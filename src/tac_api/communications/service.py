"""Communications: the one scoped statement, and the rules of what was relayed and of life story
contributions."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.children.service import sees_placement
from tac_api.communications.models import Communication, CommunicationChild
from tac_api.communications.schemas import CommunicationCreate, CommunicationPublic
from tac_api.db import utcnow
from tac_api.errors import InvalidInput, NotFound
from tac_api.mothers.service import MOTHERS
from tac_api.notice import CLOCK_SKEW
from tac_api.resources import ChildLinks, Resource, get_visible
from tac_api.scope import communication_visible, concerning_child

# Contact arrangements under which a child is not to hear from her directly.
NO_CONTACT = "none"
LIFE_STORY_ARRANGEMENTS = ("none", "indirect_only")


# A carer named here is the carer of a child it concerns.
CARER = "carer"


def to_public(
    communication: Communication, child_ids: list[uuid.UUID], placement_hidden: bool = False
) -> CommunicationPublic:
    """`placement_hidden`: a child it concerns is placed confidentially out of this caller's
    sight, so a carer's name is withheld (the party still says a carer)."""
    public = communication.model_dump()
    if placement_hidden:
        for side in ("from", "to"):
            if public[f"{side}_party"] == CARER:
                public[f"{side}_name"] = None
    return CommunicationPublic.model_validate({**public, "child_ids": child_ids})


async def children_of(
    session: AsyncSession, caller: Caller, communication_ids: Iterable[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], set[uuid.UUID]]:
    """The children each communication concerns, as this caller may see them, and the
    communications concerning a child whose confidential placement this caller may not see
    (every child counts there, shown or not): one statement for a whole page."""
    ids = list(communication_ids)
    found: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    placement_hidden: set[uuid.UUID] = set()
    if not ids:
        return found, placement_hidden
    rows = await session.execute(
        select(
            CommunicationChild.communication_id,
            CommunicationChild.child_id,
            Child.local_authority_code,
            Child.placement_confidential,
        )
        .join(Child, Child.id == CommunicationChild.child_id)
        .where(CommunicationChild.communication_id.in_(ids))
        .order_by(CommunicationChild.communication_id, CommunicationChild.child_id)
    )
    for row in rows.mappings():
        communication_id = row["communication_id"]
        if not sees_placement(caller, row):
            placement_hidden.add(communication_id)
        if (
            not caller.is_local_authority
            or row["local_authority_code"] == caller.local_authority_code
        ):
            found[communication_id].append(row["child_id"])
    return found, placement_hidden


async def public_page(
    session: AsyncSession, caller: Caller, communications: list[Communication]
) -> list[CommunicationPublic]:
    children, placement_hidden = await children_of(session, caller, (c.id for c in communications))
    return [to_public(c, children[c.id], c.id in placement_hidden) for c in communications]


async def get_communication(
    session: AsyncSession, caller: Caller, communication_id: uuid.UUID
) -> CommunicationPublic:
    communication = await session.scalar(
        select(Communication).where(
            Communication.id == communication_id, communication_visible(caller)
        )
    )
    if communication is None:
        raise NotFound(f"No communication with id {communication_id} is visible to you.")
    return (await public_page(session, caller, [communication]))[0]


def search(
    caller: Caller, mother_id: uuid.UUID, kind: str | None, child_id: uuid.UUID | None
) -> Select[Any]:
    statement = select(Communication).where(
        Communication.mother_id == mother_id, communication_visible(caller)
    )
    if kind:
        statement = statement.where(Communication.kind == kind)
    if child_id:
        link = CommunicationChild
        statement = statement.where(
            concerning_child(
                caller, Communication.id, link.communication_id, link.child_id, child_id
            )
        )
    return statement


COMMUNICATIONS = Resource(
    kind="communication",
    model=Communication,
    label="communication",
    order=(Communication.occurred_at, Communication.id),
    children=ChildLinks(CommunicationChild.communication_id, CommunicationChild.child_id),
    when=Communication.occurred_at,
)


def _rules(data: CommunicationCreate, now: datetime) -> list[tuple[str, str]]:
    problems = []
    if data.occurred_at > now + CLOCK_SKEW:
        problems.append(("occurred_at", "cannot be in the future"))
    if data.from_party == data.to_party and data.from_party != "other":
        problems.append(("to_party", "must differ from from_party"))
    if len(set(data.child_ids)) != len(data.child_ids):
        problems.append(("child_ids", "names a child twice"))
    if data.kind == "life_story_contribution":
        if len(data.child_ids) != 1:
            problems.append(("child_ids", "a life story contribution names exactly one child"))
        if data.item_description is None:
            problems.append(
                ("item_description", "describe the item (a letter, a photo, a memory book page)")
            )
    else:
        if data.item_description is not None:
            problems.append(("item_description", "only a life story contribution has an item"))
        if "child" in (data.from_party, data.to_party) and not data.child_ids:
            problems.append(("child_ids", "name the child it was relayed to or from"))
    return problems


def _child_rules(
    data: CommunicationCreate, arrangements: dict[uuid.UUID, str]
) -> list[tuple[str, str]]:
    """Rules that depend on the children named: each must be hers, and her contact with each
    must allow what is recorded."""
    problems = []
    direct = "child" in (data.from_party, data.to_party)
    for n, child_id in enumerate(data.child_ids):
        field = f"child_ids.{n}"
        arrangement = arrangements.get(child_id)
        if arrangement is None:
            problems.append((field, "is not one of her children"))
        elif data.kind == "life_story_contribution":
            if arrangement not in LIFE_STORY_ARRANGEMENTS:
                problems.append(
                    (
                        field,
                        "life story contributions are for children with whom contact is not "
                        f"appropriate; this child's contact is {arrangement}",
                    )
                )
        elif direct and arrangement == NO_CONTACT:
            problems.append(
                (
                    field,
                    "contact with this child is not appropriate (arrangement: none); "
                    "record a life story contribution instead",
                )
            )
    return problems


async def create_communication(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: CommunicationCreate
) -> CommunicationPublic:
    mother = await get_visible(session, caller, MOTHERS, mother_id)
    InvalidInput.raise_any(_rules(data, utcnow()))
    arrangements: dict[uuid.UUID, str] = {}
    placement_hidden = False
    if data.child_ids:
        rows = await session.execute(
            select(
                Child.id,
                Child.contact_arrangement,
                Child.local_authority_code,
                Child.placement_confidential,
            ).where(Child.id.in_(data.child_ids), Child.mother_id == mother.id)
        )
        found = list(rows.mappings())
        arrangements = {row["id"]: row["contact_arrangement"] for row in found}
        placement_hidden = any(not sees_placement(caller, row) for row in found)
    InvalidInput.raise_any(_child_rules(data, arrangements))
    communication = Communication(mother_id=mother.id, **data.model_dump(exclude={"child_ids"}))
    session.add(communication)
    await session.flush()
    if data.child_ids:
        await session.execute(
            insert(CommunicationChild.__table__),
            [{"communication_id": communication.id, "child_id": c} for c in data.child_ids],
        )
    return to_public(communication, sorted(data.child_ids), placement_hidden)
