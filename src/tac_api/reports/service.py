"""Governors' and evaluators' reports: figures about the work, counted in the database.

Every figure is about the women supported in a prison over a period: held there at some time in
it (a `prison_stay` overlapping it) while the service supported her (from `supported_from` to
`closed_on`). A woman transferred during the period counts in both prisons. Her hearings,
meetings, visits, assessments and evidence count in the period they are dated in. Each section
is one or two aggregate statements per period, whatever the number of women: rows leave the
database already counted, except the notice days of the period's hearings (for the median).
"""

import re
import statistics
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, get_args

from sqlalchemy import ColumnElement, Row, Select, and_, case, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.models import ParentingAssessment
from tac_api.assessments.schemas import Outcome as AssessmentOutcome
from tac_api.auth.schemas import Caller, Role
from tac_api.children.models import Child
from tac_api.children.schemas import LivesWith
from tac_api.db import utcnow
from tac_api.errors import InvalidInput, NotFound
from tac_api.evidence.models import Evidence
from tac_api.evidence.schemas import CATEGORY_LABELS
from tac_api.hearings.models import CourtHearing
from tac_api.hearings.schemas import AttendedHow, Barrier
from tac_api.hearings.service import notice_days
from tac_api.meetings.models import Meeting
from tac_api.meetings.schemas import Barrier as MeetingBarrier
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.reference.models import Ethnicity, LegalStatus, Prison
from tac_api.release.models import ReleasePlan
from tac_api.release.service import RELEASE_DATE, plan_gaps
from tac_api.reports.schemas import (
    Cell,
    Figure,
    GovernorReport,
    Period,
    ProgrammeFigure,
    ProgrammeReport,
    Quarter,
    Section,
    Suppression,
    Unit,
)
from tac_api.reports.suppression import Number, Rule, suppressed_keys
from tac_api.visits.models import ContactVisit, ContactVisitStatusChange
from tac_api.visits.schemas import FINAL_CONTACT, ReasonCode

LONGEST_PERIOD_DAYS = 366
MOST_QUARTERS = 20
EARLIEST_REPORT_DATE = date(2000, 1, 1)
NOT_RECORDED = "not_recorded"
# Age at the end of the period, in bands wide enough for a prison of 35 to 100 women:
# (key, label, youngest age in the band).
AGE_BANDS = (
    ("under_25", "Under 25", 0),
    ("25_34", "25 to 34", 25),
    ("35_44", "35 to 44", 35),
    ("45_and_over", "45 and over", 45),
)
REPORT_NAMESPACE = uuid.UUID("4f0c8a55-7d2e-4a8e-9a61-3b8d2f6c1e90")


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

    def period(self) -> Period:
        return Period(from_=self.start, to=self.end)


def check_span(start: date, end: date) -> Span:
    problems = []
    if start < EARLIEST_REPORT_DATE:
        problems.append(("from", f"reports start from {EARLIEST_REPORT_DATE} at the earliest"))
    if end < start:
        problems.append(("to", "must be on or after from"))
    elif (end - start).days + 1 > LONGEST_PERIOD_DAYS:
        problems.append(("to", f"a report covers at most {LONGEST_PERIOD_DAYS} days"))
    if problems:
        error = InvalidInput(*problems[0], location="query")
        error.errors = [{"location": "query", "field": f, "message": m} for f, m in problems]
        error.detail = "; ".join(f"{f}: {m}" for f, m in problems)
        raise error
    return Span(start, end)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _whole_months(span: Span) -> int | None:
    """How many calendar months the period is, if it is whole months (a quarter, a year)."""
    if span.start.day != 1 or (span.end + timedelta(days=1)).day != 1:
        return None
    after = span.end + timedelta(days=1)
    return (after.year - span.start.year) * 12 + after.month - span.start.month


def previous_span(span: Span) -> Span:
    """The period before, of the same length: the same number of months for a period of whole
    months (April to June is compared with January to March), else of days."""
    months = _whole_months(span)
    if months is not None:
        return Span(_add_months(span.start, -months), span.start - timedelta(days=1))
    length = span.end - span.start
    end = span.start - timedelta(days=1)
    return Span(end - length, end)


