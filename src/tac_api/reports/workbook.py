"""A report as an XLSX workbook: the figures on one "Report" sheet (numbers as numbers, pounds
formatted as money) under one header row that stays in view (frozen, with the labels' column),
a section at a time: its title, its figures (parts indented under their totals, each breakdown
under a subheading) and an estimate's method noted under it; then the key on the same sheet. The
report's facts and notes are on a "Notes" sheet; the governor's trend (the last four quarters of
the headline figures) on a "Trend" sheet, its own header frozen the same way."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC

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
    shown_value,
    trend_rows,
)

WIDEST_LABEL = 90  # characters: a longer label wraps in its cell


@dataclass(frozen=True)
class Entry:
    """A row of the sheet: a figure's (cells and unit) or a subheading's (no cells)."""

    label: str
    depth: int
    cells: Sequence[Cell] = ()
    unit: Unit = "count"
    subheading: bool = False


@dataclass(frozen=True)
class Block:
    title: str
    entries: list[Entry]
    notes: list[str]  # in italics under its rows: a stock section's note, the methods
    header: Sequence[str] | None = None  # its own column headings (the trend's sheet)


def _xlsx_value(cell: Cell) -> float | int | str:
    """Numbers as numbers (a spreadsheet can add them up), marks as text."""
    value = shown_value(cell)
    return cell_text(cell) if value is None else value


def _number_format(unit: Unit, value: float | int) -> str:
    if unit == "pounds":
        return '"£"#,##0' if float(value).is_integer() else '"£"#,##0.00'
    return "#,##0" if unit == "count" else "#,##0.0#"


def _workbook_bytes(
    report: Report,
    header: list[str],
    blocks: list[Block],
    subtitle: str,
    trend: Block | None = None,
) -> bytes:
    """The "Report" sheet: its title and `subtitle`, the header row (frozen with the label
    column), then each block (a title row, its entries, its notes) and the key; the "Notes"
    sheet: the facts, the key and the notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    report_title, facts = heading(report)
    generated_at = report.generated_at
    columns = len(header)

    bold = Font(bold=True)
    right = Alignment(horizontal="right", vertical="top")
    wrap = Alignment(wrap_text=True, vertical="top")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Report"
    sheet.append([report_title])
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    sheet.append([subtitle])
    sheet.append(header)
    rule = Border(bottom=Side(style="medium"))
    for column in range(1, columns + 1):
        target = sheet.cell(3, column)
        target.font = bold
        target.border = rule
        target.alignment = right if column > 1 else wrap
    sheet.freeze_panes = "B4"  # the title, the periods and the header stay; so do the labels
    widest = len(header[0])
    for block in blocks:
        sheet.append([])
        sheet.append([block.title])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
        for note in block.notes[:1] if block.notes and block.notes[0] == STOCK_NOTE else []:
            sheet.append([note])
            sheet.cell(sheet.max_row, 1).font = Font(italic=True)
            sheet.cell(sheet.max_row, 1).alignment = wrap
        for entry in block.entries:
            sheet.append([entry.label, *(_xlsx_value(cell) for cell in entry.cells)])
            row = sheet.max_row
            label = sheet.cell(row, 1)
            label.alignment = Alignment(indent=2 * entry.depth, wrap_text=True, vertical="top")
            if entry.subheading:
                label.font = bold
            widest = max(widest, len(entry.label) + 2 * entry.depth)
            for column, cell in enumerate(entry.cells, start=2):
                target = sheet.cell(row, column)
                value = shown_value(cell)
                if value is None:
                    target.alignment = right  # a mark lines up with the numbers
                else:
                    target.number_format = _number_format(entry.unit, value)
        for note in block.notes:
            if note == STOCK_NOTE:
                continue
            sheet.append([note])
            sheet.cell(sheet.max_row, 1).font = Font(italic=True)
            sheet.cell(sheet.max_row, 1).alignment = wrap
    sheet.append([])
    sheet.append(["Key"])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
    for mark, meaning in key_lines(report):
        sheet.append([f"{mark}: {meaning}"])
        sheet.cell(sheet.max_row, 1).alignment = wrap
    sheet.column_dimensions["A"].width = min(widest + 4, WIDEST_LABEL)
    for column in range(2, columns + 1):
        letter = sheet.cell(3, column).column_letter
        sheet.column_dimensions[letter].width = max(16, len(header[column - 1]) + 4)
    sheet.print_title_rows = "3:3"  # printed, the header heads every page
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

    if trend is not None and trend.header is not None:
        trend_sheet = book.create_sheet("Trend")
        trend_sheet.append([trend.title])
        trend_sheet.cell(1, 1).font = Font(bold=True, size=14)
        trend_sheet.append(list(trend.header))
        for column in range(1, len(trend.header) + 1):
            target = trend_sheet.cell(2, column)
            target.font = bold
            target.border = rule
            target.alignment = right if column > 1 else wrap
        trend_sheet.freeze_panes = "B3"
        for entry in trend.entries:
            trend_sheet.append([entry.label, *(_xlsx_value(cell) for cell in entry.cells)])
            for column, cell in enumerate(entry.cells, start=2):
                target = trend_sheet.cell(trend_sheet.max_row, column)
                value = shown_value(cell)
                if value is None:
                    target.alignment = right
                else:
                    target.number_format = _number_format(entry.unit, value)
        for note in trend.notes:
            trend_sheet.append([note])
            trend_sheet.cell(trend_sheet.max_row, 1).font = Font(italic=True)
        trend_sheet.column_dimensions["A"].width = min(
            max(len(entry.label) for entry in trend.entries) + 4, WIDEST_LABEL
        )
        for column in range(2, len(trend.header) + 1):
            letter = trend_sheet.cell(2, column).column_letter
            trend_sheet.column_dimensions[letter].width = max(16, len(trend.header[column - 1]) + 4)

    notes_sheet = book.create_sheet("Notes")
    notes_sheet.append([report_title])
    notes_sheet.cell(1, 1).font = Font(bold=True, size=14)
    for name, value in facts:
        notes_sheet.append([name, value])
    notes_sheet.append([])
    notes_sheet.append(["Notes"])
    notes_sheet.cell(notes_sheet.max_row, 1).font = bold
    for note in report.notes:
        notes_sheet.append(["", note])
    notes_sheet.column_dimensions["A"].width = 18
    notes_sheet.column_dimensions["B"].width = 110
    for row in notes_sheet.iter_rows(min_col=2, max_col=2):
        row[0].alignment = wrap

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
    columns = period_columns(report)
    blocks: list[Block] = []
    quarters = report.trend.quarters
    rows = trend_rows(report)
    trend = None
    if quarters and rows:
        # Its own sheet: four quarters, where the report's columns are this quarter and the last.
        trend = Block(
            "The last four quarters" if len(quarters) == 4 else "Quarter by quarter",
            [Entry(row.label, 0, row.cells) for row in rows],
            ["The key is on the Report sheet, under its table."],
            ["Headline figure", *(quarter.label for quarter in quarters)],
        )
    for table in governor_tables(report):
        entries = [
            Entry(row.label, row.depth, subheading=True)
            if row.figure is None
            else Entry(
                row.label, row.depth, [row.figure.current, row.figure.previous], row.figure.unit
            )
            for row in table.rows
        ]
        blocks.append(Block(table.section.title, entries, [STOCK_NOTE] if table.stock else []))
    subtitle = f"{columns[0]}, beside {columns[1]}. The key is under the table."
    return _workbook_bytes(report, ["Figure", *columns], blocks, subtitle, trend)


def programme_xlsx(report: ProgrammeReport) -> bytes:
    blocks: list[Block] = []
    for table in programme_tables(report):
        entries = [
            Entry(row.label, row.depth, subheading=True)
            if row.figure is None
            else Entry(row.label, row.depth, row.figure.values, row.figure.unit)
            for row in table.rows
        ]
        notes = [STOCK_NOTE] if table.stock else []
        notes += [f"[note {number}] {method}" for number, method in table.notes]
        blocks.append(Block(table.section.title, entries, notes))
    header = ["Figure", *(q.label for q in report.quarters)]
    quarters = report.quarters
    span = f"{quarters[0].label} to {quarters[-1].label}" if quarters else "No quarters"
    return _workbook_bytes(report, header, blocks, f"{span}. The key is under the table.")
