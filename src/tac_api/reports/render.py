"""Reports as files: Markdown, CSV, XLSX and one self-contained HTML page.

Only the fields of the report models are written (an answer's other fields are dropped when it is
validated), so nothing about a person can reach a file. A suppressed cell is written `c` whatever
value it carries; a cell with no value that is not suppressed (a median of nothing) is `z`, not
applicable: the marks official statistics in England use.
"""

import csv
import html
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from tac_api.reports.schemas import (
    SUPPRESSED_MARK,
    Cell,
    Figure,
    GovernorReport,
    Period,
    ProgrammeFigure,
    ProgrammeReport,
    Suppression,
    Unit,
)

NOT_APPLICABLE_MARK = "z"
Report = GovernorReport | ProgrammeReport
ChartProgress = Callable[[int, int], None]  # (charts drawn, charts in all)


class ReportFormat(StrEnum):
    md = "md"
    csv = "csv"
    xlsx = "xlsx"
    html = "html"


def render(report: Report, fmt: ReportFormat, *, on_chart: ChartProgress | None = None) -> bytes:
    """The report as the bytes of a file in `fmt`. `on_chart` hears of each chart drawn (HTML)."""
    if isinstance(report, GovernorReport):
        match fmt:
            case ReportFormat.md:
                return governor_markdown(report).encode()
            case ReportFormat.csv:
                return governor_csv(report).encode()
            case ReportFormat.xlsx:
                return governor_xlsx(report)
            case ReportFormat.html:
                return governor_html(report, on_chart).encode()
    match fmt:
        case ReportFormat.md:
            return programme_markdown(report).encode()
        case ReportFormat.csv:
            return programme_csv(report).encode()
        case ReportFormat.xlsx:
            return programme_xlsx(report)
        case ReportFormat.html:
            return programme_html(report, on_chart).encode()


# What every format shows the same way ------------------------------------------------------


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


def governor_title(report: GovernorReport) -> str:
    return f"Governor's report: {report.prison_name} ({report.prison_code})"


def programme_title(report: ProgrammeReport) -> str:
    return f"Programme report: {', '.join(report.prison_codes)}"


def programme_span(report: ProgrammeReport) -> str:
    if not report.quarters:
        return "no quarters"
    return f"{day(report.quarters[0].period.from_)} to {day(report.quarters[-1].period.to)}"


def governor_facts(report: GovernorReport) -> list[tuple[str, str]]:
    return [
        ("This period", period_text(report.period)),
        ("Previous period", period_text(report.previous_period)),
        ("Generated", moment(report.generated_at)),
        ("Report id", str(report.report_id)),
    ]


def programme_facts(report: ProgrammeReport) -> list[tuple[str, str]]:
    return [
        ("Quarters", programme_span(report)),
        ("Generated", moment(report.generated_at)),
        ("Report id", str(report.report_id)),
    ]


# Markdown -----------------------------------------------------------------------------------


def _md(text: str) -> str:
    escaped = "".join(f"\\{char}" if char in "\\`*_[]<>|#" else char for char in text)
    return escaped.replace("\n", " ")


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_head(report_title: str, facts: list[tuple[str, str]]) -> list[str]:
    lines = [f"# {_md(report_title)}", ""]
    lines += [f"- {name}: {_md(value)}" for name, value in facts]
    return [*lines, ""]


def _md_key(suppression: Suppression, notes: list[str]) -> list[str]:
    lines = ["## Key", ""]
    lines += [f"- `{mark}`: {_md(meaning)}" for mark, meaning in key_lines(suppression)[:2]]
    lines += ["", _md(suppression.legend), "", "## Notes", ""]
    lines += [f"- {_md(note)}" for note in notes]
    return [*lines, ""]


def governor_markdown(report: GovernorReport) -> str:
    levels = depths(figure for section in report.sections for figure in section.figures)
    lines = _md_head(governor_title(report), governor_facts(report))
    for section in report.sections:
        lines += [f"## {_md(section.title)}", ""]
        lines += [_md_row(["Figure", "This period", "Previous period"]), "|---|--:|--:|"]
        for figure in section.figures:
            # Markdown tables drop leading spaces; an em space entity keeps the indent.
            indent = "&emsp;" * levels[figure.key]
            label = indent + _md(label_with_unit(figure.label, figure.unit))
            lines.append(_md_row([label, cell_text(figure.current), cell_text(figure.previous)]))
        lines.append("")
    lines += _md_key(report.suppression, report.notes)
    return "\n".join(lines)


