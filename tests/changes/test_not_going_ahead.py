"""The change feed tells an authority of its children's hearings and meetings that do not go
ahead: `court-hearing.adjourned`, `.vacated`, `.cancelled` and `meeting.*`, with codes and dates
only (never the reason, which is free text)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import world
from tests.support.api import Api

FEED = "/v1/sync/changes"
NOW = datetime.now(UTC).replace(microsecond=0)
REASON = "The mother's barrister was taken ill."


def at(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def feed(api: Api, who: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    while True:
        response = api.get(who, FEED, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        if not page["items"]:
            return found
        found += page["items"]
        params["after"] = page["next_cursor"]


@pytest.fixture
def family(api: Api) -> dict[str, Any]:
    return world.ids(world.family(api))


RECORDS = {
    "court-hearings": (
        "court-hearing",
        {"court_name": "Bristol Family Court", "hearing_type": "final"},
        "court",
        "hearing_type",
    ),
    "meetings": (
        "meeting",
        {"meeting_type": "core_group", "platform": "zoom"},
        "chair",
        "meeting_type",
    ),
}


def made(api: Api, family: dict[str, Any], path: str) -> dict[str, Any]:
    _, fields, _, _ = RECORDS[path]
    body = {
        "mother_id": family["mother"],
        "child_ids": [family["bristol"]],
        "starts_at": at(timedelta(days=10)),
        **fields,
    }
    response = api.post("ewi_worker", f"/v1/{path}", body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("path", list(RECORDS))
def test_each_decision_is_an_event_of_its_own(api: Api, family: dict, path: str) -> None:
    prefix, _, decided_by, type_field = RECORDS[path]
    shown = {}
    for status in ("adjourned", "vacated", "cancelled"):
        record = made(api, family, path)
        body: dict[str, Any] = {"status": status, "decided_by": decided_by, "reason": REASON}
        if status == "adjourned":
            body["adjourned_to"] = {"starts_at": at(timedelta(days=40))}
        response = api.post(
            "ewi_worker", f"/v1/{path}/{record['id']}/status", body, f'"{record["version"]}"'
        )
        assert response.status_code == 200, response.text
        shown[status] = response.json()
    events = feed(api, "bristol_system")
    for status, record in shown.items():
        [event] = [e for e in events if e["type"] == f"{prefix}.{status}"]
        assert event["resource_id"] == record["id"]
        assert event["child_ids"] == [family["bristol"]]
        data = event["data"]
        assert data["status"] == status and data["status_decided_by"] == decided_by
        assert data["status_changed_at"] == record["status_changed_at"]
        assert data["starts_at"] == record["starts_at"] and type_field in data
        assert "status" in data["changed"]
        assert data["adjourned_to_id"] == record["adjourned_to_id"]
        # Codes and dates only: the reason is the record's to show.
        assert REASON not in str(event) and "status_reason" not in data
    adjourned = shown["adjourned"]
    assert next(e for e in events if e["type"] == f"{prefix}.adjourned")["data"][
        "adjourned_to_starts_at"
    ] == at(timedelta(days=40))
    # The new date is a record of its own, told as one.
    created = [e["resource_id"] for e in events if e["type"] == f"{prefix}.created"]
    assert adjourned["adjourned_to_id"] in created
    # Surrey's children are in none of them: it is told nothing.
    assert not [e for e in feed(api, "surrey") if e["type"].startswith(prefix)]
