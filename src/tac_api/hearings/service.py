"""Court hearings and proceedings: the scoped statements, the rules, and the amendment history.

A hearing is recorded by the prison side, or by a local authority for its own children (that is
how the prison side hears of it early). How the mother attends, and what happened at the hearing,
are the prison side's to arrange and record, so a local authority may not set them; nor when her
side learnt of it, which decides `late_notice`.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    delete,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.db import touch, utcnow
from tac_api.errors import InvalidInput
from tac_api.hearings.models import (
    CourtHearing,
    CourtHearingAmendment,
    CourtHearingChild,
    Proceedings,
    ProceedingsChild,
    ProceedingsExtension,
)
from tac_api.hearings.schemas import (
    CourtHearingAmendmentPublic,
    CourtHearingCreate,
    CourtHearingPublic,
    CourtHearingUpdate,
    ExtensionCreate,
    ExtensionPublic,
    HearingOutcome,
    HearingOutcomePublic,
    ProceedingsCreate,
    ProceedingsPublic,
    ProceedingsUpdate,
)
from tac_api.history import made_by, oldest_first
from tac_api.http import check_if_match
from tac_api.mothers.models import Mother
from tac_api.resources import ChildLinks, Resource, children_of, get_visible
from tac_api.scope import (
    concerning_child,
    hearing_visible,
    held_in,
    mother_visible,
    proceedings_visible,
)

TWENTY_SIX_WEEKS = timedelta(weeks=26)
# Dates outside these are typing mistakes (a year of 2062 for 2026), not court dates.
EARLIEST_HEARING = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_HEARING_AHEAD = timedelta(days=2 * 365)
# Clocks differ by a little: "learnt just now" from a client a minute ahead is not the future.
CLOCK_SKEW = timedelta(minutes=5)
ATTENDANCE_FIELDS = ("attendance_mode", "social_worker_attends")
OUTCOME_FIELDS = (
    "attended",
    "attended_how",
    "barrier",
    "barrier_detail",
    "order_made",
    "order_detail",
)
# What a local authority's change feed is told of a hearing: when, where, what kind, and how
# she is to attend; of its outcome, the codes (the free-text details stay in the record).
FEED_FIELDS = (
    "hearing_type",
    "starts_at",
    "notified_at",
    "court_name",
    "court_code",
    "proceedings_id",
    "attendance_mode",
    "social_worker_attends",
)
FEED_OUTCOME_FIELDS = ("attended", "attended_how", "barrier", "order_made")


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def notice_days(notified_at: datetime, starts_at: datetime) -> int:
    return max(0, (_utc(starts_at) - _utc(notified_at)) // timedelta(days=1))


# Reading ------------------------------------------------------------------------------------


def hearing_public(
    hearing: CourtHearing, child_ids: list[uuid.UUID], late_notice_days: int
) -> CourtHearingPublic:
    days = notice_days(hearing.notified_at, hearing.starts_at)
    outcome = None
    if hearing.outcome_recorded_at is not None:
        outcome = HearingOutcomePublic.model_validate(
            {
                **{field: getattr(hearing, field) for field in OUTCOME_FIELDS},
                "recorded_at": hearing.outcome_recorded_at,
            }
        )
    return CourtHearingPublic.model_validate(
        {
            **hearing.model_dump(),
            "child_ids": child_ids,
            "notice_days": days,
            "late_notice": days < late_notice_days,
            "outcome": outcome,
        }
    )


def search_hearings(
    caller: Caller,
    *,
    prison_code: str | None,
    starts_from: datetime | None,
    starts_before: datetime | None,
    mother_id: uuid.UUID | None,
    child_id: uuid.UUID | None,
) -> Select[Any]:
    statement = select(CourtHearing).where(hearing_visible(caller))
    if prison_code:
        statement = statement.where(held_in(CourtHearing.mother_id, prison_code))
    if starts_from is not None:
        statement = statement.where(CourtHearing.starts_at >= starts_from)
    if starts_before is not None:
        statement = statement.where(CourtHearing.starts_at < starts_before)
    if mother_id is not None:
        statement = statement.where(CourtHearing.mother_id == mother_id)
    if child_id is not None:
        concerned = aliased(CourtHearingChild)
        statement = statement.where(
            concerning_child(
                caller, CourtHearing.id, concerned.court_hearing_id, concerned.child_id, child_id
            )
        )
    return statement


HEARINGS = Resource(
    kind="court_hearing",
    model=CourtHearing,
    label="court hearing",
    order=(CourtHearing.starts_at, CourtHearing.id),
    children=ChildLinks(CourtHearingChild.court_hearing_id, CourtHearingChild.child_id),
    when=CourtHearing.starts_at,
)
AMENDMENT_ORDER = oldest_first(CourtHearingAmendment)


def amendments_of(hearing_id: uuid.UUID) -> Select[Any]:
    return select(CourtHearingAmendment).where(CourtHearingAmendment.court_hearing_id == hearing_id)


async def amendments_public(
    session: AsyncSession, caller: Caller, amendments: list[CourtHearingAmendment]
) -> list[CourtHearingAmendmentPublic]:
    """A page of amendments as the caller may read them: a local authority sees only its own
    children in a change of `child_ids`, as in the hearing itself (one statement a page)."""
    shown = [amendment.model_dump() for amendment in amendments]
    if caller.is_local_authority:
        named = {
            uuid.UUID(child_id)
            for amendment in shown
            for change in amendment["changes"]
            if change["field"] == "child_ids"
            for side in ("old", "new")
            for child_id in change[side] or ()
        }
        own = set()
        if named:
            own = {
                str(child_id)
                for child_id in await session.scalars(
                    select(Child.id).where(
                        Child.id.in_(named),
                        Child.local_authority_code == caller.local_authority_code,
                    )
                )
            }
        for amendment in shown:
            amendment["changes"] = [
                (
                    {
                        **change,
                        "old": [c for c in change["old"] or () if c in own],
                        "new": [c for c in change["new"] or () if c in own],
                    }
                    if change["field"] == "child_ids"
                    else change
                )
                for change in amendment["changes"]
            ]
    return [CourtHearingAmendmentPublic.model_validate(amendment) for amendment in shown]


# Rules shared by hearings and proceedings ---------------------------------------------------


async def _mother_for_writing(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID
) -> Mother:
    mother = await session.scalar(
        select(Mother).where(Mother.id == mother_id, mother_visible(caller))
    )
    if mother is None:
        raise InvalidInput("mother_id", "no mother with this id is visible to you")
    return mother


async def _check_children(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, child_ids: list[uuid.UUID]
) -> None:
    """Every child must be hers; for a local authority, every child must also be its own.

    A local authority hears the same about another authority's child of hers as about a child
    that is not hers at all: which children she has elsewhere is not its to learn."""
    rows = (
        await session.execute(
            select(Child.id, Child.mother_id, Child.local_authority_code).where(
                Child.id.in_(child_ids)
            )
        )
    ).all()
    children = {row.id: row for row in rows}
    problems = []
    for child_id in child_ids:
        child = children.get(child_id)
        if caller.is_local_authority:
            if (
                child is None
                or child.mother_id != mother_id
                or child.local_authority_code != caller.local_authority_code
            ):
                problems.append(
                    ("child_ids", f"{child_id} is not one of your authority's children of hers")
                )
        elif child is None or child.mother_id != mother_id:
            problems.append(("child_ids", f"{child_id} is not one of her children"))
    InvalidInput.raise_any(problems)


async def _only_own_children(
    session: AsyncSession, caller: Caller, link: Any, item_column: Any, item_id: uuid.UUID
) -> None:
    """A local authority changes an item only while every child it concerns is its own: the
    other authorities' children are theirs (and the prison side's) to speak for."""
    if not caller.is_local_authority:
        return
    others = await session.scalar(
        select(link.child_id)
        .join(Child, Child.id == link.child_id)
        .where(item_column == item_id, Child.local_authority_code != caller.local_authority_code)
        .limit(1)
    )
    if others is not None:
        raise InvalidInput(
            "child_ids",
            "this record also concerns another authority's children: only the prison side "
            "can change it",
        )


def _refuse_prison_side_fields(
    caller: Caller, sent: Iterable[str], *, notified_at_from_authority: bool = False
) -> None:
    """What a local authority may not set: how she attends, and when her side learnt of the
    hearing. The latter decides `late_notice`, the barrier the evaluation measures the local
    authorities by: her side learnt of it when the authority recorded it, and that is the time
    kept (the prison side records an earlier one it knows of). An authority's system that
    syncs a hearing may say when it told her side (`notified_at_from_authority`): its own
    record of the notice it gave, kept in the amendments like any other change."""
    if not caller.is_local_authority:
        return
    sent = set(sent)
    problems = [
        (field, "the prison social worker arranges how the mother attends")
        for field in ATTENDANCE_FIELDS
        if field in sent
    ]
    if "notified_at" in sent and not notified_at_from_authority:
        problems.append(
            (
                "notified_at",
                "set by the service to when you record the hearing; the prison side records "
                "when her side learnt of it otherwise",
            )
        )
    InvalidInput.raise_any(problems)


def _hearing_time_rules(values: Mapping[str, Any], now: datetime) -> list[tuple[str, str]]:
    problems = []
    starts_at, notified_at = values["starts_at"], values["notified_at"]
    if _utc(starts_at) < EARLIEST_HEARING:
        problems.append(("starts_at", "is not a plausible hearing date"))
    elif _utc(starts_at) > now + LATEST_HEARING_AHEAD:
        problems.append(("starts_at", "is more than two years ahead"))
    if _utc(notified_at) > now + CLOCK_SKEW:
        problems.append(("notified_at", "cannot be in the future"))
    elif _utc(notified_at) < EARLIEST_HEARING:
        problems.append(("notified_at", "is not a plausible date"))
    return problems


async def _check_proceedings_link(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, proceedings_id: uuid.UUID
) -> None:
    owner = await session.scalar(
        select(Proceedings.mother_id).where(
            Proceedings.id == proceedings_id, proceedings_visible(caller)
        )
    )
    if owner != mother_id:
        raise InvalidInput("proceedings_id", "is not one of her proceedings visible to you")


async def _link_children(
    session: AsyncSession, model: Any, item_key: str, item_id: uuid.UUID, child_ids: list[Any]
) -> None:
    await session.execute(
        insert(model.__table__), [{item_key: item_id, "child_id": c} for c in child_ids]
    )


# Hearings: writing --------------------------------------------------------------------------


async def create_hearing(
    session: AsyncSession,
    caller: Caller,
    data: CourtHearingCreate,
    *,
    notified_at_from_authority: bool = False,
) -> tuple[CourtHearing, list[uuid.UUID]]:
    _refuse_prison_side_fields(
        caller, data.model_fields_set, notified_at_from_authority=notified_at_from_authority
    )
    now = utcnow()
    values = data.model_dump(exclude={"child_ids"})
    if values["notified_at"] is None:
        values["notified_at"] = now
    InvalidInput.raise_any(_hearing_time_rules(values, now))
    mother = await _mother_for_writing(session, caller, data.mother_id)
    await _check_children(session, caller, mother.id, data.child_ids)
    if data.proceedings_id is not None:
        await _check_proceedings_link(session, caller, mother.id, data.proceedings_id)
    hearing = CourtHearing(**values)
    session.add(hearing)
    await session.flush()
    await _link_children(session, CourtHearingChild, "court_hearing_id", hearing.id, data.child_ids)
    emit(
        session,
        "court-hearing.created",
        "court_hearing",
        hearing.id,
        hearing.mother_id,
        data.child_ids,
        snapshot(hearing, FEED_FIELDS),
    )
    return hearing, sorted(data.child_ids)


def _shown(value: Any) -> Any:
    """A value as the API shows it, for an amendment's JSON."""
    if isinstance(value, datetime):
        return _utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return sorted(_shown(item) for item in value)
    return value


