"""What every format of a report shows the same way: a cell as text, a figure's label and
unit, the quarters and the key, and each section as the lines of a table (`lines`: each total,
its own parts under it, each breakdown under a subheading, at any depth), with the programme
report's note beside an estimate and the governor's trend."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Generic, Protocol, TypeVar

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
    Section,
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


def period_name(period: Period) -> str:
    """A calendar quarter as the service names it (`Jul to Sep 2026`); other periods by dates."""
    start, end = period.from_, period.to
    if start.day == 1 and start.month % 3 == 1:
        last = date(start.year + (start.month + 3 > 12), (start.month + 2) % 12 + 1, 1)
        if end == last - timedelta(days=1):
            return f"{start:%b} to {end:%b %Y}"
    return period_text(period)


def period_columns(report: GovernorReport) -> list[str]:
    """The governor's table's column headings: this quarter, then the one before."""
    return [period_name(report.period), period_name(report.previous_period)]


def moment(value: datetime) -> str:
    if value.tzinfo is None:
        return f"{value:%Y-%m-%d %H:%M}"
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


STOCK_MARK = "[as it stood]"


def marks(report: Report) -> list[tuple[str, str]]:
    """The marks a report's cells may carry, and what they mean: the key, stated once."""
    threshold = report.suppression.threshold
    found = [
        (
            report.suppression.marker,
            f"a small figure: from 1 to {threshold} once perturbed, or a figure worked out from "
            "one (hours, a median, a cost); not zero",
        ),
        (
            NOT_APPLICABLE_MARK,
            "not applicable: too few to take the figure of (a median of fewer than five)",
        ),
    ]
    if isinstance(report, ProgrammeReport):
        found.append(
            (
                NOT_AVAILABLE_MARK,
                "not available: it cannot be worked out from what is recorded (a cost where "
                "no unit cost is set for the day of an outcome); not zero",
            )
        )
    found.append(
        (
            STOCK_MARK,
            "a count of who the women or children were, as it stood (at the quarter's end, or "
            "over it), not of events: do not add it up across quarters",
        )
    )
    return found


def key_lines(report: Report) -> list[tuple[str, str]]:
    """The whole key: the marks and what they mean, then how the counts were perturbed."""
    return [*marks(report), ("Perturbation", report.perturbation.legend)]


class Placed(Protocol):
    """A figure with a place under a total: either report's."""

    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def part_of(self) -> str | None: ...
    @property
    def breakdown(self) -> str | None: ...
    @property
    def stock(self) -> bool: ...


F = TypeVar("F", bound=Placed)


@dataclass(frozen=True)
class Line(Generic[F]):
    """One line of a section's table: a figure, or the subheading of a breakdown (`figure` is
    None), `depth` steps in. A breakdown's subheading is one step under its total and its parts
    one step under the subheading; parts of a total that are not a breakdown of their own
    (held and awaiting an outcome, of the hearings listed) sit one step under the total."""

    depth: int
    figure: F | None
    heading: str = ""
    breakdown: str = ""  # the breakdown a subheading introduces, or a part belongs to


def dimension(figure: Placed) -> str:
    """The breakdown a part belongs to: parts of one breakdown share the key up to their own code
    (answers without `breakdown` are read the same way)."""
    return figure.breakdown or figure.key.rpartition(".")[0]


def _named(breakdown: str, total: str) -> bool:
    """A breakdown of its own (by legal status), not the total's own parts (hearings held of the
    hearings listed: `hearings.held` of `hearings.listed`, breakdown `hearings`)."""
    return not (total == breakdown or total.startswith(breakdown + "."))


# A breakdown's subheading says what its parts are split by; the few whose key reads badly.
_DIMENSION_WORDS = {
    "as": "What it became",
    "lives_with": "By who they live with",
    "domestic_abuse": "By domestic abuse in her history",
    "women": "By allocation",
    "when": "By when it was known",
    "baby_went": "By where the baby went",
    "six_months": "Six months on",
    "twelve_months": "Twelve months on",
}


def _shared_prefix(labels: Sequence[str]) -> str:
    """What every label starts with, up to a colon (`Decided by: court`, `Decided by: prison`)."""
    if len(labels) < 2:
        return ""
    heads = {label.partition(": ")[0] for label in labels if ": " in label}
    if len(heads) == 1 and all(": " in label for label in labels):
        return heads.pop()
    return ""


