"""Governors' and evaluators' reports: the periods asked for, what each report shows, and
small-number protection applied before anything leaves. What is counted is `catalogue`'s,
the counting `counting`'s."""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller, Role
from tac_api.config import Settings
from tac_api.db import utcnow
from tac_api.errors import InvalidInput, NotFound
from tac_api.reference.models import Prison
from tac_api.reports.catalogue import Spec, catalogue, perturbation, protect, suppression
from tac_api.reports.counting import count_periods
from tac_api.reports.disclosure import DEVELOPMENT_KEY, Protection
from tac_api.reports.periods import Counts, Span
from tac_api.reports.programme import count_programme, programme_catalogue
from tac_api.reports.published import CellT, already_published, as_first_published
from tac_api.reports.schemas import (
    Cell,
    Figure,
    GovernorReport,
    Period,
    ProgrammeCell,
    ProgrammeFigure,
    ProgrammeReport,
    ProgrammeSection,
    Quarter,
    Section,
    Trend,
    TrendFigure,
)

MOST_QUARTERS = 20
PROGRAMME_SCOPE = "programme"
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


def check_span(start: date, end: date, *, settled_by: date | None) -> Span:
    """One calendar quarter: January to March, April to June, July to September or October to
    December. One fixed grid of periods, because periods of any length let two reports be
    subtracted (April to June less May to June is April) to what neither shows. And one that
    has settled (`settled_by`: the last quarter end that has; None, any quarter), since its
    figures are fixed when first published (`published`)."""
    problems = _date_problems(start, end)
    if not problems:
        quarter = quarters_between(start, start)[0]
        if start != quarter.start:
            problems.append(("from", "reports cover a calendar quarter: from its first day"))
        elif end != quarter.end:
            problems.append(
                ("to", f"reports cover a calendar quarter: to its last day ({quarter.end})")
            )
        elif settled_by is not None and end > settled_by:
            problems.append(("to", _not_settled(quarter)))
    InvalidInput.raise_any(problems, location="query")
    return Span(start, end)


def _not_settled(quarter: Span) -> str:
    return (
        f"{quarter.start:%b} to {quarter.end:%b %Y} is reported once it has ended and its "
        "records are in (once TAC_REPORT_SETTLE_DAYS whole days have passed after its last day)"
    )


def settled_by(today: date, settle_days: int) -> date:
    """The last day of the latest quarter that has ended and settled."""
    return quarter_of(today - timedelta(days=settle_days)) - timedelta(days=1)


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


def report_protection(settings: Settings, *, exact: bool = False) -> Protection:
    """The protection every published report has. `exact` (the tests of the counting, set on
    the application's state, never from the environment) publishes the true counts."""
    secret = settings.report_key
    key = DEVELOPMENT_KEY if secret is None else secret.get_secret_value().encode()
    return Protection(None if exact else key, settings.report_suppression_threshold)


def quarter_label(span: Span) -> str:
    """The grid's name for a quarter, part of each figure's perturbation key."""
    return f"{span.start:%Y}-Q{(span.start.month - 1) // 3 + 1}"


# The governor's trend: headline figures over this many quarters, the report's own last.
TREND_QUARTERS = 4
TREND_KEYS = (
    "women.active",
    "hearings.listed",
    "hearings.attended",
    "meetings.listed",
    "meetings.attended",
    "visits.held",
    "evidence.items",
    "referrals.received",
)


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


def report_id(*parts: object) -> uuid.UUID:
    """The same report (kind, prison, period) always has the same id: the audit trail names it."""
    return uuid.uuid5(REPORT_NAMESPACE, "/".join(str(part) for part in parts))


