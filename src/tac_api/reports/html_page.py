"""A report as one self-contained HTML page: its tables, its charts (inline SVG), the key."""

import html
from collections.abc import Iterable, Sequence

from tac_api.reports.schemas import Cell, Figure, GovernorReport, ProgrammeReport, Unit
from tac_api.reports.wording import (
    STOCK_MARK,
    STOCK_NOTE,
    Breakdown,
    ChartProgress,
    Report,
    Row,
    breakdowns,
    cell_text,
    figure_label,
    governor_tables,
    heading,
    key_lines,
    label_with_unit,
    period_columns,
    programme_tables,
    quarter_axis,
    quarter_short,
    shown_value,
    trend_rows,
)

# A chart's panels at most: a section with more top-level figures has a second chart.
PANELS_PER_CHART = 8
# A breakdown is drawn when at least this many of its parts have a number other than 0.
PARTS_WORTH_DRAWING = 2
DEEPEST = 6  # indent classes drawn: a part deeper than this is shown at this depth

# Nothing outside the page is loaded: no scripts, fonts, images or style sheets.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_LEVELS = "".join(
    f"tr.level-{depth} th{{padding-left:{0.5 + 1.25 * depth:.2f}rem}}"
    for depth in range(1, DEEPEST + 1)
)
_CSS = (
    """
body{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;margin:2rem auto;max-width:60rem;
padding:0 1rem;line-height:1.4}
h1{font-size:1.8rem}h2{font-size:1.35rem;margin-top:2.2rem}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0}
table{border-collapse:collapse;width:100%;margin:1rem 0;table-layout:fixed}
th,td{border-bottom:1px solid #b1b4b6;padding:.35rem .5rem;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
thead th{border-bottom:2px solid #0b0c0c}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}
td.mark{color:#505a5f}
tbody th{font-weight:normal}
tr.subheading th{font-weight:bold;border-bottom:none;padding-top:.6rem}
span.stock{font-size:.85em;color:#505a5f;white-space:nowrap}
p.stock-note,p.not-drawn{font-size:.9rem;color:#505a5f}
figure.chart{margin:1.2rem 0;width:100%}
figure.chart svg{display:block;width:100%;height:auto}
figcaption{font-weight:bold;margin-bottom:.3rem}
ul.chart-legend{list-style:none;padding:0;margin:.2rem 0 .4rem;font-weight:normal}
ul.chart-legend li{display:inline-block;margin-right:1.2rem}
span.swatch{display:inline-block;width:0;height:.9em;margin-right:.35em;
vertical-align:-.1em;border-left:.9em solid}
span.swatch.current{border-color:#1d70b8}span.swatch.previous{border-color:#b1b4b6}
sup.note a,p.method a{color:#1d70b8}
ol.methods{font-size:.9rem;color:#0b0c0c;padding-left:0;list-style:none}
ol.methods li{margin:.2rem 0}
dl.key dt{font-weight:bold;float:left;clear:left;width:7.5rem}
dl.key dd{margin:0 0 .3rem 8rem}
@page{size:A4;margin:16mm 14mm 18mm}
@media print{body{margin:0;padding:0;max-width:none;font-size:10pt}
h2{break-after:avoid;break-inside:avoid}tr.subheading{break-after:avoid}
figure.chart,tr{break-inside:avoid}thead{display:table-header-group}
a{color:inherit;text-decoration:none}}
"""
    + _LEVELS
)


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
    """The key, once: each mark, then how the counts were perturbed; then the notes."""
    items = "".join(
        f"<dt>{_e(mark)}</dt><dd>{_e(meaning)}</dd>" for mark, meaning in key_lines(report)
    )
    notes_html = "".join(f"<li>{_e(note)}</li>" for note in report.notes)
    return [
        '<section id="key">',
        "<h2>Key</h2>",
        f'<dl class="key">{items}</dl>',
        "<h2>Notes</h2>",
        f"<ul>{notes_html}</ul>",
        "</section>",
    ]