def report_prison(caller: Caller, prison_code: str | None) -> str:
    """The prison a caller may have a report of: the one place reports are scoped. A governor
    has her own prison's only; another prison reads as not found, as a record out of scope
    does."""
    if caller.role is Role.admin:
        if prison_code is None:
            raise InvalidInput("prison_code", "name the prison", location="query")
        return prison_code
    if prison_code not in (None, caller.prison_code):
        raise NotFound(f"No prison {prison_code} is visible to you.")
    assert caller.prison_code is not None  # a governor always has her prison
    return caller.prison_code


# What is counted ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    key: str
    label: str
    unit: Unit = "count"
    part_of: str | None = None
    follows: str | None = None

    def rule(self) -> Rule:
        return Rule(self.key, self.unit == "count", self.part_of, self.follows)


@dataclass
class Catalogue:
    """The report's sections and figures, in the order they are shown; code lists come from the
    reference data, so a new legal status or ethnic group appears without a release."""

    sections: list[tuple[str, str, list[Spec]]] = field(default_factory=list)

    def add(self, key: str, title: str, specs: Iterable[Spec]) -> None:
        self.sections.append((key, title, list(specs)))

    def specs(self) -> list[Spec]:
        return [spec for _, _, specs in self.sections for spec in specs]


def _words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _parts(total: str, prefix: str, codes: Iterable[tuple[str, str]]) -> list[Spec]:
    return [Spec(f"{prefix}.{code}", label, part_of=total) for code, label in codes]


def _coded(values: Iterable[str]) -> list[tuple[str, str]]:
    return [(value, _words(value)) for value in values]


def group_key(group: str) -> str:
    """An ethnic group's key: its name up to the first comma (`Asian, Asian British...` ->
    `asian`, `Not stated` -> `not_stated`)."""
    return "_".join(re.findall(r"[a-z]+", group.split(",")[0].lower()))


