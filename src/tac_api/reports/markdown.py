"""A report as Markdown: a table a section (the programme report's with a note under it for
each estimate's method), then the key and the notes."""

from collections.abc import Iterable

from tac_api.reports.schemas import GovernorReport, ProgrammeReport
from tac_api.reports.wording import (
    Report,
    cell_text,
    depths,
    heading,
    label_with_unit,
    marks,
    programme_tables,
)


def _md(text: str) -> str:
    escaped = "".join(f"\\{char}" if char in "\\`*_[]<>|#" else char for char in text)
    return escaped.replace("\n", " ")


def _md_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_head(report: Report) -> list[str]:
    report_title, facts = heading(report)
    lines = [f"# {_md(report_title)}", ""]
    lines += [f"- {name}: {_md(value)}" for name, value in facts]
    return [*lines, ""]


def _md_key(report: Report) -> list[str]:
    suppression = report.suppression
    lines = ["## Key", ""]
    lines += [f"- `{mark}`: {_md(meaning)}" for mark, meaning in marks(report)]
    lines += ["", _md(suppression.legend), "", "## Notes", ""]
    lines += [f"- {_md(note)}" for note in report.notes]
    return [*lines, ""]


def governor_markdown(report: GovernorReport) -> str:
    levels = depths(figure for section in report.sections for figure in section.figures)
    lines = _md_head(report)
    for section in report.sections:
        lines += [f"## {_md(section.title)}", ""]
        lines += [_md_row(["Figure", "This period", "Previous period"]), "|---|--:|--:|"]
        for figure in section.figures:
            # Markdown tables drop leading spaces; an em space entity keeps the indent.
            indent = "&emsp;" * levels[figure.key]
            label = indent + _md(label_with_unit(figure.label, figure.unit))
            lines.append(_md_row([label, cell_text(figure.current), cell_text(figure.previous)]))
        lines.append("")
    lines += _md_key(report)
    return "\n".join(lines)


def programme_markdown(report: ProgrammeReport) -> str:
    lines = _md_head(report)
    header = _md_row(["Figure", *(_md(q.label) for q in report.quarters)])
    rule = "|---|" + "--:|" * len(report.quarters)
    for table in programme_tables(report):
        lines += [f"## {_md(table.section.title)}", "", header, rule]
        for row in table.rows:
            # Markdown tables drop leading spaces; an em space entity keeps the indent.
            label = "&emsp;" * row.depth + _md(row.label)
            cells = [cell_text(cell, row.figure.unit) for cell in row.figure.values]
            lines.append(_md_row([label, *cells]))
        lines.append("")
        if table.notes:
            lines += [
                f"- {_md(f'[note {number}]')} {_md(method)}" for number, method in table.notes
            ]
            lines.append("")
    lines += _md_key(report)
    return "\n".join(lines)
