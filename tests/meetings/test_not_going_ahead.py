"""Meetings that do not go ahead (adjourned, vacated, cancelled), and the prison_can_join filter."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import world
from tests.support.api import Api
from tests.support.sql import db_id

NOW = datetime.now(UTC).replace(microsecond=0)
MEETINGS = "/v1/meetings"


def at(**offset: float) -> str:
    return (NOW + timedelta(**offset)).isoformat().replace("+00:00", "Z")


def etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'


@pytest.fixture
def family(api: Api) -> dict[str, Any]:
    return world.ids(world.family(api))


def meeting(api: Api, family: dict[str, Any], who: str = "ewi_worker", **fields: Any) -> dict:
    body = {
        "mother_id": family["mother"],
        "child_ids": [family["bristol"]],
        "meeting_type": "looked_after_child_review",
        "starts_at": at(days=10),
        "platform": "microsoft_teams",
        **fields,
    }
    response = api.post(who, MEETINGS, body)
    assert response.status_code == 201, response.text
    return response.json()


def change(api: Api, who: str, record: dict[str, Any], body: dict[str, Any]) -> Any:
    return api.post(who, f"{MEETINGS}/{record['id']}/status", body, etag(record))


ADJOURN = {
    "status": "adjourned",
    "decided_by": "chair",
    "reason": "The chair was called away.",
    "adjourned_to": {"starts_at": at(days=20)},
}


class TestAdjourned:
    def test_makes_the_new_meeting_and_links_both_ways(self, api: Api, family: dict) -> None:
        old = meeting(api, family, prison_can_join=True, invited=False)
        response = change(api, "ewi_worker", old, ADJOURN)
        assert response.status_code == 200, response.text
        shown = response.json()
        assert (shown["status"], shown["status_decided_by"]) == ("adjourned", "chair")
        assert shown["status_reason"] == "The chair was called away."
        assert shown["status_changed_at"] is not None and shown["adjourned_from_id"] is None
        new = api.get("bristol", f"{MEETINGS}/{shown['adjourned_to_id']}").json()
        assert new["adjourned_from_id"] == old["id"] and new["status"] == "scheduled"
        assert new["child_ids"] == old["child_ids"]
        assert (new["meeting_type"], new["platform"]) == (old["meeting_type"], old["platform"])
        # The prison side's choice for the same platform, and the invitation, are kept.
        assert new["prison_can_join"] is True and new["invited"] is False
        assert new["notice_days"] == 19
        listed = {m["id"]: m for m in api.get("ewi_worker", MEETINGS).json()["items"]}
        assert listed[new["id"]]["adjourned_from_id"] == old["id"]
        assert listed[old["id"]]["adjourned_to_id"] == new["id"]

    def test_another_platform_decides_whether_the_prison_joins(
        self, api: Api, family: dict
    ) -> None:
        old = meeting(api, family)
        body = {
            **ADJOURN,
            "adjourned_to": {"starts_at": at(days=2), "platform": "cloud_video_platform"},
        }
        shown = change(api, "ewi_worker", old, body).json()
        new = api.get("ewi_worker", f"{MEETINGS}/{shown['adjourned_to_id']}").json()
        assert new["platform"] == "cloud_video_platform" and new["prison_can_join"] is True
        assert new["late_notice"] is True

    def test_the_new_date_is_required(self, api: Api, family: dict) -> None:
        old = meeting(api, family)
        without = {k: v for k, v in ADJOURN.items() if k != "adjourned_to"}
        response = change(api, "ewi_worker", old, without)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "adjourned_to"
        future = {**ADJOURN, "adjourned_to": {"starts_at": at(days=2), "notified_at": at(days=1)}}
        response = change(api, "ewi_worker", old, future)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "adjourned_to.notified_at"
        assert len(api.get("ewi_worker", MEETINGS).json()["items"]) == 1

    @pytest.mark.parametrize(
        "starts_at", ["0001-01-01T00:00:00Z", at(days=800)], ids=["year_one", "ahead"]
    )
    def test_the_new_date_is_plausible(self, api: Api, family: dict, starts_at: str) -> None:
        old = meeting(api, family)
        implausible = {**ADJOURN, "adjourned_to": {"starts_at": starts_at}}
        response = change(api, "ewi_worker", old, implausible)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "adjourned_to.starts_at"
        assert api.get("ewi_worker", f"{MEETINGS}/{old['id']}").json() == old
        assert len(api.get("ewi_worker", MEETINGS).json()["items"]) == 1


class TestOnlyAScheduledMeeting:
    @pytest.mark.parametrize("status", ["vacated", "cancelled"])
    def test_once(self, api: Api, family: dict, status: str) -> None:
        body = {"status": status, "decided_by": "local_authority", "reason": "Not needed."}
        shown = change(api, "ewi_worker", meeting(api, family), body).json()
        assert shown["status"] == status and shown["adjourned_to_id"] is None
        again = change(api, "ewi_worker", shown, {**body, "status": "cancelled"})
        assert again.status_code == 409 and status in again.json()["detail"]

    def test_a_patch_does_not_revive_it(self, api: Api, family: dict) -> None:
        old = meeting(api, family, starts_at=at(hours=-2))
        body = {"status": "cancelled", "decided_by": "prison", "reason": "Lockdown."}
        shown = change(api, "ewi_worker", old, body).json()
        url = f"{MEETINGS}/{shown['id']}"
        assert api.patch("ewi_worker", url, {"status": "scheduled"}, etag(shown)).status_code == 422
        moved = api.patch("ewi_worker", url, {"starts_at": at(days=3)}, etag(shown))
        assert moved.status_code == 409 and "cancelled" in moved.json()["detail"]
        attended = api.patch("ewi_worker", url, {"attended": True}, etag(shown))
        assert attended.status_code == 409

    def test_an_attended_meeting_took_place(self, api: Api, family: dict) -> None:
        held = meeting(api, family, starts_at=at(hours=-2), attended=True)
        body = {"status": "vacated", "decided_by": "chair", "reason": "x"}
        assert change(api, "ewi_worker", held, body).status_code == 409

    def test_if_match_is_needed(self, api: Api, family: dict) -> None:
        old = meeting(api, family)
        body = {"status": "vacated", "decided_by": "chair", "reason": "x"}
        assert api.post("ewi_worker", f"{MEETINGS}/{old['id']}/status", body).status_code == 428


class TestLocalAuthority:
    def test_for_its_own_children(self, api: Api, family: dict) -> None:
        old = meeting(api, family, who="bristol")
        response = change(api, "bristol", old, ADJOURN)
        assert response.status_code == 200, response.text
        body = {**ADJOURN, "adjourned_to": {"starts_at": at(days=9), "prison_can_join": True}}
        other = meeting(api, family, who="bristol")
        refused = change(api, "bristol", other, body)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "adjourned_to.prison_can_join"

    def test_not_while_another_authority_has_a_child_in_it(self, api: Api, family: dict) -> None:
        both = meeting(api, family, child_ids=[family["bristol"], family["surrey"]])
        body = {"status": "vacated", "decided_by": "chair", "reason": "x"}
        assert change(api, "bristol", both, body).status_code == 422
        theirs = meeting(api, family, child_ids=[family["surrey"]])
        assert change(api, "bristol", theirs, body).status_code == 404


class TestPrisonCanJoinFilter:
    def test_false_finds_the_ones_needing_another_platform(self, api: Api, family: dict) -> None:
        teams = meeting(api, family, platform="microsoft_teams")
        video = meeting(api, family, platform="prison_video_link")

        def listed(value: str) -> list[str]:
            response = api.get("ewi_worker", MEETINGS, params={"prison_can_join": value})
            assert response.status_code == 200, response.text
            return [m["id"] for m in response.json()["items"]]

        assert listed("false") == [teams["id"]]
        assert listed("true") == [video["id"]]
        response = api.get("ewi_worker", MEETINGS, params={"prison_can_join": "maybe"})
        assert response.status_code == 422


def test_a_kept_value_todays_rules_refuse_is_a_422_naming_it(api: Api, family: dict) -> None:
    """The new meeting keeps the old one's children: none left (their link gone below the API)
    is a 422 naming adjourned_to.child_ids, not a 500, and nothing is written."""
    old = meeting(api, family)
    api.sql("DELETE FROM meeting_child WHERE meeting_id = :id", id=db_id(api, old["id"]))
    response = change(api, "ewi_worker", old, ADJOURN)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "adjourned_to.child_ids"
    assert "correct this meeting first" in error["message"]
    assert api.sql("SELECT count(*) FROM meeting")[0][0] == 1
