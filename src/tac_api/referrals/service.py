"""Referral to engagement, and her support's own life: the one scoped statement, the rules of a
referral, its decision (which makes or links her record), engagement, the closing of support,
the funnel's figures, and retention of referrals no record stands behind."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role
from tac_api.db import touch, utcnow
from tac_api.errors import Conflict, InvalidInput, NotFound
from tac_api.history import made_by
from tac_api.mothers import service as mothers
from tac_api.mothers.models import Mother
from tac_api.mothers.schemas import MotherCreate
from tac_api.practitioners.models import Practitioner
from tac_api.reference.models import Prison
from tac_api.reference.service import require_code
from tac_api.referrals import stages
from tac_api.referrals.models import Referral
from tac_api.referrals.schemas import (
    FunnelMilestone,
    ReferralCreate,
    ReferralDecision,
    ReferralFunnel,
    ReferralPublic,
    ReferralUpdate,
    SupportClosure,
)
from tac_api.resources import (
    Resource,
    apply_changes,
    check_window,
    get_for_change,
    list_visible,
    lock_her,
)
from tac_api.schemas import past_date_problems
from tac_api.scope import mother_visible, practitioner_visible
from tac_api.staff.models import Allocation

REFERRALS = Resource(
    kind="referral",
    model=Referral,
    label="referral",
    order=(Referral.received_on, Referral.id),
    # Her id once accepted; before that the referral is about no one the service has a record
    # of, and its audit rows name no subject.
    subject="mother_id",
    when=Referral.received_on,
    public=ReferralPublic,
    path="/v1/referrals",
)
# The service began long after this: an earlier date is a typo.
EARLIEST_REFERRAL = date(2000, 1, 1)
REFUSED = ("declined", "not_eligible")
ANOTHER_PRISONS = (
    "a record with this prison number is held where you cannot see it; ask an admin to link it"
)


def to_public(referral: Referral) -> ReferralPublic:
    return ReferralPublic.model_validate(referral)


def search(
    caller: Caller,
    *,
    prison_code: str | None = None,
    status: str | None = None,
    start: date | None = None,
    end: date | None = None,
    mother_id: uuid.UUID | None = None,
) -> Select[Any]:
    """The referrals this caller may see; by the prison each was made to (an index seek on
    (prison_code, received_on, id)), its status, and when it was received."""
    statement = list_visible(caller, REFERRALS, start=start, end=end, mother_id=mother_id)
    if prison_code:
        statement = statement.where(Referral.prison_code == prison_code)
    if status:
        statement = statement.where(Referral.status == status)
    return statement


async def _check_referrer(
    session: AsyncSession, caller: Caller, practitioner_id: uuid.UUID | None
) -> None:
    if practitioner_id is None:
        return
    found = await session.scalar(
        select(Practitioner.id).where(
            Practitioner.id == practitioner_id, practitioner_visible(caller)
        )
    )
    if found is None:
        raise InvalidInput("referred_by_id", "no practitioner with this id is visible to you")


async def create_referral(session: AsyncSession, caller: Caller, data: ReferralCreate) -> Referral:
    if caller.role is Role.prison_social_worker and data.prison_code != caller.prison_code:
        raise InvalidInput("prison_code", f"you can record referrals to {caller.prison_code} only")
    InvalidInput.raise_any(
        past_date_problems("received_on", data.received_on, date.today(), EARLIEST_REFERRAL)
    )
    await require_code(session, Prison, "prison_code", data.prison_code)
    await _check_referrer(session, caller, data.referred_by_id)
    referral = Referral(**data.model_dump())
    session.add(referral)
    await session.flush()
    return referral


def _engagement_rules(values: dict[str, Any], today: date) -> list[tuple[str, str]]:
    """First contact and engagement belong to an accepted referral, in order, none in the
    future; a closed support keeps its engagement, before its closing."""
    problems: list[tuple[str, str]] = []
    first_contact, engaged = values["first_contact_on"], values["engaged_on"]
    closed = values["support_closed_on"]
    for field, value in (("first_contact_on", first_contact), ("engaged_on", engaged)):
        if value is not None and values["status"] != "accepted":
            problems.append((field, "only an accepted referral has this date"))
    problems += past_date_problems("first_contact_on", first_contact, today, EARLIEST_REFERRAL)
    problems += past_date_problems("engaged_on", engaged, today, EARLIEST_REFERRAL)
    if first_contact is not None and first_contact < values["received_on"]:
        problems.append(("first_contact_on", "cannot be before received_on"))
    if engaged is not None and first_contact is None:
        problems.append(("first_contact_on", "give her first contact with engaged_on"))
    if engaged is not None and first_contact is not None and engaged < first_contact:
        problems.append(("engaged_on", "cannot be before first_contact_on"))
    if closed is not None and engaged is None:
        problems.append(("engaged_on", "her support was closed: it keeps its engagement date"))
    if closed is not None and engaged is not None and engaged > closed:
        problems.append(("engaged_on", "cannot be after her support was closed"))
    return problems


async def _check_one_open(session: AsyncSession, referral: Referral) -> None:
    """A mother has one open support at a time. Her record's row is locked first, so that two
    engagements recorded at once for her wait for each other and the second sees the first."""
    assert referral.mother_id is not None  # accepted: her record stands behind it
    await lock_her(session, referral.mother_id)
    other = await session.scalar(
        select(Referral.id).where(
            Referral.mother_id == referral.mother_id,
            Referral.id != referral.id,
            Referral.engaged_on.is_not(None),
            Referral.support_closed_on.is_(None),
        )
    )
    if other is not None:
        raise Conflict(
            f"Her support is already open (referral {other}): close it before opening another."
        )


async def update_referral(
    session: AsyncSession,
    caller: Caller,
    referral_id: uuid.UUID,
    data: ReferralUpdate,
    if_match: str | None,
) -> tuple[Referral, dict[str, Any]]:
    referral = await get_for_change(session, caller, REFERRALS, referral_id, if_match)
    changes = data.changes()
    if changes.get("referred_by_id") is not None:
        await _check_referrer(session, caller, changes["referred_by_id"])
    merged = {**referral.model_dump(), **changes}
    InvalidInput.raise_any(_engagement_rules(merged, date.today()))
    opens = referral.engaged_on is None and merged["engaged_on"] is not None
    if opens and merged["support_closed_on"] is None:
        await _check_one_open(session, referral)
    changed = apply_changes(referral, changes)
    await session.flush()
    return referral, changed


async def _her_record(
    session: AsyncSession, caller: Caller, referral: Referral, data: ReferralDecision
) -> tuple[Mother, bool]:
    """Her record for an accepted referral, and whether it was made now: linked if she has
    one the caller may see; refused, saying no more, if she has one the caller may not; made
    from the referral and the decision's `mother` otherwise."""
    # Her number, or one NOMIS merged into hers.
    recorded = await session.scalar(select(mothers.mother_named(referral.prison_number)))
    if recorded is not None:
        mother = await session.scalar(
            select(Mother).where(Mother.id == recorded, mother_visible(caller))
        )
        if mother is None:
            raise InvalidInput("decision", ANOTHER_PRISONS)
        return mother, False
    if data.mother is None:
        raise InvalidInput(
            "mother", "she has no record yet: give her date_of_birth and reception_date"
        )
    given = data.mother.model_dump()
    her = MotherCreate(
        prison_number=referral.prison_number,
        first_name=referral.first_name,
        last_name=referral.last_name,
        prison_code=referral.prison_code,
        **{**given, "supported_from": given["supported_from"] or data.decided_on},
    )
    try:
        return await mothers.create_mother(session, caller, her), True
    except InvalidInput as problem:
        # Her record's rules, named where the caller gave the values: in `mother`.
        InvalidInput.raise_any(
            [(f"mother.{e['field']}", e["message"]) for e in problem.errors or []]
        )
        raise


