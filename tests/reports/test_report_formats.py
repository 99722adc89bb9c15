"""The reports answer as her chronology and evidence bundle do: JSON by default, the report's page
as HTML with `Accept: text/html`, that page printed as a PDF with `Accept: application/pdf`,
`?format=` over the header; the same scope, refusals and audit in every format.

The page and the PDF are stood in for here (drawing the charts and printing take seconds, and
tests/reports/test_report_in_browser.py opens and reads the real ones): what is tested is which
answer a request gets, from which report, with which headers."""

import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from tac_api import printing
from tac_api.config import Settings
from tac_api.reports import render, routes
from tac_api.reports.service import settled_by
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY

QUARTER_END = settled_by(TODAY, Settings.model_fields["report_settle_days"].default)
QUARTER_START = date(QUARTER_END.year, QUARTER_END.month - 2, 1)
QUARTER_NAME = f"{QUARTER_START:%Y}-Q{(QUARTER_START.month - 1) // 3 + 1}"
GOVERNOR = f"/v1/reports/governor?from={QUARTER_START}&to={QUARTER_END}"
PROGRAMME = f"/v1/reports/programme?from={QUARTER_START}&to={QUARTER_END}"
PRINTED = b"%PDF-1.7\n% printed\n%%EOF\n"
DRAW_PAGE = routes._page  # the real one: the module's requests get a stand-in


@pytest.fixture(scope="module")
def pages(module_api: Api) -> Iterator[list[Any]]:
    """Each report a page was asked of, and each page a PDF was printed from."""
    made: list[Any] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            routes,
            "_page",
            lambda report: made.append(report) or f"<!DOCTYPE html><p>{report.report_id}</p>",
        )
        patch.setattr(printing, "pdf", lambda page: made.append(page) or PRINTED)
        yield made


def get(api: Api, who: str, url: str, accept: str | None = None) -> Any:
    headers = api.headers(who) | ({"Accept": accept} if accept is not None else {})
    return api.client.get(url, headers=headers)


@pytest.mark.parametrize(
    ("query", "accept", "answered"),
    [
        ("", None, "application/json"),
        ("", "*/*", "application/json"),
        ("", "application/json", "application/json"),
        ("", "image/png", "application/json"),  # as the documents: the default, not 406
        ("", "text/html", "text/html; charset=utf-8"),
        ("", "text/html,application/xhtml+xml,*/*;q=0.8", "text/html; charset=utf-8"),
        ("", "application/pdf", "application/pdf"),
        ("", "application/json;q=0.5, application/pdf", "application/pdf"),
        ("&format=pdf", "application/json", "application/pdf"),
        ("&format=json", "application/pdf", "application/json"),
        ("&format=html", None, "text/html; charset=utf-8"),
    ],
)
@pytest.mark.parametrize("report", ["governor", "programme"])
def test_content_negotiation(
    module_api: Api,
    pages: list[Any],
    report: str,
    query: str,
    accept: str | None,
    answered: str,
) -> None:
    who, url = ("ewi_governor", GOVERNOR) if report == "governor" else ("admin", PROGRAMME)
    response = get(module_api, who, url + query, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == answered
    assert response.headers["vary"] == "Accept"
    if answered == "application/json":
        assert response.json()["kind"] == report
        return
    json = get(module_api, who, url).json()
    name = f"governor-report-EWI-{QUARTER_NAME}" if report == "governor" else "programme-report-"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'inline; filename="{name}')
    assert disposition.endswith('.pdf"' if answered == "application/pdf" else '.html"')
    # The page is the same report's as the JSON.
    assert str(pages[-2 if answered == "application/pdf" else -1].report_id) == json["report_id"]
    if answered == "application/pdf":
        assert response.content == PRINTED
        assert pages[-1] == f"<!DOCTYPE html><p>{json['report_id']}</p>"  # printed from it
    else:
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'none'" in policy


def test_a_programme_file_name_says_its_quarters(module_api: Api, pages: list[Any]) -> None:
    response = get(module_api, "admin", PROGRAMME, "application/pdf")
    name = f'inline; filename="programme-report-{QUARTER_NAME}-{QUARTER_NAME}.pdf"'
    assert response.headers["content-disposition"] == name


@pytest.mark.parametrize("accept", ["application/json", "text/html", "application/pdf"])
def test_every_format_is_audited_as_the_disclosure_it_is(
    module_api: Api, pages: list[Any], accept: str
) -> None:
    response = get(module_api, "ewi_governor", GOVERNOR, accept)
    assert response.status_code == 200
    report_id = get(module_api, "ewi_governor", GOVERNOR).json()["report_id"]
    assert trail(module_api, response) == [
        ("ewi_governor", "governor", "disclose", "governor_report", report_id, None, "succeeded")
    ]


@pytest.mark.parametrize("accept", ["text/html", "application/pdf"])
def test_refused_as_in_json_whatever_the_format(
    module_api: Api, pages: list[Any], accept: str
) -> None:
    """A refusal is problem+json in every format, and no page is made for it."""
    before = len(pages)
    month = f"/v1/reports/governor?from={QUARTER_START}&to={QUARTER_START + timedelta(days=27)}"
    for who, url, status in [
        ("ewi_governor", month, 422),  # not a whole quarter
        ("ewi_governor", PROGRAMME, 403),  # admins only
        ("ewi_governor", GOVERNOR + "&prison_code=SDI", 404),  # another prison's
        ("ewi_worker", GOVERNOR, 403),
    ]:
        response = get(module_api, who, url, accept)
        assert response.status_code == status, (url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert len(pages) == before


def test_an_unknown_format_is_422(module_api: Api, pages: list[Any]) -> None:
    response = get(module_api, "ewi_governor", GOVERNOR + "&format=docx")
    assert response.status_code == 422


def test_the_contract_shows_the_printable_answers(module_api: Api) -> None:
    operations = module_api.client.get("/openapi.json").json()["paths"]
    for path in ("/v1/reports/governor", "/v1/reports/programme"):
        answer = operations[path]["get"]["responses"]["200"]
        assert {"application/json", "text/html", "application/pdf"} <= set(answer["content"])
        assert answer["content"]["application/pdf"]["schema"]["format"] == "binary"
        assert "Accept: application/pdf" in operations[path]["get"]["description"]
        parameters = {p["name"] for p in operations[path]["get"]["parameters"]}
        assert "format" in parameters


def test_one_page_is_drawn_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts set matplotlib's process-wide settings as they draw: two pages drawn in two
    worker threads at once could take each other's."""
    drawing, most = 0, 0
    count = threading.Lock()

    def draw(report: Any, fmt: Any) -> bytes:
        nonlocal drawing, most
        with count:
            drawing += 1
            most = max(most, drawing)
        time.sleep(0.05)  # room for another thread to start drawing, if it may
        with count:
            drawing -= 1
        return b"<p>page</p>"

    monkeypatch.setattr(render, "render", draw)
    threads = [threading.Thread(target=DRAW_PAGE, args=(None,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
