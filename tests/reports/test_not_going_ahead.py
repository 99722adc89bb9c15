"""The governor report counts hearings and meetings that did not go ahead apart: a vacated
hearing is not "listed and missed", nor on late notice, nor awaiting an outcome."""

from datetime import timedelta
from typing import Any

import pytest

from tac_api.reports.service import quarters_between
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.reports import exact_figures

# A calendar quarter with at least 30 days gone by: today's, or the one before it. Records are
# dated back from its last day gone by (today, or the quarter's last day).
PERIOD = quarters_between(TODAY - timedelta(days=30), TODAY - timedelta(days=30))[0]
LAST = min(TODAY, PERIOD.end)


def at(offset: int) -> str:
    return f"{LAST + timedelta(days=offset)}T10:00:00Z"


def figures(api: Api) -> dict[str, Any]:
    """The period's EWI report, its true counts, every count shown (no `c`), by key."""
    query = {"from": str(PERIOD.start), "to": str(PERIOD.end)}
    with exact_figures(api, threshold=0):
        response = api.get("ewi_governor", "/v1/reports/governor", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    return {f["key"]: f["current"]["value"] for s in body["sections"] for f in s["figures"]}


def decide(api: Api, path: str, record: dict[str, Any], body: dict[str, Any]) -> dict:
    url = f"/v1/{path}/{record['id']}/status"
    response = api.post("admin", url, body, f'"{record["version"]}"')
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def case(api: Api) -> dict[str, Any]:
    mother = api.mother(prison_code="EWI", supported_from=str(TODAY - timedelta(days=200)))
    child = api.child(mother["id"])
    return {"mother_id": mother["id"], "child_ids": [child["id"]]}


def hearing(api: Api, case: dict[str, Any], starts: int, notice: int) -> dict[str, Any]:
    body = {
        **case,
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": at(starts),
        "notified_at": at(starts - notice),
    }
    response = api.post("admin", "/v1/court-hearings", body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_vacated_hearing_is_not_listed_and_missed(api: Api, case: dict) -> None:
    # Vacated by the court, notified late, no outcome: counted apart, and only there.
    vacated = hearing(api, case, -10, notice=2)
    decide(
        api, "court-hearings", vacated, {"status": "vacated", "decided_by": "court", "reason": "x"}
    )
    # Held, and she missed it.
    missed = hearing(api, case, -12, notice=10)
    outcome = {"attended": False, "barrier": "late_notice"}
    put = api.put("admin", f"/v1/court-hearings/{missed['id']}/outcome", outcome, if_match='"1"')
    assert put.status_code == 200, put.text
    # Adjourned by the parties to a new date, itself notified late and awaiting its outcome.
    adjourned = hearing(api, case, -15, notice=20)
    new_date = {"starts_at": at(-5), "notified_at": at(-8)}
    body = {"status": "adjourned", "decided_by": "parties", "reason": "x", "adjourned_to": new_date}
    decide(api, "court-hearings", adjourned, body)

    got = figures(api)
    assert got["hearings.listed"] == 4
    assert got["hearings.held"] == 1 and got["hearings.missed"] == 1
    assert got["hearings.missed_by_barrier.late_notice"] == 1
    assert got["hearings.awaiting_outcome"] == 1  # the new date only
    assert got["hearings.late_notice"] == 1  # the new date only: not the vacated one
    # Two notices (10 and 3; never the vacated hearing's): fewer than five, so no median (z).
    assert got["hearings.median_notice_days"] is None
    assert got["hearings.did_not_go_ahead"] == 2
    assert got["hearings.did_not_go_ahead_as.vacated"] == 1
    assert got["hearings.did_not_go_ahead_as.adjourned"] == 1
    assert got["hearings.did_not_go_ahead_as.cancelled"] == 0
    assert got["hearings.did_not_go_ahead_decided_by.court"] == 1
    assert got["hearings.did_not_go_ahead_decided_by.parties"] == 1


def test_a_cancelled_meeting_is_not_missed_nor_on_a_platform_she_could_not_join(
    api: Api, case: dict
) -> None:
    made = []
    for starts, extra in ((-10, {}), (-9, {"attended": False, "barrier": "platform_incompatible"})):
        body = {
            **case,
            "meeting_type": "core_group",
            "platform": "microsoft_teams",
            "starts_at": at(starts),
            "notified_at": at(starts - 9),
            **extra,
        }
        response = api.post("admin", "/v1/meetings", body)
        assert response.status_code == 201, response.text
        made.append(response.json())
    decide(api, "meetings", made[0], {"status": "cancelled", "decided_by": "prison", "reason": "x"})

    got = figures(api)
    assert got["meetings.listed"] == 2
    assert got["meetings.missed"] == 1 and got["meetings.attendance_not_recorded"] == 0
    assert got["meetings.on_platform_prison_cannot_join"] == 1
    assert got["meetings.did_not_go_ahead"] == 1
    assert got["meetings.did_not_go_ahead_as.cancelled"] == 1
    assert got["meetings.did_not_go_ahead_decided_by.prison"] == 1