async def decide(
    session: AsyncSession,
    caller: Caller,
    referral_id: uuid.UUID,
    data: ReferralDecision,
    if_match: str | None,
) -> tuple[Referral, Mother | None]:
    """The decision on a referral awaiting one, and her record if it was made by it."""
    referral = await get_for_change(session, caller, REFERRALS, referral_id, if_match)
    if referral.status != "received":
        raise Conflict(
            f"This referral was decided on {referral.decided_on} ({referral.status}): only a "
            "referral awaiting a decision can be decided."
        )
    problems = past_date_problems("decided_on", data.decided_on, date.today(), EARLIEST_REFERRAL)
    if data.decided_on < referral.received_on:
        problems.append(("decided_on", "cannot be before received_on"))
    if data.decision in REFUSED and data.reason is None:
        problems.append(("reason", f"say why it was {data.decision.replace('_', ' ')}"))
    if data.decision in REFUSED and data.mother is not None:
        problems.append(("mother", "only an accepted referral makes her record"))
    InvalidInput.raise_any(problems)
    made = None
    if data.decision == "accepted":
        mother, created = await _her_record(session, caller, referral, data)
        referral.mother_id = mother.id
        made = mother if created else None
    referral.status = data.decision
    referral.decided_on = data.decided_on
    referral.decision_reason = data.reason
    touch(referral)
    await session.flush()
    return referral, made


