"""The statements that count a report's figures, for several periods at once.

Every figure is about the women supported in a prison over a period (see `periods`); her
hearings, meetings, visits, assessments and evidence count in the period they are dated in
(see `records`), her children and who she is in `people`. All of them are counted from one
snapshot of the database.
"""

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.reports.intake import count_referrals
from tac_api.reports.people import count_children, count_women
from tac_api.reports.periods import Counts, Span, snapshot, women_in
from tac_api.reports.practice import count_groups
from tac_api.reports.records import (
    count_assessments,
    count_evidence,
    count_hearings,
    count_meetings,
    count_releases,
    count_visits,
)

__all__ = [
    "count_assessments",
    "count_children",
    "count_evidence",
    "count_groups",
    "count_hearings",
    "count_meetings",
    "count_periods",
    "count_referrals",
    "count_releases",
    "count_visits",
    "count_women",
]


async def count_periods(
    session: AsyncSession,
    prison: str | None,
    spans: Sequence[Span],
    late_days: int,
    *,
    children_and_demographics: bool = True,
    also: Callable[[Sequence[Counts]], Awaitable[None]] | None = None,
) -> list[Counts]:
    """Every figure of each period, in the order of `spans`; `also` counts more of them (the
    programme report's own sections) in the same snapshot, so that every figure of a report is
    of one moment."""
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
        if prison is not None:
            # A prison's own referrals and groups; the programme report counts both prisons'
            # in sections of its own (`reports.programme`).
            await count_referrals(session, prison, spans, counts)
            await count_groups(session, prison, spans, counts, detail=False)
        if also is not None:
            await also(counts)
    return counts