def programme_markdown(report: ProgrammeReport) -> str:
    lines = _md_head(programme_title(report), programme_facts(report))
    lines += [_md_row(["Figure", *(_md(q.label) for q in report.quarters)])]
    lines += ["|---|" + "--:|" * len(report.quarters)]
    for figure in report.figures:
        label = _md(label_with_unit(figure.label, figure.unit))
        lines.append(_md_row([label, *(cell_text(cell) for cell in figure.values)]))
    lines.append("")
    lines += _md_key(report.suppression, report.notes)
    return "\n".join(lines)


# CSV: one tidy table, the marks in the cells, no comment or legend rows ----------------------


def _csv(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


GOVERNOR_CSV_COLUMNS = (
    "prison_code",
    "period_from",
    "period_to",
    "previous_period_from",
    "previous_period_to",
    "section",
    "key",
    "label",
    "unit",
    "part_of",
    "current",
    "previous",
)


def governor_csv(report: GovernorReport) -> str:
    # The prison and periods on every row: files from several runs can be stacked and still say
    # what each row is about.
    about = [
        report.prison_code,
        report.period.from_.isoformat(),
        report.period.to.isoformat(),
        report.previous_period.from_.isoformat(),
        report.previous_period.to.isoformat(),
    ]
    rows: list[Sequence[str]] = [GOVERNOR_CSV_COLUMNS]
    for section in report.sections:
        for figure in section.figures:
            rows.append(
                [
                    *about,
                    section.key,
                    figure.key,
                    figure.label,
                    figure.unit,
                    figure.part_of or "",
                    cell_raw(figure.current),
                    cell_raw(figure.previous),
                ]
            )
    return _csv(rows)


def programme_csv(report: ProgrammeReport) -> str:
    rows: list[Sequence[str]] = [["key", "label", "unit", *(q.key for q in report.quarters)]]
    for figure in report.figures:
        rows.append(
            [figure.key, figure.label, figure.unit, *(cell_raw(cell) for cell in figure.values)]
        )
    return _csv(rows)


# XLSX ---------------------------------------------------------------------------------------


def _xlsx_value(cell: Cell) -> float | int | str:
    """Numbers as numbers (a spreadsheet can add them up), marks as text."""
    value = shown_value(cell)
    return cell_text(cell) if value is None else value


def _workbook_bytes(
    report_title: str,
    generated_at: datetime,
    header: list[str],
    blocks: list[tuple[str | None, list[tuple[str, int, list[Cell], Unit]]]],
    facts: list[tuple[str, str]],
    periods: int,
    suppression: Suppression,
    notes: list[str],
) -> bytes:
    """One "Report" sheet (the title, the first `periods` facts, then a heading per block and its
    rows: label, indent, cells, unit) and a "Notes" sheet with the facts, the key and the notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    right = Alignment(horizontal="right")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Report"
    sheet.append([report_title])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=14)
    for name, value in facts[:periods]:
        sheet.append([f"{name}: {value}"])
    widest = len(header[0])
    for heading, rows in blocks:
        sheet.append([])
        if heading is not None:
            sheet.append([heading])
            sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
        sheet.append(header)
        for column in range(1, len(header) + 1):
            sheet.cell(sheet.max_row, column).font = bold
            if column > 1:
                sheet.cell(sheet.max_row, column).alignment = right
        for label, indent, cells, unit in rows:
            sheet.append([label, *(_xlsx_value(cell) for cell in cells)])
            row = sheet.max_row
            sheet.cell(row, 1).alignment = Alignment(indent=2 * indent)
            widest = max(widest, len(label) + 2 * indent)
            for column, cell in enumerate(cells, start=2):
                target = sheet.cell(row, column)
                if shown_value(cell) is None:
                    target.alignment = right  # a mark lines up with the numbers
                else:
                    target.number_format = "#,##0" if unit == "count" else "#,##0.0#"
    sheet.column_dimensions["A"].width = min(widest + 4, 80)
    for column in range(2, len(header) + 1):
        letter = sheet.cell(1, column).column_letter
        sheet.column_dimensions[letter].width = max(16, len(header[column - 1]) + 4)

    notes_sheet = book.create_sheet("Notes")
    notes_sheet.append([report_title])
    notes_sheet.cell(1, 1).font = Font(bold=True, size=14)
    for name, value in facts:
        notes_sheet.append([name, value])
    notes_sheet.append([])
    notes_sheet.append(["Key"])
    notes_sheet.cell(notes_sheet.max_row, 1).font = bold
    for mark, meaning in key_lines(suppression):
        notes_sheet.append([mark, meaning])
    notes_sheet.append([])
    notes_sheet.append(["Notes"])
    notes_sheet.cell(notes_sheet.max_row, 1).font = bold
    for note in notes:
        notes_sheet.append(["", note])
    notes_sheet.column_dimensions["A"].width = 18
    notes_sheet.column_dimensions["B"].width = 110
    for row in notes_sheet.iter_rows(min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    # openpyxl would name itself as the author and stamp the time of writing: say the service,
    # and the report's own time.
    stamp = (generated_at.astimezone(UTC) if generated_at.tzinfo else generated_at).replace(
        tzinfo=None
    )
    book.properties.creator = "tac-api"
    book.properties.lastModifiedBy = None
    book.properties.title = report_title
    book.properties.created = stamp
    book.properties.modified = stamp
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def governor_xlsx(report: GovernorReport) -> bytes:
    levels = depths(figure for section in report.sections for figure in section.figures)
    blocks: list[tuple[str | None, list[tuple[str, int, list[Cell], Unit]]]] = [
        (
            section.title,
            [
                (
                    label_with_unit(figure.label, figure.unit),
                    levels[figure.key],
                    [figure.current, figure.previous],
                    figure.unit,
                )
                for figure in section.figures
            ],
        )
        for section in report.sections
    ]
    return _workbook_bytes(
        governor_title(report),
        report.generated_at,
        ["Figure", "This period", "Previous period"],
        blocks,
        governor_facts(report),
        2,
        report.suppression,
        report.notes,
    )


def programme_xlsx(report: ProgrammeReport) -> bytes:
    rows = [
        (label_with_unit(figure.label, figure.unit), 0, figure.values, figure.unit)
        for figure in report.figures
    ]
    return _workbook_bytes(
        programme_title(report),
        report.generated_at,
        ["Figure", *(q.label for q in report.quarters)],
        [(None, rows)],
        programme_facts(report),
        1,
        report.suppression,
        report.notes,
    )


# HTML ---------------------------------------------------------------------------------------

# Nothing outside the page is loaded: no scripts, fonts, images or style sheets.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CSS = """
body{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;margin:2rem auto;max-width:60rem;
padding:0 1rem;line-height:1.4}
h1{font-size:1.8rem}h2{font-size:1.35rem;margin-top:2.2rem}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #b1b4b6;padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{border-bottom:2px solid #0b0c0c}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.mark{color:#505a5f}
tr.level-1 th{padding-left:1.75rem;font-weight:normal}
tr.level-2 th{padding-left:3rem;font-weight:normal}
tr.level-3 th{padding-left:4.25rem;font-weight:normal}
tbody th{font-weight:normal}
figure.chart{margin:1.2rem 0}figure.chart svg{max-width:100%;height:auto}
figcaption{font-weight:bold;margin-bottom:.3rem}
dl.key dt{font-family:monospace;font-weight:bold;float:left;width:2rem}dl.key dd{margin-left:2.5rem}
@media print{figure.chart,table{break-inside:avoid}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _page(page_title: str, facts: list[tuple[str, str]], body: list[str], key: list[str]) -> str:
    facts_html = "".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in facts)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en-GB">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(page_title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            "<main>",
            f"<h1>{_e(page_title)}</h1>",
            f'<dl class="facts">{facts_html}</dl>',
            *body,
            *key,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _html_key(suppression: Suppression, notes: list[str]) -> list[str]:
    marks = key_lines(suppression)
    items = "".join(f"<dt>{_e(mark)}</dt><dd>{_e(meaning)}</dd>" for mark, meaning in marks[:2])
    notes_html = "".join(f"<li>{_e(note)}</li>" for note in notes)
    return [
        '<section id="key">',
        "<h2>Key</h2>",
        f'<dl class="key">{items}</dl>',
        f'<p class="legend">{_e(suppression.legend)}</p>',
        "<h2>Notes</h2>",
        f"<ul>{notes_html}</ul>",
        "</section>",
    ]


def _html_cell(cell: Cell) -> str:
    mark = " mark" if shown_value(cell) is None else ""
    return f'<td class="num{mark}">{_e(cell_text(cell))}</td>'


def _table(header: Sequence[str], rows: Iterable[str]) -> str:
    head = '<th scope="col">' + _e(header[0]) + "</th>"
    head += "".join(f'<th scope="col" class="num">{_e(name)}</th>' for name in header[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _chart(caption: str, svg: str) -> str:
    return f'<figure class="chart"><figcaption>{_e(caption)}</figcaption>{svg}</figure>'


def governor_html(report: GovernorReport, on_chart: ChartProgress | None = None) -> str:
    from tac_api.reports.charts import PREVIOUS_COLOUR, Series, breakdown_svg

    figures = [figure for section in report.sections for figure in section.figures]
    levels = depths(figures)
    labels = {figure.key: figure.label for figure in figures}
    by_section = [breakdowns(section.figures, labels) for section in report.sections]
    total, drawn = sum(len(found) for found in by_section), 0
    if on_chart:
        on_chart(0, total)
    this, before = period_text(report.period), period_text(report.previous_period)
    body: list[str] = []
    for section, found in zip(report.sections, by_section, strict=True):
        rows = [
            f'<tr class="level-{min(levels[figure.key], 3)}" data-key="{_e(figure.key)}">'
            f'<th scope="row">{_e(label_with_unit(figure.label, figure.unit))}</th>'
            f"{_html_cell(figure.current)}{_html_cell(figure.previous)}</tr>"
            for figure in section.figures
        ]
        body += [f'<section id="{_e(section.key)}">', f"<h2>{_e(section.title)}</h2>"]
        body.append(_table(["Figure", "This period", "Previous period"], rows))
        for breakdown in found:
            series = [
                Series(
                    f"Previous period ({before})",
                    [shown_value(part.previous) for part in breakdown.parts],
                    [cell_text(part.previous) for part in breakdown.parts],
                    PREVIOUS_COLOUR,
                ),
                Series(
                    f"This period ({this})",
                    [shown_value(part.current) for part in breakdown.parts],
                    [cell_text(part.current) for part in breakdown.parts],
                ),
            ]
            categories = [part.label for part in breakdown.parts]
            svg = breakdown_svg(categories, series, breakdown.unit, f"tac-report-{drawn}")
            body.append(_chart(label_with_unit(breakdown.title, breakdown.unit), svg))
            drawn += 1
            if on_chart:
                on_chart(drawn, total)
        body.append("</section>")
    title = governor_title(report)
    return _page(title, governor_facts(report), body, _html_key(report.suppression, report.notes))


def programme_html(report: ProgrammeReport, on_chart: ChartProgress | None = None) -> str:
    quarter_labels = [quarter.label for quarter in report.quarters]
    rows = [
        f'<tr class="level-0" data-key="{_e(figure.key)}">'
        f'<th scope="row">{_e(label_with_unit(figure.label, figure.unit))}</th>'
        + "".join(_html_cell(cell) for cell in figure.values)
        + "</tr>"
        for figure in report.figures
    ]
    body = ['<section id="figures">', _table(["Figure", *quarter_labels], rows), "</section>"]
    body += ['<section id="charts">', "<h2>Quarter by quarter</h2>"]
    total = len(report.figures)
    if on_chart:
        on_chart(0, total)
    for drawn, figure in enumerate(report.figures, start=1):
        body.append(_chart(label_with_unit(figure.label, figure.unit), _figure_svg(figure, report)))
        if on_chart:
            on_chart(drawn, total)
    body.append("</section>")
    title = programme_title(report)
    return _page(title, programme_facts(report), body, _html_key(report.suppression, report.notes))


def _figure_svg(figure: ProgrammeFigure, report: ProgrammeReport) -> str:
    from tac_api.reports.charts import Series, quarters_svg

    series = Series(
        figure.label,
        [shown_value(cell) for cell in figure.values],
        [cell_text(cell) for cell in figure.values],
    )
    labels = [quarter.label for quarter in report.quarters]
    return quarters_svg(labels, series, figure.unit, f"tac-report-{figure.key}")
