"""What every format of a report shows the same way: a cell as text, a figure's label and
unit, the dates and the key, and the breakdowns a figure is cut into."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from tac_api.reports.schemas import (
    SUPPRESSED_MARK,
    Cell,
    Figure,
    GovernorReport,
    Period,
    ProgrammeReport,
    Suppression,
    Unit,
)

NOT_APPLICABLE_MARK = "z"
Report = GovernorReport | ProgrammeReport
ChartProgress = Callable[[int, int], None]  # (charts drawn, charts in all)


def shown_value(cell: Cell) -> float | int | None:
    """The number a cell shows, or None when it shows a mark."""
    if cell.suppressed or cell.value is None:
        return None
    if isinstance(cell.value, float) and cell.value.is_integer():
        return int(cell.value)
    return cell.value


def cell_text(cell: Cell) -> str:
    """As a reader sees it: `1,234`, `12.5`, `c` or `z`."""
    value = shown_value(cell)
    if value is None:
        return SUPPRESSED_MARK if cell.suppressed else NOT_APPLICABLE_MARK
    return f"{value:,}"


def cell_raw(cell: Cell) -> str:
    """As a program reads it (CSV): no thousands separator."""
    value = shown_value(cell)
    if value is None:
        return SUPPRESSED_MARK if cell.suppressed else NOT_APPLICABLE_MARK
    return str(value)


def label_with_unit(label: str, unit: Unit) -> str:
    if unit == "count" or unit in label.lower():
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


def key_lines(suppression: Suppression) -> list[tuple[str, str]]:
    """The marks and what they mean, then the service's own words on suppression."""
    return [
        (
            suppression.marker,
            f"suppressed: a count from 1 to {suppression.threshold}, or another cell hidden "
            "so that such a count cannot be worked out from a total (secondary suppression)",
        ),
        (NOT_APPLICABLE_MARK, "not applicable: nothing to take the figure of"),
        ("Suppression", suppression.legend),
    ]


def depths(figures: Iterable[Figure]) -> dict[str, int]:
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
