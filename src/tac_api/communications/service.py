"""Communications: the one scoped statement, and the rules of what was relayed and of life story
contributions."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.children.service import sees_placement
from tac_api.communications.models import Communication, CommunicationChild
from tac_api.communications.schemas import CommunicationCreate, CommunicationPublic
from tac_api.db import utcnow
from tac_api.errors import InvalidInput
from tac_api.mothers.service import MOTHERS
from tac_api.notice import CLOCK_SKEW
from tac_api.resources import (
    ChildLinks,
    Resource,
    check_children,
    children_and_hidden_placements,
    get_visible,
    list_visible,
    set_children,
)

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


async def public_page(
    session: AsyncSession, caller: Caller, communications: list[Communication]
) -> list[CommunicationPublic]:
    """Communications with their children: one statement, however many."""
    children, placement_hidden = await children_and_hidden_placements(
        session, caller, COMMUNICATIONS, (c.id for c in communications)
    )
    return [to_public(c, children[c.id], c.id in placement_hidden) for c in communications]


COMMUNICATIONS = Resource(
    kind="communication",
    model=Communication,
    label="communication",
    order=(Communication.occurred_at, Communication.id),
    children=ChildLinks(CommunicationChild.communication_id, CommunicationChild.child_id),
    when=Communication.occurred_at,
    path="/v1/communications",
)


def search(
    caller: Caller,
    mother_id: uuid.UUID,
    *,
    kind: str | None = None,
    child_id: uuid.UUID | None = None,
) -> Select[Any]:
    statement = list_visible(caller, COMMUNICATIONS, mother_id=mother_id, child_id=child_id)
    if kind:
        statement = statement.where(Communication.kind == kind)
    return statement


def _rules(data: CommunicationCreate, now: datetime) -> list[tuple[str, str]]:
    problems = []
    if data.occurred_at > now + CLOCK_SKEW:
        problems.append(("occurred_at", "cannot be in the future"))
    if data.from_party == data.to_party and data.from_party != "other":
        problems.append(("to_party", "must differ from from_party"))
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
    """Her contact with each child named (hers, each once: `check_children`) must allow what is
    recorded."""
    problems = []
    direct = "child" in (data.from_party, data.to_party)
    for n, child_id in enumerate(data.child_ids):
        field = f"child_ids.{n}"
        arrangement = arrangements[child_id]
        if data.kind == "life_story_contribution":
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
    await check_children(session, caller, mother.id, data.child_ids)
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
    await set_children(session, COMMUNICATIONS, communication.id, data.child_ids)
    return to_public(communication, sorted(data.child_ids), placement_hidden)
