"""The statements that count a report's figures, for several periods at once.

Every figure is about the women supported in a prison over a period: held there at some time in
it (a `prison_stay` overlapping it) while the service supported her (from `supported_from` to
`closed_on`). A woman transferred during the period counts in both prisons. Her hearings,
meetings, visits, assessments and evidence count in the period they are dated in.

The women are found once, with a flag per period; every section is then one statement over all
the periods together, counted in the database (a sum of flags per period), whatever the number
of women. On PostgreSQL they are kept, for the report's one snapshot, in a temporary table with
statistics; SQLite, the development database, finds them in a subquery each time.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import anyio
from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    FromClause,
    Integer,
    MetaData,
    Row,
    Table,
    Uuid,
    and_,
    case,
    cast,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateTable

from tac_api.assessments.models import ParentingAssessment
from tac_api.children.models import Child
from tac_api.db import driver_connection
from tac_api.evidence.models import Evidence
from tac_api.hearings.models import CourtHearing
from tac_api.meetings.models import Meeting
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.reference.models import Ethnicity
from tac_api.release.due import RELEASE_DATE, plan_gaps
from tac_api.release.models import ReleasePlan
from tac_api.reports.suppression import Number
from tac_api.visits.models import ContactVisit, ContactVisitStatusChange
from tac_api.visits.schemas import FINAL_CONTACT

NOT_RECORDED = "not_recorded"
# Age on the last day of the period, in bands wide enough for a prison of 35 to 100 women:
# (key, label, youngest age in the band).
AGE_BANDS = (
    ("under_25", "Under 25", 0),
    ("25_34", "25 to 34", 25),
    ("35_44", "35 to 44", 35),
    ("45_and_over", "45 and over", 45),
)


@dataclass(frozen=True)
class Span:
    """A period of whole days, both ends included."""

    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, UTC)

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)


class Counts(dict[str, Number | None]):
    """One period's figures by key; a figure never counted is 0."""

    def add(self, key: str, amount: Number) -> None:
        self[key] = (self.get(key) or 0) + amount


@dataclass(frozen=True)
class Women:
    """The women supported in any of the periods: `source` has a row each, with `id` and a 0/1
    column `in_<n>` per period."""

    source: FromClause
    spans: Sequence[Span]

    @property
    def id(self) -> ColumnElement[Any]:
        return self.source.c.id

    def during(self, n: int, when: ColumnElement[Any]) -> ColumnElement[bool]:
        """In period n: she counts in it, and the record is dated in it (by a day, or by a
        time in UTC)."""
        return and_(self.counted(n), _within(when, self.spans[n]))

    def counted(self, n: int) -> ColumnElement[bool]:
        return self.source.c[f"in_{n}"] == 1

    @property
    def window(self) -> Span:
        return _window(self.spans)


def _window(spans: Sequence[Span]) -> Span:
    """From the first period's start to the last one's end."""
    return Span(min(s.start for s in spans), max(s.end for s in spans))


def _within(when: ColumnElement[Any], span: Span) -> ColumnElement[bool]:
    if isinstance(when.type, Date):
        return when.between(span.start, span.end)
    return and_(when >= span.starts_at, when < span.ends_before)


def _supported(span: Span) -> ColumnElement[bool]:
    """Her support overlaps the period."""
    return and_(
        Mother.supported_from <= span.end,
        or_(Mother.closed_on.is_(None), Mother.closed_on >= span.start),
    )


def _stay_overlaps(span: Span) -> ColumnElement[bool]:
    return and_(
        PrisonStay.arrived_on <= span.end,
        or_(PrisonStay.left_on.is_(None), PrisonStay.left_on >= span.start),
    )


# The stay and her support overlap each other too (not only the period): a case closed before
# a transfer is not the receiving prison's.
_held_while_supported = and_(
    PrisonStay.arrived_on <= func.coalesce(Mother.closed_on, PrisonStay.arrived_on),
    or_(PrisonStay.left_on.is_(None), PrisonStay.left_on >= Mother.supported_from),
)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


