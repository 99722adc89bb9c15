"""A quarter's figures as first published, read back ever after (see `models.PublishedFigure`).

A figure drawn afresh whenever its count moved would give the move away to whoever read it
before and after: a woman's record corrected, and the one group whose figure changed is hers.
So the first publication of a quarter's figure (once the quarter has ended and settled) is kept,
and every later report shows it, whatever changed since.

A report is a read: its session runs in autocommit (`session.get_session`), so the figures it
keeps are committed as they are inserted, before its audit row. A report that fails after that
has kept figures it did not show: harmless, since they are the figures any later report would
have shown first, and keeping is not disclosing (the disclosure is audited when one is shown).
Each figure is kept whole by one insert; two first readings at once may keep some figures of
one and some of the other, each a figure of the quarter protected on its own.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.db import insert_for, utcnow
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
    cell_type: type[CellT],
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
    insert = insert_for(session)
    # In batches: a programme report of 20 quarters has thousands of figures, and a statement's
    # parameters are limited (32,767 on PostgreSQL's wire).
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        await session.execute(insert(_table).values(batch).on_conflict_do_nothing())
    published = await _stored(
        session, population, quarters, [list(cells) for cells in columns], cell_type
    )
    # Each was there already, or has just been kept.
    return [column for column in published if column is not None]


async def already_published(
    session: AsyncSession,
    population: str,
    quarters: Sequence[date],
    keys: Sequence[str],
    cell_type: type[CellT],
) -> list[dict[str, CellT] | None]:
    """Each quarter's figures as published before, or None for a quarter any of whose figures
    is not: only those are counted (and what they had not published, kept)."""
    columns = await _stored(session, population, quarters, [list(keys)] * len(quarters), cell_type)
    return columns


async def _stored(
    session: AsyncSession,
    population: str,
    quarters: Sequence[date],
    keys: Sequence[Sequence[str]],
    cell_type: type[CellT],
) -> list[dict[str, CellT] | None]:
    stored = (
        await session.execute(
            select(_table).where(
                _table.c.population == population, _table.c.quarter.in_(list(quarters))
            )
        )
    ).all()
    found = {(row.quarter, row.figure_key): row for row in stored}
    return [
        _column(found, quarter, column_keys, cell_type)
        for quarter, column_keys in zip(quarters, keys, strict=True)
    ]


def _column(
    found: Mapping[tuple[date, str], Row[Any]],
    quarter: date,
    keys: Sequence[str],
    cell_type: type[CellT],
) -> dict[str, CellT] | None:
    column = {}
    for key in keys:
        row = found.get((quarter, key))
        if row is None:
            return None
        value = row.value
        if value is not None and float(value).is_integer():
            value = int(value)
        fields: dict[str, object] = {"value": value, "suppressed": row.suppressed}
        if issubclass(cell_type, ProgrammeCell):
            fields["available"] = row.available
        column[key] = cell_type(**fields)
    return column