async def catalogue(session: AsyncSession, late_notice_days: int) -> Catalogue:
    legal_statuses = (
        await session.execute(select(LegalStatus.code, LegalStatus.description).order_by("code"))
    ).all()
    groups = list(
        await session.scalars(select(distinct(Ethnicity.group)).order_by(Ethnicity.group))
    )
    c = Catalogue()
    c.add(
        "women",
        "Women supported",
        [
            Spec("women.active", "Women supported in the period"),
            Spec("women.new", "New to the service"),
            Spec("women.closed", "Cases closed"),
        ],
    )
    c.add(
        "children",
        "Children",
        [
            Spec("children.linked", "Children linked"),
            Spec("children.expected", "Of whom not yet born"),
            *_parts(
                "children.linked",
                "children.by_legal_status",
                [
                    *((code, f"{code}: {text}") for code, text in legal_statuses),
                    ("not_looked_after", "No legal status (not looked after)"),
                ],
            ),
            *_parts("children.linked", "children.by_lives_with", _coded(get_args(LivesWith))),
            Spec("children.families_with_separated_siblings", "Families with separated siblings"),
            Spec("children.local_authorities", "Local authorities involved"),
            Spec("children.social_workers", "Children's social workers involved"),
        ],
    )
    c.add(
        "hearings",
        "Family court hearings",
        [
            Spec("hearings.listed", "Hearings in the period"),
            Spec("hearings.held", "Held (outcome recorded)", part_of="hearings.listed"),
            Spec(
                "hearings.awaiting_outcome", "Outcome not yet recorded", part_of="hearings.listed"
            ),
            Spec("hearings.attended", "Attended", part_of="hearings.held"),
            *_parts(
                "hearings.attended", "hearings.attended_by_mode", _coded(get_args(AttendedHow))
            ),
            Spec("hearings.missed", "Missed", part_of="hearings.held"),
            *_parts("hearings.missed", "hearings.missed_by_barrier", _coded(get_args(Barrier))),
            Spec("hearings.late_notice", f"Notified fewer than {late_notice_days} days ahead"),
            Spec(
                "hearings.median_notice_days",
                "Median days of notice",
                unit="days",
                follows="hearings.listed",
            ),
        ],
    )
    c.add(
        "meetings",
        "Meetings about her children",
        [
            Spec("meetings.listed", "Meetings in the period"),
            Spec("meetings.attended", "Attended", part_of="meetings.listed"),
            Spec("meetings.missed", "Missed", part_of="meetings.listed"),
            Spec("meetings.attendance_not_recorded", "Not yet recorded", part_of="meetings.listed"),
            *_parts(
                "meetings.missed", "meetings.missed_by_barrier", _coded(get_args(MeetingBarrier))
            ),
            Spec(
                "meetings.on_platform_prison_cannot_join",
                "Held on a platform the prison cannot join",
            ),
        ],
    )
    c.add(
        "visits",
        "Contact visits",
        [
            Spec("visits.held", "Held"),
            Spec("visits.final_contacts_held", "Final contacts before adoption held"),
            Spec("visits.cancelled", "Cancelled"),
            *_parts(
                "visits.cancelled",
                "visits.cancelled_by_reason",
                [*_coded(get_args(ReasonCode)), (NOT_RECORDED, "Reason not recorded")],
            ),
            Spec("visits.refused", "Refused"),
        ],
    )
    c.add(
        "assessments",
        "Parenting assessments",
        [
            Spec("assessments.requested", "Requested"),
            Spec("assessments.completed", "Completed"),
            *_parts(
                "assessments.completed",
                "assessments.completed_by_outcome",
                _coded(get_args(AssessmentOutcome)),
            ),
        ],
    )
    categories = list(CATEGORY_LABELS.items())
    c.add(
        "evidence",
        "Evidence of rehabilitation",
        [
            Spec("evidence.items", "Items"),
            *_parts("evidence.items", "evidence.items_by_category", categories),
            Spec("evidence.hours", "Hours", unit="hours", follows="evidence.items"),
            *(
                Spec(
                    f"evidence.hours_by_category.{code}",
                    f"{label}: hours",
                    unit="hours",
                    part_of="evidence.hours",
                    follows=f"evidence.items_by_category.{code}",
                )
                for code, label in categories
            ),
        ],
    )
    c.add(
        "releases",
        "Releases",
        [
            Spec("releases.due", "Releases due in the period"),
            Spec("releases.with_complete_plan", "With a complete plan", part_of="releases.due"),
            Spec(
                "releases.without_complete_plan",
                "Without a complete plan",
                part_of="releases.due",
            ),
        ],
    )
    c.add(
        "demographics",
        "The women supported",
        [
            *_parts(
                "women.active",
                "demographics.age_band",
                [(key, label) for key, label, _ in AGE_BANDS],
            ),
            *_parts(
                "women.active",
                "demographics.ethnic_group",
                [*((group_key(group), group) for group in groups), (NOT_RECORDED, "Not recorded")],
            ),
            *_parts(
                "women.active",
                "demographics.domestic_abuse",
                [
                    ("yes", "Domestic abuse in her history"),
                    ("no", "None"),
                    ("not_known", "Not known"),
                ],
            ),
        ],
    )
    return c


# Counting one period ----------------------------------------------------------------------------


def _supported(prison_code: str | None, span: Span) -> list[ColumnElement[bool]]:
    """Conditions on `Mother`: supported in the period, and held in the prison at some time in
    it (any prison when none is named)."""
    conditions = [
        Mother.supported_from <= span.end,
        or_(Mother.closed_on.is_(None), Mother.closed_on >= span.start),
    ]
    if prison_code is not None:
        conditions.append(
            exists().where(
                PrisonStay.mother_id == Mother.id,
                PrisonStay.prison_code == prison_code,
                PrisonStay.arrived_on <= span.end,
                or_(PrisonStay.left_on.is_(None), PrisonStay.left_on >= span.start),
            )
        )
    return conditions


def _women_ids(prison_code: str | None, span: Span) -> Select[Any]:
    return select(Mother.id).where(*_supported(prison_code, span))


def _during(column: Any, span: Span) -> ColumnElement[bool]:
    return and_(column >= span.starts_at, column < span.ends_before)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


async def _count_by(session: AsyncSession, statement: Select[Any]) -> Sequence[Row[Any]]:
    """Its rows counted by every column it selects. Grouped outside, by the subquery's columns:
    PostgreSQL would not match a CASE in GROUP BY with the same CASE in the select list, as
    each carries bind parameters of its own."""
    grouped = statement.subquery()
    return (await session.execute(select(*grouped.c, func.count()).group_by(*grouped.c))).all()


