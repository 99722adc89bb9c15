"""Her chronology says which hearings and meetings did not go ahead, and who decided."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support import world
from tests.support.api import Api


def at(days: int) -> str:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)
    return when.isoformat().replace("+00:00", "Z")


def decide(api: Api, path: str, record: dict[str, Any], body: dict[str, Any]) -> dict:
    url = f"/v1/{path}/{record['id']}/status"
    response = api.post("ewi_worker", url, body, f'"{record["version"]}"')
    assert response.status_code == 200, response.text
    return response.json()


def test_adjourned_vacated_and_cancelled_are_said(api: Api) -> None:
    family = world.ids(world.family(api))
    common = {"mother_id": family["mother"], "child_ids": [family["bristol"]]}
    hearing = api.post(
        "ewi_worker",
        "/v1/court-hearings",
        {**common, "court_name": "Bristol", "hearing_type": "final", "starts_at": at(5)},
    ).json()
    adjourned = decide(
        api,
        "court-hearings",
        hearing,
        {
            "status": "adjourned",
            "decided_by": "court",
            "reason": "A report is awaited.",
            "adjourned_to": {"starts_at": at(30)},
        },
    )
    meeting = api.post(
        "ewi_worker",
        "/v1/meetings",
        {**common, "meeting_type": "core_group", "platform": "zoom", "starts_at": at(8)},
    ).json()
    decide(api, "meetings", meeting, {"status": "cancelled", "decided_by": "other", "reason": "x"})
    response = api.get("ewi_worker", f"/v1/mothers/{family['mother']}/chronology")
    assert response.status_code == 200, response.text
    said = {e["resource_id"]: e["summary"] for e in response.json()["events"]}
    assert said[hearing["id"]] == (
        "Final hearing at Bristol; adjourned to a new date (decided by the court)"
    )
    assert said[adjourned["adjourned_to_id"]] == "Final hearing at Bristol"
    assert said[meeting["id"]] == "Core group (zoom); cancelled (decided by another)"
    # The reason is the record's to show, not the chronology's.
    assert "report" not in str(said)