def _amend(
    session: AsyncSession,
    caller: Caller,
    hearing: CourtHearing,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    prefix: str = "",
) -> bool:
    """Write one amendment with every field that changes (none: nothing is written)."""
    changes = []
    for field, new in after.items():
        old_shown, new_shown = _shown(before.get(field)), _shown(new)
        if old_shown != new_shown:
            changes.append({"field": f"{prefix}{field}", "old": old_shown, "new": new_shown})
    if not changes:
        return False
    session.add(
        CourtHearingAmendment(court_hearing_id=hearing.id, changes=changes, **made_by(caller))
    )
    return True


async def update_hearing(
    session: AsyncSession,
    caller: Caller,
    hearing_id: uuid.UUID,
    data: CourtHearingUpdate,
    if_match: str | None,
    *,
    notified_at_from_authority: bool = False,
) -> tuple[CourtHearing, list[uuid.UUID]]:
    hearing = await get_visible(session, caller, HEARINGS, hearing_id, for_update=True)
    check_if_match(if_match, hearing.version)
    fed_before = snapshot(hearing, FEED_FIELDS)
    changes = data.changes()
    _refuse_prison_side_fields(
        caller, changes, notified_at_from_authority=notified_at_from_authority
    )
    await _only_own_children(
        session, caller, CourtHearingChild, CourtHearingChild.court_hearing_id, hearing.id
    )
    now = utcnow()
    merged = {**hearing.model_dump(), **changes}
    problems = _hearing_time_rules(merged, now)
    if (
        "starts_at" in changes
        and hearing.outcome_recorded_at is not None
        and _utc(changes["starts_at"]) > now
    ):
        problems.append(
            (
                "starts_at",
                "this hearing has an outcome, so it has taken place: record an adjourned "
                "hearing as a new one",
            )
        )
    InvalidInput.raise_any(problems)
    child_ids = (await children_of(session, None, HEARINGS, [hearing.id]))[hearing.id]
    if "child_ids" in changes:
        await _check_children(session, caller, hearing.mother_id, changes["child_ids"])
    if changes.get("proceedings_id") is not None:
        await _check_proceedings_link(session, caller, hearing.mother_id, changes["proceedings_id"])
    before = {**hearing.model_dump(), "child_ids": child_ids}
    if not _amend(session, caller, hearing, before, changes):
        return hearing, child_ids
    if "child_ids" in changes:
        child_ids = sorted(changes.pop("child_ids"))
        await session.execute(
            delete(CourtHearingChild).where(CourtHearingChild.court_hearing_id == hearing.id)
        )
        await _link_children(session, CourtHearingChild, "court_hearing_id", hearing.id, child_ids)
    for field, value in changes.items():
        setattr(hearing, field, value)
    touch(hearing)
    await session.flush()
    # Told to the authorities of the children it concerns now (one that lost its child here
    # can no longer read the hearing); `changed` never names child_ids, which would tell an
    # authority that another's children changed.
    emit(
        session,
        "court-hearing.updated",
        "court_hearing",
        hearing.id,
        hearing.mother_id,
        child_ids,
        changes_between(fed_before, snapshot(hearing, FEED_FIELDS)),
    )
    return hearing, child_ids


