"""A report as one self-contained HTML page: its tables, its charts (inline SVG), the key."""

import html
from collections.abc import Iterable, Sequence

from tac_api.reports.schemas import Cell, GovernorReport, ProgrammeReport, Unit
from tac_api.reports.wording import (
    ChartProgress,
    Report,
    Row,
    Table,
    breakdowns,
    cell_text,
    depths,
    heading,
    label_with_unit,
    marks,
    period_text,
    programme_tables,
    quarter_short,
    shown_value,
)

# A chart's panels at most: a section with more top-level figures has a second chart.
PANELS_PER_CHART = 8

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
sup.note a,p.method a{color:#1d70b8}
ol.methods{font-size:.9rem;color:#0b0c0c;padding-left:0;list-style:none}
ol.methods li{margin:.2rem 0}
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
    items = "".join(f"<dt>{_e(mark)}</dt><dd>{_e(meaning)}</dd>" for mark, meaning in marks(report))
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


def _html_cell(cell: Cell, unit: Unit = "count") -> str:
    mark = " mark" if shown_value(cell) is None else ""
    return f'<td class="num{mark}">{_e(cell_text(cell, unit))}</td>'


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


def _programme_row(row: Row) -> str:
    figure = row.figure
    label = _e(label_with_unit(figure.label, figure.unit))
    if row.note is not None:
        # The same words as the other formats (`[note 1]`), linked to the note under the table.
        label += f' <sup class="note"><a href="#note-{row.note}">[note {row.note}]</a></sup>'
    return (
        f'<tr class="level-{min(row.depth, 3)}" data-key="{_e(figure.key)}">'
        f'<th scope="row">{label}</th>'
        + "".join(_html_cell(cell, figure.unit) for cell in figure.values)
        + "</tr>"
    )


def _panel_groups(table: Table) -> list[list[Row]]:
    """The section's top-level figures, in charts of at most PANELS_PER_CHART panels."""
    top = [row for row in table.rows if row.depth == 0]
    return [top[start : start + PANELS_PER_CHART] for start in range(0, len(top), PANELS_PER_CHART)]


def programme_html(report: ProgrammeReport, on_chart: ChartProgress | None = None) -> str:
    """A table a section (parts indented under their totals, a column a quarter, a note under
    it for each estimate's method), then one chart of the section's top-level figures: a small
    panel each, a bar a quarter. Breakdowns stay in the tables: their parts are mostly small
    counts, suppressed, which a chart could only draw as marks; the totals are what moves
    from quarter to quarter. So the charts number about one a section, however many figures."""
    from tac_api.reports.charts import Panel, Series, quarters_svg

    tables = programme_tables(report)
    grouped = [_panel_groups(table) for table in tables]
    total, drawn = sum(len(groups) for groups in grouped), 0
    if on_chart:
        on_chart(0, total)
    quarter_labels = [quarter.label for quarter in report.quarters]
    axis = [quarter_short(quarter) for quarter in report.quarters]
    body: list[str] = []
    for table, groups in zip(tables, grouped, strict=True):
        section = table.section
        body += [f'<section id="{_e(section.key)}">', f"<h2>{_e(section.title)}</h2>"]
        body.append(_table(["Figure", *quarter_labels], map(_programme_row, table.rows)))
        if table.notes:
            notes = "".join(
                f'<li id="note-{number}"><strong>[note {number}]</strong> {_e(method)}</li>'
                for number, method in table.notes
            )
            body.append(f'<ol class="methods">{notes}</ol>')
        for part, rows in enumerate(groups):
            panels = [
                Panel(
                    label_with_unit(row.figure.label, row.figure.unit),
                    row.figure.unit,
                    Series(
                        row.figure.label,
                        [shown_value(cell) for cell in row.figure.values],
                        [cell_text(cell, row.figure.unit) for cell in row.figure.values],
                    ),
                )
                for row in rows
            ]
            svg = quarters_svg(axis, panels, f"tac-report-{section.key}-{part}")
            caption = f"{section.title}: quarter by quarter"
            body.append(_chart(caption if len(groups) == 1 else f"{caption} ({part + 1})", svg))
            drawn += 1
            if on_chart:
                on_chart(drawn, total)
        body.append("</section>")
    return _page(report, body)
