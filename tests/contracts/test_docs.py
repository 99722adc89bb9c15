"""The API's page for people works on a network that reaches nothing but this service: opened in a
real browser (Debian's chromium, installed by `make browser`), it renders from this host alone."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route

from tac_api.config import Settings
from tac_api.main import create_app
from tests.support.api import Api
from tests.support.browser import chromium
from tests.support.servers import serving


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@dataclass
class Visit:
    """What a page asked for while it loaded, and what went wrong in it."""

    page: Page
    requested: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page and the contract need no database: served once, not once per database."""
    unused = tmp_path_factory.mktemp("docs") / "never-opened.db"
    with serving(create_app(Settings(database_url=f"sqlite:///{unused}"))) as url:
        yield url


@pytest.fixture
def visit(browser: Browser, docs_server: str) -> Iterator[Visit]:
    own_host = urlsplit(docs_server).netloc
    page = browser.new_page()
    seen = Visit(page)

    def only_this_host(route: Route) -> None:
        url = route.request.url
        seen.requested.append(url)
        if urlsplit(url).netloc == own_host:
            route.continue_()
        else:  # as on a prison's network: nothing else answers
            seen.elsewhere.append(url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(message.text)

    page.route("**/*", only_this_host)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    yield seen
    page.close()


def test_swagger_ui_renders_from_this_host_alone(visit: Visit, docs_server: str) -> None:
    page = visit.page
    page.goto(f"{docs_server}/docs")  # returns once the page's scripts have loaded
    assert visit.elsewhere == []
    # The browser is slow on a busy 2-core machine: a bound on waiting, not a speed test.
    listing = page.locator("#operations-Mothers-listMothers")
    listing.wait_for(state="visible", timeout=60_000)
    assert page.locator(".opblock").count() > 50  # every operation, not a fragment
    # Opened, as a reader would: its parameters and answers render too.
    listing.locator(".opblock-summary").click()
    listing.locator(".parameters-container").wait_for(state="visible", timeout=30_000)
    listing.locator(".responses-wrapper").wait_for(state="visible", timeout=30_000)
    assert f"{docs_server}/openapi.json" in visit.requested
    assert f"{docs_server}/docs/assets/swagger-ui-bundle.js" in visit.requested
    assert visit.elsewhere == []
    assert visit.errors == []


def test_no_redoc_page(api: Api) -> None:
    """ReDoc's sidebar always loads its maker's logo from their CDN: not served at all."""
    assert api.client.get("/redoc").status_code == 404


def test_the_page_allows_this_host_only(api: Api) -> None:
    """Every browser, not only the test's, refuses what the page might reach for elsewhere."""
    response = api.client.get("/docs")
    assert response.status_code == 200
    [policy] = [
        value
        for value in response.headers.get_list("content-security-policy")
        if "default-src" in value
    ]
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["connect-src"] == directives["img-src"].replace(" data:", "") == "'self'"
    assert directives["script-src"].startswith("'self' 'sha256-")
    assert "unsafe" not in directives["script-src"] and "http" not in response.text
