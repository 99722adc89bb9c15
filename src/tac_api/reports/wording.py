"""What every format of a report shows the same way: a cell as text, a figure's label and
unit, the dates and the key, the breakdowns a figure is cut into, and the programme report's
sections as tables (parts under their totals, a note beside an estimate)."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from tac_api.reports.schemas import (
    NOT_APPLICABLE_MARK,
    NOT_AVAILABLE_MARK,
    SUPPRESSED_MARK,
    Cell,
    Figure,
    GovernorReport,
    Period,
    ProgrammeCell,
    ProgrammeFigure,
    ProgrammeReport,
    ProgrammeSection,
    Quarter,
    Unit,
)

Report = GovernorReport | ProgrammeReport
ChartProgress = Callable[[int, int], None]  # (charts drawn, charts in all)


def shown_value(cell: Cell) -> float | int | None:
    """The number a cell shows, or None when it shows a mark."""
    if cell.suppressed or _not_available(cell) or cell.value is None:
        return None
    if isinstance(cell.value, float) and cell.value.is_integer():
        return int(cell.value)
    return cell.value


def _not_available(cell: Cell) -> bool:
    return isinstance(cell, ProgrammeCell) and not cell.available


def mark(cell: Cell) -> str:
    """The mark of a cell without a number: `c` suppressed (whatever it carries), `x` not
    available, `z` not applicable."""
    if cell.suppressed:
        return SUPPRESSED_MARK
    return NOT_AVAILABLE_MARK if _not_available(cell) else NOT_APPLICABLE_MARK


def money(value: float | int) -> str:
    """Pounds as a reader sees them: `£12,500`, or `£12,500.50` where there are pence."""
    if float(value).is_integer():
        return f"£{int(value):,}"
    return f"£{value:,.2f}"


def cell_text(cell: Cell, unit: Unit = "count") -> str:
    """As a reader sees it: `1,234`, `12.5`, `£12,500`, `c`, `x` or `z`."""
    value = shown_value(cell)
    if value is None:
        return mark(cell)
    return money(value) if unit == "pounds" else f"{value:,}"


def cell_raw(cell: Cell, unit: Unit = "count") -> str:
    """As a program reads it (CSV): no thousands separator or currency sign (the unit column
    says pounds), pence as two decimals."""
    value = shown_value(cell)
    if value is None:
        return mark(cell)
    if unit == "pounds" and isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def label_with_unit(label: str, unit: Unit) -> str:
    # Pounds show as money in every cell (£12,500): the label need not say so.
    if unit in ("count", "pounds") or unit in label.lower():
        return label
    return f"{label} ({unit})"


def day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def period_text(period: Period) -> str:
    return f"{day(period.from_)} to {day(period.to)}"


def moment(value: datetime) -> str:
    if value.tzinfo is None:
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def marks(report: Report) -> list[tuple[str, str]]:
    """The marks a report's cells may carry, and what they mean."""
    suppression = report.suppression
    found = [
        (
            suppression.marker,
            f"suppressed: a count from 1 to {suppression.threshold}, or another cell hidden "
            "so that such a count cannot be worked out from a total (secondary suppression)",
        ),
        (NOT_APPLICABLE_MARK, "not applicable: nothing to take the figure of"),
    ]
    if isinstance(report, ProgrammeReport):
        found.append(
            (
                NOT_AVAILABLE_MARK,
                "not available: it cannot be worked out from what is recorded (a cost where "
                "no unit cost is set for the day of an outcome); not zero",
            )
        )
    return found


def key_lines(report: Report) -> list[tuple[str, str]]:
    """The marks and what they mean, then the service's own words on suppression."""
    return [*marks(report), ("Suppression", report.suppression.legend)]


class Placed(Protocol):
    """A figure with a place under a total: either report's."""

    @property
    def key(self) -> str: ...
    @property
    def part_of(self) -> str | None: ...