def _outcome_rules(outcome: HearingOutcome) -> list[tuple[str, str]]:
    problems = []
    if outcome.attended:
        if outcome.attended_how is None:
            problems.append(("attended_how", "say how she attended"))
        if outcome.barrier is not None:
            problems.append(("barrier", "only for a hearing she did not attend"))
        if outcome.barrier_detail is not None:
            problems.append(("barrier_detail", "only for a hearing she did not attend"))
    else:
        if outcome.attended_how is not None:
            problems.append(("attended_how", "only for a hearing she attended"))
        if outcome.barrier is None:
            problems.append(("barrier", "say what stopped her attending"))
        elif outcome.barrier == "other" and outcome.barrier_detail is None:
            problems.append(("barrier_detail", "describe the barrier"))
    if outcome.order_made == "other" and outcome.order_detail is None:
        problems.append(("order_detail", "describe the order made"))
    if outcome.order_made is None and outcome.order_detail is not None:
        problems.append(("order_detail", "give order_made as well"))
    return problems


async def record_outcome(
    session: AsyncSession,
    caller: Caller,
    hearing_id: uuid.UUID,
    outcome: HearingOutcome,
    if_match: str | None,
) -> tuple[CourtHearing, list[uuid.UUID]]:
    """The prison side's record (the route admits no local authority)."""
    hearing = await get_visible(session, caller, HEARINGS, hearing_id, for_update=True)
    check_if_match(if_match, hearing.version)
    now = utcnow()
    if now < _utc(hearing.starts_at):
        raise InvalidInput(
            "outcome", "the hearing has not taken place yet: record its outcome after it starts"
        )
    InvalidInput.raise_any(_outcome_rules(outcome))
    child_ids = (await children_of(session, caller, HEARINGS, [hearing.id]))[hearing.id]
    given = outcome.model_dump()
    before = {field: getattr(hearing, field) for field in OUTCOME_FIELDS}
    if hearing.outcome_recorded_at is None:
        before = dict.fromkeys(OUTCOME_FIELDS)  # none yet: every field given is new
        given = {field: value for field, value in given.items() if value is not None}
    if not _amend(session, caller, hearing, before, given, prefix="outcome."):
        return hearing, child_ids
    fed_before = snapshot(hearing, FEED_OUTCOME_FIELDS)
    for field, value in outcome.model_dump().items():
        setattr(hearing, field, value)
    hearing.outcome_recorded_at = now
    touch(hearing)
    await session.flush()
    emit(
        session,
        "court-hearing.outcome-recorded",
        "court_hearing",
        hearing.id,
        hearing.mother_id,
        child_ids,
        {
            **snapshot(hearing, ("hearing_type", "starts_at")),
            **changes_between(fed_before, snapshot(hearing, FEED_OUTCOME_FIELDS)),
            "recorded_at": now,
        },
    )
    return hearing, child_ids


