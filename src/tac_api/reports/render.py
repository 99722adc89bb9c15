"""Reports as files: Markdown, CSV, XLSX and one self-contained HTML page.

Only the fields of the report models are written (an answer's other fields are dropped when it is
validated), so nothing about a person can reach a file. A suppressed cell is written `c` whatever
value it carries; a cell that cannot be worked out (a cost with no unit cost set) is `x`, not
available; any other cell with no value (a median of fewer than five) is `z`, not applicable: the
marks official statistics in England use.
"""

from enum import StrEnum

from tac_api.reports.csv_table import governor_csv, programme_csv
from tac_api.reports.html_page import governor_html, programme_html
from tac_api.reports.markdown import governor_markdown, programme_markdown
from tac_api.reports.schemas import GovernorReport
from tac_api.reports.wording import ChartProgress, Report
from tac_api.reports.workbook import governor_xlsx, programme_xlsx

__all__ = ["ChartProgress", "Report", "ReportFormat", "render"]


class ReportFormat(StrEnum):
    md = "md"
    csv = "csv"
    xlsx = "xlsx"
    html = "html"
    # Printed by the service from the HTML page (`Accept: application/pdf`), never here: the
    # machine tac-report runs on needs no PDF engine.
    pdf = "pdf"


def render(report: Report, fmt: ReportFormat, *, on_chart: ChartProgress | None = None) -> bytes:
    """The report as the bytes of a file in `fmt` (not `pdf`: the service prints that). `on_chart`
    hears of each chart drawn (HTML)."""
    if fmt is ReportFormat.pdf:
        raise ValueError("a report's PDF is printed by the service: ask it for application/pdf")
    if isinstance(report, GovernorReport):
        match fmt:
            case ReportFormat.md:
                return governor_markdown(report).encode()
            case ReportFormat.csv:
                return governor_csv(report).encode()
            case ReportFormat.xlsx:
                return governor_xlsx(report)
            case ReportFormat.html:
                return governor_html(report, on_chart).encode()
    match fmt:
        case ReportFormat.md:
            return programme_markdown(report).encode()
        case ReportFormat.csv:
            return programme_csv(report).encode()
        case ReportFormat.xlsx:
            return programme_xlsx(report)
        case ReportFormat.html:
            return programme_html(report, on_chart).encode()
