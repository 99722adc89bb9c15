"""The reports as a governor and an evaluator read them: the HTML page in a real browser (Debian's
chromium, headless), the PDF the service prints for A4, and `tac-report --format pdf` run as a
governor's office runs it, with no PDF engine of its own.

The checks are of any good page, not of this one's markup: nothing is cut off (no element's
content wider than a box that clips it, no text outside its cell, heading or chart), no chart is
empty (each draws a mark of some size: a chart of nothing but zeros says nothing), nothing is
fetched from anywhere else, and the PDF's pages are A4 with every line of text on the page.

One small population for the module (reports perturb its counts, which is no matter for how
they print), one browser, one report of each kind fetched once per format."""

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route
from pypdf import PageObject, PdfReader

from tac_api.config import Settings
from tac_api.reports.service import settled_by
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.browser import chromium

# A4 in PDF points and in CSS pixels (96 to the inch).
A4_POINTS = (595.28, 841.89)
A4_PIXELS = (round(210 / 25.4 * 96), round(297 / 25.4 * 96))  # 794 x 1123
PDF = "application/pdf"


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


# The governor's quarter: the last one ended and settled (as the service has it by default),
# and the one before it.
QUARTER_END = settled_by(TODAY, Settings.model_fields["report_settle_days"].default)
QUARTER = (_quarter_start(QUARTER_END), QUARTER_END)
BEFORE_END = QUARTER[0] - timedelta(days=1)
BEFORE = (_quarter_start(BEFORE_END), BEFORE_END)


def _at(day: date, hour: int = 10) -> str:
    return datetime(day.year, day.month, day.day, hour).isoformat() + "Z"


def _hearing(api: Api, mother: str, child: str, day: date, outcome: dict[str, Any]) -> None:
    body = {
        "mother_id": mother,
        "child_ids": [child],
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": _at(day),
        "notified_at": _at(day - timedelta(days=12)),
    }
    created = api.post("admin", "/v1/court-hearings", body)
    assert created.status_code == 201, created.text
    url = f"/v1/court-hearings/{created.json()['id']}/outcome"
    assert api.put("admin", url, outcome, if_match='"1"').status_code == 200


def _evidence(api: Api, mother: str, category: str, day: date, hours: float) -> None:
    item = {
        "category": category,
        "title": "Healthy relationships",
        "started_on": str(day - timedelta(days=20)),
        "completed_on": str(day),
        "hours": hours,
    }
    assert api.post("admin", f"/v1/mothers/{mother}/evidence", item).status_code == 201


# A quarter's hearings: a part of each breakdown large enough to show through the perturbation,
# the others zero (a chart of nothing but zeros is not drawn).
HEARINGS = [{"attended": True, "attended_how": "prison_video_link"}] * 8 + [
    {"attended": False, "barrier": "platform_incompatible"}
] * 6


@pytest.fixture(scope="module")
def population(module_api: Api) -> None:
    """Twelve women at Eastwood Park and three at Send, supported since before the trend's
    first quarter, with hearings in the quarter and the one before and evidence in the quarter:
    enough that each chart has something to draw."""
    if not module_api.database_url.startswith("sqlite"):
        # How a report prints does not hang on the database: its figures on PostgreSQL are the
        # counting tests' (and the answers' negotiation, test_report_formats.py's). Once is
        # enough of a minute's drawing and printing.
        pytest.skip("printed and opened in the browser on SQLite only")
    api = module_api
    supported_from = str(BEFORE[0] - timedelta(days=300))
    families: list[tuple[str, str]] = []
    for n in range(15):
        mother = api.mother(
            prison_code="EWI" if n < 12 else "SDI",
            date_of_birth=f"{1984 + n % 12}-0{1 + n % 9}-15",
            ethnicity=["white_british", "black_african", "asian_indian", None][n % 4],
            domestic_abuse_history=[True, False, None][n % 3],
            supported_from=supported_from,
            reception_date=supported_from,
        )
        child = api.child(mother["id"], legal_status=["C2", "E1"][n % 2])
        families.append((mother["id"], child["id"]))
    for start, hearings in ((QUARTER[0], HEARINGS), (BEFORE[0], HEARINGS[:8])):
        for n, outcome in enumerate(hearings):
            mother, child = families[n % len(families)]
            _hearing(api, mother, child, start + timedelta(days=5 + n), outcome)
    for n in range(8):
        mother, _ = families[n]
        _evidence(api, mother, "course", QUARTER[0] + timedelta(days=30 + n), 6.5 + n)


