"""Reports: figures about the work, never about a person.

Every figure is a row with a stable `key`, a label a governor reads, its unit, and a cell for the
period asked and one for the period before it. A breakdown names the figure it breaks down
(`part_of`): its true parts add up to it, though its published ones need not (every count is
perturbed: see `perturbation`). Nothing here
carries a name, a date of birth, a prison number, a record id or free text.
"""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tac_api.schemas import UtcDatetime

SUPPRESSED_MARK = "c"  # how official statistics in England mark a suppressed count
NOT_APPLICABLE_MARK = "z"
NOT_AVAILABLE_MARK = "x"
Unit = Literal["count", "hours", "days", "pounds", "women"]
ReportKind = Literal["governor", "programme"]


class Cell(BaseModel):
    """One figure for one period: `value` is null when it is suppressed (or, for a median, when
    there are fewer than five values to take it of)."""

    value: float | int | None
    suppressed: bool = False


class ProgrammeCell(Cell):
    """A programme report's figure for one quarter: also null, and not `available`, when it
    cannot be worked out from what is recorded (`x`)."""

    available: bool = Field(
        default=True,
        description="False: the figure cannot be worked out from what is recorded (official "
        "statistics mark it `x`), e.g. costs avoided where no unit cost is set for the day of "
        "an outcome. Not zero.",
    )


class FigureDescription(BaseModel):
    """What either report says of a figure beside its cells (`catalogue.Spec.described`)."""

    key: str = Field(description="Stable key, e.g. `hearings.missed_by_barrier.late_notice`.")
    label: str
    unit: Unit = "count"
    part_of: str | None = Field(
        default=None,
        description="The key of the figure this one is a part of: its parts add up to it.",
    )
    breakdown: str | None = Field(
        default=None,
        description="Which breakdown of `part_of` this is a part of (the key up to the part's "
        "own code): a total may be broken down several ways, each adding up to it.",
    )
    stock: bool = Field(
        default=False,
        description="A count of who the women or children are, as they stood (not of events "
        "in the period): perturbed at zero too, and not to be added up over quarters.",
    )
    exact_zero: bool = Field(
        default=False,
        description="A total of events: its 0 is published as 0, and a count above 0 never as "
        "0. Every other count (stocks, parts of a breakdown, attributes of events) is "
        "perturbed at zero too.",
    )


class Figure(FigureDescription):
    current: Cell
    previous: Cell


class Section(BaseModel):
    key: str
    title: str
    figures: list[Figure]


class Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date


class Suppression(BaseModel):
    threshold: int = Field(description="Counts from 1 to this are suppressed.")
    marker: Literal["c"] = SUPPRESSED_MARK
    legend: str


class Quarter(BaseModel):
    key: str = Field(description="The quarter's first month, e.g. `2026-04`.")
    label: str = Field(description="e.g. `Apr to Jun 2026`.")
    period: Period


class Perturbation(BaseModel):
    """How the counts were perturbed before they were published."""

    applied: bool = Field(description="Always true for a report the service publishes.")
    unperturbed_share: float = Field(
        description="The share of counts published as they are (the rest are moved by 1 or "
        "more, a reader cannot tell which)."
    )
    largest: int = Field(
        description="No count is moved by more than this (the noise's whole range, the limit "
        "of its 64-bit draw); 94 in 100 are moved by 2 or less."
    )
    legend: str


class TrendFigure(BaseModel):
    key: str
    label: str
    stock: bool = False
    exact_zero: bool = False
    values: list[Cell] = Field(description="One per quarter of `trend.quarters`, oldest first.")


class Trend(BaseModel):
    """The headline figures over the last quarters, the report's own last: each the same
    published figure as that quarter's own report shows."""

    quarters: list[Quarter]
    figures: list[TrendFigure]


class GovernorReport(BaseModel):
    """One prison's work over a period, beside the period of the same length before it."""

    report_id: uuid.UUID = Field(
        description="The same for the same report (kind, prison, period): the audit trail "
        "names it as what was disclosed."
    )
    kind: Literal["governor"] = "governor"
    prison_code: str
    prison_name: str
    period: Period
    previous_period: Period
    generated_at: UtcDatetime
    suppression: Suppression
    perturbation: Perturbation
    notes: list[str] = Field(description="How the figures are counted.")
    sections: list[Section]
    trend: Trend


class ProgrammeFigure(FigureDescription):
    method: str | None = Field(
        default=None,
        description="How an estimated figure (costs avoided) is worked out, to show beside it.",
    )
    values: list[ProgrammeCell] = Field(description="One per quarter, in the order of `quarters`.")


class ProgrammeSection(BaseModel):
    key: str
    title: str
    figures: list[ProgrammeFigure]


class ProgrammeReport(BaseModel):
    """The evaluators' snapshot: both prisons together, quarter by quarter."""

    report_id: uuid.UUID
    kind: Literal["programme"] = "programme"
    prison_codes: list[str]
    quarters: list[Quarter]
    generated_at: UtcDatetime
    suppression: Suppression
    perturbation: Perturbation
    notes: list[str]
    sections: list[ProgrammeSection]