def depths(figures: Iterable[Placed]) -> dict[str, int]:
    """How many `part_of` steps each figure is below a figure that is part of nothing."""
    parent = {figure.key: figure.part_of for figure in figures}
    found: dict[str, int] = {}
    for key in parent:
        seen = {key}
        level, up = 0, parent[key]
        while up is not None:
            level += 1
            if up in seen:  # a loop in the answer must not hang the command
                break
            seen.add(up)
            up = parent.get(up)
        found[key] = level
    return found


@dataclass(frozen=True)
class Breakdown:
    """The parts of one figure along one dimension, e.g. children linked by legal status."""

    title: str
    unit: Unit
    parts: list[Figure]


def breakdowns(figures: Sequence[Figure], labels: dict[str, str]) -> list[Breakdown]:
    """Breakdowns among `figures`, in order. Parts of one figure along different dimensions
    (`children.by_legal_status.*`, `children.by_placement.*`) are different breakdowns."""
    groups: dict[tuple[str, str], list[Figure]] = {}
    for figure in figures:
        if figure.part_of is not None:
            dimension = figure.breakdown or figure.key.rpartition(".")[0]
            groups.setdefault((figure.part_of, dimension), []).append(figure)
    found = []
    for (whole, dimension), parts in groups.items():
        how = dimension.rpartition(".")[2].replace("_", " ")
        title = labels.get(whole, whole)
        found.append(Breakdown(f"{title}: {how}" if how else title, parts[0].unit, parts))
    return found


def _governor_title(report: GovernorReport) -> str:
    return f"Governor's report: {report.prison_name} ({report.prison_code})"


def _programme_title(report: ProgrammeReport) -> str:
    return f"Programme report: {', '.join(report.prison_codes)}"


def _programme_span(report: ProgrammeReport) -> str:
    if not report.quarters:
        return "no quarters"
    return f"{day(report.quarters[0].period.from_)} to {day(report.quarters[-1].period.to)}"


def _governor_facts(report: GovernorReport) -> list[tuple[str, str]]:
    return [
        ("This period", period_text(report.period)),
        ("Previous period", period_text(report.previous_period)),
        ("Generated", moment(report.generated_at)),
        ("Report id", str(report.report_id)),
    ]


def _programme_facts(report: ProgrammeReport) -> list[tuple[str, str]]:
    return [
        ("Quarters", _programme_span(report)),
        ("Generated", moment(report.generated_at)),
        ("Report id", str(report.report_id)),
    ]


def heading(report: Report) -> tuple[str, list[tuple[str, str]]]:
    """The report's title, and the facts shown under it: its periods, when it was made, its id."""
    if isinstance(report, GovernorReport):
        return _governor_title(report), _governor_facts(report)
    return _programme_title(report), _programme_facts(report)


# The programme report: a table a section, quarters across ----------------------------------------


@dataclass(frozen=True)
class Row:
    """One figure's row: how deep under its total, and the number of the note on its method."""

    figure: ProgrammeFigure
    depth: int
    note: int | None

    @property
    def label(self) -> str:
        """Its label, with its unit, and `[note n]` where a note says how it is worked out (as
        official statistics tables mark a note)."""
        text = label_with_unit(self.figure.label, self.figure.unit)
        return text if self.note is None else f"{text} [note {self.note}]"


@dataclass(frozen=True)
class Table:
    section: ProgrammeSection
    rows: list[Row]
    notes: list[tuple[int, str]]  # (number, method) of the figures in this section


def programme_tables(report: ProgrammeReport) -> list[Table]:
    """Each section's table: its figures in order, parts indented under their totals, and a
    numbered note for each different method, numbered through the report."""
    levels = depths(f for section in report.sections for f in section.figures)
    numbers: dict[str, int] = {}
    tables = []
    for section in report.sections:
        rows, notes = [], []
        for figure in section.figures:
            note = None
            if figure.method:
                if figure.method not in numbers:
                    numbers[figure.method] = len(numbers) + 1
                    notes.append((numbers[figure.method], figure.method))
                note = numbers[figure.method]
            rows.append(Row(figure, levels[figure.key], note))
        tables.append(Table(section, rows, notes))
    return tables


def quarter_short(quarter: Quarter) -> str:
    """A quarter as a chart's axis names it: `Apr 26`."""
    return f"{quarter.period.from_:%b %y}"
