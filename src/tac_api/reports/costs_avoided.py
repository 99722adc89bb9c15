"""The programme report's costs avoided, as Step Together's evaluation estimated them: from
recorded outcomes only, at the unit costs an administrator has set, with the method beside the
figure."""

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
