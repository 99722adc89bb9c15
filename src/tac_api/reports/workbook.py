"""A report as an XLSX workbook: the figures on one sheet (numbers as numbers, pounds formatted
as money), a table a section with an estimate's method noted under it; the key and the notes on
another sheet."""

import io
from datetime import UTC

from tac_api.reports.schemas import Cell, GovernorReport, ProgrammeReport, Unit
from tac_api.reports.wording import (
    Report,
    cell_text,
    depths,
    heading,
    key_lines,
    label_with_unit,
    programme_tables,
    shown_value,
)

Line = tuple[str, int, list[Cell], Unit]  # label, indent, cells, unit
Block = tuple[str | None, list[Line], list[str]]  # title, its lines, notes under them


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
    periods: int,
) -> bytes:
    """One "Report" sheet (the title, the first `periods` facts, then a heading per block, its
    rows (label, indent, cells, unit) and the notes under them) and a "Notes" sheet with the
    facts, the key and the notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    report_title, facts = heading(report)
    generated_at = report.generated_at

    bold = Font(bold=True)
    right = Alignment(horizontal="right")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Report"
    sheet.append([report_title])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=14)
    for name, value in facts[:periods]:
        sheet.append([f"{name}: {value}"])
    widest = len(header[0])
    for block_title, rows, block_notes in blocks:
        sheet.append([])
        if block_title is not None:
            sheet.append([block_title])
            sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=12)
        sheet.append(header)
        for column in range(1, len(header) + 1):
            sheet.cell(sheet.max_row, column).font = bold
            if column > 1:
                sheet.cell(sheet.max_row, column).alignment = right
        for label, indent, cells, unit in rows:
            sheet.append([label, *(_xlsx_value(cell) for cell in cells)])
            row = sheet.max_row
            sheet.cell(row, 1).alignment = Alignment(indent=2 * indent)
            widest = max(widest, len(label) + 2 * indent)
            for column, cell in enumerate(cells, start=2):
                target = sheet.cell(row, column)
                value = shown_value(cell)
                if value is None:
                    target.alignment = right  # a mark lines up with the numbers
                else:
                    target.number_format = _number_format(unit, value)
        for note in block_notes:
            sheet.append([note])
            sheet.cell(sheet.max_row, 1).font = Font(italic=True)
    sheet.column_dimensions["A"].width = min(widest + 4, 80)
    for column in range(2, len(header) + 1):
        letter = sheet.cell(1, column).column_letter
        sheet.column_dimensions[letter].width = max(16, len(header[column - 1]) + 4)

    notes_sheet = book.create_sheet("Notes")
    notes_sheet.append([report_title])
    notes_sheet.cell(1, 1).font = Font(bold=True, size=14)
    for name, value in facts:
        notes_sheet.append([name, value])
    notes_sheet.append([])
    notes_sheet.append(["Key"])
    notes_sheet.cell(notes_sheet.max_row, 1).font = bold
    for mark, meaning in key_lines(report):
        notes_sheet.append([mark, meaning])
    notes_sheet.append([])
    notes_sheet.append(["Notes"])
    notes_sheet.cell(notes_sheet.max_row, 1).font = bold
    for note in report.notes:
        notes_sheet.append(["", note])
    notes_sheet.column_dimensions["A"].width = 18
    notes_sheet.column_dimensions["B"].width = 110
    for row in notes_sheet.iter_rows(min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

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
    levels = depths(figure for section in report.sections for figure in section.figures)
    blocks: list[Block] = [
        (
            section.title,
            [
                (
                    label_with_unit(figure.label, figure.unit),
                    levels[figure.key],
                    [figure.current, figure.previous],
                    figure.unit,
                )
                for figure in section.figures
            ],
            [],
        )
        for section in report.sections
    ]
    return _workbook_bytes(report, ["Figure", "This period", "Previous period"], blocks, 2)


def programme_xlsx(report: ProgrammeReport) -> bytes:
    blocks: list[Block] = [
        (
            table.section.title,
            [(row.label, row.depth, row.figure.values, row.figure.unit) for row in table.rows],
            [f"[note {number}] {method}" for number, method in table.notes],
        )
        for table in programme_tables(report)
    ]
    header = ["Figure", *(q.label for q in report.quarters)]
    return _workbook_bytes(report, header, blocks, 1)
