"""tac-report run as a governor's office would, against a fake API served over real HTTP.

The fake answers with reports built from the report models, plus fields about a person that a
report must never carry: none of them may reach any file.
"""

import csv
import io
import json
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner, Result

from tac_api.reports import cli
from tac_api.reports.cli import app
from tac_api.reports.render import ReportFormat, render
from tac_api.reports.schemas import (
    Cell,
    Figure,
    GovernorReport,
    Period,
    Perturbation,
    ProgrammeCell,
    ProgrammeFigure,
    ProgrammeReport,
    ProgrammeSection,
    Quarter,
    Section,
    Suppression,
    Trend,
    TrendFigure,
)
from tests.support.browser import chromium
from tests.support.html import Rows

runner = CliRunner()
TOKEN = "tac_test-token"
REPORT_ID = uuid.UUID("0b7e3c52-5f55-4c43-9d6e-2f1f0b6c9a10")
PERSON_ID = "6f1c2a4e-93b1-4c55-8a57-31b7d1f0e2aa"
# Fields and values about a person, slipped into the fake's answers.
PERSON_FIELDS = ("first_name", "last_name", "prison_number", "date_of_birth")
PERSON_VALUES = ("Jane", "Doughty", "A1234BC", "1990-02-03", PERSON_ID)
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
LEGEND = "Counts from 1 to 5 are suppressed, and cells from which one could be worked out."
NOTE = "A woman is active if her case was open on any day of the period."
SECRET = 4  # a value a suppressed cell carries, which no file may show


def c(value: float | None, suppressed: bool = False) -> Cell:
    return Cell(value=value, suppressed=suppressed)


def figure(
    key: str,
    label: str,
    current: Cell,
    previous: Cell,
    unit: str = "count",
    part_of: str = "",
    stock: bool = False,
) -> Figure:
    return Figure(
        key=key,
        label=label,
        unit=unit,  # type: ignore[arg-type]
        part_of=part_of or None,
        stock=stock,
        current=current,
        previous=previous,
    )


SUPPRESSED = c(None, suppressed=True)
SECONDARY = c(SECRET, suppressed=True)  # hidden, yet carrying a value: it is not shown
PERTURBATION = Perturbation(
    applied=True,
    unperturbed_share=0.5,
    legend="Every count is perturbed: a small random amount is added to it.",
)


def quarter(start: date, end: date) -> Quarter:
    return Quarter(
        key=f"{start:%Y-%m}",
        label=f"{start:%b} to {end:%b %Y}",
        period=Period(**{"from": start}, to=end),
    )


# The governor's trend: four quarters to the report's own, its last two the report's columns.
TREND = Trend(
    quarters=[
        quarter(date(2025, 7, 1), date(2025, 9, 30)),
        quarter(date(2025, 10, 1), date(2025, 12, 31)),
        quarter(date(2026, 1, 1), date(2026, 3, 31)),
        quarter(date(2026, 4, 1), date(2026, 6, 30)),
    ],
    figures=[
        TrendFigure(
            key="women.active",
            label="Women worked with",
            stock=True,
            values=[c(901), SUPPRESSED, c(987), c(1234)],
        ),
        TrendFigure(key="hearings.held", label="Hearings held", values=[c(0), c(35), c(39), c(44)]),
    ],
)

