"""A quarter's figures as first published, read back ever after (see `models.PublishedFigure`).

A figure drawn afresh whenever its count moved would give the move away to whoever read it
before and after: a woman's record corrected, and the one group whose figure changed is hers.
So the first publication of a quarter's figure (once the quarter has ended and settled) is kept,
and every later report shows it, whatever changed since.
"""

from collections.abc import Sequence
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.db import utcnow
from tac_api.reports.models import PublishedFigure
from tac_api.reports.schemas import Cell, ProgrammeCell

CellT = TypeVar("CellT", bound=Cell)
_table = PublishedFigure.__table__
BATCH = 1000


async def as_first_published(
    session: AsyncSession,
    population: str,
    quarters: Sequence[date],
    columns: Sequence[dict[str, CellT]],
) -> list[dict[str, CellT]]:
    """Each quarter's cells (in the order of `quarters`, their first days) as first published:
    those published before are read back; the rest are kept now, as they are. Two requests
    publishing at once keep one of them, and both show it."""
    now = utcnow()
    rows = [
        {
            "population": population,
            "quarter": quarter,
            "figure_key": key,
            "value": cell.value,
            "suppressed": cell.suppressed,
            "available": not isinstance(cell, ProgrammeCell) or cell.available,
            "published_at": now,
        }
        for quarter, cells in zip(quarters, columns, strict=True)
        for key, cell in cells.items()
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    # In batches: a programme report of 20 quarters has thousands of figures, and a statement's
    # parameters are limited (32,767 on PostgreSQL's wire).
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        await session.execute(insert(_table).values(batch).on_conflict_do_nothing())
    stored = (
        await session.execute(
            select(_table).where(
                _table.c.population == population, _table.c.quarter.in_(list(quarters))
            )
        )
    ).all()
    found = {(row.quarter, row.figure_key): row for row in stored}
    published = []
    for quarter, cells in zip(quarters, columns, strict=True):
        column = {}
        for key, cell in cells.items():
            row = found[(quarter, key)]
            value = row.value
            if value is not None and float(value).is_integer():
                value = int(value)
            fields = {"value": value, "suppressed": row.suppressed}
            if isinstance(cell, ProgrammeCell):
                fields["available"] = row.available
            column[key] = type(cell)(**fields)
        published.append(column)
    return published
