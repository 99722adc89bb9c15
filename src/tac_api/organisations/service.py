"""The directory of services in the community (Pause, Step Together, Believe and the like) a
woman can be referred on to at release: an organisation, not a person."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.db import contains_text
from tac_api.errors import InvalidInput
from tac_api.organisations.models import Organisation
from tac_api.organisations.schemas import (
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
)
from tac_api.reference.service import require_named_authority
from tac_api.resources import Resource, apply_changes, get_for_change, list_visible
from tac_api.schemas import past_date_problems

ORGANISATIONS = Resource(
    kind="organisation",
    model=Organisation,
    label="organisation",
    order=(Organisation.name, Organisation.id),
    subject=None,  # the directory: about no mother
    public=OrganisationPublic,
    path="/v1/organisations",
)


def search(
    caller: Caller, q: str | None, service_type: str | None, include_closed: bool
) -> Select[Any]:
    statement = list_visible(caller, ORGANISATIONS)
    if q:
        statement = statement.where(contains_text(q, Organisation.name))
    if service_type:
        statement = statement.where(Organisation.service_type == service_type)
    if not include_closed:
        statement = statement.where(Organisation.closed_on.is_(None))
    return statement


async def create_organisation(session: AsyncSession, data: OrganisationCreate) -> Organisation:
    await require_named_authority(session, "local_authority_code", data.local_authority_code)
    organisation = Organisation(**data.model_dump())
    session.add(organisation)
    await session.flush()
    return organisation


async def update_organisation(
    session: AsyncSession,
    caller: Caller,
    organisation_id: uuid.UUID,
    data: OrganisationUpdate,
    if_match: str | None,
) -> tuple[Organisation, dict[str, Any]]:
    """The entry changed, and what changed (nothing: the entry as it was, its version kept)."""
    organisation = await get_for_change(session, caller, ORGANISATIONS, organisation_id, if_match)
    changes = data.changes()
    InvalidInput.raise_any(past_date_problems("closed_on", changes.get("closed_on"), date.today()))
    await require_named_authority(
        session,
        "local_authority_code",
        changes.get("local_authority_code"),
        organisation.local_authority_code,
    )
    changed = apply_changes(organisation, changes)
    if changed:
        await session.flush()
    return organisation, changed
