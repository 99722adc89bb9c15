"""The programme report's figures of referral to engagement and what came of it: referrals by
source and decision, the funnel, reviews and their outcomes at 6 and 12 months, pregnancies and
where babies went, and relationships with local authority social workers, first review against
latest."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.config import Settings
from tac_api.reports.catalogue import Catalogue
from tac_api.reports.periods import Counts, Span


async def add_sections(shown: Catalogue, session: AsyncSession, settings: Settings) -> None:
    """Its sections, in the order they are shown."""


async def count(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], settings: Settings
) -> None:
    """Its figures of each quarter, added to `counts` (in the order of `quarters`)."""
