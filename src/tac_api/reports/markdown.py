"""A report as Markdown: a table a section, then the key and the notes."""

from collections.abc import Iterable

from tac_api.reports.schemas import GovernorReport, ProgrammeReport
from tac_api.reports.wording import Report, cell_text, depths, heading, key_lines, label_with_unit


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
    lines += [f"- `{mark}`: {_md(meaning)}" for mark, meaning in key_lines(suppression)[:2]]
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
    lines += [_md_row(["Figure", *(_md(q.label) for q in report.quarters)])]
    lines += ["|---|" + "--:|" * len(report.quarters)]
    for figure in report.every_figure():
        label = _md(label_with_unit(figure.label, figure.unit))
        lines.append(_md_row([label, *(cell_text(cell) for cell in figure.values)]))
    lines.append("")
    lines += _md_key(report)
    return "\n".join(lines)
