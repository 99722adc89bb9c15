"""Unit costs: what one recorded outcome is estimated to save, set by an administrator from a
date, never changed in place; and the figures in force, for the programme report's costs
avoided (`costs_in_force`, `cost_on`)."""

import bisect
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.costs.models import UnitCost
from tac_api.costs.schemas import COSTED_OUTCOMES, UnitCostCreate
from tac_api.errors import Conflict, InvalidInput
from tac_api.history import made_by
from tac_api.resources import Resource, list_visible
from tac_api.schemas import past_date_problems

# A figure may be set ahead of its date (next April's), within a few years.
AHEAD_YEARS = 5

UNIT_COSTS = Resource(
    kind="unit_cost",
    model=UnitCost,
    label="unit cost",
    order=(UnitCost.outcome, UnitCost.valid_from, UnitCost.id),
    subject=None,  # the programme's figures: about no mother
    path="/v1/unit-costs",
)


@dataclass(frozen=True)
class UnitCostRow:
    """One dated figure: from `valid_from` (until the next figure's date), an outcome is costed
    at `amount_pence`, for the reason `source` gives."""

    valid_from: date
    amount_pence: int
    source: str


async def costs_in_force(session: AsyncSession) -> dict[str, list[UnitCostRow]]:
    """Every outcome's dated figures, oldest first (by `valid_from`): every costed outcome is a
    key, with an empty list while an administrator has set none (there are none by default).
    An outcome recorded on a day is costed at `cost_on(rows, day)`. One statement; not audited
    here (a report of figures calls it; the routes that read and set them are audited)."""
    found: dict[str, list[UnitCostRow]] = {outcome: [] for outcome in COSTED_OUTCOMES}
    rows = await session.execute(
        select(
            UnitCost.outcome, UnitCost.valid_from, UnitCost.amount_pence, UnitCost.source
        ).order_by(UnitCost.outcome, UnitCost.valid_from)
    )
    for outcome, valid_from, amount_pence, source in rows:
        found.setdefault(outcome, []).append(UnitCostRow(valid_from, amount_pence, source))
    return found


def cost_on(rows: Sequence[UnitCostRow], day: date) -> UnitCostRow | None:
    """The figure in force on `day`: the row with the latest `valid_from` on or before it
    (`rows` sorted by `valid_from`, as `costs_in_force` gives them); None before the first, as
    an outcome recorded before any figure was set is not costed."""
    position = bisect.bisect_right([row.valid_from for row in rows], day)
    return rows[position - 1] if position else None


def search(caller: Caller, outcome: str | None) -> Select[Any]:
    statement = list_visible(caller, UNIT_COSTS)
    if outcome:
        statement = statement.where(UnitCost.outcome == outcome)
    return statement


async def create_unit_cost(session: AsyncSession, caller: Caller, data: UnitCostCreate) -> UnitCost:
    """A new figure from its own date. The same outcome from the same date again is a conflict
    (409): a figure is never changed in place, so that a past quarter is costed as it was.
    Its date is plausible: not before 1900, and at most AHEAD_YEARS ahead, since next financial
    year's figure is often known before it starts (422 otherwise)."""
    today = date.today()
    horizon = today.replace(year=today.year + AHEAD_YEARS, day=min(today.day, 28))
    problems = past_date_problems("valid_from", data.valid_from, horizon)
    if problems and data.valid_from > horizon:
        problems = [("valid_from", f"at most {AHEAD_YEARS} years ahead")]
    InvalidInput.raise_any(problems)
    taken = await session.scalar(
        select(UnitCost.id).where(
            UnitCost.outcome == data.outcome, UnitCost.valid_from == data.valid_from
        )
    )
    if taken is not None:
        raise _already_set(data, taken)
    cost = UnitCost(**data.model_dump(), **made_by(caller))
    session.add(cost)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same figure set by someone else at that moment
        raise _already_set(data, None) from exc
    return cost


def _already_set(data: UnitCostCreate, taken: uuid.UUID | None) -> Conflict:
    where = "" if taken is None else f" ({UNIT_COSTS.path}/{taken})"
    return Conflict(
        f"A unit cost for {data.outcome} from {data.valid_from} is already set{where}: a figure "
        "is never changed in place; set a new one from a later date."
    )
