"""A report as one self-contained HTML page: its tables, its charts (inline SVG), the key."""

import html
from collections.abc import Iterable, Sequence

from tac_api.reports.schemas import Cell, GovernorReport, ProgrammeFigure, ProgrammeReport
from tac_api.reports.wording import (
    ChartProgress,
    Report,
    breakdowns,
    cell_text,
    depths,
    heading,
    key_lines,
    label_with_unit,
    period_text,
    shown_value,
)

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


def _page(report: Report, body: list[str]) -> str:
    """The whole page: the report's heading, `body`, then its key and notes."""
    page_title, facts = heading(report)
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
            *_html_key(report),
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _html_key(report: Report) -> list[str]:
    suppression = report.suppression
    marks = key_lines(suppression)
    items = "".join(f"<dt>{_e(mark)}</dt><dd>{_e(meaning)}</dd>" for mark, meaning in marks[:2])
    notes_html = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
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
    return _page(report, body)


def programme_html(report: ProgrammeReport, on_chart: ChartProgress | None = None) -> str:
    quarter_labels = [quarter.label for quarter in report.quarters]
    rows = [
        f'<tr class="level-0" data-key="{_e(figure.key)}">'
        f'<th scope="row">{_e(label_with_unit(figure.label, figure.unit))}</th>'
        + "".join(_html_cell(cell) for cell in figure.values)
        + "</tr>"
        for figure in report.every_figure()
    ]
    body = ['<section id="figures">', _table(["Figure", *quarter_labels], rows), "</section>"]
    body += ['<section id="charts">', "<h2>Quarter by quarter</h2>"]
    total = len(report.every_figure())
    if on_chart:
        on_chart(0, total)
    for drawn, figure in enumerate(report.every_figure(), start=1):
        body.append(_chart(label_with_unit(figure.label, figure.unit), _figure_svg(figure, report)))
        if on_chart:
            on_chart(drawn, total)
    body.append("</section>")
    return _page(report, body)


def _figure_svg(figure: ProgrammeFigure, report: ProgrammeReport) -> str:
    from tac_api.reports.charts import Series, quarters_svg

    series = Series(
        figure.label,
        [shown_value(cell) for cell in figure.values],
        [cell_text(cell) for cell in figure.values],
    )
    labels = [quarter.label for quarter in report.quarters]
    return quarters_svg(labels, series, figure.unit, f"tac-report-{figure.key}")
