"""tac-report run as a governor's office would, against a fake API served over real HTTP.

The fake answers with reports built from the report models, plus fields about a person that a
report must never carry: none of them may reach any file.
"""

import csv
import functools
import io
import json
import re
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
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
LEGEND = "c: a small figure, from 1 to 5 after perturbation. z: not applicable."
PERTURBATION = Perturbation(
    applied=True,
    unperturbed_share=0.5,
    largest=41,
    legend="Every count is perturbed: a small random amount is added to it, the same every time "
    "the same figure is asked for. Parts need not add up to their totals. Hours are rounded to 5.",
)
NOTE = "A woman is active if her case was open on any day of the period."
SECRET = 4  # a value a suppressed cell carries, which no file may show
# Longer than any label was allowed to be before (64 characters, then cut with an ellipsis).
LONG_LABEL = (
    "J2: Placed in local authority accommodation under the Police and Criminal Evidence Act 1984"
)


def c(value: float | None, suppressed: bool = False) -> Cell:
    return Cell(value=value, suppressed=suppressed)


def figure(
    key: str,
    label: str,
    current: Cell,
    previous: Cell,
    unit: str = "count",
    part_of: str = "",
    breakdown: str = "",
) -> Figure:
    return Figure(
        key=key,
        label=label,
        unit=unit,  # type: ignore[arg-type]
        part_of=part_of or None,
        # As the service names them: the key up to the part's own code.
        breakdown=(breakdown or key.rpartition(".")[0]) if part_of else None,
        current=current,
        previous=previous,
    )


def stocks(figures: list[Figure]) -> list[Figure]:
    return [one.model_copy(update={"stock": True}) for one in figures]


def quarter(start: date, end: date, label: str) -> Quarter:
    return Quarter(key=f"{start:%Y-%m}", label=label, period=Period(**{"from": start}, to=end))