class Counts(dict[str, Number | None]):
    """One period's figures by key; a figure never counted is 0."""

    def add(self, key: str, amount: Number) -> None:
        self[key] = (self.get(key) or 0) + amount


async def _women(session: AsyncSession, counts: Counts, prison: str | None, span: Span) -> None:
    age_band = case(
        *(
            (Mother.date_of_birth <= _birthday_cut(span.end, youngest), key)
            for key, _, youngest in reversed(AGE_BANDS[1:])
        ),
        else_=AGE_BANDS[0][0],
    )
    rows = await _count_by(
        session,
        select(
            _flag(Mother.supported_from >= span.start),
            _flag(Mother.closed_on <= span.end),
            age_band,
            Ethnicity.group,
            Mother.domestic_abuse_history,
        )
        .select_from(Mother)
        .outerjoin(Ethnicity, Ethnicity.code == Mother.ethnicity)
        .where(*_supported(prison, span)),
    )
    for new, closed, band, group, abuse, number in rows:
        counts.add("women.active", number)
        counts.add("women.new", new * number)
        counts.add("women.closed", closed * number)
        counts.add(f"demographics.age_band.{band}", number)
        counts.add(
            f"demographics.ethnic_group.{group_key(group) if group else NOT_RECORDED}", number
        )
        abuse_key = "not_known" if abuse is None else ("yes" if abuse else "no")
        counts.add(f"demographics.domestic_abuse.{abuse_key}", number)


def _birthday_cut(on: date, age: int) -> date:
    """Born after this day: younger than `age` on `on` (29 February born counts from 1 March)."""
    try:
        return on.replace(year=on.year - age)
    except ValueError:
        return on.replace(year=on.year - age, day=28)


async def _children(session: AsyncSession, counts: Counts, prison: str | None, span: Span) -> None:
    women = _women_ids(prison, span)
    theirs = Child.mother_id.in_(women)
    rows = await _count_by(
        session,
        select(Child.legal_status, Child.lives_with, Child.date_of_birth.is_(None)).where(theirs),
    )
    for legal_status, lives_with, unborn, number in rows:
        counts.add("children.linked", number)
        counts.add("children.expected", number if unborn else 0)
        counts.add(f"children.by_legal_status.{legal_status or 'not_looked_after'}", number)
        counts.add(f"children.by_lives_with.{lives_with}", number)
    # A household is a carer type in an authority, as in the family view: siblings born and
    # living in more than one are separated.
    separated = (
        select(Child.mother_id)
        .where(theirs, Child.date_of_birth.is_not(None))
        .group_by(Child.mother_id)
        .having(func.count(distinct(Child.lives_with + "|" + Child.local_authority_code)) > 1)
        .subquery()
    )
    # The same worker is often typed slightly differently on each sibling's record.
    worker = (
        func.lower(func.trim(Child.social_worker_name))
        + "|"
        + func.lower(
            func.trim(func.coalesce(Child.social_worker_email, Child.social_worker_phone, ""))
        )
    )
    families, authorities, workers = (
        await session.execute(
            select(
                select(func.count()).select_from(separated).scalar_subquery(),
                func.count(distinct(Child.local_authority_code)),
                func.count(distinct(worker)),
            ).where(theirs)
        )
    ).one()
    counts.add("children.families_with_separated_siblings", families)
    counts.add("children.local_authorities", authorities)
    counts.add("children.social_workers", workers)