# Proceedings --------------------------------------------------------------------------------


def search_proceedings(
    caller: Caller, mother_id: uuid.UUID | None, child_id: uuid.UUID | None
) -> Select[Any]:
    statement = select(Proceedings).where(proceedings_visible(caller))
    if mother_id is not None:
        statement = statement.where(Proceedings.mother_id == mother_id)
    if child_id is not None:
        concerned = aliased(ProceedingsChild)
        statement = statement.where(
            concerning_child(
                caller, Proceedings.id, concerned.proceedings_id, concerned.child_id, child_id
            )
        )
    return statement


PROCEEDINGS = Resource(
    kind="proceedings",
    model=Proceedings,
    label="proceedings",
    plural=True,
    order=(Proceedings.issued_on, Proceedings.id),
    children=ChildLinks(ProceedingsChild.proceedings_id, ProceedingsChild.child_id),
    when=Proceedings.issued_on,
)


async def proceedings_public(
    session: AsyncSession, caller: Caller, items: list[Proceedings]
) -> list[ProceedingsPublic]:
    """With their children (a local authority: its own) and extensions: two statements,
    however many proceedings."""
    ids = [item.id for item in items]
    children = await children_of(session, caller, PROCEEDINGS, ids)
    extensions: dict[uuid.UUID, list[ProceedingsExtension]] = {item_id: [] for item_id in ids}
    if ids:
        found = await session.scalars(
            select(ProceedingsExtension)
            .where(ProceedingsExtension.proceedings_id.in_(ids))
            .order_by(ProceedingsExtension.created_at, ProceedingsExtension.id)
        )
        for extension in found:
            extensions[extension.proceedings_id].append(extension)
    return [
        ProceedingsPublic.model_validate(
            {
                **item.model_dump(),
                "child_ids": children[item.id],
                "twenty_six_week_date": item.issued_on
                + TWENTY_SIX_WEEKS
                + timedelta(weeks=sum(e.weeks for e in extensions[item.id])),
                "extensions": [
                    ExtensionPublic.model_validate(e.model_dump()) for e in extensions[item.id]
                ],
            }
        )
        for item in items
    ]


