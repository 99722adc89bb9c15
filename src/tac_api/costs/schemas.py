from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import Field, StringConstraints

from tac_api.history import HistoryEntryPublic
from tac_api.schemas import ONE_LINE, Input, IsoDate, RecordPublic

# The recorded outcomes a unit cost can be set for, as Step Together's evaluation estimated costs
# avoided: a woman whose children are still with her at her 12-month review, and a baby kept
# (born while she was supported, and gone home with her).
CostedOutcome = Literal["child_with_her_at_twelve_months", "baby_kept"]
COSTED_OUTCOMES: tuple[str, ...] = get_args(CostedOutcome)

# Pence, a whole number (no floats: money is counted, not measured). At most £10,000,000, far
# beyond any published unit cost of one outcome, and within every database's integer.
MOST_PENCE = 1_000_000_000
# One line: the programme report inlines it in its method note.
Source = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=ONE_LINE)
]


class UnitCostCreate(Input):
    """A figure from a date: never changed once set; a new figure is a new one from its own
    date."""

    outcome: CostedOutcome
    valid_from: IsoDate = Field(
        description="From when it costs the outcome (a quarter whose last day is on or after "
        "this day, until a later figure's date): not before 1900, at most 5 years ahead."
    )
    amount_pence: int = Field(
        strict=True,
        gt=0,
        le=MOST_PENCE,
        description="What one such outcome is estimated to save, in pence (a whole number: "
        "£52,000 is 5200000).",
    )
    source: Source = Field(
        description="Where the figure comes from (a published unit cost, an evaluation), in a "
        "sentence: one line."
    )


class UnitCostPublic(RecordPublic, HistoryEntryPublic):
    """One figure; `changed_by` set it, at `changed_at`."""

    outcome: CostedOutcome
    valid_from: date
    amount_pence: int
    source: str
