"""A quarter is reported once it has ended and settled, and its figures, once published, stand:
no later change to a record moves one (a figure drawn afresh would show which group changed)."""

from datetime import date, timedelta
from typing import Any

import pytest

from tac_api.db import utctoday
from tac_api.reports.service import quarter_of, settled_by
from tests.support.api import Api
from tests.support.reports import exact_figures

QUARTER = (date(2026, 4, 1), date(2026, 6, 30))


def governor(api: Api, first: date = QUARTER[0], last: date = QUARTER[1]) -> Any:
    return api.get(
        "ewi_governor", "/v1/reports/governor", params={"from": str(first), "to": str(last)}
    )


def figures(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "sections": [
            [(f["key"], f["current"], f["previous"]) for f in s["figures"]]
            for s in body["sections"]
        ],
        "trend": body["trend"],
    }


def hearing(api: Api, mother_id: str, child_id: str, starts: str) -> None:
    response = api.post(
        "admin",
        "/v1/court-hearings",
        {
            "mother_id": mother_id,
            "child_ids": [child_id],
            "court_name": "Bristol Civil and Family Justice Centre",
            "hearing_type": "case_management",
            "starts_at": f"{starts}T10:00:00Z",
            "notified_at": f"{starts}T09:00:00Z",
        },
    )
    assert response.status_code == 201, response.text


def test_a_published_figure_stands_whatever_changes_after(api: Api) -> None:
    women = [
        api.mother(
            reception_date="2026-01-05",
            supported_from="2026-01-05",
            domestic_abuse_history=n % 2 == 0,
        )
        for n in range(8)
    ]
    child = api.child(women[0]["id"])["id"]
    for n in range(6):
        hearing(api, women[0]["id"], child, f"2026-05-{n + 4:02d}")
    first = governor(api)
    assert first.status_code == 200, first.text
    # A hearing recorded late, and a woman's history corrected, after the quarter was published.
    hearing(api, women[0]["id"], child, "2026-05-20")
    corrected = api.patch(
        "admin", f"/v1/mothers/{women[1]['id']}", {"domestic_abuse_history": True}, '"1"'
    )
    assert corrected.status_code == 200, corrected.text
    again = governor(api)
    assert again.status_code == 200, again.text
    assert figures(again.json()) == figures(first.json())
    # The counts did move: it is the publication that stands.
    with exact_figures(api):
        exact = {
            f["key"]: f["current"]["value"]
            for s in governor(api).json()["sections"]
            for f in s["figures"]
        }
    assert exact["hearings.listed"] == 7
    assert exact["demographics.domestic_abuse.yes"] == 5


def test_exact_figures_publish_nothing(api: Api) -> None:
    api.mother(reception_date="2026-01-05", supported_from="2026-01-05")
    with exact_figures(api):
        assert governor(api).status_code == 200
    assert api.sql("SELECT count(*) FROM published_figure")[0][0] == 0
    assert governor(api).status_code == 200
    # The quarter and the three before it, for the trend.
    assert api.sql("SELECT count(DISTINCT quarter) FROM published_figure")[0][0] == 4


def test_a_quarter_is_reported_once_it_has_settled(api: Api) -> None:
    today = utctoday()
    this_quarter = quarter_of(today)
    current = governor(api, this_quarter, settled_by(this_quarter + timedelta(days=100), 0))
    assert current.status_code == 422, current.text
    assert current.headers["content-type"] == "application/problem+json"
    assert "once it has ended" in current.json()["errors"][0]["message"]
    last = settled_by(today, 14)
    assert governor(api, quarter_of(last), last).status_code == 200
    assert api.sql("SELECT count(*) FROM published_figure")[0][0] > 0


@pytest.mark.parametrize("settle_days", [0, 14, 92])
def test_settling_is_configurable(api: Api, settle_days: int) -> None:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    original = settings.report_settle_days
    settings.report_settle_days = settle_days
    try:
        ended = quarter_of(utctoday()) - timedelta(days=1)  # the quarter that ended last
        response = governor(api, quarter_of(ended), ended)
        settled = utctoday() - timedelta(days=settle_days) > ended
        assert response.status_code == (200 if settled else 422), response.text
    finally:
        settings.report_settle_days = original


def test_settled_by() -> None:
    assert settled_by(date(2026, 10, 14), 14) == date(2026, 6, 30)
    assert settled_by(date(2026, 10, 15), 14) == date(2026, 9, 30)
    assert settled_by(date(2026, 10, 1), 0) == date(2026, 9, 30)
    assert settled_by(date(2026, 1, 10), 14) == date(2025, 9, 30)


def test_the_programme_report_stands_and_settles_too(api: Api) -> None:
    mother = api.mother(reception_date="2026-01-05", supported_from="2026-01-05")
    default = api.get("admin", "/v1/reports/programme")
    assert default.status_code == 200, default.text
    quarters = default.json()["quarters"]
    assert len(quarters) == 4
    assert quarters[-1]["period"]["to"] == str(settled_by(utctoday(), 14))
    child = api.child(mother["id"])["id"]
    hearing(api, mother["id"], child, quarters[-1]["period"]["from"])
    again = api.get("admin", "/v1/reports/programme")
    assert again.json()["sections"] == default.json()["sections"]
    unsettled = api.get(
        "admin", "/v1/reports/programme", params={"to": str(quarter_of(utctoday()))}
    )
    assert unsettled.status_code == 422, unsettled.text


def test_a_new_quarters_report_counts_only_what_was_never_published(api: Api) -> None:
    """Its previous quarter and trend are the figures published when they were new, whatever
    changed since; only the new quarter is counted."""
    women = [api.mother(reception_date="2025-07-05", supported_from="2025-07-05") for _ in range(6)]
    child = api.child(women[0]["id"])["id"]
    for n in range(6):
        hearing(api, women[0]["id"], child, f"2026-02-{n + 3:02d}")
    first = governor(api, date(2026, 1, 1), date(2026, 3, 31)).json()
    hearing(api, women[0]["id"], child, "2026-02-20")  # late, in the published quarter
    hearing(api, women[0]["id"], child, "2026-05-20")  # in the new one
    new = governor(api).json()  # April to June
    assert api.sql("SELECT count(DISTINCT quarter) FROM published_figure")[0][0] == 5
    listed = next(f for f in new["trend"]["figures"] if f["key"] == "hearings.listed")
    before = next(f for f in first["trend"]["figures"] if f["key"] == "hearings.listed")
    assert listed["values"][:3] == before["values"][1:]  # Jan to Mar as first published
    assert new["trend"]["figures"] == [
        {**f, "values": [*b["values"][1:], f["values"][3]]}
        for f, b in zip(new["trend"]["figures"], first["trend"]["figures"], strict=True)
    ]
    with exact_figures(api):
        exact = governor(api).json()
    previous = {f["key"]: f["previous"] for s in exact["sections"] for f in s["figures"]}
    assert previous["hearings.listed"]["value"] == 7  # the late one counts in the true figures