def _issued_rules(issued_on: date, today: date) -> list[tuple[str, str]]:
    if issued_on > today:
        return [("issued_on", "cannot be in the future")]
    if issued_on < EARLIEST_HEARING.date():
        return [("issued_on", "is not a plausible date")]
    return []


async def create_proceedings(
    session: AsyncSession, caller: Caller, data: ProceedingsCreate
) -> Proceedings:
    InvalidInput.raise_any(_issued_rules(data.issued_on, date.today()))
    mother = await _mother_for_writing(session, caller, data.mother_id)
    await _check_children(session, caller, mother.id, data.child_ids)
    proceedings = Proceedings(**data.model_dump(exclude={"child_ids"}))
    session.add(proceedings)
    await session.flush()
    await _link_children(
        session, ProceedingsChild, "proceedings_id", proceedings.id, data.child_ids
    )
    return proceedings


async def update_proceedings(
    session: AsyncSession,
    caller: Caller,
    proceedings_id: uuid.UUID,
    data: ProceedingsUpdate,
    if_match: str | None,
) -> Proceedings:
    proceedings = await get_visible(session, caller, PROCEEDINGS, proceedings_id, for_update=True)
    check_if_match(if_match, proceedings.version)
    changes = data.changes()
    await _only_own_children(
        session, caller, ProceedingsChild, ProceedingsChild.proceedings_id, proceedings.id
    )
    if "issued_on" in changes:
        problems = _issued_rules(changes["issued_on"], date.today())
        first_extension = await session.scalar(
            select(ProceedingsExtension.granted_on)
            .where(ProceedingsExtension.proceedings_id == proceedings.id)
            .order_by(ProceedingsExtension.granted_on)
            .limit(1)
        )
        if first_extension is not None and changes["issued_on"] > first_extension:
            problems.append(("issued_on", "cannot be after an extension was granted"))
        InvalidInput.raise_any(problems)
    if "child_ids" in changes:
        child_ids = changes.pop("child_ids")
        await _check_children(session, caller, proceedings.mother_id, child_ids)
        await session.execute(
            delete(ProceedingsChild).where(ProceedingsChild.proceedings_id == proceedings.id)
        )
        await _link_children(session, ProceedingsChild, "proceedings_id", proceedings.id, child_ids)
    for field, value in changes.items():
        setattr(proceedings, field, value)
    touch(proceedings)
    await session.flush()
    return proceedings


async def add_extension(
    session: AsyncSession, caller: Caller, proceedings_id: uuid.UUID, data: ExtensionCreate
) -> tuple[Proceedings, ProceedingsExtension]:
    proceedings = await get_visible(session, caller, PROCEEDINGS, proceedings_id, for_update=True)
    await _only_own_children(
        session, caller, ProceedingsChild, ProceedingsChild.proceedings_id, proceedings.id
    )
    today = date.today()
    granted_on = data.granted_on or today
    if granted_on > today:
        raise InvalidInput("granted_on", "cannot be in the future")
    if granted_on < proceedings.issued_on:
        raise InvalidInput("granted_on", "cannot be before the proceedings were issued")
    extension = ProceedingsExtension(
        proceedings_id=proceedings.id, weeks=data.weeks, reason=data.reason, granted_on=granted_on
    )
    session.add(extension)
    # The 26-week date moves: the proceedings' ETag changes with it.
    touch(proceedings)
    await session.flush()
    return proceedings, extension