def _label(text: str) -> str:
    """A row's label; its `[as it stood]` mark set apart (small, kept on one line)."""
    if text.endswith(STOCK_MARK):
        bare = text.removesuffix(STOCK_MARK).rstrip()
        return f'{_e(bare)} <span class="stock">{_e(STOCK_MARK)}</span>'
    return _e(text)


def _html_cell(cell: Cell, unit: Unit = "count") -> str:
    mark = " mark" if shown_value(cell) is None else ""
    return f'<td class="num{mark}">{_e(cell_text(cell, unit))}</td>'


def _table(header: Sequence[str], rows: Iterable[str]) -> str:
    """Label column, then the figures' columns: fixed widths, so that no table is wider than
    its page (A4's printable width too); a long label wraps."""
    numbers = len(header) - 1
    each = min(14.0, 48.0 / max(numbers, 1))
    cols = f'<col class="label" style="width:{100 - each * numbers:.1f}%">' + "".join(
        f'<col class="num" style="width:{each:.1f}%">' for _ in range(numbers)
    )
    head = '<th scope="col">' + _e(header[0]) + "</th>"
    head += "".join(f'<th scope="col" class="num">{_e(name)}</th>' for name in header[1:])
    return (
        f"<table><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _subheading(text: str, depth: int, columns: int) -> str:
    return (
        f'<tr class="subheading level-{min(depth, DEEPEST)}">'
        f'<th scope="rowgroup" colspan="{columns}">{_e(text)}</th></tr>'
    )


def _legend(entries: Sequence[tuple[str, str]]) -> str:
    """A chart's legend as text on the page: it wraps, so it is never cut."""
    items = "".join(
        f'<li><span class="swatch {kind}"></span>{_e(name)}</li>' for kind, name in entries
    )
    return f'<ul class="chart-legend">{items}</ul>'


def _chart(kind: str, caption: str, svg: str, legend: str = "", after: str = "") -> str:
    return (
        f'<figure class="chart" data-chart="{_e(kind)}"><figcaption>{_e(caption)}{legend}'
        f"</figcaption>{svg}{after}</figure>"
    )


def _not_drawn(names: Sequence[str], why: str) -> str:
    if not names:
        return ""
    return f'<p class="not-drawn">Not drawn, {_e(why)}: {_e("; ".join(names))}.</p>'


def _stock_note(stock: bool) -> list[str]:
    return [f'<p class="stock-note">{_e(STOCK_NOTE)}</p>'] if stock else []


def _trend(report: GovernorReport) -> tuple[list[str], int]:
    """The headline figures over the last quarters: a table, and a chart of those that say
    something (a panel each, a bar a quarter)."""
    from tac_api.reports.charts import Panel, Series, quarters_svg, says_something

    quarters = report.trend.quarters
    rows = trend_rows(report)
    if not quarters or not rows:
        return [], 0
    body = [
        '<section id="trend">',
        "<h2>The last four quarters</h2>" if len(quarters) == 4 else "<h2>Quarter by quarter</h2>",
    ]
    table_rows = [
        f'<tr class="level-0" data-trend-key="{_e(row.key)}"><th scope="row">{_label(row.label)}'
        "</th>" + "".join(_html_cell(cell) for cell in row.cells) + "</tr>"
        for row in rows
    ]
    body.append(_table(["Headline figure", *(q.label for q in quarters)], table_rows))
    drawn = [row for row in rows if says_something([shown_value(c) for c in row.cells])]
    skipped = [row.label for row in rows if row not in drawn]
    charts = 0
    if drawn:
        panels = [
            Panel(
                row.label,
                "count",
                Series(
                    row.label,
                    [shown_value(cell) for cell in row.cells],
                    [cell_text(cell) for cell in row.cells],
                ),
            )
            for row in drawn
        ]
        svg = quarters_svg([quarter_axis(q) for q in quarters], panels, "tac-report-trend")
        caption = f"Headline figures, {quarters[0].label} to {quarters[-1].label}"
        body.append(_chart("trend", caption, svg, after=_not_drawn(skipped, "0 or c throughout")))
        charts = 1
    else:
        body.append(_not_drawn(skipped, "0 or c throughout"))
    body.append("</section>")
    return body, charts


def _drawn_parts(breakdown: Breakdown) -> list[Figure]:
    """The parts of a breakdown worth a bar: a number other than 0 in either quarter (a part
    0 or c in both is in the table, not drawn). None at all when too few say anything."""
    from tac_api.reports.charts import says_something

    shown = [
        part
        for part in breakdown.parts
        if says_something([shown_value(part.current), shown_value(part.previous)])
    ]
    return shown if len(shown) >= PARTS_WORTH_DRAWING else []


def _breakdown_chart(
    breakdown: Breakdown, shown: Sequence[Figure], columns: Sequence[str], salt: str
) -> str:
    """A breakdown's bars, this quarter beside the one before, for the parts `shown`."""
    from tac_api.reports.charts import PREVIOUS_COLOUR, Series, breakdown_svg

    this, before = columns
    series = [
        Series(
            before,
            [shown_value(part.previous) for part in shown],
            [cell_text(part.previous, part.unit) for part in shown],
            PREVIOUS_COLOUR,
        ),
        Series(
            this,
            [shown_value(part.current) for part in shown],
            [cell_text(part.current, part.unit) for part in shown],
        ),
    ]
    svg = breakdown_svg([part.label for part in shown], series, breakdown.unit, salt)
    skipped = [part.label for part in breakdown.parts if part not in shown]
    after = _not_drawn(skipped, f"0 or c in both quarters ({len(skipped)})")
    legend = _legend([("previous", before), ("current", this)])  # the bars' order
    return _chart("breakdown", label_with_unit(breakdown.title, breakdown.unit), svg, legend, after)


def governor_html(report: GovernorReport, on_chart: ChartProgress | None = None) -> str:
    """The trend first (a table and a chart), then a table a section (each breakdown under a
    subheading below its total, its parts indented under it), each followed by a chart of each
    breakdown that says something, this quarter beside the one before."""
    from tac_api.reports.charts import says_something

    figures = [figure for section in report.sections for figure in section.figures]
    labels = {figure.key: figure.label for figure in figures}
    columns = period_columns(report)
    tables = governor_tables(report)
    drawable = [
        [
            (found, shown)
            for found in breakdowns(section.figures, labels)
            if (shown := _drawn_parts(found))
        ]
        for section in report.sections
    ]
    trend = any(
        says_something([shown_value(cell) for cell in figure.values])
        for figure in report.trend.figures
    )
    total, drawn = int(trend) + sum(len(found) for found in drawable), 0
    if on_chart:
        on_chart(0, total)
    body, charts = _trend(report)
    if charts:
        drawn += charts
        if on_chart:
            on_chart(drawn, total)
    for table, found in zip(tables, drawable, strict=True):
        section = table.section
        rows = []
        for row in table.rows:
            if row.figure is None:
                rows.append(_subheading(row.label, row.depth, 3))
                continue
            figure = row.figure
            rows.append(
                f'<tr class="level-{min(row.depth, DEEPEST)}" data-key="{_e(figure.key)}">'
                f'<th scope="row">{_label(row.label)}</th>'
                f"{_html_cell(figure.current, figure.unit)}"
                f"{_html_cell(figure.previous, figure.unit)}</tr>"
            )
        body += [f'<section id="{_e(section.key)}">', f"<h2>{_e(section.title)}</h2>"]
        body += _stock_note(table.stock)
        body.append(_table(["Figure", *columns], rows))
        for breakdown, shown in found:
            body.append(_breakdown_chart(breakdown, shown, columns, f"tac-report-{drawn}"))
            drawn += 1
            if on_chart:
                on_chart(drawn, total)
        body.append("</section>")
    return _page(report, body)


def _programme_row(row: Row, columns: int) -> str:
    figure = row.figure
    if figure is None:
        return _subheading(row.heading, row.depth, columns)
    label = _label(figure_label(figure, figure.unit, section_stock=row.section_stock))
    if row.note is not None:
        # The same words as the other formats (`[note 1]`), linked to the note under the table.
        label += f' <sup class="note"><a href="#note-{row.note}">[note {row.note}]</a></sup>'
    return (
        f'<tr class="level-{min(row.depth, DEEPEST)}" data-key="{_e(figure.key)}">'
        f'<th scope="row">{label}</th>'
        + "".join(_html_cell(cell, figure.unit) for cell in figure.values)
        + "</tr>"
    )


def _panel_groups(rows: Sequence[Row]) -> list[list[Row]]:
    """Charts of at most PANELS_PER_CHART panels of `rows`."""
    return [
        list(rows[start : start + PANELS_PER_CHART])
        for start in range(0, len(rows), PANELS_PER_CHART)
    ]


def programme_html(report: ProgrammeReport, on_chart: ChartProgress | None = None) -> str:
    """A table a section (breakdowns under subheadings below their totals, parts indented, a
    column a quarter, a note under it for each estimate's method), then one chart of the
    section's top-level figures that say something (a number other than 0 in some quarter): a
    small panel each, a bar a quarter. Breakdowns stay in the tables: their parts are mostly
    small counts, `c`, which a chart could only draw as marks; the totals are what moves from
    quarter to quarter. So the charts number at most about one a section."""
    from tac_api.reports.charts import Panel, Series, quarters_svg, says_something

    tables = programme_tables(report)
    top = [
        [row for row in table.rows if row.figure is not None and row.depth == 0] for table in tables
    ]
    worth = [
        [
            row
            for row in rows
            if row.figure is not None
            and says_something([shown_value(cell) for cell in row.figure.values])
        ]
        for rows in top
    ]
    grouped = [_panel_groups(rows) for rows in worth]
    total, drawn = sum(len(groups) for groups in grouped), 0
    if on_chart:
        on_chart(0, total)
    quarter_labels = [quarter.label for quarter in report.quarters]
    axis = [quarter_short(quarter) for quarter in report.quarters]
    width = 1 + len(quarter_labels)
    body: list[str] = []
    for table, groups, rows, shown in zip(tables, grouped, top, worth, strict=True):
        section = table.section
        body += [f'<section id="{_e(section.key)}">', f"<h2>{_e(section.title)}</h2>"]
        body += _stock_note(table.stock)
        cells = (_programme_row(row, width) for row in table.rows)
        body.append(_table(["Figure", *quarter_labels], cells))
        if table.notes:
            notes = "".join(
                f'<li id="note-{number}"><strong>[note {number}]</strong> {_e(method)}</li>'
                for number, method in table.notes
            )
            body.append(f'<ol class="methods">{notes}</ol>')
        skipped = [row.label for row in rows if row not in shown]
        for part, group in enumerate(groups):
            panels = [
                Panel(
                    row.label,
                    row.figure.unit,
                    Series(
                        row.figure.label,
                        [shown_value(cell) for cell in row.figure.values],
                        [cell_text(cell, row.figure.unit) for cell in row.figure.values],
                    ),
                )
                for row in group
                if row.figure is not None
            ]
            svg = quarters_svg(axis, panels, f"tac-report-{section.key}-{part}")
            caption = f"{section.title}: quarter by quarter"
            last = part == len(groups) - 1
            after = _not_drawn(skipped, "0 or c in every quarter") if last else ""
            caption = caption if len(groups) == 1 else f"{caption} ({part + 1})"
            body.append(_chart("quarters", caption, svg, after=after))
            drawn += 1
            if on_chart:
                on_chart(drawn, total)
        if not groups and skipped and rows:
            body.append(_not_drawn(skipped, "0 or c in every quarter"))
        body.append("</section>")
    return _page(report, body)