GOVERNOR = GovernorReport(
    report_id=REPORT_ID,
    prison_code="EWI",
    prison_name="HMP Eastwood Park",
    period=Period(**{"from": date(2026, 4, 1)}, to=date(2026, 6, 30)),
    previous_period=Period(**{"from": date(2026, 1, 1)}, to=date(2026, 3, 31)),
    generated_at=datetime(2026, 7, 1, 9, 30, tzinfo=UTC),
    suppression=Suppression(threshold=5, legend=LEGEND),
    perturbation=PERTURBATION,
    notes=[NOTE],
    trend=TREND,
    sections=[
        Section(
            key="women",
            title="Women",
            figures=[
                figure("women.active", "Women worked with", c(1234), c(987), stock=True),
                figure("women.new", "Women new to the service", SUPPRESSED, c(17)),
                figure("women.closed", "Cases closed", c(23), SECONDARY),
            ],
        ),
        Section(
            key="children",
            title="Children",
            figures=[
                figure("children.linked", "Children linked", c(61), c(58), stock=True),
                figure(
                    "children.by_legal_status.C2",
                    "Care order (C2)",
                    SUPPRESSED,
                    c(31),
                    part_of="children.linked",
                    stock=True,
                ),
                figure(
                    "children.by_legal_status.V2",
                    "Accommodated (V2)",
                    SECONDARY,
                    c(27),
                    part_of="children.linked",
                    stock=True,
                ),
                figure(
                    "children.by_legal_status.none",
                    "No legal status",
                    c(52),
                    SUPPRESSED,
                    part_of="children.linked",
                    stock=True,
                ),
            ],
        ),
        Section(
            key="hearings",
            title="Court hearings",
            figures=[
                figure("hearings.held", "Hearings held", c(44), c(39)),
                figure(
                    "hearings.attended_by_mode.prison_video_link",
                    "Attended by prison video link",
                    c(29),
                    c(21),
                    part_of="hearings.held",
                ),
                figure(
                    "hearings.attended_by_mode.in_person",
                    "Attended in person",
                    c(11),
                    c(13),
                    part_of="hearings.held",
                ),
                figure(
                    "hearings.median_notice_days",
                    "Median notice of a hearing",
                    c(3.5),
                    c(None),
                    unit="days",
                ),
            ],
        ),
        Section(
            key="evidence",
            title="Evidence of progress",
            figures=[
                figure("evidence.hours", "Hours of evidence", c(1250.5), c(980.0), unit="hours"),
                figure(
                    "evidence.hours_by_category.course",
                    "Courses",
                    c(1000.25),
                    c(600),
                    unit="hours",
                    part_of="evidence.hours",
                ),
                figure(
                    "evidence.hours_by_category.work",
                    "Work",
                    c(250.25),
                    c(380),
                    unit="hours",
                    part_of="evidence.hours",
                ),
            ],
        ),
    ],
)
BREAKDOWNS = 3  # children by legal status, hearings attended by mode, evidence hours by category

# Each figure as every format must show it: label, then this period and the previous as a reader
# sees them (md, html), as a program reads them (csv) and as a spreadsheet holds them (xlsx).
EXPECTED: dict[str, tuple[str, tuple[str, str], tuple[str, str], tuple[Any, Any]]] = {
    "women.active": ("Women worked with", ("1,234", "987"), ("1234", "987"), (1234, 987)),
    "women.new": ("Women new to the service", ("c", "17"), ("c", "17"), ("c", 17)),
    "women.closed": ("Cases closed", ("23", "c"), ("23", "c"), (23, "c")),
    "children.linked": ("Children linked", ("61", "58"), ("61", "58"), (61, 58)),
    "children.by_legal_status.C2": ("Care order (C2)", ("c", "31"), ("c", "31"), ("c", 31)),
    "children.by_legal_status.V2": ("Accommodated (V2)", ("c", "27"), ("c", "27"), ("c", 27)),
    "children.by_legal_status.none": ("No legal status", ("52", "c"), ("52", "c"), (52, "c")),
    "hearings.held": ("Hearings held", ("44", "39"), ("44", "39"), (44, 39)),
    "hearings.attended_by_mode.prison_video_link": (
        "Attended by prison video link",
        ("29", "21"),
        ("29", "21"),
        (29, 21),
    ),
    "hearings.attended_by_mode.in_person": (
        "Attended in person",
        ("11", "13"),
        ("11", "13"),
        (11, 13),
    ),
    "hearings.median_notice_days": (
        "Median notice of a hearing (days)",
        ("3.5", "z"),
        ("3.5", "z"),
        (3.5, "z"),
    ),
    "evidence.hours": ("Hours of evidence", ("1,250.5", "980"), ("1250.5", "980"), (1250.5, 980)),
    "evidence.hours_by_category.course": (
        "Courses (hours)",
        ("1,000.25", "600"),
        ("1000.25", "600"),
        (1000.25, 600),
    ),
    "evidence.hours_by_category.work": (
        "Work (hours)",
        ("250.25", "380"),
        ("250.25", "380"),
        (250.25, 380),
    ),
}
PARTS = {key for key in EXPECTED if key.count(".") == 2}

QUARTERS = [
    Quarter(
        key=f"2025-{month:02d}",
        label=label,
        period=Period(**{"from": date(2025, month, 1)}, to=end),
    )
    for month, label, end in (
        (4, "Apr-Jun 2025", date(2025, 6, 30)),
        (7, "Jul-Sep 2025", date(2025, 9, 30)),
        (10, "Oct-Dec 2025", date(2025, 12, 31)),
    )
]