async def _hearings(
    session: AsyncSession, counts: Counts, prison: str | None, span: Span, late_days: int
) -> None:
    in_period = [
        CourtHearing.mother_id.in_(_women_ids(prison, span)),
        _during(CourtHearing.starts_at, span),
    ]
    held = CourtHearing.outcome_recorded_at.is_not(None)
    rows = await _count_by(
        session,
        select(held, CourtHearing.attended, CourtHearing.attended_how, CourtHearing.barrier).where(
            *in_period
        ),
    )
    for was_held, attended, how, barrier, number in rows:
        counts.add("hearings.listed", number)
        if not was_held:
            counts.add("hearings.awaiting_outcome", number)
            continue
        counts.add("hearings.held", number)
        if attended:
            counts.add("hearings.attended", number)
            counts.add(f"hearings.attended_by_mode.{how}", number)
        else:
            counts.add("hearings.missed", number)
            counts.add(f"hearings.missed_by_barrier.{barrier}", number)
    # Notice is whole days, counted as the hearing's own record counts it: the median needs
    # each hearing's, so these (two times a hearing) are the one thing read row by row.
    notices = [
        notice_days(notified_at, starts_at)
        for starts_at, notified_at in await session.execute(
            select(CourtHearing.starts_at, CourtHearing.notified_at).where(*in_period)
        )
    ]
    counts.add("hearings.late_notice", sum(1 for days in notices if days < late_days))
    counts["hearings.median_notice_days"] = float(statistics.median(notices)) if notices else None


async def _meetings(session: AsyncSession, counts: Counts, prison: str | None, span: Span) -> None:
    rows = await _count_by(
        session,
        select(Meeting.attended, Meeting.barrier, Meeting.prison_can_join).where(
            Meeting.mother_id.in_(_women_ids(prison, span)), _during(Meeting.starts_at, span)
        ),
    )
    for attended, barrier, prison_can_join, number in rows:
        counts.add("meetings.listed", number)
        if attended is None:
            counts.add("meetings.attendance_not_recorded", number)
        elif attended:
            counts.add("meetings.attended", number)
        else:
            counts.add("meetings.missed", number)
            counts.add(f"meetings.missed_by_barrier.{barrier}", number)
        if not prison_can_join:
            counts.add("meetings.on_platform_prison_cannot_join", number)


async def _visits(session: AsyncSession, counts: Counts, prison: str | None, span: Span) -> None:
    women = _women_ids(prison, span)
    final = ContactVisit.visit_type == FINAL_CONTACT
    held = await _count_by(
        session,
        select(final).where(
            ContactVisit.mother_id.in_(women),
            ContactVisit.status == "held",
            _during(ContactVisit.scheduled_at, span),
        ),
    )
    for is_final, number in held:
        counts.add("visits.held", number)
        counts.add("visits.final_contacts_held", number if is_final else 0)
    # Called off in the period: when it was called off, whenever it was to take place.
    called_off = await _count_by(
        session,
        select(ContactVisitStatusChange.to_status, ContactVisitStatusChange.reason_code).where(
            ContactVisitStatusChange.mother_id.in_(women),
            ContactVisitStatusChange.to_status.in_(("cancelled", "refused")),
            _during(ContactVisitStatusChange.changed_at, span),
        ),
    )
    for status, reason_code, number in called_off:
        counts.add(f"visits.{status}", number)
        if status == "cancelled":
            counts.add(f"visits.cancelled_by_reason.{reason_code or NOT_RECORDED}", number)


async def _assessments(
    session: AsyncSession, counts: Counts, prison: str | None, span: Span
) -> None:
    women = ParentingAssessment.mother_id.in_(_women_ids(prison, span))
    requested = await session.scalar(
        select(func.count()).where(
            women, ParentingAssessment.requested_on.between(span.start, span.end)
        )
    )
    counts.add("assessments.requested", requested or 0)
    completed = await _count_by(
        session,
        select(ParentingAssessment.outcome).where(
            women, ParentingAssessment.completed_on.between(span.start, span.end)
        ),
    )
    for outcome, number in completed:
        counts.add("assessments.completed", number)
        counts.add(f"assessments.completed_by_outcome.{outcome}", number)


async def _evidence(session: AsyncSession, counts: Counts, prison: str | None, span: Span) -> None:
    # Dated by when it was completed, or begun if it is still going on.
    dated = func.coalesce(Evidence.completed_on, Evidence.started_on)
    rows = await session.execute(
        select(Evidence.category, func.count(), func.sum(Evidence.hours))
        .where(
            Evidence.mother_id.in_(_women_ids(prison, span)), dated.between(span.start, span.end)
        )
        .group_by(Evidence.category)
    )
    counts.add("evidence.hours", 0)
    for category, number, hours in rows:
        counted = _hours(hours)
        counts.add("evidence.items", number)
        counts.add(f"evidence.items_by_category.{category}", number)
        counts.add("evidence.hours", counted)
        counts.add(f"evidence.hours_by_category.{category}", counted)