async def close_support(
    session: AsyncSession,
    caller: Caller,
    referral_id: uuid.UUID,
    data: SupportClosure,
    if_match: str | None,
) -> Referral:
    """Her support closed, with a reason; her current allocation ends with it."""
    referral = await get_for_change(session, caller, REFERRALS, referral_id, if_match)
    if referral.engaged_on is None or referral.support_closed_on is not None:
        state = "was closed" if referral.support_closed_on else "never opened"
        raise Conflict(f"Her support on this referral is not open (it {state}).")
    problems = past_date_problems("closed_on", data.closed_on, date.today(), EARLIEST_REFERRAL)
    if data.closed_on < referral.engaged_on:
        problems.append(("closed_on", "cannot be before engaged_on"))
    if data.reason == "other" and data.note is None:
        problems.append(("note", "say why support closed"))
    InvalidInput.raise_any(problems)
    referral.support_closed_on = data.closed_on
    referral.support_closed_reason = data.reason
    referral.support_closed_note = data.note
    touch(referral)
    if referral.mother_id is not None:
        await _end_allocation(session, caller, referral.mother_id, data.closed_on)
    await session.flush()
    return referral


async def _end_allocation(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, closed_on: date
) -> None:
    """No one works with her once her support is closed: her open allocation ends that day
    (or the day it began, for one made after it), audited as altered."""
    ended = await session.execute(
        update(Allocation)
        .where(Allocation.mother_id == mother_id, Allocation.ended_on.is_(None))
        .values(
            ended_on=case(
                (Allocation.allocated_on > closed_on, Allocation.allocated_on), else_=closed_on
            ),
            version=Allocation.version + 1,
            updated_at=utcnow(),
            **made_by(caller),
        )
        .returning(Allocation.id)
    )
    audit.record_many(
        session, Action.alter, "allocation", ((a, mother_id) for a in ended.scalars())
    )


def _how_many(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def funnel(
    session: AsyncSession,
    caller: Caller,
    prison_code: str | None,
    start: date | None,
    end: date | None,
    as_of: date | None,
) -> ReferralFunnel:
    """Referral to engagement, in figures, for the referrals received in the window (by the
    prison each was made to) that the caller may see: one statement, counted in the database
    from statuses and dates only."""
    if caller.role is Role.prison_social_worker:
        if prison_code not in (None, caller.prison_code):
            # Out of scope reads as not found, as for a record (and the governor's report).
            raise NotFound(f"No prison {prison_code} is visible to you.")
        prison_code = caller.prison_code
    check_window(start, end)
    today = date.today()
    as_of = as_of or today
    if as_of > today:
        raise InvalidInput("as_of", "cannot be in the future", location="query")
    # Only referrals the caller may read one by one: a woman who has moved to another prison
    # is that prison's to follow, in figures as in records. Counted in the database, with the
    # stages' one definition (`stages`), which the programme report counts with too.
    statement = select(
        func.count(),
        *(_how_many(Referral.status == status) for status in stages.STATUSES),
        _how_many(stages.ENGAGED),
        *(
            _how_many(condition)
            for months in stages.MILESTONE_MONTHS
            for condition in (
                stages.reached(months, as_of),
                and_(stages.reached(months, as_of), stages.still_supported(months)),
            )
        ),
    ).where(REFERRALS.visible(caller))
    if prison_code:
        statement = statement.where(Referral.prison_code == prison_code)
    if start is not None:
        statement = statement.where(Referral.received_on >= start)
    if end is not None:
        statement = statement.where(Referral.received_on < end)
    referred, *figures = (await session.execute(statement)).one()
    counts = dict(zip(stages.STATUSES, figures, strict=False))
    engaged, *reached = figures[len(stages.STATUSES) :]
    milestones = [
        FunnelMilestone(months=months, reached=reached[2 * n], still_engaged=reached[2 * n + 1])
        for n, months in enumerate(stages.MILESTONE_MONTHS)
    ]
    return ReferralFunnel(
        prison_code=prison_code,
        received_from=start,
        received_before=end,
        as_of=as_of,
        referred=referred,
        awaiting_decision=counts["received"],
        accepted=counts["accepted"],
        declined=counts["declined"],
        not_eligible=counts["not_eligible"],
        engaged=engaged,
        milestones=milestones,
    )


# -- Retention ----------------------------------------------------------------------------------


def _erasable(decided_before: date) -> Any:
    """Declined or found not eligible, no record of hers behind it, decided before the day."""
    return and_(
        Referral.mother_id.is_(None),
        Referral.status.in_(REFUSED),
        Referral.decided_on < decided_before,
    )


async def count_erasable(session: AsyncSession, decided_before: date) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Referral).where(_erasable(decided_before))
    )
    return found or 0


async def erase_erasable(session: AsyncSession, decided_before: date) -> list[uuid.UUID]:
    """Erase them; their ids, for the audit trail."""
    erased = await session.scalars(
        delete(Referral).where(_erasable(decided_before)).returning(Referral.id)
    )
    return list(erased)
