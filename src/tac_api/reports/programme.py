"""What the evaluators' programme report shows beyond the governors' figures: the programme's
own work (referrals to engagement, reviews and their outcomes, pregnancies, relationships with
local authority social workers, groups, caseloads, onward referrals at release), each section
with its figures in the order they are shown and the statements that count them, quarter by
quarter over both prisons."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.config import Settings
from tac_api.reports import costs_avoided, engagement, practice
from tac_api.reports.catalogue import Catalogue, Spec
from tac_api.reports.periods import Counts, Span

# Each part's sections in the order shown, and its counting: one module each.
PARTS = (engagement, practice, costs_avoided)

# Counted as in the governors' report (`counting.count_periods`).
WORK = (
    Spec("women.active", "Women supported", stock=True),
    Spec("meetings.attended", "Meetings attended", attribute=True),
    Spec("hearings.attended", "Court hearings attended", attribute=True),
    Spec("visits.held", "Contact visits facilitated"),
    Spec("assessments.completed", "Parenting assessments completed"),
    Spec("evidence.items", "Evidence items gathered"),
    Spec("releases.with_complete_plan", "Releases with a complete plan", attribute=True),
)


async def programme_catalogue(session: AsyncSession, settings: Settings) -> Catalogue:
    """The programme report's sections, in the order they are shown."""
    shown = Catalogue()
    shown.add("work", "The work with women", WORK)
    for part in PARTS:
        await part.add_sections(shown, session, settings)
    return shown


async def count_programme(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], settings: Settings
) -> None:
    """The programme's own figures of each quarter, added to `counts` (in the order of
    `quarters`)."""
    for part in PARTS:
        await part.count(session, quarters, counts, settings)