def _hours(hours: Decimal | float | None) -> float:
    return round(float(hours or 0), 2)


async def _releases(session: AsyncSession, counts: Counts, prison: str | None, span: Span) -> None:
    _, _, incomplete = plan_gaps()
    rows = await _count_by(
        session,
        select(_flag(incomplete))
        .select_from(Mother)
        .outerjoin(ReleasePlan, ReleasePlan.mother_id == Mother.id)
        .where(*_supported(prison, span), RELEASE_DATE.between(span.start, span.end)),
    )
    for short_of_complete, number in rows:
        counts.add("releases.due", number)
        counts.add(
            "releases.without_complete_plan"
            if short_of_complete
            else "releases.with_complete_plan",
            number,
        )


async def count_period(
    session: AsyncSession, prison: str | None, span: Span, late_days: int
) -> Counts:
    counts = Counts()
    await _women(session, counts, prison, span)
    await _children(session, counts, prison, span)
    await _hearings(session, counts, prison, span, late_days)
    await _meetings(session, counts, prison, span)
    await _visits(session, counts, prison, span)
    await _assessments(session, counts, prison, span)
    await _evidence(session, counts, prison, span)
    await _releases(session, counts, prison, span)
    return counts


# Shaping and protecting -----------------------------------------------------------------------


def _values(counts: Mapping[str, Number | None], specs: Sequence[Spec]) -> dict[str, Number | None]:
    unknown = counts.keys() - {spec.key for spec in specs}
    # A code the catalogue does not list would leave its parts short of their total, and the
    # secondary suppression unsound: fail loudly rather than publish it.
    if unknown:
        raise LookupError(f"figures counted but not in the report: {sorted(unknown)}")
    return {spec.key: counts.get(spec.key, 0) for spec in specs}


def protect(
    counts: Mapping[str, Number | None], specs: Sequence[Spec], threshold: int
) -> dict[str, Cell]:
    values = _values(counts, specs)
    hidden = suppressed_keys(values, [spec.rule() for spec in specs], threshold)
    return {
        key: Cell(value=None, suppressed=True) if key in hidden else Cell(value=value)
        for key, value in values.items()
    }


def suppression(threshold: int) -> Suppression:
    return Suppression(
        threshold=threshold,
        legend=f"c: suppressed, a count from 1 to {threshold}, or a figure that would reveal "
        "one (a second part of a total, hours or a median derived from a small count). "
        "z: not applicable (nothing to take a median of).",
    )


def report_id(*parts: object) -> uuid.UUID:
    """The same report (kind, prison, period) always has the same id: the audit trail names it."""
    return uuid.uuid5(REPORT_NAMESPACE, "/".join(str(part) for part in parts))


GOVERNOR_NOTES = (
    "Women supported: held in the prison at some time in the period while the service "
    "supported her; a woman transferred during the period counts in both prisons.",
    "New: support began in the period. Closed: her case was closed in the period.",
    "Children: every child of the women supported, with legal status and carer as recorded "
    "now. Separated siblings: born children living in more than one household (carer type "
    "and authority).",
    "Hearings and meetings count by when they were listed to start (UTC); held hearings are "
    "those with an outcome recorded. Visits held count by their scheduled time; cancellations "
    "and refusals by when they were made.",
    "Evidence counts by the date it was completed, or begun if it is still going on.",
    "Releases due: the plan's expected release date, else her earliest release date, in the "
    "period; a complete plan as the plan stands now.",
    "Age is on the last day of the period.",
)


