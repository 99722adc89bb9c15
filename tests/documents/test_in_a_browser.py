"""The papers a court reads, opened in a real browser (Debian's chromium, headless): each renders
with its own style sheet and nothing else, prints to A4 with no text cut off, and holds no
script (none in the page, and its policy would refuse one). One browser for the module."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.support.api import Api
from tests.support.browser import chromium

# A4 less the page's margins (210 mm - 2 x 16 mm), in CSS pixels: the width a printed page
# lays its text out in.
A4_TEXT_WIDTH = round((210 - 32) / 25.4 * 96)
A4_HEIGHT = round(297 / 25.4 * 96)
UNBROKEN = "Überlänge" * 20  # one word longer than any column (titles are up to 200)
# Every element whose content is wider than its box: text a printed page would cut off.
CLIPPED = """() => [...document.querySelectorAll('*')]
  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .map(e => e.tagName + ': ' + e.textContent.slice(0, 60))"""


@pytest.fixture(scope="module")
def papers(module_api: Api) -> dict[str, Any]:
    """A mother whose records hold long names, long unbroken words and markup."""
    api = module_api
    mother = api.mother(first_name="Siân", last_name="O'Connor-Llewellyn-Ap-Gruffydd")
    her = mother["id"]
    child = api.child(her, local_authority_code="801")["id"]
    proceedings = {
        "mother_id": her,
        "child_ids": [child],
        "court_name": "Bristol Civil and Family Justice Centre, " + "Redcliff Street " * 4,
        "issued_on": "2025-06-01",
        "case_number": "BS25C00042",
    }
    assert api.post("admin", "/v1/proceedings", proceedings).status_code == 201
    for n, title in enumerate([UNBROKEN, "<script>alert('x')</script>", "Triple P"]):
        item = {
            "category": "parenting_programme",
            "title": title,
            "provider": UNBROKEN[:90],
            "started_on": f"2025-0{n + 1}-01",
            "hours": None if n else 12.5,
        }
        assert api.post("admin", f"/v1/mothers/{her}/evidence", item).status_code == 201
    return {"mother": her, "token": api.tokens["ewi_worker"]}


@pytest.fixture(scope="module")
def browser(papers: dict[str, Any], live_server: str) -> Iterator[Browser]:
    """Launched once everything it reads is recorded (Playwright holds this thread's loop)."""
    with chromium() as launched:
        yield launched


@dataclass
class Opened:
    policy: str
    requested: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def context(browser: Browser, papers: dict[str, Any]) -> Iterator[BrowserContext]:
    made = browser.new_context(
        extra_http_headers={"Authorization": f"Bearer {papers['token']}"},
        viewport={"width": A4_TEXT_WIDTH, "height": A4_HEIGHT},
    )
    yield made
    made.close()


@pytest.mark.parametrize("document", ["chronology", "evidence-bundle"])
def test_renders_prints_to_a4_unclipped_and_holds_no_script(
    context: BrowserContext, live_server: str, papers: dict[str, Any], document: str
) -> None:
    page = context.new_page()
    opened = Opened(policy="")
    page.on("request", lambda request: opened.requested.append(request.url))
    page.on(
        "console", lambda message: message.type == "error" and opened.errors.append(message.text)
    )
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    url = f"{live_server}/v1/mothers/{papers['mother']}/{document}"
    response = page.goto(url, wait_until="load")  # as a browser asks: Accept prefers HTML
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "script-src 'none'" in policy and "default-src 'none'" in policy
    # Rendered, with its own style sheet (its hash allowed by the policy: no refusal logged).
    assert page.locator("h1").inner_text().endswith("Siân O'Connor-Llewellyn-Ap-Gruffydd")
    collapse = "e => getComputedStyle(e).borderCollapse"
    assert page.locator("table").first.evaluate(collapse) == "collapse"
    assert page.locator("tbody tr").count() >= 3
    # No script: none in the page, the typed one shown as text.
    assert page.locator("script").count() == 0
    assert page.get_by_text("<script>alert('x')</script>").count() >= 1
    # Printed: at A4's width, nothing is wider than its box, the long word wrapped.
    page.emulate_media(media="print")
    assert page.evaluate(CLIPPED) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= A4_TEXT_WIDTH
    printed = page.pdf(format="A4", print_background=True)
    assert printed.startswith(b"%PDF-")
    assert opened.requested == [url]  # it asked for nothing else
    assert opened.errors == []
    page.close()