GOVERNOR_NOTES = (
    "Women supported: held in the prison at some time in the period while the service "
    "supported her; a woman transferred during the period counts in both prisons.",
    "New: support began in the period. Closed: her case was closed in the period.",
    "Children: every child of the women supported whose record had been made by the "
    "period's end, with legal status, carer and the rest as they stood at the period's end "
    "(from the child's history). Separated siblings: born children living in more than one "
    "household (carer type and authority), as they stood then.",
    "Hearings and meetings count by when they were listed to start (UTC); held hearings are "
    "those with an outcome recorded. One adjourned, vacated or cancelled counts apart (did "
    "not go ahead), never as held, missed, awaiting an outcome, on late notice or on a "
    "platform the prison cannot join; an adjourned one's new date counts as a hearing or "
    "meeting of its own. Visits held count by their scheduled time; cancellations "
    "and refusals by when they were made.",
    "Evidence counts by the date it was completed, or begun if it is still going on.",
    "Releases due: the plan's expected release date (as recorded now), else her earliest "
    "release date, in the period; a complete plan as the plan stood at the period's end (from "
    "its history): a plan completed or made later counts as not complete.",
    "Records made before their history was kept (children's records, release plans) count as "
    "recorded now, as far back as their history does not reach.",
    "Age is on the last day of the period.",
    "Referrals received: referrals to the prison dated received in the period, whatever came "
    "of them. Women engaged: her first working session with the service in the period, on a "
    "referral to the prison; each woman once.",
    "Group sessions held in the prison in the period, and their attendances (one a woman on a "
    "session's register), by the day each session was held.",
)


async def governor_report(
    session: AsyncSession,
    prison_code: str,
    span: Span,
    *,
    protection: Protection,
    late_notice_days: int,
) -> GovernorReport:
    prison_name = await session.scalar(select(Prison.name).where(Prison.code == prison_code))
    if prison_name is None:
        raise NotFound(f"No prison {prison_code} is visible to you.")
    spans = [span]
    while len(spans) < TREND_QUARTERS:
        spans.append(previous_span(spans[-1]))
    found = await catalogue(session, late_notice_days)
    specs = found.specs()

    async def count(quarters: Sequence[Span]) -> list[dict[str, Cell]]:
        counted = await count_periods(session, prison_code, quarters, late_notice_days)
        # Each quarter protected as its own report protects it: the same figure, whichever
        # report shows it.
        return [
            protect(counts, specs, protection, scope=prison_code, period=quarter_label(quarter))
            for counts, quarter in zip(counted, quarters, strict=True)
        ]

    cells = await _figures(session, prison_code, spans, specs, protection, Cell, count)
    current, previous = cells[0], cells[1]
    labels = {spec.key: spec for spec in specs}
    oldest_first = list(reversed(spans))
    return GovernorReport(
        report_id=report_id("governor", prison_code, span.start, span.end),
        prison_code=prison_code,
        prison_name=prison_name,
        period=period_of(span),
        previous_period=period_of(spans[1]),
        generated_at=utcnow(),
        suppression=suppression(protection.threshold),
        perturbation=perturbation(protection),
        notes=list(GOVERNOR_NOTES),
        sections=[
            Section(
                key=key,
                title=title,
                figures=[
                    Figure(
                        **spec.described(),
                        current=current[spec.key],
                        previous=previous[spec.key],
                    )
                    for spec in section_specs
                ],
            )
            for key, title, section_specs in found.sections
        ],
        trend=Trend(
            quarters=[quarter_of_span(quarter) for quarter in oldest_first],
            figures=[
                TrendFigure(
                    key=key,
                    label=labels[key].label,
                    stock=labels[key].stock,
                    exact_zero=labels[key].zero_exact,
                    values=[cells[n][key] for n in reversed(range(len(spans)))],
                )
                for key in TREND_KEYS
            ],
        ),
    )


async def _figures(
    session: AsyncSession,
    population: str,
    spans: Sequence[Span],
    specs: Sequence[Spec],
    protection: Protection,
    cell_type: type[CellT],
    count: Callable[[Sequence[Span]], Awaitable[list[dict[str, CellT]]]],
) -> list[dict[str, CellT]]:
    """Each quarter's figures, in the order of `spans`: as published before, or counted (only
    the quarters not published yet, in one snapshot), protected and kept. A governor's report
    of a new quarter counts that one; its previous quarter and trend were published when they
    were new."""
    if protection.key is None:
        stored: list[dict[str, CellT] | None] = [None] * len(spans)
    else:
        keys = [spec.key for spec in specs]
        stored = await already_published(
            session, population, [span.start for span in spans], keys, cell_type
        )
    missing = [span for span, column in zip(spans, stored, strict=True) if column is None]
    if not missing:
        return [column for column in stored if column is not None]
    counted = await count(missing)
    if protection.key is not None:
        counted = await as_first_published(
            session, population, [span.start for span in missing], counted, cell_type
        )
    fresh = iter(counted)
    return [column if column is not None else next(fresh) for column in stored]


def quarter_of_span(span: Span) -> Quarter:
    return Quarter(
        key=f"{span.start:%Y-%m}",
        label=f"{span.start:%b} to {span.end:%b %Y}",
        period=period_of(span),
    )