async def governor_report(
    session: AsyncSession,
    prison_code: str,
    span: Span,
    *,
    threshold: int,
    late_notice_days: int,
) -> GovernorReport:
    prison_name = await session.scalar(select(Prison.name).where(Prison.code == prison_code))
    if prison_name is None:
        raise NotFound(f"No prison {prison_code} is visible to you.")
    before = previous_span(span)
    found = await catalogue(session, late_notice_days)
    specs = found.specs()
    current = protect(
        await count_period(session, prison_code, span, late_notice_days), specs, threshold
    )
    previous = protect(
        await count_period(session, prison_code, before, late_notice_days), specs, threshold
    )
    return GovernorReport(
        report_id=report_id("governor", prison_code, span.start, span.end),
        prison_code=prison_code,
        prison_name=prison_name,
        period=span.period(),
        previous_period=before.period(),
        generated_at=utcnow(),
        suppression=suppression(threshold),
        notes=list(GOVERNOR_NOTES),
        sections=[
            Section(
                key=key,
                title=title,
                figures=[
                    Figure(
                        key=spec.key,
                        label=spec.label,
                        unit=spec.unit,
                        part_of=spec.part_of,
                        current=current[spec.key],
                        previous=previous[spec.key],
                    )
                    for spec in section_specs
                ],
            )
            for key, title, section_specs in found.sections
        ],
    )


# The evaluators' snapshot ---------------------------------------------------------------------

PROGRAMME_FIGURES = (
    Spec("women.active", "Women supported"),
    Spec("meetings.attended", "Meetings attended"),
    Spec("hearings.attended", "Court hearings attended"),
    Spec("visits.held", "Contact visits facilitated"),
    Spec("assessments.completed", "Parenting assessments completed"),
    Spec("evidence.items", "Evidence items gathered"),
    Spec("releases.with_complete_plan", "Releases with a complete plan"),
)
PROGRAMME_NOTES = (
    "Both prisons together: a woman transferred between them counts once.",
    "Each figure is counted as in the governors' report, quarter by quarter (calendar "
    "quarters, UTC).",
)


def quarter_of(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def quarters_between(start: date, end: date) -> list[Span]:
    first, last = quarter_of(start), quarter_of(end)
    found = []
    while first <= last:
        after = _add_months(first, 3)
        found.append(Span(first, after - timedelta(days=1)))
        first = after
    return found


def default_quarters(today: date) -> tuple[date, date]:
    """The last four complete quarters."""
    this_quarter = quarter_of(today)
    return _add_months(this_quarter, -12), this_quarter - timedelta(days=1)


def check_quarters(start: date, end: date) -> list[Span]:
    problems = []
    if start < EARLIEST_REPORT_DATE:
        problems.append(("from", f"reports start from {EARLIEST_REPORT_DATE} at the earliest"))
    if end < start:
        problems.append(("to", "must be on or after from"))
    elif len(quarters_between(start, end)) > MOST_QUARTERS:
        problems.append(("to", f"a programme report covers at most {MOST_QUARTERS} quarters"))
    if problems:
        error = InvalidInput(*problems[0], location="query")
        error.errors = [{"location": "query", "field": f, "message": m} for f, m in problems]
        raise error
    return quarters_between(start, end)


async def programme_report(
    session: AsyncSession, quarters: list[Span], *, threshold: int, late_notice_days: int
) -> ProgrammeReport:
    prisons = list(await session.scalars(select(Prison.code).order_by(Prison.code)))
    columns = []
    for quarter in quarters:
        counts = Counts()
        await _women(session, counts, None, quarter)
        await _hearings(session, counts, None, quarter, late_notice_days)
        await _meetings(session, counts, None, quarter)
        await _visits(session, counts, None, quarter)
        await _assessments(session, counts, None, quarter)
        await _evidence(session, counts, None, quarter)
        await _releases(session, counts, None, quarter)
        wanted = {spec.key: counts.get(spec.key, 0) for spec in PROGRAMME_FIGURES}
        columns.append(protect(wanted, PROGRAMME_FIGURES, threshold))
    return ProgrammeReport(
        report_id=report_id("programme", quarters[0].start, quarters[-1].end),
        prison_codes=prisons,
        quarters=[
            Quarter(
                key=f"{q.start:%Y-%m}",
                label=f"{q.start:%b} to {q.end:%b %Y}",
                period=q.period(),
            )
            for q in quarters
        ],
        generated_at=utcnow(),
        suppression=suppression(threshold),
        notes=list(PROGRAMME_NOTES),
        figures=[
            ProgrammeFigure(
                key=spec.key,
                label=spec.label,
                values=[column[spec.key] for column in columns],
            )
            for spec in PROGRAMME_FIGURES
        ],
    )
