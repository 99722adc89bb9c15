"""Governors' and evaluators' reports: the periods asked for, what each report shows, and
small-number protection applied before anything leaves. The counting is `counting.py`'s."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.schemas import Outcome as AssessmentOutcome
from tac_api.auth.schemas import Caller, Role
from tac_api.children.schemas import LivesWith
from tac_api.db import utcnow
from tac_api.errors import InvalidInput, NotFound
from tac_api.evidence.schemas import CATEGORY_LABELS
from tac_api.hearings.schemas import AttendedHow, Barrier
from tac_api.meetings.schemas import Barrier as MeetingBarrier
from tac_api.reference.models import Ethnicity, LegalStatus, Prison
from tac_api.reports.counting import AGE_BANDS, NOT_RECORDED, Span, count_periods, group_key
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
from tac_api.visits.schemas import ReasonCode

LONGEST_PERIOD_MONTHS = 12
MOST_QUARTERS = 20
EARLIEST_REPORT_DATE = date(2000, 1, 1)
LATEST_REPORT_DATE = date(2099, 12, 31)
REPORT_NAMESPACE = uuid.UUID("4f0c8a55-7d2e-4a8e-9a61-3b8d2f6c1e90")


def period_of(span: Span) -> Period:
    return Period(from_=span.start, to=span.end)


def _date_problems(start: date, end: date) -> list[tuple[str, str]]:
    problems = []
    if start < EARLIEST_REPORT_DATE:
        problems.append(("from", f"reports start from {EARLIEST_REPORT_DATE} at the earliest"))
    if end > LATEST_REPORT_DATE:
        problems.append(("to", f"reports end by {LATEST_REPORT_DATE} at the latest"))
    return problems


def check_span(start: date, end: date) -> Span:
    """A period of whole calendar months, at most a year. Whole months because periods of any
    length would let two reports a day apart be subtracted: what happened on that one day, to
    a handful of women the prison can name, with no cell small enough to be suppressed."""
    problems = _date_problems(start, end)
    if start.day != 1:
        problems.append(("from", "reports cover whole months: the first day of a month"))
    if end <= LATEST_REPORT_DATE and (end + timedelta(days=1)).day != 1:
        problems.append(("to", "reports cover whole months: the last day of a month"))
    if not problems:
        if end < start:
            problems.append(("to", "must be on or after from"))
        elif _whole_months(Span(start, end)) > LONGEST_PERIOD_MONTHS:
            problems.append(("to", f"a report covers at most {LONGEST_PERIOD_MONTHS} months"))
    InvalidInput.raise_any(problems, location="query")
    return Span(start, end)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _whole_months(span: Span) -> int:
    """How many calendar months a period of whole months is."""
    after = span.end + timedelta(days=1)
    return (after.year - span.start.year) * 12 + after.month - span.start.month


def previous_span(span: Span) -> Span:
    """The period before, as many months long: April to June is compared with January to
    March."""
    return Span(_add_months(span.start, -_whole_months(span)), span.start - timedelta(days=1))


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

    @property
    def breakdown(self) -> str | None:
        """Parts of one breakdown share the key up to their own code."""
        return self.key.rsplit(".", 1)[0] if self.part_of else None

    def rule(self) -> Rule:
        return Rule(
            self.key,
            counted=self.unit == "count",
            part_of=self.part_of,
            breakdown=self.breakdown or "",
            follows=self.follows,
        )


@dataclass
class Catalogue:
    """The report's sections and figures, in the order they are shown; code lists come from the
    reference data, so a new legal status or ethnic group appears without a release."""

    sections: list[tuple[str, str, list[Spec]]] = field(default_factory=list)

    def add(self, key: str, title: str, specs: Iterable[Spec]) -> None:
        self.sections.append((key, title, list(specs)))

    def specs(self) -> list[Spec]:
        return [spec for _, _, specs in self.sections for spec in specs]


def _short(description: str, most: int = 64) -> str:
    """A code's description as a row or chart label: the 903 guide's run to a paragraph (J3).
    Up to its first aside or clause, and no longer than `most`."""
    for stop in (" (", ", ", ". "):
        description = description.split(stop)[0]
    return description if len(description) <= most else description[: most - 1].rstrip() + "…"


def _words(code: str) -> str:
    return code.replace("_", " ").capitalize()


def _parts(total: str, prefix: str, codes: Iterable[tuple[str, str]]) -> list[Spec]:
    return [Spec(f"{prefix}.{code}", label, part_of=total) for code, label in codes]


def _coded(values: Iterable[str], *, recorded: bool = True) -> list[tuple[str, str]]:
    """A code list's parts; `recorded=False` adds one for a record without the code (older
    rows, or ones written before the rule that asks for it), so the parts still add up."""
    parts = [(value, _words(value)) for value in values]
    return parts if recorded else [*parts, (NOT_RECORDED, "Not recorded")]


async def catalogue(session: AsyncSession, late_notice_days: int) -> Catalogue:
    legal_statuses = (
        await session.execute(select(LegalStatus.code, LegalStatus.description).order_by("code"))
    ).all()
    groups = list(
        await session.scalars(select(Ethnicity.group).distinct().order_by(Ethnicity.group))
    )
    shown = Catalogue()
    shown.add(
        "women",
        "Women supported",
        [
            Spec("women.active", "Women supported in the period"),
            Spec("women.new", "New to the service"),
            Spec("women.closed", "Cases closed"),
        ],
    )
    shown.add(
        "children",
        "Children",
        [
            Spec("children.linked", "Children linked"),
            Spec("children.expected", "Of whom not yet born"),
            *_parts(
                "children.linked",
                "children.by_legal_status",
                [
                    *((code, f"{code}: {_short(text)}") for code, text in legal_statuses),
                    ("not_looked_after", "No legal status (not looked after)"),
                ],
            ),
            *_parts(
                "children.linked",
                "children.by_lives_with",
                _coded(get_args(LivesWith), recorded=False),
            ),
            Spec("children.families_with_separated_siblings", "Families with separated siblings"),
            Spec("children.local_authorities", "Local authorities involved"),
            Spec("children.social_workers", "Children's social workers involved"),
        ],
    )
    shown.add(
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
                "hearings.attended",
                "hearings.attended_by_mode",
                _coded(get_args(AttendedHow), recorded=False),
            ),
            Spec("hearings.missed", "Missed", part_of="hearings.held"),
            *_parts(
                "hearings.missed",
                "hearings.missed_by_barrier",
                _coded(get_args(Barrier), recorded=False),
            ),
            Spec("hearings.late_notice", f"Notified fewer than {late_notice_days} days ahead"),
            Spec(
                "hearings.median_notice_days",
                "Median days of notice",
                unit="days",
                follows="hearings.listed",
            ),
        ],
    )
    shown.add(
        "meetings",
        "Meetings about her children",
        [
            Spec("meetings.listed", "Meetings in the period"),
            Spec("meetings.attended", "Attended", part_of="meetings.listed"),
            Spec("meetings.missed", "Missed", part_of="meetings.listed"),
            Spec("meetings.attendance_not_recorded", "Not yet recorded", part_of="meetings.listed"),
            *_parts(
                "meetings.missed",
                "meetings.missed_by_barrier",
                _coded(get_args(MeetingBarrier), recorded=False),
            ),
            Spec(
                "meetings.on_platform_prison_cannot_join",
                "Held on a platform the prison cannot join",
            ),
        ],
    )
    shown.add(
        "visits",
        "Contact visits",
        [
            Spec("visits.held", "Held"),
            Spec("visits.final_contacts_held", "Final contacts before adoption held"),
            Spec("visits.cancelled", "Cancelled"),
            *_parts(
                "visits.cancelled",
                "visits.cancelled_by_reason",
                _coded(get_args(ReasonCode), recorded=False),
            ),
            Spec("visits.refused", "Refused"),
        ],
    )
    shown.add(
        "assessments",
        "Parenting assessments",
        [
            Spec("assessments.requested", "Requested"),
            Spec("assessments.completed", "Completed"),
            *_parts(
                "assessments.completed",
                "assessments.completed_by_outcome",
                _coded(get_args(AssessmentOutcome), recorded=False),
            ),
        ],
    )
    categories = list(CATEGORY_LABELS.items())
    shown.add(
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
    shown.add(
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
    shown.add(
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
    return shown


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
    counted = await count_periods(session, prison_code, [span, before], late_notice_days)
    current = protect(counted[0], specs, threshold)
    previous = protect(counted[1], specs, threshold)
    return GovernorReport(
        report_id=report_id("governor", prison_code, span.start, span.end),
        prison_code=prison_code,
        prison_name=prison_name,
        period=period_of(span),
        previous_period=period_of(before),
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
                        breakdown=spec.breakdown,
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
    problems = _date_problems(start, end)
    if end < start:
        problems.append(("to", "must be on or after from"))
    elif not problems and len(quarters_between(start, end)) > MOST_QUARTERS:
        problems.append(("to", f"a programme report covers at most {MOST_QUARTERS} quarters"))
    InvalidInput.raise_any(problems, location="query")
    return quarters_between(start, end)


async def programme_report(
    session: AsyncSession, quarters: list[Span], *, threshold: int, late_notice_days: int
) -> ProgrammeReport:
    prisons = list(await session.scalars(select(Prison.code).order_by(Prison.code)))
    counted = await count_periods(
        session, None, quarters, late_notice_days, children_and_demographics=False
    )
    columns = [
        protect(
            {spec.key: counts.get(spec.key, 0) for spec in PROGRAMME_FIGURES},
            PROGRAMME_FIGURES,
            threshold,
        )
        for counts in counted
    ]
    return ProgrammeReport(
        report_id=report_id("programme", quarters[0].start, quarters[-1].end),
        prison_codes=prisons,
        quarters=[
            Quarter(
                key=f"{q.start:%Y-%m}",
                label=f"{q.start:%b} to {q.end:%b %Y}",
                period=period_of(q),
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