# The evaluators' snapshot ---------------------------------------------------------------------

PROGRAMME_NOTES = (
    "Both prisons together: a woman transferred between them counts once.",
    "Each figure is counted as in the governors' report, quarter by quarter (calendar "
    "quarters, UTC).",
    "Costs avoided are estimates, as Step Together's evaluation made them: recorded outcomes "
    "(children still with her at her 12-month review, babies kept) at the unit costs an "
    "administrator has set, each at the one in force on the outcome's own date; the method is "
    "beside each cost. x: not available, where no unit cost is set.",
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


def default_quarters(last_settled: date) -> tuple[date, date]:
    """The last four quarters that have settled (`last_settled`: the last one's last day)."""
    after = last_settled + timedelta(days=1)
    return _add_months(after, -12), last_settled


def check_quarters(start: date, end: date, *, settled_by: date | None) -> list[Span]:
    problems = _date_problems(start, end)
    if end < start:
        problems.append(("to", "must be on or after from"))
    elif not problems and len(quarters_between(start, end)) > MOST_QUARTERS:
        problems.append(("to", f"a programme report covers at most {MOST_QUARTERS} quarters"))
    elif not problems and settled_by is not None and quarters_between(end, end)[0].end > settled_by:
        problems.append(("to", _not_settled(quarters_between(end, end)[0])))
    InvalidInput.raise_any(problems, location="query")
    return quarters_between(start, end)


def _marked(cells: dict[str, Cell], counts: Counts) -> dict[str, ProgrammeCell]:
    """A figure that cannot be worked out is marked not available (`x`), unless it is
    suppressed: a suppressed cell shows nothing else about itself."""
    return {
        key: ProgrammeCell(
            value=cell.value,
            suppressed=cell.suppressed,
            available=cell.suppressed or key not in counts.not_available,
        )
        for key, cell in cells.items()
    }


async def _count_programme(
    session: AsyncSession,
    quarters: list[Span],
    settings: Settings,
    specs: Sequence[Spec],
    protection: Protection,
) -> list[dict[str, ProgrammeCell]]:
    """Every figure of each quarter, counted and protected."""
    shown = {spec.key for spec in specs}
    counted = [Counts() for _ in quarters]

    async def programme_figures(_: Sequence[Counts]) -> None:
        await count_programme(session, quarters, counted, settings)

    governors = await count_periods(
        session,
        None,
        quarters,
        settings.late_notice_days,
        children_and_demographics=False,
        also=programme_figures,
    )
    # The governors' figures the programme report shows; the rest are not its.
    for counts, theirs in zip(counted, governors, strict=True):
        counts.update({key: value for key, value in theirs.items() if key in shown})
    # The programme's own population (both prisons, a woman once): perturbed apart from either
    # prison's, so that no report's figure is another's less a third's.
    return [
        _marked(
            protect(counts, specs, protection, scope=PROGRAMME_SCOPE, period=quarter_label(q)),
            counts,
        )
        for counts, q in zip(counted, quarters, strict=True)
    ]


async def programme_report(
    session: AsyncSession, quarters: list[Span], settings: Settings, protection: Protection
) -> ProgrammeReport:
    prisons = list(await session.scalars(select(Prison.code).order_by(Prison.code)))
    found = await programme_catalogue(session, settings)
    specs = found.specs()

    async def count(missing: Sequence[Span]) -> list[dict[str, ProgrammeCell]]:
        return await _count_programme(session, list(missing), settings, specs, protection)

    columns = await _figures(
        session, PROGRAMME_SCOPE, quarters, specs, protection, ProgrammeCell, count
    )
    return ProgrammeReport(
        report_id=report_id("programme", quarters[0].start, quarters[-1].end),
        prison_codes=prisons,
        quarters=[quarter_of_span(q) for q in quarters],
        generated_at=utcnow(),
        suppression=suppression(protection.threshold),
        perturbation=perturbation(protection),
        notes=list(PROGRAMME_NOTES),
        sections=[
            ProgrammeSection(
                key=key,
                title=title,
                figures=[
                    ProgrammeFigure(
                        **spec.described(),
                        method=spec.method,
                        values=[column[spec.key] for column in columns],
                    )
                    for spec in section_specs
                ],
            )
            for key, title, section_specs in found.sections
        ],
    )
