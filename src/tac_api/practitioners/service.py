"""Community practitioners: a shared directory, and who works with which mother and child."""

import uuid
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.db import contains_text, touch
from tac_api.errors import Conflict, InvalidInput, NotFound
from tac_api.mothers.service import MOTHERS
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.practitioners.schemas import (
    PractitionerCreate,
    PractitionerLinkCreate,
    PractitionerLinkPublic,
    PractitionerPublic,
    PractitionerUpdate,
)
from tac_api.preconditions import check_if_match
from tac_api.reference.service import require_current_authority
from tac_api.resources import Resource, get_visible
from tac_api.scope import practitioner_link_visible, practitioner_visible


def search(caller: Caller, role: str | None, q: str | None) -> Select[Any]:
    statement = select(Practitioner).where(practitioner_visible(caller))
    if role:
        statement = statement.where(Practitioner.role == role)
    if q:
        statement = statement.where(contains_text(q, Practitioner.name, Practitioner.organisation))
    return statement


PRACTITIONERS = Resource(
    kind="practitioner",
    model=Practitioner,
    label="practitioner",
    order=(Practitioner.name, Practitioner.id),
    subject=None,
)


async def create_practitioner(session: AsyncSession, data: PractitionerCreate) -> Practitioner:
    if data.local_authority_code:
        await require_current_authority(session, "local_authority_code", data.local_authority_code)
    practitioner = Practitioner(**data.model_dump())
    session.add(practitioner)
    await session.flush()
    return practitioner


async def update_practitioner(
    session: AsyncSession,
    caller: Caller,
    practitioner_id: uuid.UUID,
    data: PractitionerUpdate,
    if_match: str | None,
) -> Practitioner:
    practitioner = await get_visible(
        session, caller, PRACTITIONERS, practitioner_id, for_update=True
    )
    check_if_match(if_match, practitioner.version)
    changes = data.changes()
    if changes.get("local_authority_code"):
        await require_current_authority(
            session, "local_authority_code", changes["local_authority_code"]
        )
    for field, value in changes.items():
        setattr(practitioner, field, value)
    touch(practitioner)
    await session.flush()
    return practitioner


async def link(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: PractitionerLinkCreate
) -> PractitionerLinkPublic:
    await get_visible(session, caller, MOTHERS, mother_id)
    practitioner = await session.scalar(
        select(Practitioner).where(
            Practitioner.id == data.practitioner_id, practitioner_visible(caller)
        )
    )
    if practitioner is None:
        raise InvalidInput("practitioner_id", "no such practitioner is visible to you")
    if data.child_id is not None:
        child_mother = await session.scalar(
            select(Child.mother_id).where(Child.id == data.child_id)
        )
        if child_mother != mother_id:
            raise InvalidInput("child_id", "is not one of her children")
    duplicate = await session.scalar(
        select(PractitionerLink.id).where(
            PractitionerLink.practitioner_id == data.practitioner_id,
            PractitionerLink.mother_id == mother_id,
            PractitionerLink.child_id.is_(None)
            if data.child_id is None
            else PractitionerLink.child_id == data.child_id,
        )
    )
    if duplicate is not None:
        raise Conflict("This practitioner is already linked here.")
    new_link = PractitionerLink(mother_id=mother_id, **data.model_dump())
    session.add(new_link)
    await session.flush()
    return link_public(new_link, practitioner)


def link_public(link: PractitionerLink, practitioner: Practitioner) -> PractitionerLinkPublic:
    return PractitionerLinkPublic.model_validate(
        {**link.model_dump(), "practitioner": PractitionerPublic.model_validate(practitioner)}
    )


def links_of(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    return (
        select(PractitionerLink, Practitioner)
        .join(Practitioner, Practitioner.id == PractitionerLink.practitioner_id)
        .where(PractitionerLink.mother_id == mother_id, practitioner_link_visible(caller))
    )


LINK_ORDER = [PractitionerLink.id]
# A link is made and removed, never changed: it stays at its first version, the ETag its POST
# answers with, so that removing it takes If-Match as every other change does.
LINK_VERSION = 1


async def unlink(
    session: AsyncSession, caller: Caller, link_id: uuid.UUID, if_match: str | None
) -> uuid.UUID:
    """Remove the link; returns the id of the mother whose circle it was in."""
    found = await session.scalar(
        select(PractitionerLink.mother_id).where(
            PractitionerLink.id == link_id, practitioner_link_visible(caller)
        )
    )
    if found is None:
        raise NotFound(f"No practitioner link with id {link_id} is visible to you.")
    check_if_match(if_match, LINK_VERSION)
    await session.execute(delete(PractitionerLink).where(PractitionerLink.id == link_id))
    return found
