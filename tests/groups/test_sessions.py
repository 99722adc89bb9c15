"""Group sessions: who records one and where, when it was held, who facilitated, and the list."""

from datetime import timedelta
from typing import Any

import pytest

from tests.support import groups
from tests.support.api import Api
from tests.support.audit import audit_of
from tests.support.bodies import TODAY
from tests.support.groups import SESSIONS, etag, session_body
from tests.support.sql import count


@pytest.fixture
def staff(api: Api) -> dict[str, Any]:
    """Two facilitators in Eastwood Park, one who left last month, and one in Send."""
    return {
        "eleri": groups.facilitator(api)["id"],
        "siobhan": groups.facilitator(api, name="Siobhán O'Neill", role="advocate")["id"],
        "gone": groups.facilitator(api, name="Rhian Morgan", left_on=str(TODAY - timedelta(30)))[
            "id"
        ],
        "send": groups.facilitator(api, "SDI", name="Aoife Ní Bhriain")["id"],
    }


def problem_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


def test_a_prison_social_worker_records_her_own_prisons_session(
    api: Api, staff: dict[str, Any]
) -> None:
    made = api.post("ewi_worker", SESSIONS, session_body([staff["eleri"], staff["siobhan"]]))
    assert made.status_code == 201, made.text
    group = made.json()
    assert made.headers["Location"] == f"{SESSIONS}/{group['id']}"
    assert made.headers["ETag"] == '"1"'
    assert group["prison_code"] == "EWI"
    assert group["duration_minutes"] == 120  # the fortnightly two-hour group
    assert group["activity"] == "Making memory boxes"
    assert group["activity_chosen_by_members"] is True
    assert sorted(group["facilitator_ids"]) == sorted([staff["eleri"], staff["siobhan"]])
    assert audit_of(api, group["id"]) == [("collect", "group_session", "succeeded")]
    assert api.get("ewi_worker", f"{SESSIONS}/{group['id']}").json() == group
    # Another prison's: not hers to record, nor to read.
    send = session_body([staff["send"]], prison_code="SDI")
    assert problem_fields(api.post("ewi_worker", SESSIONS, send)) == ["prison_code"]
    assert api.get("sdi_worker", f"{SESSIONS}/{group['id']}").status_code == 404
    assert api.post("admin", SESSIONS, send).status_code == 201
    # Never a local authority's or a governor's: other women attend it.
    for who in ("bristol", "bristol_system", "ewi_governor"):
        assert api.get(who, f"{SESSIONS}/{group['id']}").status_code == 403
        assert api.post(who, SESSIONS, session_body([staff["eleri"]])).status_code == 403


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # Recorded once held: a planned session that did not happen would count as held.
        ({"held_on": str(TODAY + timedelta(days=1))}, "held_on"),
        ({"facilitator_ids": []}, "facilitator_ids"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 10**12}, "duration_minutes"),
        ({"activity": "  "}, "activity"),
        ({"activity": "Yoga\x00"}, "activity"),
        ({"prison_code": "XYZ"}, "prison_code"),
    ],
)
def test_what_a_session_is_refused_for(
    api: Api, staff: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    body = session_body([staff["eleri"]]) | changes
    assert problem_fields(api.post("admin", SESSIONS, body)) == [field]
    assert count(api, "group_session") == 0


def test_facilitators_are_staff_of_its_prison_who_had_not_left(
    api: Api, staff: dict[str, Any]
) -> None:
    named = [staff["eleri"], staff["send"], staff["gone"], staff["eleri"]]
    refused = api.post("admin", SESSIONS, session_body(named))
    assert problem_fields(refused) == [
        "facilitator_ids.1",  # Send's directory, not Eastwood Park's
        "facilitator_ids.2",  # left before the session
        "facilitator_ids.3",  # named twice
    ]
    assert count(api, "group_session") + count(api, "group_facilitator") == 0
    # Held before she left: she facilitated it.
    before = str(TODAY - timedelta(days=40))
    group = groups.group_session(api, [staff["gone"]], held_on=before)
    assert group["facilitator_ids"] == [staff["gone"]]


def test_change_a_session_and_replace_its_facilitators(api: Api, staff: dict[str, Any]) -> None:
    group = groups.group_session(api, [staff["eleri"]])
    url = f"{SESSIONS}/{group['id']}"
    assert api.patch("ewi_worker", url, {"activity": "Baking"}).status_code == 428
    assert api.patch("ewi_worker", url, {"activity": "Baking"}, '"9"').status_code == 412
    replaced = api.patch("ewi_worker", url, {"facilitator_ids": [staff["siobhan"]]}, etag(group))
    assert replaced.status_code == 200, replaced.text
    # Only the facilitators changed: still a change, its version moved.
    assert replaced.json()["facilitator_ids"] == [staff["siobhan"]]
    assert replaced.json()["version"] == 2
    same = api.patch("ewi_worker", url, {"facilitator_ids": [staff["siobhan"]]}, '"2"')
    assert same.json()["version"] == 2  # nothing changed
    # A move to a day after one facilitator left, or into the future, is refused.
    gone = api.patch("admin", url, {"facilitator_ids": [staff["gone"]]}, '"2"')
    assert problem_fields(gone) == ["facilitator_ids.0"]
    later = api.patch("admin", url, {"held_on": str(TODAY + timedelta(days=7))}, '"2"')
    assert problem_fields(later) == ["held_on"]
    assert problem_fields(api.patch("admin", url, {"held_on": None}, '"2"')) == ["held_on"]
    assert problem_fields(api.patch("admin", url, {"prison_code": "SDI"}, '"2"')) == ["prison_code"]
    assert api.get("admin", url).json() == replaced.json()
    assert api.patch("sdi_worker", url, {"activity": "Baking"}, '"2"').status_code == 404


def test_the_list_by_prison_and_days(api: Api, staff: dict[str, Any]) -> None:
    days = [TODAY - timedelta(days=n) for n in (42, 28, 14)]
    made = [groups.group_session(api, [staff["eleri"]], held_on=str(day)) for day in days]
    groups.group_session(api, [staff["send"]], prison_code="SDI")
    page = api.get("ewi_worker", SESSIONS, params={"limit": 2})
    assert [g["id"] for g in page.json()["items"]] == [g["id"] for g in made[:2]]
    rest = api.get("ewi_worker", SESSIONS, params={"cursor": page.json()["next_cursor"]})
    assert [g["id"] for g in rest.json()["items"]] == [made[2]["id"]]
    window = {"from": str(days[1]), "to": str(days[2])}
    assert [g["id"] for g in api.get("ewi_worker", SESSIONS, params=window).json()["items"]] == [
        made[1]["id"]
    ]
    assert len(api.get("admin", SESSIONS).json()["items"]) == 4
    assert len(api.get("admin", SESSIONS, params={"prison_code": "SDI"}).json()["items"]) == 1
    # Her own prison's only, whatever she asks for.
    assert api.get("ewi_worker", SESSIONS, params={"prison_code": "SDI"}).json()["items"] == []
    backwards = {"from": str(days[2]), "to": str(days[0])}
    assert problem_fields(api.get("admin", SESSIONS, params=backwards)) == ["to"]
    for group in made:
        assert ("consult", "group_session", "succeeded") in audit_of(api, group["id"])
