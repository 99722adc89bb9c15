"""The HTML report's charts: SVG text drawn by matplotlib, inlined in the page.

`matplotlib.figure.Figure` is drawn without pyplot, so no GUI backend or global figure list is
involved (the same as the Agg backend, headless). The SVG is made deterministic (a fixed hash salt
for its ids, no creation date) and its `<metadata>` block is dropped: it names matplotlib's web
site, and the page must point nowhere outside itself.
"""

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure as Drawing
from matplotlib.ticker import FuncFormatter, MaxNLocator

from tac_api.reports.schemas import Unit

LABEL_WIDTH = 38  # characters of a category's label a line, in the breakdown charts
CURRENT_COLOUR = "#1d70b8"  # GOV.UK blue: readable beside the grey, and in greyscale print
PREVIOUS_COLOUR = "#b1b4b6"
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def _svg(drawing: Drawing, salt: str) -> str:
    buffer = io.StringIO()
    # The salt is per chart: ids stay unique when several SVGs share one HTML page.
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        drawing.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]  # no XML declaration or DOCTYPE inside HTML
    return _full_width(_own_ids(_METADATA.sub("", text), salt))


_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^")]+)')


def _own_ids(svg: str, salt: str) -> str:
    """Every id of the chart, and every reference to one, under the chart's own prefix: the
    salt hashes only some of matplotlib's ids (`patch_1`, `text_2`... repeat in every chart),
    and one page with the same id twice is not valid (WeasyPrint warns of each)."""
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", salt)
    ids = set(_ID.findall(svg))
    svg = _ID.sub(lambda found: f'id="{prefix}-{found.group(1)}"', svg)
    return _REFERENCE.sub(
        lambda found: (
            found.group(1)
            + (f"{prefix}-{found.group(2)}" if found.group(2) in ids else found.group(2))
        ),
        svg,
    )


_SIZE = re.compile(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"')


def _full_width(svg: str) -> str:
    """The chart as wide as its column (the page's, or A4's printable width), its height from
    its viewBox: drawn at 7 inches, it is scaled, never cut."""
    assert "viewBox=" in svg[: svg.index(">")]
    return _SIZE.sub(r'<svg\1 class="chart-drawing" width="100%"', svg, count=1)


def says_something(values: Sequence[float | int | None]) -> bool:
    """A series worth drawing: at least one figure shown as a number other than 0 (one all
    zeros, marks or nothing would draw an empty chart on a meaningless axis)."""
    return any(value is not None and value != 0 for value in values)


def _style() -> dict[str, object]:
    # Text stays text (not glyph paths): searchable, selectable and smaller.
    return {"svg.fonttype": "none", "font.size": 9, "font.family": "DejaVu Sans"}


@dataclass(frozen=True)
class Series:
    """One period's bars: a value per category (None: no bar, the cell is a mark) and the text
    written at each bar's end (the value as the tables show it, or its mark)."""

    name: str
    values: Sequence[float | int | None]
    texts: Sequence[str]
    colour: str = CURRENT_COLOUR


def _lengths(series: Series) -> list[float]:
    return [0.0 if value is None else float(value) for value in series.values]


def breakdown_svg(
    categories: Sequence[str], series: Sequence[Series], unit: Unit, salt: str
) -> str:
    """Grouped horizontal bars, a group per part of the whole and a bar per period. Long labels
    wrap; the legend is the page's (HTML text, which wraps), not drawn here."""
    count = len(categories)
    wrapped = [textwrap.fill(category, LABEL_WIDTH) for category in categories]
    label_lines = sum(max(1, text.count("\n") + 1) for text in wrapped)
    with matplotlib.rc_context(_style()):
        height = 0.8 + max(0.22 * count * len(series), 0.17 * label_lines)
        drawing = Drawing(figsize=(7.0, height), layout="constrained")
        axes = drawing.add_subplot()
        height = 0.8 / len(series)
        for index, one in enumerate(series):
            offset = (index - (len(series) - 1) / 2) * height
            bars = axes.barh(
                [row + offset for row in range(count)],
                _lengths(one),
                height,
                label=one.name,
                color=one.colour,
            )
            axes.bar_label(bars, labels=list(one.texts), padding=3)
        axes.set_yticks(list(range(count)), wrapped)
        axes.invert_yaxis()  # the first part on top, as in the table
        axes.margins(x=0.18)  # room at the longest bar's end for its figure
        if unit == "count":
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            axes.set_xlabel(unit)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(drawing, salt)


@dataclass(frozen=True)
class Panel:
    """One figure's quarters: a bar each, its text at the bar's end (a value or its mark)."""

    title: str
    unit: Unit
    series: Series


PANEL_COLUMNS = 2


def _money_ticks(value: float, _: int) -> str:
    return f"£{value:,.0f}"


def quarters_svg(categories: Sequence[str], panels: Sequence[Panel], salt: str) -> str:
    """Small multiples: a panel per figure, a bar per quarter, on the same quarters. Each panel
    has its own scale: figures of one section differ by orders of magnitude."""
    rows = -(-len(panels) // PANEL_COLUMNS)
    columns = min(PANEL_COLUMNS, len(panels))
    with matplotlib.rc_context(_style()):
        drawing = Drawing(figsize=(7.0, 0.4 + 2.3 * rows), layout="constrained")
        grid = drawing.subplots(rows, columns, squeeze=False)
        crowded = len(categories) > 4
        places = list(range(len(categories)))
        for index, axes in enumerate(grid.flat):
            if index >= len(panels):
                axes.set_visible(False)
                continue
            panel = panels[index]
            bars = axes.bar(places, _lengths(panel.series), 0.6, color=panel.series.colour)
            axes.bar_label(bars, labels=list(panel.series.texts), padding=2, fontsize=8)
            axes.set_title(textwrap.fill(panel.title, 36), fontsize=9, loc="left")
            axes.set_xticks(
                places,
                list(categories),
                rotation=40 if crowded else 0,
                ha="right" if crowded else "center",
                fontsize=8,
            )
            axes.margins(y=0.2)
            if panel.unit == "count":
                axes.yaxis.set_major_locator(MaxNLocator(integer=True))
            elif panel.unit == "pounds":
                axes.yaxis.set_major_formatter(FuncFormatter(_money_ticks))
            else:
                axes.set_ylabel(panel.unit)
            axes.spines[["top", "right"]].set_visible(False)
        return _svg(drawing, salt)