@dataclass
class Reports:
    """Where each report is, for the browser, the PDF and the command."""

    server: str
    governor: str  # the report's path and query
    programme: str
    tokens: dict[str, str]
    pdfs: dict[str, bytes] = field(default_factory=dict)
    command: subprocess.CompletedProcess[str] | None = None  # tac-report, for the governor's


GOVERNOR_QUERY = {"from": str(QUARTER[0]), "to": str(QUARTER[1])}
PROGRAMME_QUERY = {"from": str(BEFORE[0]), "to": str(QUARTER[1])}
QUARTER_NAME = f"{QUARTER[0]:%Y}-Q{(QUARTER[0].month - 1) // 3 + 1}"


def tac_report(server: str, token: str, out: Path) -> subprocess.CompletedProcess[str]:
    """`tac-report governor --quarter ... --format pdf` as a governor's office runs it: its own
    process, the service's address and her token, and WeasyPrint not importable (as on a
    machine where it is not installed)."""
    command = [
        sys.executable,
        "-c",
        "import sys; sys.modules['weasyprint'] = None; "  # any import of it fails
        "from tac_api.reports.cli import app; app(prog_name='tac-report')",
        *("governor", "--quarter", QUARTER_NAME, "--format", "pdf", "--out", str(out)),
    ]
    environment = os.environ | {"TAC_API_URL": server, "TAC_API_TOKEN": token}
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def reports(
    population: None, module_api: Api, live_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Reports:
    found = Reports(
        live_server,
        f"/v1/reports/governor?{urlencode(GOVERNOR_QUERY)}",
        f"/v1/reports/programme?{urlencode(PROGRAMME_QUERY)}",
        {"governor": module_api.tokens["ewi_governor"], "programme": module_api.tokens["admin"]},
    )
    # Each printed once (WeasyPrint takes its moment), before the browser holds this thread:
    # the governor's as tac-report fetches it, the programme's as any client asks for it.
    out = tmp_path_factory.mktemp("tac-report") / "governor.pdf"
    found.command = tac_report(live_server, found.tokens["governor"], out)
    found.pdfs["governor"] = out.read_bytes() if out.exists() else b""
    answer = httpx.get(
        live_server + found.programme,
        headers={"Authorization": f"Bearer {found.tokens['programme']}", "Accept": PDF},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == PDF
    found.pdfs["programme"] = answer.content
    return found


@pytest.fixture(scope="module")
def browser(reports: Reports) -> Iterator[Browser]:
    """Launched once everything it reads is recorded (Playwright holds this thread's loop)."""
    with chromium() as launched:
        yield launched


@dataclass
class Opened:
    page: Page
    url: str
    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_report(browser: Browser, reports: Reports, kind: str, width: int) -> Opened:
    """The report's page as a browser asks for it (its Accept prefers HTML), on a network that
    reaches nothing but the service."""
    context: BrowserContext = browser.new_context(
        extra_http_headers={"Authorization": f"Bearer {reports.tokens[kind]}"},
        viewport={"width": width, "height": A4_PIXELS[1]},
    )
    page = context.new_page()
    opened = Opened(page, reports.server + getattr(reports, kind))
    own_host = urlsplit(reports.server).netloc

    def only_this_host(route: Route) -> None:
        if urlsplit(route.request.url).netloc == own_host:
            route.continue_()
        else:
            opened.elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_host)
    page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    response = page.goto(opened.url, wait_until="load")
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return opened


# Everything a reader would find cut off, as "what: its text". An element that clips its
# content (overflow other than visible) and whose content is wider or taller than it; text
# outside the element it is written in (a cell, a heading, a legend's item) or outside the page;
# a chart's text outside the chart (an SVG shows nothing beyond its own box).
CLIPPED = """() => {
  const found = [];
  const say = (e, why) => found.push(why + ' ' + e.tagName.toLowerCase() + ': ' +
    (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 80));
  const page = document.documentElement.clientWidth;
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('svg')) continue;
    const style = getComputedStyle(e);
    if (style.display === 'none' || style.visibility === 'hidden') continue;
    const clipsX = style.overflowX !== 'visible', clipsY = style.overflowY !== 'visible';
    if ((clipsX && e.scrollWidth > e.clientWidth + 1) ||
        (clipsY && e.clientHeight > 0 && e.scrollHeight > e.clientHeight + 1)) say(e, 'overflows');
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const holder = node.parentElement;
    if (holder.closest('svg')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const text = range.getBoundingClientRect(), box = holder.getBoundingClientRect();
    if (text.width === 0) continue;
    if (text.left < box.left - 1 || text.right > box.right + 1) say(holder, 'text outside');
    if (text.left < -1 || text.right > page + 1) say(holder, 'off the page');
  }
  for (const svg of document.querySelectorAll('svg')) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const r = text.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 ||
          r.bottom > box.bottom + 1) say(text, 'chart text outside the chart');
    }
    if (box.right > page + 1) say(svg, 'chart off the page');
  }
  return found;
}"""

# Each chart (a figure of class chart, else any SVG on the page) with what it draws: its marks,
# the filled shapes that are neither a background (most of the chart) nor a legend's swatch,
# and how many of them have a size. A bar of 0 has none.
CHARTS = """() => {
  const charts = [...document.querySelectorAll('figure.chart')];
  const drawings = charts.length ? charts : [...document.querySelectorAll('svg')];
  return drawings.map(chart => {
    const svgs = chart.tagName.toLowerCase() === 'svg' ? [chart]
      : [...chart.querySelectorAll('svg')];
    let marks = 0, drawn = 0;
    for (const svg of svgs) {
      const whole = svg.getBoundingClientRect();
      for (const shape of svg.querySelectorAll('path, rect, circle, ellipse, polygon')) {
        if (shape.closest('defs, clipPath, [id^="legend"], [class*="legend"]')) continue;
        const style = getComputedStyle(shape);
        const fill = style.fill;
        if (!fill || fill === 'none' || fill === 'rgb(255, 255, 255)' ||
            fill === 'rgba(0, 0, 0, 0)' || style.fillOpacity === '0') continue;
        const r = shape.getBoundingClientRect();
        if (r.width * r.height > 0.5 * whole.width * whole.height) continue;  // a background
        marks += 1;
        if (r.width > 0.5 && r.height > 0.5) drawn += 1;
      }
    }
    const caption = chart.querySelector('figcaption');
    return {caption: caption ? caption.textContent.trim() : '', svgs: svgs.length, marks, drawn};
  });
}"""


def page_text_width(page: Page) -> int:
    """The width A4 leaves for the page's text: 794 px less the margins its @page rules set
    (WeasyPrint's 75 px each side where they set none)."""
    return int(
        page.evaluate(
            """(paper) => {
      let left = '75px', right = '75px';
      const walk = rules => {
        for (const rule of rules) {
          if (rule.cssRules && rule.type !== CSSRule.PAGE_RULE) walk(rule.cssRules);  // @media
          if (rule.type !== CSSRule.PAGE_RULE || rule.selectorText) continue;  // not :first
          left = rule.style.marginLeft || left;  // a shorthand's too
          right = rule.style.marginRight || right;
        }
      };
      for (const sheet of document.styleSheets) walk(sheet.cssRules);
      const measure = value => {
        const probe = document.createElement('div');
        probe.style.width = value;
        document.body.append(probe);
        const width = probe.getBoundingClientRect().width;
        probe.remove();
        return width;
      };
      return paper - measure(left) - measure(right);
    }""",
            A4_PIXELS[0],
        )
    )


@pytest.mark.parametrize("kind", ["governor", "programme"])
def test_the_page_shows_everything_uncut_and_draws_every_chart(
    browser: Browser, reports: Reports, kind: str
) -> None:
    opened = open_report(browser, reports, kind, width=1280)
    page = opened.page
    assert page.locator("h1").count() == 1 and page.locator("table").count() >= 1
    assert page.evaluate(CLIPPED) == []
    charts = page.evaluate(CHARTS)
    assert charts, "no chart at all over a population with something to show"
    for chart in charts:
        assert chart["svgs"] >= 1, chart
        assert chart["drawn"] >= 1, f"an empty chart: {chart}"
    # Printed: at the width A4 leaves for text, nothing is cut off either.
    page.emulate_media(media="print")
    width = page_text_width(page)
    assert 500 < width <= A4_PIXELS[0]
    page.set_viewport_size({"width": width, "height": A4_PIXELS[1]})
    assert page.evaluate(CLIPPED) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert opened.elsewhere == []  # it asked for nothing anywhere else
    assert opened.errors == []
    page.context.close()


def labels(report: dict[str, Any]) -> list[str]:
    """What a reader must find in any format: the sections' titles and the figures' labels."""
    found = []
    for section in report["sections"]:
        found.append(section["title"])
        found += [figure["label"] for figure in section["figures"]]
    return found


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def read_page(sheet: PageObject) -> tuple[str, list[tuple[str, float, float]]]:
    """A PDF page's text, and each line of it whose start lies off the page (where it starts:
    the text matrix's origin, in the page's space)."""
    box = sheet.mediabox
    width, height = float(box.width), float(box.height)
    outside: list[tuple[str, float, float]] = []

    def seen(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if text.strip() and not (-1 <= x <= width + 1 and -1 <= y <= height + 1):
            outside.append((text, x, y))

    return sheet.extract_text(visitor_text=seen), outside


def check_pdf(body: bytes, report: dict[str, Any]) -> int:
    """A4 pages, every line of text on its page, every label printed; the number of pages."""
    assert body.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(body))
    printed = []
    for number, sheet in enumerate(reader.pages, start=1):
        assert float(sheet.mediabox.width) == pytest.approx(A4_POINTS[0], abs=1), number
        assert float(sheet.mediabox.height) == pytest.approx(A4_POINTS[1], abs=1), number
        text, outside = read_page(sheet)
        assert outside == [], f"text off page {number}"
        printed.append(text)
    everything = words(" ".join(printed))
    for label in labels(report):
        assert words(label) in everything, label
    return len(reader.pages)


def report_json(module_api: Api, reports: Reports, kind: str) -> dict[str, Any]:
    who = "ewi_governor" if kind == "governor" else "admin"
    answer = module_api.get(who, getattr(reports, kind))
    assert answer.status_code == 200
    return answer.json()


@pytest.mark.parametrize("kind", ["governor", "programme"])
def test_the_pdf_is_a4_with_every_label_on_the_page_and_opens_in_the_browser(
    browser: Browser, reports: Reports, module_api: Api, kind: str, tmp_path: Path
) -> None:
    body = reports.pdfs[kind]
    assert body, reports.command and reports.command.stderr  # tac-report wrote none
    pages = check_pdf(body, report_json(module_api, reports, kind))
    # Chromium shows a PDF in its own viewer, headless too: it reads this one as a document of
    # as many pages (the viewer's page count, from its toolbar).
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(body)
    page = browser.new_page()
    page.goto(path.as_uri())
    for _ in range(300):  # at most 30 s on a busy machine: a bound, not a speed test
        frames = [f for f in page.frames if f.url.startswith("chrome-extension://")]
        if frames:
            break
        page.wait_for_timeout(100)
    assert frames, "Chromium did not open its PDF viewer"
    frames[0].wait_for_function(
        """() => { const v = document.querySelector('pdf-viewer');
          const bar = v && v.shadowRoot && v.shadowRoot.querySelector('viewer-toolbar');
          const at = bar && bar.shadowRoot && bar.shadowRoot.querySelector('viewer-page-selector');
          return at && at.docLength > 0; }""",
        timeout=30_000,
    )
    length = frames[0].evaluate(
        """() => document.querySelector('pdf-viewer').shadowRoot.querySelector('viewer-toolbar')
          .shadowRoot.querySelector('viewer-page-selector').docLength"""
    )
    assert length == pages
    page.close()


def test_tac_report_writes_the_services_pdf_with_no_pdf_engine_of_its_own(
    reports: Reports,
) -> None:
    """The governor's PDF above is the one tac-report wrote, in a process where WeasyPrint
    could not be imported: the service printed it. `--quarter` named the quarter."""
    done = reports.command
    assert done is not None and done.returncode == 0, done and done.stderr
    assert "wrote " in done.stderr and "governor.pdf" in done.stderr
    assert reports.pdfs["governor"].startswith(b"%PDF-")