def q(value: float | None, suppressed: bool = False, available: bool = True) -> ProgrammeCell:
    return ProgrammeCell(value=value, suppressed=suppressed, available=available)


NOT_AVAILABLE = q(None, available=False)
METHOD = (
    "Each baby kept at the unit cost in force on her birthday: £12,500 from 1 Apr 2025 (PSSRU)."
)
TOTAL_METHOD = "The sum of the costs avoided by each outcome below."


def programme_figure(
    key: str, label: str, values: list[ProgrammeCell], unit: str = "count", **more: str
) -> ProgrammeFigure:
    return ProgrammeFigure(key=key, label=label, unit=unit, values=values, **more)  # type: ignore[arg-type]


PROGRAMME = ProgrammeReport(
    report_id=REPORT_ID,
    prison_codes=["EWI", "SDI"],
    quarters=QUARTERS,
    generated_at=datetime(2026, 4, 2, 8, 0, tzinfo=UTC),
    suppression=Suppression(threshold=5, legend=LEGEND),
    perturbation=PERTURBATION,
    notes=[NOTE],
    sections=[
        ProgrammeSection(
            key="work",
            title="The work with women",
            figures=[
                programme_figure(
                    "women.active",
                    "Women worked with",
                    [q(140), q(1512), q(None, True)],
                    stock=True,  # type: ignore[arg-type]
                ),
                programme_figure(
                    "hearings.median_notice_days",
                    "Median notice of a hearing",
                    [q(4.5), q(None), q(SECRET, True)],
                    unit="days",
                ),
            ],
        ),
        ProgrammeSection(
            key="referrals",
            title="Referrals",
            figures=[
                programme_figure("referrals.received", "Referrals received", [q(40), q(0), q(31)]),
                programme_figure(
                    "referrals.by_source.self",
                    "Herself",
                    [q(22), q(0), q(None, True)],
                    part_of="referrals.received",
                    breakdown="referrals.by_source",
                ),
                programme_figure(
                    "referrals.by_source.court",
                    "A court",
                    [q(18), q(0), q(SECRET, True)],
                    part_of="referrals.received",
                    breakdown="referrals.by_source",
                ),
                programme_figure(
                    "referrals.by_source.court.family",
                    "The family court",
                    [q(9), q(0), q(None, True)],
                    part_of="referrals.by_source.court",
                    breakdown="referrals.by_source.court",
                ),
            ],
        ),
        ProgrammeSection(
            key="costs_avoided",
            title="Costs avoided (estimated)",
            figures=[
                programme_figure(
                    "costs_avoided.outcomes.baby_kept", "Babies kept", [q(6), q(None, True), q(0)]
                ),
                programme_figure(
                    "costs_avoided.total",
                    "Costs avoided",
                    [q(75000), q(None, True), NOT_AVAILABLE],
                    unit="pounds",
                    method=TOTAL_METHOD,
                ),
                programme_figure(
                    "costs_avoided.by_outcome.baby_kept",
                    "Babies kept",
                    [q(75000), q(None, True), NOT_AVAILABLE],
                    unit="pounds",
                    part_of="costs_avoided.total",
                    breakdown="costs_avoided.by_outcome",
                    method=METHOD,
                ),
                programme_figure(
                    "costs_avoided.by_outcome.pence",
                    "Pence",
                    [q(1234.5), q(0), NOT_AVAILABLE],
                    unit="pounds",
                    part_of="costs_avoided.total",
                    breakdown="costs_avoided.by_outcome",
                    method=METHOD,
                ),
            ],
        ),
    ],
)
# key: section, label as shown (unit, note), depth, cells as a reader sees them, as CSV has them,
# and as a spreadsheet holds them.
PROGRAMME_EXPECTED: dict[str, tuple[str, str, int, list[str], list[str], list[Any]]] = {
    "women.active": (
        "work",
        "Women worked with",
        0,
        ["140", "1,512", "c"],
        ["140", "1512", "c"],
        [140, 1512, "c"],
    ),
    "hearings.median_notice_days": (
        "work",
        "Median notice of a hearing (days)",
        0,
        ["4.5", "z", "c"],
        ["4.5", "z", "c"],
        [4.5, "z", "c"],
    ),
    "referrals.received": (
        "referrals",
        "Referrals received",
        0,
        ["40", "0", "31"],
        ["40", "0", "31"],
        [40, 0, 31],
    ),
    "referrals.by_source.self": (
        "referrals",
        "Herself",
        1,
        ["22", "0", "c"],
        ["22", "0", "c"],
        [22, 0, "c"],
    ),
    "referrals.by_source.court": (
        "referrals",
        "A court",
        1,
        ["18", "0", "c"],
        ["18", "0", "c"],
        [18, 0, "c"],
    ),
    "referrals.by_source.court.family": (
        "referrals",
        "The family court",
        2,
        ["9", "0", "c"],
        ["9", "0", "c"],
        [9, 0, "c"],
    ),
    "costs_avoided.outcomes.baby_kept": (
        "costs_avoided",
        "Babies kept",
        0,
        ["6", "c", "0"],
        ["6", "c", "0"],
        [6, "c", 0],
    ),
    "costs_avoided.total": (
        "costs_avoided",
        "Costs avoided [note 1]",
        0,
        ["£75,000", "c", "x"],
        ["75000", "c", "x"],
        [75000, "c", "x"],
    ),
    "costs_avoided.by_outcome.baby_kept": (
        "costs_avoided",
        "Babies kept [note 2]",
        1,
        ["£75,000", "c", "x"],
        ["75000", "c", "x"],
        [75000, "c", "x"],
    ),
    "costs_avoided.by_outcome.pence": (
        "costs_avoided",
        "Pence [note 2]",
        1,
        ["£1,234.50", "£0", "x"],
        ["1234.50", "0", "x"],
        [1234.5, 0, "x"],
    ),
}
TOP_LEVEL = {"work": 2, "referrals": 1, "costs_avoided": 2}  # a chart a section: its panels