async def women_in(session: AsyncSession, prison: str | None, spans: Sequence[Span]) -> Women:
    """Who counts in each period: in `prison` (every prison when None)."""
    window = _window(spans)
    if prison is None:
        found = select(
            Mother.id.label("id"),
            *(_flag(_supported(span)).label(f"in_{n}") for n, span in enumerate(spans)),
        ).where(_supported(window))
    else:
        # One row per stay in the prison; a woman held there twice is one woman.
        found = (
            select(
                Mother.id.label("id"),
                *(
                    func.max(
                        _flag(and_(_supported(span), _stay_overlaps(span), _held_while_supported))
                    ).label(f"in_{n}")
                    for n, span in enumerate(spans)
                ),
            )
            .join(PrisonStay, PrisonStay.mother_id == Mother.id)
            .where(PrisonStay.prison_code == prison, _stay_overlaps(window), _supported(window))
            .group_by(Mother.id)
        )
    if await driver_connection(session) is None:
        # SQLite (development): found again by each statement, as a subquery.
        return Women(found.subquery("women"), spans)
    # PostgreSQL: kept for the rest of the snapshot's transaction in a table of its own, with
    # statistics, so that the planner joins a period's records to them the cheap way round.
    table = Table(
        "report_women",
        MetaData(),
        # No key: the joins hash it, and an index would only slow the insert.
        Column("id", Uuid(), nullable=False),
        *(Column(f"in_{n}", Integer(), nullable=False) for n in range(len(spans))),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    await session.execute(CreateTable(table))
    await session.execute(insert(table).from_select(list(table.c.keys()), found))
    await session.execute(text("ANALYZE report_women"))
    return Women(table, spans)


async def _tally(
    session: AsyncSession,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    dimensions: Sequence[ColumnElement[Any]],
    measures: Sequence[tuple[ColumnElement[bool], ColumnElement[Any] | None]],
) -> Sequence[Row[Any]]:
    """Rows of (dimensions..., one figure per measure): a measure (condition, None) counts the
    rows meeting it, (condition, value) sums the value over them.

    Counted outside a subquery that labels everything: PostgreSQL would not match a CASE in
    GROUP BY with the same CASE in the select list, as each carries bind parameters of its own.
    """
    inner = (
        select(
            *(d.label(f"d{n}") for n, d in enumerate(dimensions)),
            *(_flag(condition).label(f"m{n}") for n, (condition, _) in enumerate(measures)),
            *(value.label(f"v{n}") for n, (_, value) in enumerate(measures) if value is not None),
        )
        .select_from(source)
        .where(*where)
        .subquery()
    )
    grouped = [inner.c[f"d{n}"] for n in range(len(dimensions))]
    figures = [
        func.coalesce(func.sum(inner.c[f"m{n}"]), 0)
        if value is None
        else func.sum(case((inner.c[f"m{n}"] == 1, inner.c[f"v{n}"])))
        for n, (_, value) in enumerate(measures)
    ]
    statement = select(*grouped, *figures)
    if grouped:
        statement = statement.group_by(*grouped)
    return (await session.execute(statement)).all()


def _birthday_cut(on: date, age: int) -> date:
    """Born on or before this day: `age` or older on `on` (29 February counts as 28)."""
    try:
        return on.replace(year=on.year - age)
    except ValueError:
        return on.replace(year=on.year - age, day=28)


def _age_band(on: date) -> ColumnElement[str]:
    return case(
        *(
            (Mother.date_of_birth <= _birthday_cut(on, youngest), key)
            for key, _, youngest in reversed(AGE_BANDS[1:])
        ),
        else_=AGE_BANDS[0][0],
    )


def group_key(group: str) -> str:
    """An ethnic group's key: its name up to the first comma (`Asian, Asian British...` ->
    `asian`, `Not stated` -> `not_stated`)."""
    words = "".join(c if c.isalpha() else " " for c in group.split(",")[0].lower()).split()
    return "_".join(words)


async def count_women(
    session: AsyncSession, women: Women, counts: Sequence[Counts], demographics: bool
) -> None:
    periods = range(len(women.spans))
    source = women.source.join(Mother, Mother.id == women.id)
    dimensions: list[ColumnElement[Any]] = []
    if demographics:
        source = source.outerjoin(Ethnicity, Ethnicity.code == Mother.ethnicity)
        dimensions = [
            Ethnicity.group,
            Mother.domestic_abuse_history,
            *(_age_band(span.end) for span in women.spans),
        ]
    measures: list[tuple[ColumnElement[bool], None]] = []
    for n in periods:
        span = women.spans[n]
        measures += [
            (women.counted(n), None),
            (and_(women.counted(n), Mother.supported_from >= span.start), None),
            (and_(women.counted(n), Mother.closed_on <= span.end), None),
        ]
    for row in await _tally(session, source, [], dimensions, measures):
        figures = row[len(dimensions) :]
        for n in periods:
            supported, new, closed = figures[3 * n : 3 * n + 3]
            counts[n].add("women.active", supported)
            counts[n].add("women.new", new)
            counts[n].add("women.closed", closed)
            if demographics:
                group, abuse, *bands = row[: len(dimensions)]
                group_code = group_key(group) if group else NOT_RECORDED
                counts[n].add(f"demographics.ethnic_group.{group_code}", supported)
                abuse_key = "not_known" if abuse is None else ("yes" if abuse else "no")
                counts[n].add(f"demographics.domestic_abuse.{abuse_key}", supported)
                counts[n].add(f"demographics.age_band.{bands[n]}", supported)


async def count_children(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    """The children's figures in one statement: their rows are joined to the women once (the
    costly part), then counted four ways."""
    periods = range(len(women.spans))
    their_children = (
        select(
            *(women.source.c[f"in_{n}"] for n in periods),
            Child.mother_id,
            Child.legal_status,
            Child.lives_with,
            Child.date_of_birth.is_(None).label("unborn"),
            Child.local_authority_code,
            Child.social_worker_name,
            func.coalesce(Child.social_worker_email, Child.social_worker_phone, "").label(
                "worker_contact"
            ),
        )
        .select_from(women.source.join(Child, Child.mother_id == women.id))
        .cte("their_children")
        .prefix_with("MATERIALIZED")
    )
    flags = [their_children.c[f"in_{n}"] for n in periods]

    def each_once(subquery: Any) -> list[ColumnElement[Any]]:
        return [func.coalesce(func.sum(subquery.c[f"in_{n}"]), 0) for n in periods]

    def in_any() -> list[ColumnElement[Any]]:
        return [func.max(their_children.c[f"in_{n}"]).label(f"in_{n}") for n in periods]

    breakdown = select(
        literal("breakdown").label("kind"),
        their_children.c.legal_status,
        their_children.c.lives_with,
        cast(their_children.c.unborn, Integer).label("unborn"),
        *(func.sum(flag) for flag in flags),
    ).group_by(their_children.c.legal_status, their_children.c.lives_with, their_children.c.unborn)
    authorities = select(*in_any()).group_by(their_children.c.local_authority_code).subquery()
    # The same worker is often typed slightly differently on each sibling's record: each way it
    # was typed first (cheap), then the few of those folded to one case.
    typed = (
        select(their_children.c.social_worker_name, their_children.c.worker_contact, *in_any())
        .where(their_children.c.social_worker_name.is_not(None))
        .group_by(their_children.c.social_worker_name, their_children.c.worker_contact)
        .subquery()
    )
    worker = (
        func.lower(func.trim(typed.c.social_worker_name))
        + "|"
        + func.lower(func.trim(typed.c.worker_contact))
    )
    workers = (
        select(*(func.max(typed.c[f"in_{n}"]).label(f"in_{n}") for n in periods))
        .group_by(worker)
        .subquery()
    )
    # A household is a carer type in an authority, as in the family view: siblings born and
    # living in more than one (two differ in carer type or in authority) are separated.
    apart = (
        select(*flags)
        .where(their_children.c.unborn.is_(False))
        .group_by(their_children.c.mother_id, *flags)
        .having(
            or_(
                func.min(their_children.c.lives_with) != func.max(their_children.c.lives_with),
                func.min(their_children.c.local_authority_code)
                != func.max(their_children.c.local_authority_code),
            )
        )
        .subquery()
    )
    nothing = [literal(None).label("legal_status"), literal(None), literal(None)]
    statement = union_all(
        breakdown,
        select(literal("children.local_authorities"), *nothing, *each_once(authorities)),
        select(literal("children.social_workers"), *nothing, *each_once(workers)),
        select(literal("children.families_with_separated_siblings"), *nothing, *each_once(apart)),
    )
    for kind, legal_status, lives_with, unborn, *figures in await session.execute(statement):
        for n in periods:
            if kind != "breakdown":
                counts[n].add(kind, figures[n])
                continue
            counts[n].add("children.linked", figures[n])
            counts[n].add("children.expected", figures[n] if unborn else 0)
            status = legal_status or "not_looked_after"
            counts[n].add(f"children.by_legal_status.{status}", figures[n])
            # Null once a confidentially placed child moved to another authority, until the
            # new authority records it.
            counts[n].add(f"children.by_lives_with.{lives_with or NOT_RECORDED}", figures[n])


def _notice_days(session: AsyncSession) -> ColumnElement[int]:
    """Whole days from notified_at to starts_at, never below 0: `hearings.service.notice_days`
    in SQL. Counted in seconds first, so that a week is never 6.9999 days."""
    if session.get_bind().dialect.name == "postgresql":
        seconds = extract("epoch", CourtHearing.starts_at - CourtHearing.notified_at)
        return func.greatest(0, cast(func.floor(seconds / 86400), Integer))
    seconds = cast(
        func.round(
            (func.julianday(CourtHearing.starts_at) - func.julianday(CourtHearing.notified_at))
            * 86400
        ),
        Integer,
    )
    return func.max(0, case((seconds < 0, -1), else_=seconds // 86400))


def median_of(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())

    def nth(index: int) -> int:
        seen = 0
        for value, number in ordered:
            seen += number
            if index < seen:
                return value
        raise IndexError(index)

    middle = total // 2
    if total % 2:
        return float(nth(middle))
    return (nth(middle - 1) + nth(middle)) / 2


async def count_hearings(
    session: AsyncSession, women: Women, counts: Sequence[Counts], late_days: int
) -> None:
    periods = range(len(women.spans))
    window = women.window
    held = CourtHearing.outcome_recorded_at.is_not(None)
    rows = await _tally(
        session,
        women.source.join(CourtHearing, CourtHearing.mother_id == women.id),
        [_within(CourtHearing.starts_at, window)],
        [
            held,
            CourtHearing.attended,
            CourtHearing.attended_how,
            CourtHearing.barrier,
            _notice_days(session),
        ],
        [(women.during(n, CourtHearing.starts_at), None) for n in periods],
    )
    notices: list[dict[int, int]] = [{} for _ in periods]
    for was_held, attended, how, barrier, days, *figures in rows:
        for n in periods:
            number = figures[n]
            if not number:
                continue
            counts[n].add("hearings.listed", number)
            notices[n][days] = notices[n].get(days, 0) + number
            if days < late_days:
                counts[n].add("hearings.late_notice", number)
            if not was_held:
                counts[n].add("hearings.awaiting_outcome", number)
                continue
            counts[n].add("hearings.held", number)
            if attended:
                counts[n].add("hearings.attended", number)
                counts[n].add(f"hearings.attended_by_mode.{how or NOT_RECORDED}", number)
            else:
                counts[n].add("hearings.missed", number)
                counts[n].add(f"hearings.missed_by_barrier.{barrier or NOT_RECORDED}", number)
    for n in periods:
        counts[n]["hearings.median_notice_days"] = median_of(notices[n])


async def count_meetings(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    periods = range(len(women.spans))
    window = women.window
    rows = await _tally(
        session,
        women.source.join(Meeting, Meeting.mother_id == women.id),
        [_within(Meeting.starts_at, window)],
        [Meeting.attended, Meeting.barrier, Meeting.prison_can_join],
        [(women.during(n, Meeting.starts_at), None) for n in periods],
    )
    for attended, barrier, prison_can_join, *figures in rows:
        for n in periods:
            number = figures[n]
            counts[n].add("meetings.listed", number)
            if attended is None:
                counts[n].add("meetings.attendance_not_recorded", number)
            elif attended:
                counts[n].add("meetings.attended", number)
            else:
                counts[n].add("meetings.missed", number)
                counts[n].add(f"meetings.missed_by_barrier.{barrier or NOT_RECORDED}", number)
            if not prison_can_join:
                counts[n].add("meetings.on_platform_prison_cannot_join", number)


async def count_visits(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    periods = range(len(women.spans))
    window = women.window
    held = await _tally(
        session,
        women.source.join(ContactVisit, ContactVisit.mother_id == women.id),
        [
            ContactVisit.status == "held",
            _within(ContactVisit.scheduled_at, window),
        ],
        [ContactVisit.visit_type == FINAL_CONTACT],
        [(women.during(n, ContactVisit.scheduled_at), None) for n in periods],
    )
    for is_final, *figures in held:
        for n in periods:
            counts[n].add("visits.held", figures[n])
            counts[n].add("visits.final_contacts_held", figures[n] if is_final else 0)
    # Called off in the period: when it was called off, whenever it was to take place.
    change = ContactVisitStatusChange
    called_off = await _tally(
        session,
        women.source.join(change, change.mother_id == women.id),
        [
            change.to_status.in_(("cancelled", "refused")),
            _within(change.changed_at, window),
        ],
        [change.to_status, change.reason_code],
        [(women.during(n, change.changed_at), None) for n in periods],
    )
    for status, reason_code, *figures in called_off:
        for n in periods:
            counts[n].add(f"visits.{status}", figures[n])
            if status == "cancelled":
                reason = reason_code or NOT_RECORDED
                counts[n].add(f"visits.cancelled_by_reason.{reason}", figures[n])


async def count_assessments(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    periods = range(len(women.spans))
    window = women.window
    assessment = ParentingAssessment
    rows = await _tally(
        session,
        women.source.join(assessment, assessment.mother_id == women.id),
        [
            or_(
                _within(assessment.requested_on, window),
                _within(assessment.completed_on, window),
            )
        ],
        [assessment.outcome],
        [
            measure
            for n in periods
            for measure in (
                (women.during(n, assessment.requested_on), None),
                (women.during(n, assessment.completed_on), None),
            )
        ],
    )
    for outcome, *figures in rows:
        for n in periods:
            requested, completed = figures[2 * n : 2 * n + 2]
            counts[n].add("assessments.requested", requested)
            if completed:
                counts[n].add("assessments.completed", completed)
                counts[n].add(
                    f"assessments.completed_by_outcome.{outcome or NOT_RECORDED}", completed
                )


# Evidence is dated by when it was completed, or begun if it is still going on; an index on
# the same expression finds a period's.
EVIDENCE_DATED = func.coalesce(Evidence.completed_on, Evidence.started_on)


async def count_evidence(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    periods = range(len(women.spans))
    window = women.window
    rows = await _tally(
        session,
        women.source.join(Evidence, Evidence.mother_id == women.id),
        [_within(EVIDENCE_DATED, window)],
        [Evidence.category],
        [
            measure
            for n in periods
            for measure in (
                (women.during(n, EVIDENCE_DATED), None),
                (women.during(n, EVIDENCE_DATED), Evidence.hours),
            )
        ],
    )
    for n in periods:
        counts[n].add("evidence.hours", 0)
    for category, *figures in rows:
        for n in periods:
            items, hours = figures[2 * n], _hours(figures[2 * n + 1])
            counts[n].add("evidence.items", items)
            counts[n].add(f"evidence.items_by_category.{category}", items)
            counts[n].add("evidence.hours", hours)
            counts[n].add(f"evidence.hours_by_category.{category}", hours)


def _hours(hours: Decimal | float | None) -> float:
    return round(float(hours or 0), 2)


async def count_releases(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    periods = range(len(women.spans))
    window = women.window
    _, _, incomplete = plan_gaps()
    rows = await _tally(
        session,
        women.source.join(Mother, Mother.id == women.id).outerjoin(
            ReleasePlan, ReleasePlan.mother_id == Mother.id
        ),
        [_within(RELEASE_DATE, window)],
        [_flag(incomplete)],
        [(women.during(n, RELEASE_DATE), None) for n in periods],
    )
    for short_of_complete, *figures in rows:
        for n in periods:
            counts[n].add("releases.due", figures[n])
            plan = "without" if short_of_complete else "with"
            counts[n].add(f"releases.{plan}_complete_plan", figures[n])


@asynccontextmanager
async def snapshot(session: AsyncSession) -> AsyncIterator[None]:
    """Every figure from one consistent snapshot of the database (PostgreSQL: one
    repeatable-read transaction, which writes only a temporary table), without JIT compilation
    or parallel workers, which cost more to start than these statements take."""
    driver = await driver_connection(session)
    if driver is None:
        yield
        return
    transaction = driver.transaction(isolation="repeatable_read")
    await transaction.start()
    try:
        await driver.execute("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")
        yield
    finally:
        # Nothing was written but the women's table of its own, which goes with the
        # transaction: rolled back, which frees the connection for the request's audit row.
        try:
            # Shielded: a request cancelled now must still end its transaction.
            with anyio.CancelScope(shield=True):
                await transaction.rollback()
        finally:
            if driver.is_in_transaction():
                # Left inside the report's transaction (a stale snapshot, the table still
                # there), the connection must never serve another request.
                await (await session.connection()).invalidate()


async def count_periods(
    session: AsyncSession,
    prison: str | None,
    spans: Sequence[Span],
    late_days: int,
    *,
    children_and_demographics: bool = True,
) -> list[Counts]:
    """Every figure of each period, in the order of `spans`."""
    counts = [Counts() for _ in spans]
    async with snapshot(session):
        women = await women_in(session, prison, spans)
        await count_women(session, women, counts, children_and_demographics)
        if children_and_demographics:
            await count_children(session, women, counts)
        await count_hearings(session, women, counts, late_days)
        await count_meetings(session, women, counts)
        await count_visits(session, women, counts)
        await count_assessments(session, women, counts)
        await count_evidence(session, women, counts)
        await count_releases(session, women, counts)
    return counts
