"""The programme report's costs avoided, as Step Together's evaluation estimated them: from
recorded outcomes only, at the unit costs an administrator has set, with the method beside the
figure.

Two outcomes are costed: a woman whose children were still with her at her 12-month review
(counted in the quarter the review was held), and a baby kept (born in the quarter, gone home
with her under a child in need or child protection plan). Each is costed at the unit cost in
force on its own date, so a past quarter keeps the cost it had. Where an outcome of a quarter
has no unit cost in force on its date, the quarter's cost is not available (`x`), never 0 or a
part of the sum: an estimate that leaves out some outcomes would read as a smaller saving.
A cost follows its count (hidden whenever the count is) and the costs add up to a total, so a
hidden cost cannot be worked out from the total either.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.config import Settings
from tac_api.costs.schemas import COSTED_OUTCOMES
from tac_api.costs.service import UnitCostRow, cost_on, costs_in_force
from tac_api.reports.catalogue import Catalogue, Spec
from tac_api.reports.periods import Counts, Span
from tac_api.reports.wording import day, money
from tac_api.reviews.models import Birth, Review

TOTAL = "costs_avoided.total"
KEPT = ("with_her_child_in_need", "with_her_child_protection")


@dataclass(frozen=True)
class Outcome:
    code: str  # as COSTED_OUTCOMES names it, and the unit cost's `outcome`
    label: str  # the count's
    cost_label: str
    each: str  # one outcome, as the method says it
    dated: str  # the date it is costed on, as the method says it

    @property
    def count_key(self) -> str:
        return f"costs_avoided.outcomes.{self.code}"

    @property
    def cost_key(self) -> str:
        return f"costs_avoided.by_outcome.{self.code}"


OUTCOMES = (
    Outcome(
        "child_with_her_at_twelve_months",
        "Women whose children were still with her at her 12-month review",
        "Children still with her at 12 months",
        "each woman whose children were still with her at her 12-month review (as the review "
        "recorded it)",
        "the day of the review",
    ),
    Outcome(
        "baby_kept",
        "Babies born who went home with her (under a child in need or child protection plan)",
        "Babies kept",
        "each baby born who went home with her, under a child in need or child protection plan "
        "(as recorded)",
        "the day the baby was born",
    ),
)
assert {outcome.code for outcome in OUTCOMES} == set(COSTED_OUTCOMES)


def _unit_costs(rows: Sequence[UnitCostRow]) -> str:
    return "; ".join(
        f"{money(row.amount_pence / 100)} from {day(row.valid_from)} ({row.source})" for row in rows
    )


def method(outcome: Outcome, rows: Sequence[UnitCostRow]) -> str:
    """How the outcome's cost is worked out, with the unit costs used, their dates and sources."""
    if not rows:
        return (
            f"Estimated as {outcome.each}, at the unit cost in force on {outcome.dated}. No unit "
            "cost is set for this outcome: an administrator sets one, dated, with its source. "
            "Until then the cost is not available (x), not zero."
        )
    return (
        f"Estimated as {outcome.each}, at the unit cost in force on {outcome.dated}: "
        f"{_unit_costs(rows)}. Before {day(rows[0].valid_from)} no unit cost is set: a quarter "
        "with an outcome before then is not available (x)."
    )


TOTAL_METHOD = (
    "The sum of the costs avoided by each outcome below, each at its own unit cost; not "
    "available (x) where one of them is. An estimate from recorded outcomes only, as Step "
    "Together's evaluation estimated costs avoided: not money anyone has saved on a budget."
)


async def add_sections(shown: Catalogue, session: AsyncSession, settings: Settings) -> None:
    """Its sections, in the order they are shown."""
    costs = await costs_in_force(session)
    shown.add(
        "costs_avoided",
        "Costs avoided (estimated)",
        [
            *(Spec(outcome.count_key, outcome.label) for outcome in OUTCOMES),
            Spec(TOTAL, "Costs avoided", unit="pounds", method=TOTAL_METHOD),
            *(
                Spec(
                    outcome.cost_key,
                    outcome.cost_label,
                    unit="pounds",
                    part_of=TOTAL,
                    follows=outcome.count_key,
                    method=method(outcome, costs.get(outcome.code, [])),
                )
                for outcome in OUTCOMES
            ),
        ],
    )


def _recorded(outcome: Outcome) -> tuple[ColumnElement[Any], list[ColumnElement[bool]], Any]:
    """The date an outcome is counted on, the conditions of its records, and their table."""
    if outcome.code == "baby_kept":
        return Birth.born_on, [Birth.baby_went.in_(KEPT)], Birth
    conditions = [Review.milestone == "twelve_months", Review.children_with_her == "yes"]
    return Review.held_on, conditions, Review


async def _by_day(
    session: AsyncSession, outcome: Outcome, first: date, last: date
) -> list[tuple[date, int]]:
    """How many of the outcome were recorded on each day from `first` to `last`: counts by
    day, no record leaves the database."""
    dated, conditions, records = _recorded(outcome)
    rows = await session.execute(
        select(dated, func.count())
        .select_from(records)
        .where(*conditions, dated.between(first, last))
        .group_by(dated)
    )
    return [(when, int(many)) for when, many in rows.all()]


async def count(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], settings: Settings
) -> None:
    """Its figures of each quarter, added to `counts` (in the order of `quarters`)."""
    costs = await costs_in_force(session)
    first, last = min(q.start for q in quarters), max(q.end for q in quarters)
    totals: list[int | None] = [0 for _ in quarters]
    for outcome in OUTCOMES:
        rows = costs.get(outcome.code, [])
        pence: list[int | None] = [0 for _ in quarters]
        for n in range(len(quarters)):
            counts[n][outcome.count_key] = 0
            if not rows:
                pence[n] = None  # no unit cost at all: no estimate, even of nothing
        for when, many in await _by_day(session, outcome, first, last):
            n = next(n for n, q in enumerate(quarters) if q.start <= when <= q.end)
            counts[n].add(outcome.count_key, many)
            unit = cost_on(rows, when)
            so_far = pence[n]
            pence[n] = None if unit is None or so_far is None else so_far + many * unit.amount_pence
        for n, cost in enumerate(pence):
            total = totals[n]
            totals[n] = None if cost is None or total is None else total + cost
            _put(counts[n], outcome.cost_key, cost)
    for n, total in enumerate(totals):
        _put(counts[n], TOTAL, total)


def _put(counts: Counts, key: str, pence: int | None) -> None:
    if pence is None:
        counts.cannot_work_out(key)
    else:
        counts[key] = pence // 100 if pence % 100 == 0 else pence / 100
