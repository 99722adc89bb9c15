"""The programme report's costs avoided, as Step Together's evaluation estimated them: from
recorded outcomes only, at the unit costs an administrator has set, with the method beside the
figure.

Two outcomes are costed: a woman whose children were still with her at her 12-month review
(counted in the quarter the review was held), and a baby kept (born in the quarter, gone home
with her under a child in need or child protection plan). Their counts are the report's own
figures of those outcomes (the 12-month reviews' "children with her: yes", the births by where
the baby went): counted once, protected once, so that no second copy of a figure shows what the
first hides.

A quarter's outcomes are costed at the unit cost in force on its last day, so a past quarter
keeps the cost it had; one figure a quarter, because costing each outcome at its own day's
figure would let the cost tell how many fell either side of a change of unit cost within the
quarter. With no unit cost in force then, the cost is not available (`x`), never 0. A cost is
its count times a unit cost the method prints, so it is the count in other words: it is hidden
whenever one of its counts is, and the total whenever either cost is.
"""

from collections.abc import Sequence
from dataclasses import dataclass
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
    counted_as: tuple[str, ...]  # the report's figures that count it (they add up to it)
    cost_label: str
    each: str  # one outcome, as the method says it

    @property
    def cost_key(self) -> str:
        return f"costs_avoided.by_outcome.{self.code}"


OUTCOMES = (
    Outcome(
        "child_with_her_at_twelve_months",
        ("outcomes.twelve_months.children_with_her.yes",),
        "Children still with her at 12 months",
        "each woman whose children were still with her at her 12-month review held in the "
        "quarter (the 12-month outcomes above: children with her, yes)",
    ),
    Outcome(
        "baby_kept",
        tuple(f"births.baby_went.{went}" for went in KEPT),
        "Babies kept",
        "each baby born in the quarter who went home with her, under a child in need or child "
        "protection plan (the births above)",
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
            f"Estimated as {outcome.each}, at the unit cost in force on the quarter's last day. "
            "No unit cost is set for this outcome: an administrator sets one, dated, with its "
            "source. Until then the cost is not available (x), not zero."
        )
    return (
        f"Estimated as {outcome.each}, at the unit cost in force on the quarter's last day: "
        f"{_unit_costs(rows)}. A quarter ending before {day(rows[0].valid_from)} has no unit "
        "cost: not available (x)."
    )


TOTAL_METHOD = (
    "The sum of the costs avoided by each outcome below, each at its own unit cost; hidden "
    "wherever one of them is, and not "
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
            Spec(
                TOTAL,
                "Costs avoided",
                unit="pounds",
                method=TOTAL_METHOD,
                follows=tuple(outcome.cost_key for outcome in OUTCOMES),
            ),
            *(
                Spec(
                    outcome.cost_key,
                    outcome.cost_label,
                    unit="pounds",
                    part_of=TOTAL,
                    follows=outcome.counted_as,
                    method=method(outcome, costs.get(outcome.code, [])),
                )
                for outcome in OUTCOMES
            ),
        ],
    )


def _recorded(outcome: Outcome) -> tuple[ColumnElement[Any], list[ColumnElement[bool]], Any]:
    """The date an outcome is counted on, the conditions of its records, and their table: as
    the figures it is counted as (`Outcome.counted_as`) count it."""
    if outcome.code == "baby_kept":
        return Birth.born_on, [Birth.baby_went.in_(KEPT)], Birth
    conditions = [Review.milestone == "twelve_months", Review.children_with_her == "yes"]
    return Review.held_on, conditions, Review


async def _by_quarter(
    session: AsyncSession, outcome: Outcome, quarters: Sequence[Span]
) -> list[int]:
    """How many of the outcome were recorded in each quarter: counted in the database, no
    record leaves it."""
    dated, conditions, records = _recorded(outcome)
    statement = (
        select(*(func.count().filter(dated.between(q.start, q.end)) for q in quarters))
        .select_from(records)
        .where(*conditions)
    )
    return [int(many) for many in (await session.execute(statement)).one()]


async def count(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], settings: Settings
) -> None:
    """Its figures of each quarter, added to `counts` (in the order of `quarters`)."""
    costs = await costs_in_force(session)
    totals: list[int | None] = [0 for _ in quarters]
    for outcome in OUTCOMES:
        rows = costs.get(outcome.code, [])
        for n, many in enumerate(await _by_quarter(session, outcome, quarters)):
            unit = cost_on(rows, quarters[n].end)
            cost = None if unit is None else many * unit.amount_pence
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
