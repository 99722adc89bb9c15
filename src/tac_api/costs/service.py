"""Unit costs as the reports read them.

A minimal version for the programme report's costs avoided: the unit-cost package (routes,
audit, rules for setting one) replaces this file, keeping these two functions' names and
signatures.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.costs.models import UnitCost


@dataclass(frozen=True)
class UnitCostRow:
    valid_from: date
    amount_pence: int
    source: str


async def costs_in_force(session: AsyncSession) -> dict[str, list[UnitCostRow]]:
    """Every outcome's unit costs, each from its own date, earliest first."""
    rows = await session.execute(
        select(
            UnitCost.outcome, UnitCost.valid_from, UnitCost.amount_pence, UnitCost.source
        ).order_by(UnitCost.outcome, UnitCost.valid_from)
    )
    found: dict[str, list[UnitCostRow]] = {}
    for outcome, valid_from, amount_pence, source in rows:
        found.setdefault(outcome, []).append(UnitCostRow(valid_from, amount_pence, source))
    return found


def cost_on(rows: Sequence[UnitCostRow], day: date) -> UnitCostRow | None:
    """The unit cost in force on `day`: the one with the latest `valid_from` on or before it."""
    found = None
    for row in rows:
        if row.valid_from > day:
            break
        found = row
    return found