SUPPRESSED = c(None, suppressed=True)
HIDDEN = c(SECRET, suppressed=True)  # a c that carries a value: the value is never shown
ZERO = c(0)
TREND_QUARTERS = [
    quarter(date(2025, 7, 1), date(2025, 9, 30), "Jul to Sep 2025"),
    quarter(date(2025, 10, 1), date(2025, 12, 31), "Oct to Dec 2025"),
    quarter(date(2026, 1, 1), date(2026, 3, 31), "Jan to Mar 2026"),
    quarter(date(2026, 4, 1), date(2026, 6, 30), "Apr to Jun 2026"),
]

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
    sections=[
        Section(
            key="women",
            title="Women",
            figures=[
                figure("women.active", "Women worked with", c(1234), c(987)).model_copy(
                    update={"stock": True}
                ),
                figure("women.new", "Women new to the service", SUPPRESSED, c(17)),
                figure("women.closed", "Cases closed", c(23), HIDDEN),
            ],
        ),
        Section(
            key="children",
            title="Children",
            figures=stocks(
                [
                    figure("children.linked", "Children linked", c(61), c(58)),
                    figure("children.expected", "Children linked not yet born", SUPPRESSED, c(7)),
                    figure(
                        "children.by_legal_status.C2",
                        "C2: Full care order",
                        SUPPRESSED,
                        c(31),
                        part_of="children.linked",
                    ),
                    figure(
                        "children.by_legal_status.J2",
                        LONG_LABEL,
                        ZERO,
                        ZERO,
                        part_of="children.linked",
                    ),
                    figure(
                        "children.by_legal_status.V2",
                        "V2: Accommodated",
                        HIDDEN,
                        c(27),
                        part_of="children.linked",
                    ),
                    figure(
                        "children.by_legal_status.none",
                        "No legal status",
                        c(52),
                        SUPPRESSED,
                        part_of="children.linked",
                    ),
                    figure(
                        "children.by_lives_with.father",
                        "Father",
                        c(30),
                        c(28),
                        part_of="children.linked",
                    ),
                    figure(
                        "children.by_lives_with.not_recorded",
                        "Not recorded",
                        ZERO,
                        ZERO,
                        part_of="children.linked",
                    ),
                ]
            ),
        ),
        Section(
            key="hearings",
            title="Court hearings",
            figures=[
                figure("hearings.listed", "Hearings in the period", c(50), c(45)),
                figure(
                    "hearings.held",
                    "Held (outcome recorded)",
                    c(44),
                    c(39),
                    part_of="hearings.listed",
                ),
                figure(
                    "hearings.awaiting_outcome",
                    "Outcome not yet recorded",
                    c(6),
                    c(6),
                    part_of="hearings.listed",
                ),
                figure("hearings.attended", "Attended", c(40), c(34), part_of="hearings.held"),
                figure(
                    "hearings.attended_by_mode.prison_video_link",
                    "Prison video link",
                    c(29),
                    c(21),
                    part_of="hearings.attended",
                ),
                figure(
                    "hearings.attended_by_mode.in_person",
                    "In person",
                    c(11),
                    c(13),
                    part_of="hearings.attended",
                ),
                figure(
                    "hearings.missed", "Missed", SUPPRESSED, SUPPRESSED, part_of="hearings.held"
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
            key="visits",
            title="Contact visits",
            figures=[
                figure("visits.cancelled", "Cancelled", ZERO, ZERO),
                figure(
                    "visits.cancelled_by_reason.transport",
                    "Transport",
                    ZERO,
                    ZERO,
                    part_of="visits.cancelled",
                ),
                figure(
                    "visits.cancelled_by_reason.security",
                    "Security",
                    ZERO,
                    SUPPRESSED,
                    part_of="visits.cancelled",
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
        Section(
            key="demographics",
            title="The women worked with",
            figures=stocks(
                [
                    figure(
                        "demographics.age_band.under_25",
                        "Under 25",
                        c(400),
                        c(300),
                        part_of="women.active",
                    ),
                    figure(
                        "demographics.age_band.25_and_over",
                        "25 and over",
                        c(834),
                        c(687),
                        part_of="women.active",
                    ),
                    figure(
                        "demographics.domestic_abuse.yes",
                        "Domestic abuse in her history",
                        c(900),
                        c(700),
                        part_of="women.active",
                    ),
                    figure(
                        "demographics.domestic_abuse.no",
                        "None",
                        c(334),
                        c(287),
                        part_of="women.active",
                    ),
                ]
            ),
        ),
    ],
    trend=Trend(
        quarters=TREND_QUARTERS,
        figures=[
            TrendFigure(
                key="women.active",
                label="Women worked with",
                stock=True,
                values=[c(1100), c(1150), c(987), c(1234)],
            ),
            TrendFigure(
                key="hearings.listed",
                label="Hearings in the period",
                values=[c(40), SUPPRESSED, c(45), c(50)],
            ),
            # All zero, all c: a chart of either would be an empty axis.
            TrendFigure(key="visits.cancelled", label="Cancelled", values=[ZERO] * 4),
            TrendFigure(
                key="referrals.received",
                label="Referrals received",
                values=[SUPPRESSED, ZERO, SUPPRESSED, ZERO],
            ),
        ],
    ),
)
# The charts that say something: the trend, and the breakdowns with two parts or more that are
# not 0 or c in both quarters (not by who they live with, nor the visits cancelled, all zero).
CHARTS = {
    "trend": ["Headline figures, Jul to Sep 2025 to Apr to Jun 2026"],
    "breakdown": [
        "Children linked: by legal status",
        "Hearings in the period: held (outcome recorded), outcome not yet recorded",
        "Attended: by mode",
        "Hours of evidence: by category",
        "Women worked with: by age band",
        "Women worked with: by domestic abuse in her history",
    ],
}
STOOD = " [as it stood]"

# Each figure as every format must show it: label, then this period and the previous as a reader
# sees them (md, html), as a program reads them (csv) and as a spreadsheet holds them (xlsx).
EXPECTED: dict[str, tuple[str, tuple[str, str], tuple[str, str], tuple[Any, Any]]] = {
    "women.active": ("Women worked with" + STOOD, ("1,234", "987"), ("1234", "987"), (1234, 987)),
    "women.new": ("Women new to the service", ("c", "17"), ("c", "17"), ("c", 17)),
    "women.closed": ("Cases closed", ("23", "c"), ("23", "c"), (23, "c")),
    "children.linked": ("Children linked", ("61", "58"), ("61", "58"), (61, 58)),
    "children.by_legal_status.C2": ("C2: Full care order", ("c", "31"), ("c", "31"), ("c", 31)),
    "children.by_legal_status.J2": (LONG_LABEL, ("0", "0"), ("0", "0"), (0, 0)),
    "children.by_legal_status.V2": ("V2: Accommodated", ("c", "27"), ("c", "27"), ("c", 27)),
    "children.by_legal_status.none": ("No legal status", ("52", "c"), ("52", "c"), (52, "c")),
    "children.by_lives_with.father": ("Father", ("30", "28"), ("30", "28"), (30, 28)),
    "children.by_lives_with.not_recorded": ("Not recorded", ("0", "0"), ("0", "0"), (0, 0)),
    "children.expected": ("Children linked not yet born", ("c", "7"), ("c", "7"), ("c", 7)),
    "hearings.listed": ("Hearings in the period", ("50", "45"), ("50", "45"), (50, 45)),
    "hearings.held": ("Held (outcome recorded)", ("44", "39"), ("44", "39"), (44, 39)),
    "hearings.attended": ("Attended", ("40", "34"), ("40", "34"), (40, 34)),
    "hearings.attended_by_mode.prison_video_link": (
        "Prison video link",
        ("29", "21"),
        ("29", "21"),
        (29, 21),
    ),
    "hearings.attended_by_mode.in_person": ("In person", ("11", "13"), ("11", "13"), (11, 13)),
    "hearings.missed": ("Missed", ("c", "c"), ("c", "c"), ("c", "c")),
    "hearings.awaiting_outcome": ("Outcome not yet recorded", ("6", "6"), ("6", "6"), (6, 6)),
    "hearings.median_notice_days": (
        "Median notice of a hearing (days)",
        ("3.5", "z"),
        ("3.5", "z"),
        (3.5, "z"),
    ),
    "visits.cancelled": ("Cancelled", ("0", "0"), ("0", "0"), (0, 0)),
    "visits.cancelled_by_reason.transport": ("Transport", ("0", "0"), ("0", "0"), (0, 0)),
    "visits.cancelled_by_reason.security": ("Security", ("0", "c"), ("0", "c"), (0, "c")),
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
    "demographics.age_band.under_25": ("Under 25", ("400", "300"), ("400", "300"), (400, 300)),
    "demographics.age_band.25_and_over": (
        "25 and over",
        ("834", "687"),
        ("834", "687"),
        (834, 687),
    ),
    "demographics.domestic_abuse.yes": (
        "Domestic abuse in her history",
        ("900", "700"),
        ("900", "700"),
        (900, 700),
    ),
    "demographics.domestic_abuse.no": ("None", ("334", "287"), ("334", "287"), (334, 287)),
}
# Each section's lines as every format shows them, in order: (depth, a figure's key or a
# breakdown's subheading). Each total, then its own parts one step in, each breakdown under a
# subheading one step in and its parts under that; a total in another section named.
LAYOUT: dict[str, list[tuple[int, str]]] = {
    "Women": [(0, "women.active"), (0, "women.new"), (0, "women.closed")],
    "Children": [
        (0, "children.linked"),
        (1, "By legal status"),
        (2, "children.by_legal_status.C2"),
        (2, "children.by_legal_status.J2"),
        (2, "children.by_legal_status.V2"),
        (2, "children.by_legal_status.none"),
        (1, "By who they live with"),
        (2, "children.by_lives_with.father"),
        (2, "children.by_lives_with.not_recorded"),
        (0, "children.expected"),
    ],
    "Court hearings": [
        (0, "hearings.listed"),
        (1, "hearings.held"),
        (2, "hearings.attended"),
        (3, "By mode"),
        (4, "hearings.attended_by_mode.prison_video_link"),
        (4, "hearings.attended_by_mode.in_person"),
        (2, "hearings.missed"),
        (1, "hearings.awaiting_outcome"),
        (0, "hearings.median_notice_days"),
    ],
    "Contact visits": [
        (0, "visits.cancelled"),
        (1, "By reason"),
        (2, "visits.cancelled_by_reason.transport"),
        (2, "visits.cancelled_by_reason.security"),
    ],
    "Evidence of progress": [
        (0, "evidence.hours"),
        (1, "By category"),
        (2, "evidence.hours_by_category.course"),
        (2, "evidence.hours_by_category.work"),
    ],
    "The women worked with": [
        (0, "By age band (of women worked with)"),
        (1, "demographics.age_band.under_25"),
        (1, "demographics.age_band.25_and_over"),
        (0, "By domestic abuse in her history (of women worked with)"),
        (1, "demographics.domestic_abuse.yes"),
        (1, "demographics.domestic_abuse.no"),
    ],
}


def layout_shown(section: str) -> list[tuple[int, str]]:
    """A section's LAYOUT with each figure's label as shown in place of its key."""
    return [
        (depth, EXPECTED[item][0] if item in EXPECTED else item) for depth, item in LAYOUT[section]
    ]


def parent(lines: list[tuple[int, str]], wanted: str) -> str:
    """The line a line sits under: the nearest before it one step out."""
    index = next(i for i, (_, text) in enumerate(lines) if text == wanted)
    depth = lines[index][0]
    return next(text for d, text in reversed(lines[:index]) if d < depth)


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
                    "women.active", "Women worked with", [q(140), q(1512), q(None, True)]
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
        2,
        ["22", "0", "c"],
        ["22", "0", "c"],
        [22, 0, "c"],
    ),
    "referrals.by_source.court": (
        "referrals",
        "A court",
        2,
        ["18", "0", "c"],
        ["18", "0", "c"],
        [18, 0, "c"],
    ),
    "referrals.by_source.court.family": (
        "referrals",
        "The family court",
        3,
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
        2,
        ["£75,000", "c", "x"],
        ["75000", "c", "x"],
        [75000, "c", "x"],
    ),
    "costs_avoided.by_outcome.pence": (
        "costs_avoided",
        "Pence [note 2]",
        2,
        ["£1,234.50", "£0", "x"],
        ["1234.50", "0", "x"],
        [1234.5, 0, "x"],
    ),
}
TOP_LEVEL = {"work": 2, "referrals": 1, "costs_avoided": 2}  # a chart a section: its panels
# The breakdowns' subheadings, before the part they come before: (section, depth, words).
PROGRAMME_SUBHEADINGS = {
    "referrals.by_source.self": ("referrals", 1, "By source"),
    "costs_avoided.by_outcome.baby_kept": ("costs_avoided", 1, "By outcome"),
}


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
    accepts: list[str | None] = field(default_factory=list)  # each request's Accept

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
            api.accepts.append(self.headers.get("Accept"))
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
    server.accepts.clear()
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


MD_INDENT = re.compile("^((?:\u00a0{3})*)\u2013 ")


def md_sections(text: str) -> dict[str, list[tuple[int, str, list[str]]]]:
    """Each section's table rows: (depth, label as a reader sees it, cells)."""
    found: dict[str, list[tuple[int, str, list[str]]]] = {}
    title = ""
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:]
        elif line.startswith("| ") and not line.startswith("| Figure"):
            label, *cells = [cell.strip(" ") for cell in line[2:-2].split(" | ")]
            indent = MD_INDENT.match(label)
            depth = 0 if indent is None else len(indent[1]) // 3 + 1
            label = label[indent.end() :] if indent else label
            label = label.removeprefix("**").removesuffix("**").replace("\\", "")
            found.setdefault(title, []).append((depth, label, cells))
    return found


def test_markdown(api: FakeApi, tmp_path: Path) -> None:
    text = written(governor("-o", str(tmp_path / "r.md")), tmp_path / "r.md").decode()
    assert text.startswith("# Governor's report: HMP Eastwood Park (EWI)")
    assert "- This quarter: Apr to Jun 2026 (1 Apr 2026 to 30 Jun 2026)" in text
    assert "- Previous quarter: Jan to Mar 2026 (1 Jan 2026 to 31 Mar 2026)" in text
    assert "2026-07-01 09:30 UTC" in text
    assert "| Figure | Apr to Jun 2026 | Jan to Mar 2026 |" in text
    sections = md_sections(text)
    rows = {label: cells for lines in sections.values() for _, label, cells in lines}
    for key, (label, shown, _, _) in EXPECTED.items():
        assert rows[label] == list(shown), key
    trend = sections["The last four quarters"]
    assert (0, "Women worked with [as it stood]", ["1,100", "1,150", "987", "1,234"]) in trend
    assert "| Figure | Jul to Sep 2025 | Oct to Dec 2025 | Jan to Mar 2026 | Apr to Jun 2026 |" in (
        text
    )
    assert NOTE in text
    assert_nothing_about_a_person(text)


def test_markdown_is_plain_text_with_its_key_once(api: FakeApi, tmp_path: Path) -> None:
    """Issue 18: `&emsp;` entities for the indent, and the key stated twice."""
    text = written(governor("-o", str(tmp_path / "r.md")), tmp_path / "r.md").decode()
    assert not re.search(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", text, re.I)
    assert "<" not in text.replace("\\<", "")
    assert text.count("## Key") == 1
    key = text[text.index("## Key") :]
    assert "- `c`: a small figure: from 1 to 5 once perturbed" in key
    assert "- `z`: not applicable" in key and "- `[as it stood]`: a count of who" in key
    assert f"- Perturbation: {PERTURBATION.legend}" in key
    for said in ("a small figure", "not applicable", PERTURBATION.legend):
        assert text.count(said) == 1, said
    assert "secondary" not in text.lower()
    # A stock section says so once, not on every row.
    assert "_Every figure here is a count \\[as it stood\\]" in text
    assert text.count("\\[as it stood\\]") == 2 + 2  # two sections, the trend's row, the table's


def test_markdown_to_stdout_keeps_progress_on_stderr(api: FakeApi) -> None:
    result = governor("--format", "md", "--out", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Governor's report")
    assert "fetching" not in result.stdout and "fetching the governor report" in result.stderr


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv(api: FakeApi, tmp_path: Path) -> None:
    text = written(governor("-f", "csv", "-o", str(tmp_path / "r.csv")), tmp_path / "r.csv")
    everything = csv_rows(text.decode())
    rows = [row for row in everything if row["section"] != "legend"]
    assert [row["key"] for row in rows] == [
        item for lines in LAYOUT.values() for _, item in lines if item in EXPECTED
    ]
    figures = {f.key: f for s in GOVERNOR.sections for f in s.figures}
    for row in rows:
        _, _, (current, previous), _ = EXPECTED[row["key"]]
        assert (row["current"], row["previous"]) == (current, previous), row["key"]
        assert row["label"] == figures[row["key"]].label  # in full, never cut
        assert row["prison_code"] == "EWI"
        assert (row["period_from"], row["period_to"]) == ("2026-04-01", "2026-06-30")
        assert (row["previous_period_from"], row["previous_period_to"]) == (
            "2026-01-01",
            "2026-03-31",
        )
        assert row["part_of"] == (figures[row["key"]].part_of or "")
        assert row["stock"] == ("yes" if figures[row["key"]].stock else "no")
    by_key = {row["key"]: row for row in rows}
    assert by_key["children.by_legal_status.J2"]["label"] == LONG_LABEL
    assert by_key["children.by_legal_status.C2"]["section"] == "children"
    assert by_key["children.by_legal_status.C2"]["breakdown"] == "children.by_legal_status"
    assert by_key["children.by_legal_status.C2"]["subheading"] == "By legal status"
    assert by_key["hearings.attended"]["depth"] == "2"
    assert by_key["hearings.attended_by_mode.in_person"]["depth"] == "4"
    assert by_key["demographics.age_band.under_25"]["subheading"] == (
        "By age band (of women worked with)"
    )
    assert by_key["evidence.hours"]["unit"] == "hours"
    assert_nothing_about_a_person(text.decode())


def test_csv_ends_with_its_legend(api: FakeApi, tmp_path: Path) -> None:
    """Issue 18: the CSV had no legend. Its last rows, in the table's own columns, section
    `legend`: every line of it as long as the sheet's widest, none cut."""
    text = written(governor("-f", "csv", "-o", str(tmp_path / "r.csv")), tmp_path / "r.csv")
    lines = list(csv.reader(io.StringIO(text.decode())))
    assert len({len(line) for line in lines}) == 1  # a rectangle: a spreadsheet reads it whole
    rows = csv_rows(text.decode())
    legend = [row for row in rows if row["section"] == "legend"]
    assert rows[-len(legend) :] == legend
    by_key = {row["key"]: row["label"] for row in legend}
    assert list(by_key) == ["legend.c", "legend.z", "legend.stock", "legend.perturbation"]
    assert by_key["legend.c"].startswith("c: a small figure: from 1 to 5")
    assert by_key["legend.z"].startswith("z: not applicable")
    assert by_key["legend.stock"].startswith("[as it stood]: a count of who")
    assert by_key["legend.perturbation"] == f"Perturbation: {PERTURBATION.legend}"
    assert all(not row["current"] and not row["prison_code"] for row in legend)


def xlsx_sections(sheet: Any) -> dict[str, list[tuple[int, str, list[Any]]]]:
    """The Report sheet's sections: (depth, label, cells) under each section's title."""
    titles = {section.title for section in GOVERNOR.sections}
    found: dict[str, list[tuple[int, str, list[Any]]]] = {}
    title = ""
    for row in sheet.iter_rows(min_row=4):
        label = row[0].value
        if label == "Key":
            break
        if label in titles:
            title = label
        elif label and title and not row[0].font.italic:
            depth = int(row[0].alignment.indent) // 2
            found.setdefault(title, []).append((depth, label, [cell.value for cell in row[1:]]))
    return found


def test_xlsx(api: FakeApi, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    written(governor("-o", str(path)), path)
    book = load_workbook(path)
    assert book.sheetnames == ["Report", "Trend", "Notes"]
    sheet = book["Report"]
    sections = xlsx_sections(sheet)
    rows = {label: tuple(cells) for lines in sections.values() for _, label, cells in lines}
    for key, (label, _, _, values) in EXPECTED.items():
        assert rows[label] == values, key
    assert sheet["A1"].value == "Governor's report: HMP Eastwood Park (EWI)"
    assert sheet["A1"].font.bold
    header = [cell for cell in sheet[3]]
    assert [cell.value for cell in header] == ["Figure", "Apr to Jun 2026", "Jan to Mar 2026"]
    assert all(cell.font.bold for cell in header)
    trend = book["Trend"]
    assert [cell.value for cell in trend[2]] == [
        "Headline figure",
        *(q.label for q in TREND_QUARTERS),
    ]
    assert [cell.value for cell in trend[3]] == [
        "Women worked with [as it stood]",
        1100,
        1150,
        987,
        1234,
    ]
    notes = [
        " ".join(str(v) for v in row if v) for row in book["Notes"].iter_rows(values_only=True)
    ]
    assert any(NOTE in line for line in notes)
    assert "This quarter Apr to Jun 2026 (1 Apr 2026 to 30 Jun 2026)" in notes
    assert book.properties.creator == "tac-api" and not book.properties.lastModifiedBy
    everything = [str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row]
    props = [str(getattr(book.properties, name)) for name in ("creator", "title", "subject")]
    assert_nothing_about_a_person("\n".join(everything + props))


def test_xlsx_header_is_frozen_and_labels_whole(api: FakeApi, tmp_path: Path) -> None:
    """Issue 18: no frozen header rows. The title, the quarters and the header row stay in view,
    and so do the labels; the labels' column is as wide as they are (to a limit, then they wrap);
    the key is under the table."""
    path = tmp_path / "r.xlsx"
    written(governor("-o", str(path)), path)
    book = load_workbook(path)
    sheet = book["Report"]
    assert sheet.freeze_panes == "B4"
    assert book["Trend"].freeze_panes == "B3"
    assert sheet.column_dimensions["A"].width >= len(LONG_LABEL) - 10
    long_row = next(row for row in sheet.iter_rows() if row[0].value == LONG_LABEL)
    assert long_row[0].alignment.wrap_text
    assert all(sheet.column_dimensions[letter].width >= 16 for letter in "BC")
    labels = [row[0] for row in sheet.iter_rows(values_only=True)]
    key = labels[labels.index("Key") + 1 :]
    assert key[0].startswith("c: a small figure: from 1 to 5")
    assert key[1].startswith("z: not applicable")
    assert key[2].startswith("[as it stood]: a count of who")
    assert key[3] == f"Perturbation: {PERTURBATION.legend}"
    assert sheet.print_title_rows == "$3:$3"


def html_sections(text: str) -> dict[str, list[tuple[int, str]]]:
    """Each section's table lines, by its title: (depth from the row's class, label)."""

    class Lines(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: dict[str, list[tuple[int, str]]] = {}
            self.title = ""
            self.in_title = False
            self.depth: int | None = None
            self.label: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = dict(attrs)
            if tag == "h2":
                self.in_title, self.title = True, ""
            elif tag == "tr" and not attributes.get("data-trend-key"):
                level = re.search(r"level-(\d)", attributes.get("class") or "")
                self.depth = int(level[1]) if level else None
            elif tag == "th" and self.depth is not None and attributes.get("scope") != "col":
                self.label = ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "h2":
                self.in_title = False
            elif tag == "th" and self.label is not None and self.depth is not None:
                self.found.setdefault(self.title, []).append((self.depth, self.label))
                self.label = None
            elif tag == "tr":
                self.depth = None

        def handle_data(self, data: str) -> None:
            if self.in_title:
                self.title += data
            elif self.label is not None:
                self.label += data

    parser = Lines()
    parser.feed(text)
    return parser.found


def test_html(api: FakeApi, tmp_path: Path) -> None:
    text = written(governor("-o", str(tmp_path / "r.html")), tmp_path / "r.html").decode()
    parsed = Rows()
    parsed.feed(text)
    assert len(parsed.rows) == len(EXPECTED)
    for key, (label, shown, _, _) in EXPECTED.items():
        assert parsed.rows[key] == [label, *shown], key
    assert '<th scope="col" class="num">Apr to Jun 2026</th>' in text
    assert '<th scope="col" class="num">Jan to Mar 2026</th>' in text
    assert "Previous period (" not in text and "This period (" not in text
    assert "<dt>c</dt><dd>a small figure: from 1 to 5 once perturbed" in text
    assert f"<dt>Perturbation</dt><dd>{PERTURBATION.legend}</dd>" in text
    assert text.count(PERTURBATION.legend) == 1 and NOTE in text
    # One file that loads nothing: no scripts, links or addresses outside the page.
    assert "<script" not in text and "<link" not in text and "<img" not in text
    assert not re.search(r"""(?:href|src)\s*=\s*["']?(?:https?:|//)""", text)
    assert not re.search(r"url\((?!#)", text) and "@import" not in text  # url(#clip) is inside
    assert_nothing_about_a_person(text)


@pytest.mark.parametrize("fmt", ["md", "xlsx", "html"])
def test_parts_sit_under_their_totals(api: FakeApi, tmp_path: Path, fmt: str) -> None:
    """Issue 18: legal statuses and placements sat under "Of whom not yet born", hearings
    attended and missed under "Outcome not yet recorded", and the women's age bands and
    domestic abuse under "Women supported" with no subheadings. Each format shows each total,
    its own parts one step in, each breakdown under its own subheading, at any depth."""
    path = tmp_path / f"r.{fmt}"
    data = governor_page().encode() if fmt == "html" else written(governor("-o", str(path)), path)
    if fmt == "md":
        shown = {
            title: [(depth, label) for depth, label, _ in lines]
            for title, lines in md_sections(data.decode()).items()
        }
    elif fmt == "xlsx":
        shown = {
            title: [(depth, label) for depth, label, _ in lines]
            for title, lines in xlsx_sections(load_workbook(path)["Report"]).items()
        }
    else:
        shown = html_sections(data.decode())
    for title in LAYOUT:
        assert shown[title] == layout_shown(title), (fmt, title)
    children, hearings = shown["Children"], shown["Court hearings"]
    assert parent(children, LONG_LABEL) == "By legal status"
    assert parent(children, "By legal status") == "Children linked"
    assert parent(children, "Father") == "By who they live with"
    assert parent(hearings, "Attended") == parent(hearings, "Missed") == "Held (outcome recorded)"
    assert parent(hearings, "In person") == "By mode"
    women = shown["The women worked with"]
    assert parent(women, "Under 25") == "By age band (of women worked with)"
    assert parent(women, "None") == "By domestic abuse in her history (of women worked with)"


def test_csv_places_each_part_under_its_total(api: FakeApi, tmp_path: Path) -> None:
    """The CSV's depth and subheading columns say what the other formats show."""
    text = written(governor("-f", "csv", "-o", str(tmp_path / "r.csv")), tmp_path / "r.csv")
    rows = {row["key"]: row for row in csv_rows(text.decode())}
    for lines in LAYOUT.values():
        for depth, item in lines:
            if item in EXPECTED:
                above = parent(lines, item) if depth else ""
                assert int(rows[item]["depth"]) == depth, item
                assert rows[item]["subheading"] == ("" if above in EXPECTED else above), item


def charts(text: str) -> list[tuple[str, str, str]]:
    """Each chart: (its kind, its caption's words, its drawing)."""
    return re.findall(
        r'<figure class="chart" data-chart="(\w+)"><figcaption>([^<]*)(?:<ul.*?</ul>)?'
        r"</figcaption>(<svg.*?</svg>)",
        text,
        re.S,
    )


@functools.cache
def governor_page() -> str:
    """The governor's fixture as HTML, drawn once for the tests that only read it."""
    return render(GOVERNOR, ReportFormat.html).decode()


def test_charts_only_where_they_say_something() -> None:
    """Issue 18: charts of series all zero or all c (an axis from -0.06 to 0.06), and a bar for
    each of fifteen legal statuses at zero. The trend is drawn; a series 0 or c throughout is
    not, nor is a part 0 or c in both quarters, nor a breakdown with fewer than two parts left;
    what is not drawn is named under the chart."""
    text = governor_page()
    drawn = charts(text)
    assert [caption for kind, caption, _ in drawn if kind == "trend"] == CHARTS["trend"]
    assert [caption for kind, caption, _ in drawn if kind == "breakdown"] == CHARTS["breakdown"]
    parsed = Rows()
    parsed.feed(text)
    assert parsed.svgs == len(drawn) == text.count('<figure class="chart"')
    [(_, _, trend)] = [chart for chart in drawn if chart[0] == "trend"]
    assert "Women worked with" in trend and "Hearings in the period" in trend
    assert "Contact visits: cancelled" not in trend and "Referrals received" not in trend
    assert "Not drawn, 0 or c throughout: Contact visits: cancelled; Referrals received." in text
    [(_, _, statuses)] = [chart for chart in drawn if "legal status" in chart[1]]
    assert "J2" not in statuses and "C2: Full care order" in statuses
    assert ">c</text>" in statuses  # a c beside a number is drawn as its mark, not a bar
    visits = text[text.index('<section id="visits">') : text.index('<section id="evidence">')]
    assert "<figure" not in visits and "<svg" not in visits
    heard: list[tuple[int, int]] = []
    render(GOVERNOR, ReportFormat.html, on_chart=lambda *seen: heard.append(seen))
    assert heard == [(n, len(drawn)) for n in range(len(drawn) + 1)]


def test_charts_are_full_width_with_their_legend_whole() -> None:
    """Issue 18: the first legend was cut ("Previous period (1 Jul 2026 to") and the charts
    took half the page. A chart is as wide as the page (its height from its viewBox); its
    legend is the page's text (it wraps), naming both quarters in full, the bars' order."""
    text = governor_page()
    for _, _, svg in charts(text):
        opening = svg[: svg.index(">")]
        assert 'width="100%"' in opening and "viewBox=" in opening and "height=" not in opening
        assert "<text" not in svg or "legend" not in svg
    legends = re.findall(r'<ul class="chart-legend">(.*?)</ul>', text)
    assert len(legends) == len(CHARTS["breakdown"])
    for legend in legends:
        names = re.findall(r'<span class="swatch (\w+)"></span>([^<]*)</li>', legend)
        assert names == [("previous", "Jan to Mar 2026"), ("current", "Apr to Jun 2026")]
    assert "@page{size:A4" in text and "figure.chart svg{display:block;width:100%" in text


def test_a_stock_is_marked_as_it_stood() -> None:
    text = governor_page()
    row = re.search(r'data-key="women.active"><th scope="row">(.*?)</th>', text)
    assert (
        row is not None and row[1] == 'Women worked with <span class="stock">[as it stood]</span>'
    )
    children = text[text.index('<section id="children">') : text.index('<section id="hearings">')]
    assert "Every figure here is a count [as it stood]" in children
    assert "[as it stood]</span>" not in children  # said once for the section, not a row


def test_a_report_without_a_chart_worth_drawing_draws_none() -> None:
    zero = GOVERNOR.model_copy(
        update={
            "sections": [GOVERNOR.sections[3]],  # contact visits: all zero
            "trend": GOVERNOR.trend.model_copy(update={"figures": GOVERNOR.trend.figures[2:]}),
        }
    )
    heard: list[tuple[int, int]] = []
    text = render(zero, ReportFormat.html, on_chart=lambda *seen: heard.append(seen)).decode()
    assert "<svg" not in text and heard == [(0, 0)]
    assert "Not drawn, 0 or c throughout" in text


def test_html_escapes_what_the_service_says() -> None:
    section = GOVERNOR.sections[0].model_copy(update={"title": "<b>Women</b> & <i>girls</i>"})
    report = GOVERNOR.model_copy(update={"sections": [section]})
    text = render(report, ReportFormat.html).decode()
    assert "&lt;b&gt;Women&lt;/b&gt; &amp; &lt;i&gt;girls&lt;/i&gt;" in text
    assert "<b>Women" not in text


def test_html_is_the_same_for_the_same_report() -> None:
    assert render(GOVERNOR, ReportFormat.html) == render(GOVERNOR, ReportFormat.html)


def programme_lines(empty: Any) -> list[tuple[str, int, str, list[Any]]]:
    """(section title, depth, label, cells) of each line in order, as every format shows it:
    a subheading's cells each `empty`."""
    titles = {section.key: section.title for section in PROGRAMME.sections}
    found = []
    for key, (section, label, depth, shown, _, _) in PROGRAMME_EXPECTED.items():
        if key in PROGRAMME_SUBHEADINGS:
            _, above, words = PROGRAMME_SUBHEADINGS[key]
            found.append((titles[section], above, words, [empty] * len(QUARTERS)))
        found.append((titles[section], depth, label, shown))
    return found


@pytest.mark.parametrize("fmt", ["md", "csv", "xlsx", "html"])
def test_programme(api: FakeApi, tmp_path: Path, fmt: str) -> None:
    """Every section and figure, section by section: parts under their totals (a breakdown
    under its subheading), pounds as money, the method of an estimate noted beside it, and the
    key (c, z, x, the perturbation) once."""
    path = tmp_path / f"p.{fmt}"
    result = runner.invoke(app, ["programme", "--from", "2025-04-01", "--out", str(path)])
    data = written(result, path)
    assert api.requests[0][:2] == ("/v1/reports/programme", {"from": ["2025-04-01"]})
    labels = [quarter.label for quarter in QUARTERS]
    titles = {section.key: section.title for section in PROGRAMME.sections}
    if fmt == "xlsx":
        book = load_workbook(path)
        sheet = book["Report"]
        assert sheet.freeze_panes == "B4"
        assert [cell.value for cell in sheet[3]] == ["Figure", *labels]
        text = "\n".join(
            str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row
        )
        shown, heading = [], ""
        for row in sheet.iter_rows(min_row=4):
            label = row[0].value
            if label == "Key":
                break
            if label in titles.values():
                heading = label
            elif label and not row[0].font.italic:
                depth = int(row[0].alignment.indent) // 2
                shown.append((heading, depth, label, [cell.value for cell in row[1:]]))
        held = {label: cells for _, (_, label, _, _, _, cells) in PROGRAMME_EXPECTED.items()}
        assert shown == [
            (title, depth, label, held.get(label, cells))
            for title, depth, label, cells in programme_lines(None)
        ]
        pence = next(row for row in sheet.iter_rows() if row[0].value == "Pence [note 2]")
        assert pence[1].number_format == '"£"#,##0.00'
        total = next(row for row in sheet.iter_rows() if row[0].value == "Costs avoided [note 1]")
        assert total[1].number_format == '"£"#,##0'
        assert f"[note 1] {TOTAL_METHOD}" in text and f"[note 2] {METHOD}" in text
        assert "x: not available: it cannot be worked out from what is recorded" in text
    else:
        text = data.decode()
    if fmt == "md":
        shown = [
            (title, depth, label, cells)
            for title, lines in md_sections(text).items()
            for depth, label, cells in lines
        ]
        assert shown == programme_lines("")
        assert text.count("| Figure | " + " | ".join(labels) + " |") == len(PROGRAMME.sections)
        assert f"- \\[note 1\\] {TOTAL_METHOD}" in text and f"- \\[note 2\\] {METHOD}" in text
        assert "- `x`: not available" in text and text.count("## Key") == 1
        assert "&" not in text
    if fmt == "csv":
        table = [row for row in csv.DictReader(io.StringIO(text)) if row["section"] != "legend"]
        assert next(csv.reader(io.StringIO(text))) == [
            "section",
            "key",
            "label",
            "unit",
            "part_of",
            "breakdown",
            "subheading",
            "depth",
            "stock",
            "method",
            *(q.key for q in QUARTERS),
        ]
        figures = {f.key: f for s in PROGRAMME.sections for f in s.figures}
        assert [row["key"] for row in table] == list(PROGRAMME_EXPECTED)
        for row in table:
            section, _, depth, _, raw, _ = PROGRAMME_EXPECTED[row["key"]]
            figure = figures[row["key"]]
            assert row["section"] == section and row["label"] == figure.label
            assert row["unit"] == figure.unit and row["part_of"] == (figure.part_of or "")
            assert row["method"] == (figure.method or "") and row["depth"] == str(depth)
            assert [row[q.key] for q in QUARTERS] == raw, row["key"]
        assert text.splitlines()[-3].startswith("legend,legend.x,x: not available")
        assert text.splitlines()[-1].startswith("legend,legend.perturbation,")
    if fmt == "html":
        parsed = Rows()
        parsed.feed(text)
        assert list(parsed.rows) == list(PROGRAMME_EXPECTED)
        for key, (section, label, depth, shown, _, _) in PROGRAMME_EXPECTED.items():
            assert parsed.rows[key] == [label, *shown], key
            row = re.search(rf'<tr class="level-(\d)" data-key="{re.escape(key)}">', text)
            assert row is not None and int(row[1]) == depth, key
            assert text.index(f'<section id="{section}">') < text.index(f'data-key="{key}"')
        for key, (_, depth, words) in PROGRAMME_SUBHEADINGS.items():
            subheading = (
                f'<tr class="subheading level-{depth}"><th scope="rowgroup" colspan="4">'
                f"{words}</th></tr><tr "
            )
            assert text.index(subheading) < text.index(f'data-key="{key}"'), key
        assert parsed.svgs == len(TOP_LEVEL)  # a chart a section, not one a figure
        assert '<li id="note-2"><strong>[note 2]</strong> ' in text and 'href="#note-1"' in text
        # The panels of a section's chart: its top-level figures, their cells at the bars.
        assert ">£75,000</text>" in text and ">x</text>" in text
        assert "<dt>x</dt><dd>not available" in text
    if fmt != "csv":
        assert NOTE in text
        for section in PROGRAMME.sections:
            assert section.title in text
    assert text.count(PERTURBATION.legend) == 1
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
            assert table.locator("tbody tr[data-key]").count() == len(section.figures)
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


# One calendar quarter, and the PDF the service prints ----------------------------------------


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [
        ("2026-Q2", "2026-04-01", "2026-06-30"),
        ("2025-Q4", "2025-10-01", "2025-12-31"),
        ("2024q1", "2024-01-01", "2024-03-31"),  # a leap year's March ends on the 31st too
    ],
)
def test_quarter_names_the_quarters_first_and_last_day(
    api: FakeApi, tmp_path: Path, quarter: str, first: str, last: str
) -> None:
    out = tmp_path / "r.md"
    written(runner.invoke(app, ["governor", "--quarter", quarter, "-o", str(out)]), out)
    [(_, query, _)] = api.requests
    assert query == {"from": [first], "to": [last]}


@pytest.mark.parametrize(
    ("options", "phrase"),
    [
        (["--quarter", "2026-Q5"], "--quarter is a year and a quarter, e.g. 2026-Q2"),
        (["--quarter", "April"], "not 'April'"),
        (["--quarter", "9999-Q4"], "not '9999-Q4'"),  # its last day is beyond any date
        (["--quarter", "0000-Q1"], "not '0000-Q1'"),
        (["--quarter", "2026-Q2", "--from", "2026-04-01"], "--quarter, or --from and --to, not"),
        ([], "say which quarter: --quarter 2026-Q2, or --from its first day and --to its last"),
        (["--from", "2026-04-01"], "say which quarter"),
    ],
)
def test_a_quarter_not_said_clearly_is_a_usage_error(
    api: FakeApi, tmp_path: Path, options: list[str], phrase: str
) -> None:
    result = runner.invoke(app, ["governor", *options, "-o", str(tmp_path / "r.md")])
    failed(result, 2, phrase)
    assert api.requests == []


def test_a_period_the_api_refuses_says_the_quarter_rule(api: FakeApi, tmp_path: Path) -> None:
    refused = problem(
        422,
        "Unprocessable Content",
        "1 field is invalid.",
        errors=[
            {
                "location": "query",
                "field": "from",
                "message": "reports cover a calendar quarter: from its first day",
            }
        ],
    )
    api.answer("/v1/reports/governor", refused)
    result = runner.invoke(
        app,
        ["governor", "--from", "2026-05-01", "--to", "2026-06-30", "-o", str(tmp_path / "r.md")],
    )
    failed(
        result,
        2,
        "(422): from: reports cover a calendar quarter: from its first day",
        "the governor's report covers one calendar quarter, once it has ended and settled: "
        "say --quarter 2026-Q2",
    )
    # Not said of a refusal that is not about the period.
    refused = problem(
        422,
        "Unprocessable Content",
        "1 field is invalid.",
        errors=[{"location": "query", "field": "prison_code", "message": "name the prison"}],
    )
    api.answer("/v1/reports/governor", refused)
    result = governor("-o", str(tmp_path / "r.md"))
    failed(result, 2, "prison_code: name the prison")
    assert "quarter" not in result.stderr


def test_the_help_says_the_quarter_rule() -> None:
    result = runner.invoke(app, ["--help"])
    assert "covers one calendar quarter" in " ".join(result.output.split())
    result = runner.invoke(app, ["governor", "--help"])
    assert "--quarter" in result.output and "2026-Q2" in result.output
    assert "printed by the service" in " ".join(result.output.replace("│", " ").split())


PRINTED = b"%PDF-1.7\n% the service's PDF, written as it came\n%%EOF\n"


def test_pdf_is_the_services_own(api: FakeApi, tmp_path: Path) -> None:
    """Asked for as a PDF (the report's JSON is never fetched) and written byte for byte:
    nothing is rendered here."""
    api.answer("/v1/reports/governor", Answer(200, PRINTED, {"Content-Type": "application/pdf"}))
    out = tmp_path / "governor.pdf"  # the format from the file name
    assert written(governor("-o", str(out)), out) == PRINTED
    [(path, query, authorization)] = api.requests
    assert path == "/v1/reports/governor" and authorization == f"Bearer {TOKEN}"
    assert query == {"prison_code": ["EWI"], "from": ["2026-04-01"], "to": ["2026-06-30"]}
    [accept] = api.accepts
    assert accept is not None and accept.startswith("application/pdf")


def test_pdf_refusals_read_as_any_format(api: FakeApi, tmp_path: Path) -> None:
    api.answer("/v1/reports/governor", problem(401, "Unauthorized", "The token has expired."))
    failed(governor("-f", "pdf", "-o", str(tmp_path / "r.pdf")), 3, "the token was refused (401)")
    assert not (tmp_path / "r.pdf").exists()


def test_an_answer_that_is_not_a_pdf_is_not_written(api: FakeApi, tmp_path: Path) -> None:
    """A service older than the command answers its JSON whatever is asked: said, not saved."""
    failed(
        governor("-f", "pdf", "-o", str(tmp_path / "r.pdf")),
        1,
        "is not a PDF (it is application/json): is the service older than this tac-report?",
    )
    assert not (tmp_path / "r.pdf").exists()


def test_pdf_is_not_written_to_stdout(api: FakeApi) -> None:
    failed(governor("-f", "pdf", "-o", "-"), 2, "PDF is not text: give --out a file name")
    assert api.requests == []


def test_the_command_loads_no_pdf_engine() -> None:
    """tac-report runs where WeasyPrint is not installed: importing it loads none."""
    code = "import sys, tac_api.reports.cli; print('weasyprint' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_render_refuses_pdf() -> None:
    with pytest.raises(ValueError, match="printed by the service"):
        render(GOVERNOR, ReportFormat.pdf)


@pytest.mark.parametrize("report", [GOVERNOR, PROGRAMME], ids=["governor", "programme"])
def test_every_id_on_a_page_is_its_own(report: Any) -> None:
    """Several charts share one page: each id once, and every reference to an id finds it."""
    text = render(report, ReportFormat.html).decode()
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) > 10
    assert [i for i in set(ids) if ids.count(i) > 1] == []
    for target in re.findall(r'(?:url\(#|href="#)([^")]+)', text):
        assert target in ids, target
