"""A report as CSV: one tidy table, the marks in the cells (`c`, `z`, `x`), no comment or legend
rows."""

import csv
import io
from collections.abc import Iterable, Sequence

from tac_api.reports.schemas import GovernorReport, ProgrammeReport
from tac_api.reports.wording import cell_raw


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


PROGRAMME_CSV_COLUMNS = ("section", "key", "label", "unit", "part_of", "method")


def programme_csv(report: ProgrammeReport) -> str:
    """One row a figure, a column a quarter (by its key, e.g. `2026-04`); an estimate's method in
    its own column, pounds as plain numbers (the unit column says so)."""
    rows: list[Sequence[str]] = [[*PROGRAMME_CSV_COLUMNS, *(q.key for q in report.quarters)]]
    for section in report.sections:
        for figure in section.figures:
            rows.append(
                [
                    section.key,
                    figure.key,
                    figure.label,
                    figure.unit,
                    figure.part_of or "",
                    figure.method or "",
                    *(cell_raw(cell, figure.unit) for cell in figure.values),
                ]
            )
    return _csv(rows)