def with_person_fields(report: GovernorReport | ProgrammeReport) -> bytes:
    """The report's JSON with fields about a person added, as a careless service might."""
    body = json.loads(report.model_dump_json(by_alias=True))
    person = dict(zip(PERSON_FIELDS, PERSON_VALUES, strict=False)) | {"id": PERSON_ID}
    body["mothers"] = [person]
    first = body["sections"][0]["figures"][0] if "sections" in body else body["figures"][0]
    first |= person
    return json.dumps(body).encode()


# The fake API -------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeApi:
    url: str
    answers: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, list[str]], str | None]] = field(default_factory=list)

    def answer(self, path: str, *answers: Answer) -> None:
        """Answers in turn; the last one again and again."""
        self.answers[path] = list(answers)


def problem(status: int, title: str, detail: str, **more: Any) -> Answer:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **more}
    headers = {"Content-Type": "application/problem+json", "X-Request-ID": "req-123"}
    return Answer(status, json.dumps(body).encode(), headers)


def report_answer(report: GovernorReport | ProgrammeReport) -> Answer:
    return Answer(200, with_person_fields(report), {"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def server() -> Iterator[FakeApi]:
    api = FakeApi(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            api.requests.append(
                (parts.path, parse_qs(parts.query), self.headers.get("Authorization"))
            )
            queue = api.answers.get(parts.path) or [problem(404, "Not Found", "No such path.")]
            answer = queue.pop(0) if len(queue) > 1 else queue[0]
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield api
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def api(server: FakeApi, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    server.answers.clear()
    server.requests.clear()
    server.answer("/v1/reports/governor", report_answer(GOVERNOR))
    server.answer("/v1/reports/programme", report_answer(PROGRAMME))
    monkeypatch.setenv("TAC_API_URL", server.url)
    monkeypatch.setenv("TAC_API_TOKEN", TOKEN)
    return server


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between attempts, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr(cli, "_sleep", waited.append)
    return waited


def governor(*more: str) -> Result:
    arguments = ["governor", "--prison", "ewi", "--from", "2026-04-01", "--to", "2026-06-30"]
    return runner.invoke(app, [*arguments, *more])


def written(result: Result, path: Path) -> bytes:
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def assert_nothing_about_a_person(text: str) -> None:
    for word in (*PERSON_FIELDS, *PERSON_VALUES):
        assert word not in text
    assert set(UUID_PATTERN.findall(text)) <= {str(REPORT_ID)}


# The formats --------------------------------------------------------------------------------


def test_the_request_carries_the_token_prison_and_period(api: FakeApi, tmp_path: Path) -> None:
    written(governor("--format", "md", "--out", str(tmp_path / "r.md")), tmp_path / "r.md")
    [(path, query, authorization)] = api.requests
    assert path == "/v1/reports/governor"
    assert query == {"prison_code": ["EWI"], "from": ["2026-04-01"], "to": ["2026-06-30"]}
    assert authorization == f"Bearer {TOKEN}"


def test_a_governor_need_not_name_her_prison(api: FakeApi, tmp_path: Path) -> None:
    arguments = ["governor", "--from", "2026-04-01", "--to", "2026-06-30", "-o", "-", "-f", "md"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    [(_, query, _)] = api.requests
    assert query == {"from": ["2026-04-01"], "to": ["2026-06-30"]}  # the API takes hers


def md_rows(text: str) -> dict[str, list[str]]:
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| Figure"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_markdown(api: FakeApi, tmp_path: Path) -> None:
    text = written(governor("-o", str(tmp_path / "r.md")), tmp_path / "r.md").decode()
    assert text.startswith("# Governor's report: HMP Eastwood Park (EWI)")
    assert "1 Apr 2026 to 30 Jun 2026" in text and "1 Jan 2026 to 31 Mar 2026" in text
    assert "2026-07-01 09:30 UTC" in text
    rows = md_rows(text)
    assert len(rows) == len(EXPECTED)
    for key, (label, shown, _, _) in EXPECTED.items():
        indent = "&emsp;" if key in PARTS else ""
        assert rows[indent + label] == list(shown), key
    assert "## Court hearings" in text
    assert "- `c`: suppressed: a count from 1 to 5" in text and "- `z`: not applicable" in text
    assert LEGEND in text and NOTE in text
    assert_nothing_about_a_person(text)


def test_markdown_to_stdout_keeps_progress_on_stderr(api: FakeApi) -> None:
    result = governor("--format", "md", "--out", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Governor's report")
    assert "fetching" not in result.stdout and "fetching the governor report" in result.stderr


def test_csv(api: FakeApi, tmp_path: Path) -> None:
    text = written(governor("-f", "csv", "-o", str(tmp_path / "r.csv")), tmp_path / "r.csv")
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert [row["key"] for row in rows] == list(EXPECTED)
    for row in rows:
        label, _, (current, previous), _ = EXPECTED[row["key"]]
        assert (row["current"], row["previous"]) == (current, previous), row["key"]
        assert label.startswith(row["label"])
        assert row["prison_code"] == "EWI"
        assert (row["period_from"], row["period_to"]) == ("2026-04-01", "2026-06-30")
        assert (row["previous_period_from"], row["previous_period_to"]) == (
            "2026-01-01",
            "2026-03-31",
        )
        assert row["part_of"] == ("" if row["key"] not in PARTS else row["part_of"])
    by_key = {row["key"]: row for row in rows}
    assert by_key["children.by_legal_status.C2"]["part_of"] == "children.linked"
    assert by_key["children.by_legal_status.C2"]["section"] == "children"
    assert by_key["evidence.hours"]["unit"] == "hours"
    assert_nothing_about_a_person(text.decode())


def test_xlsx(api: FakeApi, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    written(governor("-o", str(path)), path)
    book = load_workbook(path)
    assert book.sheetnames == ["Report", "Notes"]
    sheet = book["Report"]
    rows = {row[0]: row[1:3] for row in sheet.iter_rows(values_only=True) if row[0]}
    for key, (label, _, _, values) in EXPECTED.items():
        assert rows[label] == values, key
    assert sheet["A1"].value == "Governor's report: HMP Eastwood Park (EWI)"
    assert sheet["A1"].font.bold
    header = next(row for row in sheet.iter_rows() if row[0].value == "Figure")
    assert all(cell.font.bold for cell in header)
    assert sheet.column_dimensions["A"].width > 20
    notes = [
        " ".join(str(v) for v in row if v) for row in book["Notes"].iter_rows(values_only=True)
    ]
    assert any(line.startswith("c suppressed: a count from 1 to 5") for line in notes)
    assert any(line.startswith("z not applicable") for line in notes)
    assert any(LEGEND in line for line in notes) and any(NOTE in line for line in notes)
    assert "This period 1 Apr 2026 to 30 Jun 2026" in notes
    assert book.properties.creator == "tac-api" and not book.properties.lastModifiedBy
    everything = [str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row]
    props = [str(getattr(book.properties, name)) for name in ("creator", "title", "subject")]
    assert_nothing_about_a_person("\n".join(everything + props))


def test_html(api: FakeApi, tmp_path: Path) -> None:
    text = written(governor("-o", str(tmp_path / "r.html")), tmp_path / "r.html").decode()
    parsed = Rows()
    parsed.feed(text)
    assert len(parsed.rows) == len(EXPECTED)
    for key, (label, shown, _, _) in EXPECTED.items():
        assert parsed.rows[key] == [label, *shown], key
    assert parsed.svgs == BREAKDOWNS
    assert text.count('<figure class="chart">') == BREAKDOWNS
    assert "Children linked: by legal status" in text
    assert ">c</text>" in text  # a suppressed part is drawn as its mark, not a bar
    assert "suppressed: a count from 1 to 5" in text and "not applicable" in text
    assert LEGEND in text and NOTE in text
    # One file that loads nothing: no scripts, links or addresses outside the page.
    assert "<script" not in text and "<link" not in text and "<img" not in text
    assert not re.search(r"""(?:href|src)\s*=\s*["']?(?:https?:|//)""", text)
    assert not re.search(r"url\((?!#)", text) and "@import" not in text  # url(#clip) is inside
    assert_nothing_about_a_person(text)


def test_html_escapes_what_the_service_says() -> None:
    section = GOVERNOR.sections[0].model_copy(update={"title": "<b>Women</b> & <i>girls</i>"})
    report = GOVERNOR.model_copy(update={"sections": [section]})
    text = render(report, ReportFormat.html).decode()
    assert "&lt;b&gt;Women&lt;/b&gt; &amp; &lt;i&gt;girls&lt;/i&gt;" in text
    assert "<b>Women" not in text


def test_html_is_the_same_for_the_same_report() -> None:
    assert render(GOVERNOR, ReportFormat.html) == render(GOVERNOR, ReportFormat.html)


def programme_md_rows(text: str) -> list[tuple[str, str, list[str]]]:
    """(section heading, label with its indent, cells) of each table row, in order."""
    found, heading = [], ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:]
        elif line.startswith("| ") and not line.startswith("| Figure"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            found.append((heading, cells[0], cells[1:]))
    return found


def md_label(label: str, depth: int) -> str:
    return "&emsp;" * depth + label.replace("[", "\\[").replace("]", "\\]")


@pytest.mark.parametrize("fmt", ["md", "csv", "xlsx", "html"])
def test_programme(api: FakeApi, tmp_path: Path, fmt: str) -> None:
    """Every section and figure, section by section: parts under their totals, pounds as money,
    the method of an estimate noted beside it, and the marks c, z and x."""
    path = tmp_path / f"p.{fmt}"
    result = runner.invoke(app, ["programme", "--from", "2025-04-01", "--out", str(path)])
    data = written(result, path)
    assert api.requests[0][:2] == ("/v1/reports/programme", {"from": ["2025-04-01"]})
    labels = [quarter.label for quarter in QUARTERS]
    titles = {section.key: section.title for section in PROGRAMME.sections}
    if fmt == "xlsx":
        book = load_workbook(path)
        sheet = book["Report"]
        lines = [row for row in sheet.iter_rows() if row[0].value]
        text = "\n".join(
            str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row
        )
        table = [[cell.value for cell in row] for row in lines]
        wanted = iter(PROGRAMME_EXPECTED.items())
        heading = ""
        for row, cells in zip(table, lines, strict=True):
            if row[0] in titles.values():
                heading = row[0]
            elif row[0] != "Figure" and not str(row[0]).startswith(
                ("[note", "Programme", "Quarters")
            ):
                key, (section, label, depth, _, _, held) = next(wanted)
                assert (heading, row[0], row[1:]) == (titles[section], label, held), key
                assert cells[0].alignment.indent == 2 * depth, key
                if key.startswith("costs_avoided.by_outcome.pence"):
                    assert cells[1].number_format == '"£"#,##0.00'
                if key == "costs_avoided.total":
                    assert cells[1].number_format == '"£"#,##0'
            elif row[0] == "Figure":
                assert row[1:] == labels
        assert next(wanted, None) is None
        assert f"[note 1] {TOTAL_METHOD}" in text and f"[note 2] {METHOD}" in text
        assert "not available: it cannot be worked out from what is recorded" in text
    else:
        text = data.decode()
    if fmt == "md":
        rows = programme_md_rows(text)
        assert [(h, label, cells) for h, label, cells in rows] == [
            (titles[section], md_label(label, depth), shown)
            for section, label, depth, shown, _, _ in PROGRAMME_EXPECTED.values()
        ]
        assert text.count("| Figure | " + " | ".join(labels) + " |") == len(PROGRAMME.sections)
        assert f"- \\[note 1\\] {TOTAL_METHOD}" in text and f"- \\[note 2\\] {METHOD}" in text
        assert "- `x`: not available" in text
    if fmt == "csv":
        table = list(csv.DictReader(io.StringIO(text)))
        assert next(csv.reader(io.StringIO(text))) == [
            "section",
            "key",
            "label",
            "unit",
            "part_of",
            "method",
            *(q.key for q in QUARTERS),
        ]
        figures = {f.key: f for s in PROGRAMME.sections for f in s.figures}
        assert [row["key"] for row in table] == list(PROGRAMME_EXPECTED)
        for row in table:
            section, _, _, _, raw, _ = PROGRAMME_EXPECTED[row["key"]]
            figure = figures[row["key"]]
            assert row["section"] == section and row["label"] == figure.label
            assert row["unit"] == figure.unit and row["part_of"] == (figure.part_of or "")
            assert row["method"] == (figure.method or "")
            assert [row[q.key] for q in QUARTERS] == raw, row["key"]
    if fmt == "html":
        parsed = Rows()
        parsed.feed(text)
        assert list(parsed.rows) == list(PROGRAMME_EXPECTED)
        for key, (section, label, depth, shown, _, _) in PROGRAMME_EXPECTED.items():
            assert parsed.rows[key] == [label, *shown], key
            row = re.search(rf'<tr class="level-(\d)" data-key="{re.escape(key)}">', text)
            assert row is not None and int(row[1]) == depth, key
            assert text.index(f'<section id="{section}">') < text.index(f'data-key="{key}"')
        assert parsed.svgs == len(TOP_LEVEL)  # a chart a section, not one a figure
        assert '<li id="note-2"><strong>[note 2]</strong> ' in text and 'href="#note-1"' in text
        # The panels of a section's chart: its top-level figures, their cells at the bars.
        assert ">£75,000</text>" in text and ">x</text>" in text
        assert "<dt>x</dt><dd>not available" in text
    if fmt != "csv":
        assert LEGEND in text and NOTE in text
        for section in PROGRAMME.sections:
            assert section.title in text
    assert_nothing_about_a_person(text)


def test_programme_charts_stay_few_however_many_figures() -> None:
    """Ten top-level figures in one section: two charts (of at most eight panels), not ten, and
    the progress told of each."""
    many = [
        programme_figure(f"many.figure_{n}", f"Figure {n}", [q(n), q(n + 1), q(None)])
        for n in range(10)
    ]
    report = PROGRAMME.model_copy(
        update={"sections": [ProgrammeSection(key="many", title="Many", figures=many)]}
    )
    heard: list[tuple[int, int]] = []
    text = render(report, ReportFormat.html, on_chart=lambda *seen: heard.append(seen)).decode()
    parsed = Rows()
    parsed.feed(text)
    assert parsed.svgs == 2 and len(parsed.rows) == 10
    assert heard == [(0, 2), (1, 2), (2, 2)]


def test_format_from_the_file_name_or_said(api: FakeApi, tmp_path: Path) -> None:
    result = governor("--out", str(tmp_path / "report.txt"))
    assert result.exit_code == 2 and "say --format" in result.stderr
    result = governor("--format", "xlsx", "--out", "-")
    assert result.exit_code == 2 and "XLSX is not text" in result.stderr
    assert api.requests == []


# Failures: one clear line, an exit code, never a traceback ----------------------------------


def failed(result: Result, code: int, *phrases: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("tac-report: error")]
    assert len(lines) == 1, result.stderr
    for phrase in phrases:
        assert phrase in lines[0]


@pytest.mark.parametrize(
    ("answer", "code", "phrases"),
    [
        (
            problem(401, "Unauthorized", "The token has expired."),
            3,
            ["the token was refused (401): The token has expired.", "req-123"],
        ),
        (
            problem(403, "Forbidden", "Governors may read only their own prison's report."),
            3,
            ["may not read this report (403): Governors may read only"],
        ),
        (
            problem(404, "Not Found", "No prison EWI among yours."),
            1,
            ["not found (404): No prison EWI among yours."],
        ),
        (
            problem(
                422,
                "Unprocessable Content",
                "2 fields are invalid.",
                errors=[
                    {"location": "query", "field": "from", "message": "must be on or before to"},
                    {"location": "query", "field": "to", "message": "must not be in the future"},
                ],
            ),
            2,
            ["(422): from: must be on or before to; to: must not be in the future"],
        ),
        (
            problem(500, "Internal Server Error", "Something failed; the request id says where."),
            1,
            ["the API failed (500 Internal Server Error)"],
        ),
        (Answer(502, b"<html>Bad gateway</html>"), 1, ["the API failed (502 Bad Gateway)"]),
        (
            Answer(200, b"<html>a login page</html>", {"Content-Type": "text/html"}),
            1,
            ["not a valid report", "Invalid JSON"],
        ),
        (
            Answer(200, json.dumps({"kind": "governor", "first_name": "Jane"}).encode()),
            1,
            ["not a valid report (governor.report_id: Field required"],
        ),
        (report_answer(PROGRAMME), 1, ["a programme report, not a governor report"]),
    ],
)
def test_refusals_and_wrong_answers(
    api: FakeApi, tmp_path: Path, sleeps: list[float], answer: Answer, code: int, phrases: list[str]
) -> None:
    api.answer("/v1/reports/governor", answer)
    result = governor("-o", str(tmp_path / "r.md"))
    failed(result, code, *phrases)
    assert "Jane" not in result.output
    assert not (tmp_path / "r.md").exists()


def test_connection_refused_names_the_url(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch, sleeps: list[float], tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = governor("--api-url", url, "-o", str(tmp_path / "r.md"))
    failed(result, 1, f"cannot reach the API at {url}", "ConnectError")
    assert len(sleeps) == cli.RETRIES


def test_without_a_token(api: FakeApi, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TAC_API_TOKEN")
    failed(governor("-o", str(tmp_path / "r.md")), 2, "TAC_API_TOKEN is not set")
    assert api.requests == []


def test_retry_after_is_honoured(api: FakeApi, sleeps: list[float], tmp_path: Path) -> None:
    busy = problem(429, "Too Many Requests", "600 requests a minute.")
    busy.headers["Retry-After"] = "1"
    api.answer("/v1/reports/governor", busy, report_answer(GOVERNOR))
    written(governor("-o", str(tmp_path / "r.csv")), tmp_path / "r.csv")
    assert sleeps == [1.0]
    assert len(api.requests) == 2


def test_still_too_many_requests_gives_up(
    api: FakeApi, sleeps: list[float], tmp_path: Path
) -> None:
    busy = problem(429, "Too Many Requests", "600 requests a minute.")
    busy.headers["Retry-After"] = "0"
    api.answer("/v1/reports/governor", busy)
    failed(governor("-o", str(tmp_path / "r.csv")), 1, "too many requests (429)")
    assert len(api.requests) == cli.RETRIES + 1


def test_a_file_that_cannot_be_written(api: FakeApi, tmp_path: Path) -> None:
    target = tmp_path / "no such folder" / "r.md"
    failed(governor("-o", str(target)), 1, f"cannot write {target}")
    assert list(tmp_path.iterdir()) == []


def test_an_api_url_without_a_scheme(api: FakeApi, tmp_path: Path) -> None:
    result = governor("--api-url", "tac.example.org", "-o", str(tmp_path / "r.md"))
    failed(result, 2, "must start http:// or https://")


def test_the_programme_page_in_a_real_browser(tmp_path: Path) -> None:
    """Opened in headless Chromium from a file, as an evaluator opens it: it asks for nothing
    (its policy would refuse it, and a prison's network reaches nothing), raises no error, and
    shows every section's table, its charts drawn and its notes."""
    page_file = tmp_path / "programme.html"
    page_file.write_bytes(render(PROGRAMME, ReportFormat.html))
    requested: list[str] = []
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        for section in PROGRAMME.sections:
            table = page.locator(f"section#{section.key} table")
            table.wait_for(state="visible", timeout=30_000)
            assert table.locator("tbody tr").count() == len(section.figures)
            chart = page.locator(f"section#{section.key} figure.chart svg")
            assert chart.count() == 1 and (chart.bounding_box() or {"height": 0})["height"] > 100
        shown = page.locator('tr[data-key="costs_avoided.by_outcome.pence"]').inner_text()
        assert shown.split("\t") == ["Pence [note 2]", "£1,234.50", "£0", "x"]
        # A part's indent is drawn, not only written in its class.
        indent = page.locator('tr[data-key="referrals.by_source.court.family"] th')
        total = page.locator('tr[data-key="referrals.received"] th')
        assert indent.evaluate("e => parseFloat(getComputedStyle(e).paddingLeft)") > total.evaluate(
            "e => parseFloat(getComputedStyle(e).paddingLeft)"
        )
        page.locator('a[href="#note-2"]').first.click()
        assert page.locator("#note-2").is_visible()
        page.close()
    assert requested == [page_file.as_uri()]
    assert errors == []
