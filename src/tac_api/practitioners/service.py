"""Community practitioners: a shared directory, and who works with which mother and child."""

import uuid
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.db import contains_text
from tac_api.errors import Conflict, InvalidInput
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
from tac_api.reference.service import require_named_authority
from tac_api.resources import Resource, apply_changes, get_for_change, get_visible, list_visible

PRACTITIONERS = Resource(
    kind="practitioner",
    model=Practitioner,
    label="practitioner",
    order=(Practitioner.name, Practitioner.id),
    subject=None,
    public=PractitionerPublic,
    path="/v1/practitioners",
)
PRACTITIONER_LINKS = Resource(
    kind="practitioner_link",
    model=PractitionerLink,
    label="practitioner link",
    order=(PractitionerLink.id,),
)


def search(caller: Caller, role: str | None, q: str | None) -> Select[Any]:
    statement = list_visible(caller, PRACTITIONERS)
    if role:
        statement = statement.where(Practitioner.role == role)
    if q:
        statement = statement.where(contains_text(q, Practitioner.name, Practitioner.organisation))
    return statement


async def create_practitioner(session: AsyncSession, data: PractitionerCreate) -> Practitioner:
    await require_named_authority(session, "local_authority_code", data.local_authority_code)
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
) -> tuple[Practitioner, dict[str, Any]]:
    """The entry changed, and what changed (nothing: the entry as it was, its version kept)."""
    practitioner = await get_for_change(session, caller, PRACTITIONERS, practitioner_id, if_match)
    changes = data.changes()
    await require_named_authority(
        session,
        "local_authority_code",
        changes.get("local_authority_code"),
        practitioner.local_authority_code,
    )
    changed = apply_changes(practitioner, changes)
    await session.flush()
    return practitioner, changed


async def link(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: PractitionerLinkCreate
) -> tuple[PractitionerLink, Practitioner]:
    """The new link, and the practitioner it names (shown with it)."""
    await get_visible(session, caller, MOTHERS, mother_id)
    practitioner = await session.scalar(
        list_visible(caller, PRACTITIONERS).where(Practitioner.id == data.practitioner_id)
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
    return new_link, practitioner


def to_public(link: PractitionerLink, practitioner: Practitioner) -> PractitionerLinkPublic:
    """A link as shown: with the practitioner it names."""
    return PractitionerLinkPublic.model_validate(
        {**link.model_dump(), "practitioner": PRACTITIONERS.to_public(practitioner)}
    )


def links_of(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    """Her links the caller may see, each row the link and its practitioner."""
    return (
        list_visible(caller, PRACTITIONER_LINKS, mother_id=mother_id)
        .add_columns(Practitioner)
        .join(Practitioner, Practitioner.id == PractitionerLink.practitioner_id)
    )


def link_of(row: Any) -> uuid.UUID:
    """The link a listed row holds: a cursor names it by id alone."""
    return row.PractitionerLink.id


async def unlink(
    session: AsyncSession, caller: Caller, link_id: uuid.UUID, if_match: str | None
) -> PractitionerLink:
    """Remove the link from her circle; the link as it was. A link is made and removed, never
    changed: removing it takes If-Match, as every other change does."""
    found = await get_visible(session, caller, PRACTITIONER_LINKS, link_id, for_update=True)
    check_if_match(if_match, found.version)
    await session.execute(delete(PractitionerLink).where(PractitionerLink.id == link_id))
    return found
