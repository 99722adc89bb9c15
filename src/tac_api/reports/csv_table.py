"""A report as CSV: one tidy table for programs and spreadsheets, a row a figure in the order
the other formats show them (each total, then its parts), the marks in the cells (`c`, `z`,
`x`), full labels.

Columns say where each figure sits: `section`, `key`, `part_of` (the total it is a part of),
`breakdown` (which breakdown of that total), `subheading` (the breakdown's words, as the other
formats print them above its parts), `depth` (steps under a figure that is part of nothing, as
the other formats indent it; 0 for a total) and `stock` (`yes`: a count as it stood, not to be
added up across quarters).

The key comes last, in the same columns so that a spreadsheet reads it as rows of the same
table: rows whose `section` is `legend`, `key` `legend.c`, `legend.z`, (`legend.x`),
`legend.stock` and `legend.perturbation`, and the words in `label`; every other column empty.
A program that wants the figures alone keeps the rows whose `section` is not `legend`.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from tac_api.reports.schemas import GovernorReport, ProgrammeReport
from tac_api.reports.wording import (
    NOT_APPLICABLE_MARK,
    NOT_AVAILABLE_MARK,
    STOCK_MARK,
    Line,
    Report,
    cell_raw,
    dimension,
    key_lines,
    lines,
)

LEGEND_SECTION = "legend"


def _csv(rows: Iterable[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _legend_key(mark: str, report: Report) -> str:
    names = {
        report.suppression.marker: "c",
        NOT_APPLICABLE_MARK: "z",
        NOT_AVAILABLE_MARK: "x",
        STOCK_MARK: "stock",
        "Perturbation": "perturbation",
    }
    return f"{LEGEND_SECTION}.{names.get(mark, mark)}"


def _legend(report: Report, columns: Sequence[str]) -> list[list[str]]:
    """The key's rows, in the table's own columns: section, key and label filled in."""
    rows = []
    for mark, meaning in key_lines(report):
        row = dict.fromkeys(columns, "")
        row |= {
            "section": LEGEND_SECTION,
            "key": _legend_key(mark, report),
            "label": f"{mark}: {meaning}",
        }
        rows.append([row[column] for column in columns])
    return rows


def _placing(line: Line[Any], headings: dict[str, str]) -> list[str]:
    """part_of, breakdown, subheading, depth and stock of a figure's line."""
    figure = line.figure
    assert figure is not None
    return [
        figure.part_of or "",
        dimension(figure) if figure.part_of else "",
        headings.get(line.breakdown, "") if figure.part_of else "",
        str(line.depth),
        "yes" if figure.stock else "no",
    ]


def _subheadings(found: Sequence[Line[Any]]) -> dict[str, str]:
    """The subheading each breakdown is printed under, by breakdown."""
    return {line.breakdown: line.heading for line in found if line.figure is None}


PLACING = ("part_of", "breakdown", "subheading", "depth", "stock")
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
    *PLACING,
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
    labels = {f.key: f.label for section in report.sections for f in section.figures}
    rows: list[Sequence[str]] = [GOVERNOR_CSV_COLUMNS]
    for section in report.sections:
        found = lines(section.figures, labels)
        headings = _subheadings(found)
        for line in found:
            figure = line.figure
            if figure is None:
                continue
            rows.append(
                [
                    *about,
                    section.key,
                    figure.key,
                    figure.label,
                    figure.unit,
                    *_placing(line, headings),
                    cell_raw(figure.current, figure.unit),
                    cell_raw(figure.previous, figure.unit),
                ]
            )
    rows += _legend(report, GOVERNOR_CSV_COLUMNS)
    return _csv(rows)


PROGRAMME_CSV_COLUMNS = ("section", "key", "label", "unit", *PLACING, "method")


def programme_csv(report: ProgrammeReport) -> str:
    """One row a figure, a column a quarter (by its key, e.g. `2026-04`); an estimate's method in
    its own column, pounds as plain numbers (the unit column says so)."""
    columns = (*PROGRAMME_CSV_COLUMNS, *(q.key for q in report.quarters))
    labels = {f.key: f.label for section in report.sections for f in section.figures}
    rows: list[Sequence[str]] = [columns]
    for section in report.sections:
        found = lines(section.figures, labels)
        headings = _subheadings(found)
        for line in found:
            figure = line.figure
            if figure is None:
                continue
            rows.append(
                [
                    section.key,
                    figure.key,
                    figure.label,
                    figure.unit,
                    *_placing(line, headings),
                    figure.method or "",
                    *(cell_raw(cell, figure.unit) for cell in figure.values),
                ]
            )
    rows += _legend(report, columns)
    return _csv(rows)
