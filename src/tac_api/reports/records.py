"""The figures of the women's records in a report: hearings, meetings, visits, assessments,
evidence and releases, each counted in the period it is dated in."""

from collections.abc import Sequence
from decimal import Decimal
from itertools import groupby

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.models import ParentingAssessment
from tac_api.evidence.models import Evidence
from tac_api.going_ahead import SCHEDULED
from tac_api.hearings.models import CourtHearing
from tac_api.meetings.models import Meeting
from tac_api.mothers.models import Mother
from tac_api.notice import notice_days_sql
from tac_api.release.due import RELEASE_DATE, plan_gaps
from tac_api.release.history import COMPLETE
from tac_api.release.models import ReleasePlan, ReleasePlanHistoryEntry
from tac_api.reports.as_they_stood import as_they_stood
from tac_api.reports.periods import (
    NOT_RECORDED,
    Counts,
    Women,
    flag,
    read_rows,
    tally,
    tally_by_period,
    within,
)
from tac_api.visits.models import ContactVisit, ContactVisitStatusChange
from tac_api.visits.schemas import FINAL_CONTACT


def _notice_days(session: AsyncSession) -> ColumnElement[int]:
    """Whole days from notified_at to starts_at, never below 0: `tac_api.notice.notice_days`
    in SQL (`notice_days_sql`, the worklist's too)."""
    return notice_days_sql(
        session.get_bind().dialect.name, CourtHearing.notified_at, CourtHearing.starts_at
    )


# A median of fewer values than this is not published (`z`): a median of one hearing is its
# notice, of three workers' caseloads near enough each one.
FEWEST_FOR_A_MEDIAN = 5


def median_of(histogram: dict[int, int]) -> float | None:
    """The median of values given as {value: how many}; None for fewer than five of them."""
    total = sum(histogram.values())
    if total < FEWEST_FOR_A_MEDIAN:
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


def _did_not_go_ahead(
    counts: Counts, kind: str, status: str, decided_by: str | None, number: int
) -> None:
    counts.add(f"{kind}.did_not_go_ahead", number)
    counts.add(f"{kind}.did_not_go_ahead_as.{status}", number)
    counts.add(f"{kind}.did_not_go_ahead_decided_by.{decided_by or NOT_RECORDED}", number)


async def count_hearings(
    session: AsyncSession, women: Women, counts: Sequence[Counts], late_days: int
) -> None:
    periods = women.periods
    held = CourtHearing.outcome_recorded_at.is_not(None)
    rows = await tally_by_period(
        session,
        women,
        CourtHearing,
        CourtHearing.starts_at,
        [
            held,
            CourtHearing.attended,
            CourtHearing.attended_how,
            CourtHearing.barrier,
            _notice_days(session),
            CourtHearing.status,
            CourtHearing.status_decided_by,
        ],
    )
    notices: list[dict[int, int]] = [{} for _ in periods]
    for was_held, attended, how, barrier, days, status, decided_by, *figures in rows:
        for n in periods:
            number = figures[n]
            if not number:
                continue
            counts[n].add("hearings.listed", number)
            if status != SCHEDULED:
                # Adjourned, vacated or cancelled: never held nor missed, and its notice is
                # not the notice she had of a hearing (an adjourned one's new date counts).
                _did_not_go_ahead(counts[n], "hearings", status, decided_by, number)
                continue
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
    periods = women.periods
    rows = await tally_by_period(
        session,
        women,
        Meeting,
        Meeting.starts_at,
        [
            Meeting.attended,
            Meeting.barrier,
            Meeting.prison_can_join,
            Meeting.status,
            Meeting.status_decided_by,
        ],
    )
    for attended, barrier, prison_can_join, status, decided_by, *figures in rows:
        for n in periods:
            number = figures[n]
            counts[n].add("meetings.listed", number)
            if status != SCHEDULED:
                _did_not_go_ahead(counts[n], "meetings", status, decided_by, number)
                continue
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
    periods = women.periods
    held = await tally_by_period(
        session,
        women,
        ContactVisit,
        ContactVisit.scheduled_at,
        [ContactVisit.visit_type == FINAL_CONTACT],
        where=[ContactVisit.status == "held"],
    )
    for is_final, *figures in held:
        for n in periods:
            counts[n].add("visits.held", figures[n])
            counts[n].add("visits.final_contacts_held", figures[n] if is_final else 0)
    # Called off in the period: when it was called off, whenever it was to take place.
    change = ContactVisitStatusChange
    called_off = await tally_by_period(
        session,
        women,
        change,
        change.changed_at,
        [change.to_status, change.reason_code],
        where=[change.to_status.in_(("cancelled", "refused"))],
    )
    for status, reason_code, *figures in called_off:
        for n in periods:
            counts[n].add(f"visits.{status}", figures[n])
            if status == "cancelled":
                reason = reason_code or NOT_RECORDED
                counts[n].add(f"visits.cancelled_by_reason.{reason}", figures[n])


async def count_assessments(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    periods = women.periods
    window = women.window
    assessment = ParentingAssessment
    rows = await tally(
        session,
        women.joined(assessment),
        [
            or_(
                within(assessment.requested_on, window),
                within(assessment.completed_on, window),
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
    periods = women.periods
    window = women.window
    rows = await tally(
        session,
        women.joined(Evidence),
        [within(EVIDENCE_DATED, window)],
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
    """Releases due in each period (her release date as recorded now), with a complete plan or
    not as the plan stood at the period's end (from its history, `as_they_stood`): a plan
    completed, or made, after the period's end counts as not complete in it.

    Two statements: the plans that did not change since the first period began (or none) are
    counted in the database, as they stand, which is as they stood; the others are read with
    their changes and counted here."""
    periods = women.periods
    _, _, incomplete = plan_gaps()
    entry = ReleasePlanHistoryEntry
    since = entry.changed_at >= women.window.starts_at
    changed = exists().where(entry.release_plan_id == ReleasePlan.id, since)
    theirs = women.source.join(Mother, Mother.id == women.id).outerjoin(
        ReleasePlan, ReleasePlan.mother_id == Mother.id
    )
    unchanged = await tally_by_period(
        session, women, theirs, RELEASE_DATE, [flag(incomplete)], where=[~changed]
    )
    for short_of_complete, *figures in unchanged:
        for n in periods:
            counts[n].add("releases.due", figures[n])
            plan = "without" if short_of_complete else "with"
            counts[n].add(f"releases.{plan}_complete_plan", figures[n])
    statement = (
        select(
            *(flag(women.during(n, RELEASE_DATE)).label(f"due_{n}") for n in periods),
            ReleasePlan.id,
            flag(incomplete).label("short_of_complete"),
            entry.changed_at,
            entry.changes,
        )
        .select_from(theirs.join(entry, and_(entry.release_plan_id == ReleasePlan.id, since)))
        .where(within(RELEASE_DATE, women.window))
        .order_by(ReleasePlan.id, entry.changed_at, entry.id)
    )
    moments = [span.ends_before for span in women.spans]
    rows = await read_rows(session, statement)
    for _, of_plan in groupby(rows, key=lambda row: row.id):
        plan_rows = list(of_plan)
        first = plan_rows[0]
        now = {COMPLETE: not first.short_of_complete}
        history = [(row.changed_at, row.changes) for row in plan_rows]
        for n, stood in enumerate(as_they_stood(now, history, moments)):
            if not first[n]:
                continue
            counts[n].add("releases.due", 1)
            # Null: there was no plan yet.
            complete = "with" if stood[COMPLETE] else "without"
            counts[n].add(f"releases.{complete}_complete_plan", 1)
