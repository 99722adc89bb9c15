"""A report as Markdown: a table a section (parts indented under their totals, each breakdown
under a subheading row; the programme report's with a note under it for each estimate's
method), then the key, stated once, and the notes.

Plain text throughout, no HTML entity: a part's indent is non-breaking spaces and an en dash
(`DASH`), which a Markdown table keeps and a reader of the raw file sees as well."""

from collections.abc import Iterable

from tac_api.reports.schemas import Cell, GovernorReport, ProgrammeReport, Unit
from tac_api.reports.wording import (
    STOCK_NOTE,
    Report,
    cell_text,
    governor_tables,
    heading,
    key_lines,
    period_columns,
    programme_tables,
    trend_rows,
)

NBSP = "\u00a0"
DASH = "\u2013 "  # an en dash and a space


def _md(text: str) -> str:
    escaped = "".join(f"\\{char}" if char in "\\`*_[]<>|#" else char for char in text)
    return escaped.replace("\n", " ")


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def indent(depth: int) -> str:
    """A part's indent in a table cell: `DASH` one step in, non-breaking spaces before it deeper."""
    return "" if depth == 0 else NBSP * 3 * (depth - 1) + DASH


def _label(text: str, depth: int, subheading: bool = False) -> str:
    return indent(depth) + (f"**{_md(text)}**" if subheading else _md(text))


def _header(columns: list[str]) -> list[str]:
    return [_md_row(["Figure", *(_md(name) for name in columns)]), "|---|" + "--:|" * len(columns)]


def _md_head(report: Report) -> list[str]:
    report_title, facts = heading(report)
    lines = [f"# {_md(report_title)}", ""]
    lines += [f"- {name}: {_md(value)}" for name, value in facts]
    return [*lines, ""]


def _md_key(report: Report) -> list[str]:
    """The key, once: each mark and what it means, then how the counts were perturbed."""
    lines = ["## Key", ""]
    for mark, meaning in key_lines(report):
        name = mark if mark == "Perturbation" else f"`{mark}`"
        lines.append(f"- {name}: {_md(meaning)}")
    lines += ["", "## Notes", ""]
    lines += [f"- {_md(note)}" for note in report.notes]
    return [*lines, ""]


def _cells(cells: Iterable[Cell], unit: Unit) -> list[str]:
    return [cell_text(cell, unit) for cell in cells]


def governor_markdown(report: GovernorReport) -> str:
    lines = _md_head(report)
    quarters = report.trend.quarters
    rows = trend_rows(report)
    if quarters and rows:
        lines += ["## The last four quarters" if len(quarters) == 4 else "## Quarter by quarter"]
        lines += ["", *_header([quarter.label for quarter in quarters])]
        lines += [_md_row([_md(row.label), *_cells(row.cells, "count")]) for row in rows]
        lines.append("")
    columns = period_columns(report)
    for table in governor_tables(report):
        lines += [f"## {_md(table.section.title)}", ""]
        if table.stock:
            lines += [f"_{_md(STOCK_NOTE)}_", ""]
        lines += _header(columns)
        for row in table.rows:
            figure = row.figure
            if figure is None:
                lines.append(_md_row([_label(row.label, row.depth, True), "", ""]))
                continue
            cells = _cells([figure.current, figure.previous], figure.unit)
            lines.append(_md_row([_label(row.label, row.depth), *cells]))
        lines.append("")
    lines += _md_key(report)
    return "\n".join(lines)


def programme_markdown(report: ProgrammeReport) -> str:
    lines = _md_head(report)
    header = _header([quarter.label for quarter in report.quarters])
    for table in programme_tables(report):
        lines += [f"## {_md(table.section.title)}", ""]
        if table.stock:
            lines += [f"_{_md(STOCK_NOTE)}_", ""]
        lines += header
        for row in table.rows:
            if row.figure is None:
                blanks = [""] * len(report.quarters)
                lines.append(_md_row([_label(row.label, row.depth, True), *blanks]))
                continue
            cells = _cells(row.figure.values, row.figure.unit)
            lines.append(_md_row([_label(row.label, row.depth), *cells]))
        lines.append("")
        if table.notes:
            lines += [
                f"- {_md(f'[note {number}]')} {_md(method)}" for number, method in table.notes
            ]
            lines.append("")
    lines += _md_key(report)
    return "\n".join(lines)