def breakdown_title(breakdown: str, total: str, parts: Sequence[Placed], of: str = "") -> str:
    """A breakdown's subheading: `By legal status`; `of` names a total shown elsewhere (the women
    supported, for her age band): `By age band (of women supported in the period)`."""
    last = breakdown.rpartition(".")[2]
    own = total.rpartition(".")[2]
    if last.startswith(own + "_"):
        last = last[len(own) + 1 :]
    last = last.removeprefix("by_")
    words = (
        _DIMENSION_WORDS.get(last)
        or _shared_prefix([part.label for part in parts])
        or "By " + last.replace("_", " ")
    )
    if of and not words.startswith("Of "):
        words += f" (of {_lower_first(of)})"
    return words


def lines(figures: Sequence[F], labels: Mapping[str, str]) -> list[Line[F]]:
    """A section's figures as a reader needs them: each total, then under it its own parts and
    each breakdown (a subheading, then its parts), at any depth. Parts of a total in another
    section (the women's age bands) come under a subheading naming it. `labels`: every figure's
    label, by key (for a total shown elsewhere)."""
    keys = {figure.key for figure in figures}
    parts: dict[str, list[F]] = {}
    for figure in figures:
        if figure.part_of in keys and figure.part_of != figure.key:
            parts.setdefault(figure.part_of, []).append(figure)
    found: list[Line[F]] = []
    placed: set[str] = set()

    def grouped(members: Sequence[F]) -> dict[str, list[F]]:
        groups: dict[str, list[F]] = {}
        for member in members:
            groups.setdefault(dimension(member), []).append(member)
        return groups

    def place(figure: F, depth: int, breakdown: str = "") -> None:
        if figure.key in placed:  # a loop in the answer must not hang the command
            return
        placed.add(figure.key)
        found.append(Line(depth, figure, breakdown=breakdown))
        for name, members in grouped(parts.get(figure.key, [])).items():
            step = depth + 1
            if _named(name, figure.key):
                title = breakdown_title(name, figure.key, members)
                found.append(Line(step, None, title, name))
                step += 1
            for member in members:
                place(member, step, name)

    outside: dict[tuple[str, str], list[F]] = {}
    for figure in figures:
        if figure.part_of is not None and figure.part_of not in keys:
            outside.setdefault((figure.part_of, dimension(figure)), []).append(figure)
    for figure in figures:
        if figure.key in placed:
            continue
        if figure.part_of is None or figure.part_of == figure.key:
            place(figure, 0)
        elif figure.part_of not in keys:
            total, name = figure.part_of, dimension(figure)
            members = outside[(total, name)]
            title = breakdown_title(name, total, members, labels.get(total, total))
            found.append(Line(0, None, title, name))
            for member in members:
                place(member, 1, name)
    for figure in figures:  # only a loop of parts is left: shown all the same
        if figure.key not in placed:
            place(figure, 0)
    return found


def all_stock(figures: Sequence[Placed]) -> bool:
    return bool(figures) and all(figure.stock for figure in figures)


STOCK_NOTE = (
    f"Every figure here is a count {STOCK_MARK}: of who the women or children were, not of "
    "events. Do not add them up across quarters."
)


def figure_label(figure: Placed, unit: Unit, *, section_stock: bool = False) -> str:
    """A figure's label as every format shows it: with its unit, and `[as it stood]` for a stock
    (unless its whole section is, which says so once)."""
    text = label_with_unit(figure.label, unit)
    return f"{text} {STOCK_MARK}" if figure.stock and not section_stock else text


@dataclass(frozen=True)
class Breakdown:
    """The parts of one figure along one dimension, e.g. children linked by legal status."""

    title: str
    unit: Unit
    parts: list[Figure]


