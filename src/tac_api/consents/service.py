"""Her consent to share her support plan and her reviews with one of her children's local
authorities: recorded by the prison side, withdrawn once. What a consent opens is read in
`tac_api.scope` on every request (`consent_in_force`), so a withdrawal holds on the next one.
Local authorities never see consent records (`scope.consent_visible`)."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.consents.models import Consent
from tac_api.consents.schemas import ConsentCreate, ConsentPublic, Withdrawal
from tac_api.db import touch, utcnow
from tac_api.errors import Conflict, InvalidInput
from tac_api.history import made_by
from tac_api.mothers.service import MOTHERS
from tac_api.resources import Resource, get_visible, list_visible
from tac_api.schemas import past_date_problems

CONSENTS = Resource(
    kind="consent",
    model=Consent,
    label="consent",
    order=(Consent.given_on, Consent.id),
    path="/v1/consents",
)


def to_public(consent: Consent) -> ConsentPublic:
    return ConsentPublic.model_validate(
        {**consent.model_dump(), "in_force": consent.withdrawn_on is None}
    )


def search(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    """Her consents, oldest given first (a route checks first that the caller may see her)."""
    return list_visible(caller, CONSENTS, mother_id=mother_id)


async def give(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: ConsentCreate, today: date
) -> Consent:
    """Record her consent. The authority is one of her children's (she shares her plan with
    those working with her children); one consent in force per authority, so that what is
    shared with it is read off one record (409 while one is: withdraw it, then record the
    new one)."""
    # Her row locked: two consents to one authority sent at once cannot both find none in force.
    mother = await get_visible(session, caller, MOTHERS, mother_id, for_update=True)
    problems = past_date_problems("given_on", data.given_on, today)
    if not (data.covers_plan or data.covers_reviews or data.covers_groups):
        problems.append(
            (
                "covers_plan",
                "say what she consents to share: her plan, her reviews, her group attendance",
            )
        )
    theirs = await session.scalar(
        select(Child.id)
        .where(
            Child.mother_id == mother.id,
            Child.local_authority_code == data.local_authority_code,
        )
        .limit(1)
    )
    if theirs is None:
        problems.append(
            ("local_authority_code", "is not the local authority of any of her children")
        )
    InvalidInput.raise_any(problems)
    in_force = await session.scalar(
        select(Consent.id).where(
            Consent.mother_id == mother.id,
            Consent.local_authority_code == data.local_authority_code,
            Consent.withdrawn_on.is_(None),
        )
    )
    if in_force is not None:
        raise Conflict(
            f"Her consent {in_force} to share with authority {data.local_authority_code} is in "
            "force: record its withdrawal first, then the new consent."
        )
    consent = Consent(mother_id=mother.id, **data.model_dump(), **made_by(caller))
    session.add(consent)
    await session.flush()
    return consent


async def withdraw(
    session: AsyncSession, caller: Caller, consent_id: uuid.UUID, data: Withdrawal, today: date
) -> Consent:
    """She withdrew her consent: once (409 after), from a day not before she gave it."""
    consent = await get_visible(session, caller, CONSENTS, consent_id, for_update=True)
    if consent.withdrawn_on is not None:
        raise Conflict(f"This consent was withdrawn on {consent.withdrawn_on} already.")
    problems = past_date_problems("withdrawn_on", data.withdrawn_on, today)
    if not problems and data.withdrawn_on < consent.given_on:
        problems.append(("withdrawn_on", f"cannot be before it was given ({consent.given_on})"))
    InvalidInput.raise_any(problems)
    consent.withdrawn_on = data.withdrawn_on
    consent.withdrawn_at = utcnow()
    consent.withdrawn_by_name = caller.name
    touch(consent)
    await session.flush()
    return consent