def _lower_first(text: str) -> str:
    """`By legal status` inside a sentence; `C2: ...` or `A court` kept as they are."""
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def breakdowns(figures: Sequence[Figure], labels: dict[str, str]) -> list[Breakdown]:
    """Breakdowns among `figures`, in order. Parts of one figure along different dimensions
    (`children.by_legal_status.*`, `children.by_placement.*`) are different breakdowns."""
    groups: dict[tuple[str, str], list[Figure]] = {}
    for figure in figures:
        if figure.part_of is not None:
            groups.setdefault((figure.part_of, dimension(figure)), []).append(figure)
    found = []
    for (whole, name), parts in groups.items():
        title = labels.get(whole, whole)
        if _named(name, whole):
            words = breakdown_title(name, whole, parts)
        else:  # the total's own parts: held and awaiting an outcome, of the hearings listed
            words = ", ".join(_lower_first(part.label) for part in parts)
        found.append(Breakdown(f"{title}: {_lower_first(words)}", parts[0].unit, parts))
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
        ("This quarter", f"{period_name(report.period)} ({period_text(report.period)})"),
        (
            "Previous quarter",
            f"{period_name(report.previous_period)} ({period_text(report.previous_period)})",
        ),
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
    """One line of a programme table: a figure (how deep under its total, the number of the note
    on its method) or a breakdown's subheading (`figure` None, its words in `heading`)."""

    figure: ProgrammeFigure | None
    depth: int
    note: int | None
    heading: str = ""
    section_stock: bool = False

    @property
    def label(self) -> str:
        """Its label, with its unit, `[as it stood]` for a stock, and `[note n]` where a note says
        how it is worked out (as official statistics tables mark a note)."""
        if self.figure is None:
            return self.heading
        text = figure_label(self.figure, self.figure.unit, section_stock=self.section_stock)
        return text if self.note is None else f"{text} [note {self.note}]"


@dataclass(frozen=True)
class Table:
    section: ProgrammeSection
    rows: list[Row]
    notes: list[tuple[int, str]]  # (number, method) of the figures in this section
    stock: bool = False  # every figure of it is a stock: said once, under its title


def programme_tables(report: ProgrammeReport) -> list[Table]:
    """Each section's table: its figures as `lines` places them, and a numbered note for each
    different method, numbered through the report."""
    labels = {f.key: f.label for section in report.sections for f in section.figures}
    numbers: dict[str, int] = {}
    tables = []
    for section in report.sections:
        rows, notes = [], []
        stock = all_stock(section.figures)
        for line in lines(section.figures, labels):
            figure = line.figure
            if figure is None:
                rows.append(Row(None, line.depth, None, line.heading))
                continue
            note = None
            if figure.method:
                if figure.method not in numbers:
                    numbers[figure.method] = len(numbers) + 1
                    notes.append((numbers[figure.method], figure.method))
                note = numbers[figure.method]
            rows.append(Row(figure, line.depth, note, section_stock=stock))
        tables.append(Table(section, rows, notes, stock))
    return tables


@dataclass(frozen=True)
class GovernorRow:
    """One line of a governor's section table: a figure or a breakdown's subheading."""

    figure: Figure | None
    depth: int
    label: str


@dataclass(frozen=True)
class GovernorTable:
    section: Section
    rows: list[GovernorRow]
    stock: bool


def governor_tables(report: GovernorReport) -> list[GovernorTable]:
    """Each section's table, its figures placed by `lines`."""
    labels = {f.key: f.label for section in report.sections for f in section.figures}
    tables = []
    for section in report.sections:
        stock = all_stock(section.figures)
        rows = [
            GovernorRow(
                line.figure,
                line.depth,
                line.heading
                if line.figure is None
                else figure_label(line.figure, line.figure.unit, section_stock=stock),
            )
            for line in lines(section.figures, labels)
        ]
        tables.append(GovernorTable(section, rows, stock))
    return tables


def quarter_short(quarter: Quarter) -> str:
    """A quarter as a chart's axis names it: `Apr 26`."""
    return f"{quarter.period.from_:%b %y}"


def quarter_axis(quarter: Quarter) -> str:
    """A quarter as the governor's trend chart names it, on two lines: `Apr to Jun` over
    `2026`."""
    return f"{quarter.period.from_:%b} to {quarter.period.to:%b}\n{quarter.period.to:%Y}"


@dataclass(frozen=True)
class TrendRow:
    """A headline figure over the trend's quarters, named with its section where its own label
    is not enough (`Attended` of hearings and of meetings, `Items` of evidence)."""

    key: str
    label: str
    cells: list[Cell]
    stock: bool


def trend_rows(report: GovernorReport) -> list[TrendRow]:
    titles = {f.key: s.title for s in report.sections for f in s.figures}
    labels = [figure.label for figure in report.trend.figures]
    rows = []
    for figure in report.trend.figures:
        label = figure.label
        if (labels.count(label) > 1 or len(label.split()) == 1) and figure.key in titles:
            label = f"{titles[figure.key]}: {label[0].lower()}{label[1:]}"
        if figure.stock:
            label = f"{label} {STOCK_MARK}"
        rows.append(TrendRow(figure.key, label, list(figure.values), figure.stock))
    return rows
