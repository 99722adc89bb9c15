"""Hearings that do not go ahead: adjourned (to a new date, linked), vacated or cancelled."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import world
from tests.support.api import Api
from tests.support.sql import db_id

NOW = datetime.now(UTC).replace(microsecond=0)
HEARINGS = "/v1/court-hearings"


def at(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'


@pytest.fixture
def family(api: Api) -> dict[str, Any]:
    return world.ids(world.family(api))


def hearing(api: Api, family: dict[str, Any], who: str = "ewi_worker", **fields: Any) -> dict:
    body = {
        "mother_id": family["mother"],
        "child_ids": [family["bristol"]],
        "court_name": "Bristol Civil and Family Justice Centre",
        "court_code": "BRS",
        "hearing_type": "case_management",
        "starts_at": at(timedelta(days=10)),
        **({} if who in ("bristol", "surrey") else {"notified_at": at(timedelta(days=-1))}),
        **fields,
    }
    response = api.post(who, HEARINGS, body)
    assert response.status_code == 201, response.text
    return response.json()


def change(api: Api, who: str, record: dict[str, Any], body: dict[str, Any]) -> Any:
    return api.post(who, f"{HEARINGS}/{record['id']}/status", body, etag(record))


ADJOURN = {
    "status": "adjourned",
    "decided_by": "court",
    "reason": "The judge was unwell.",
    "adjourned_to": {"starts_at": at(timedelta(days=30))},
}


class TestAdjourned:
    def test_makes_the_new_hearing_and_links_both_ways(self, api: Api, family: dict) -> None:
        old = hearing(api, family, attendance_mode="prison_video_link")
        response = change(api, "ewi_worker", old, ADJOURN)
        assert response.status_code == 200, response.text
        shown = response.json()
        assert response.headers["ETag"] == '"2"'
        assert shown["status"] == "adjourned"
        assert shown["status_decided_by"] == "court"
        assert shown["status_reason"] == "The judge was unwell."
        assert shown["status_changed_at"] is not None
        assert shown["adjourned_from_id"] is None
        new_id = shown["adjourned_to_id"]
        new = api.get("ewi_worker", f"{HEARINGS}/{new_id}").json()
        assert new["adjourned_from_id"] == old["id"] and new["adjourned_to_id"] is None
        assert new["status"] == "scheduled" and new["status_decided_by"] is None
        assert new["starts_at"] == ADJOURN["adjourned_to"]["starts_at"]  # type: ignore[index]
        assert new["mother_id"] == old["mother_id"] and new["child_ids"] == old["child_ids"]
        assert (new["court_name"], new["court_code"], new["hearing_type"]) == (
            old["court_name"],
            old["court_code"],
            old["hearing_type"],
        )
        # Its own notice: learnt now, for a date 30 days ahead. How she attends: arranged anew.
        assert new["notice_days"] == 29 and new["late_notice"] is False
        assert new["attendance_mode"] is None
        # The list shows both, with the link each way (one statement reads the reverse link).
        listed = {h["id"]: h for h in api.get("bristol", HEARINGS).json()["items"]}
        assert listed[new_id]["adjourned_from_id"] == old["id"]
        assert listed[old["id"]]["adjourned_to_id"] == new_id

    def test_what_may_differ_on_the_new_date(self, api: Api, family: dict) -> None:
        old = hearing(api, family)
        body = {
            **ADJOURN,
            "adjourned_to": {
                "starts_at": at(timedelta(days=5)),
                "notified_at": at(timedelta(days=-1)),
                "hearing_type": "final",
                "court_name": "Gloucester Family Court",
                "court_code": "GLO",
                "attendance_mode": "in_person_with_escort",
                "social_worker_attends": True,
            },
        }
        shown = change(api, "ewi_worker", old, body).json()
        new = api.get("ewi_worker", f"{HEARINGS}/{shown['adjourned_to_id']}").json()
        assert new["hearing_type"] == "final" and new["court_code"] == "GLO"
        assert new["notice_days"] == 6 and new["late_notice"] is True
        assert new["attendance_mode"] == "in_person_with_escort"
        assert new["social_worker_attends"] is True

    def test_the_new_date_is_required_and_checked(self, api: Api, family: dict) -> None:
        old = hearing(api, family)
        without = {k: v for k, v in ADJOURN.items() if k != "adjourned_to"}
        response = change(api, "ewi_worker", old, without)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "adjourned_to"
        wrong = {**ADJOURN, "adjourned_to": {"starts_at": at(timedelta(days=3000))}}
        response = change(api, "ewi_worker", old, wrong)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "adjourned_to.starts_at"
        vacated_with_date = {**ADJOURN, "status": "vacated"}
        response = change(api, "ewi_worker", old, vacated_with_date)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "adjourned_to"
        assert api.get("ewi_worker", f"{HEARINGS}/{old['id']}").json()["status"] == "scheduled"
        assert len(api.get("ewi_worker", HEARINGS).json()["items"]) == 1  # nothing written

    def test_kept_in_the_amendments(self, api: Api, family: dict) -> None:
        old = hearing(api, family)
        shown = change(api, "ewi_worker", old, ADJOURN).json()
        [amendment] = api.get("ewi_worker", f"{HEARINGS}/{old['id']}/amendments").json()["items"]
        changes = {c["field"]: (c["old"], c["new"]) for c in amendment["changes"]}
        assert changes["status"] == ("scheduled", "adjourned")
        assert changes["status_decided_by"] == (None, "court")
        assert changes["status_reason"] == (None, "The judge was unwell.")
        assert changes["adjourned_to_id"] == (None, shown["adjourned_to_id"])
        assert changes["status_changed_at"][0] is None
        assert amendment["changed_by"]["name"] == "ewi_worker"


class TestOnlyAScheduledHearing:
    @pytest.mark.parametrize("status", ["vacated", "cancelled"])
    def test_vacated_or_cancelled(self, api: Api, family: dict, status: str) -> None:
        old = hearing(api, family)
        body = {"status": status, "decided_by": "parties", "reason": "Agreed order."}
        response = change(api, "ewi_worker", old, body)
        assert response.status_code == 200, response.text
        shown = response.json()
        assert (shown["status"], shown["adjourned_to_id"]) == (status, None)
        again = change(api, "ewi_worker", shown, {**body, "status": "cancelled"})
        assert again.status_code == 409
        assert status in again.json()["detail"]

    def test_an_adjourned_hearing_is_not_adjourned_again(self, api: Api, family: dict) -> None:
        shown = change(api, "ewi_worker", hearing(api, family), ADJOURN).json()
        again = change(api, "ewi_worker", shown, ADJOURN)
        assert again.status_code == 409
        assert (
            "adjourned" in again.json()["detail"]
            and shown["adjourned_to_id"] in (again.json()["detail"])
        )

    def test_if_match_is_needed(self, api: Api, family: dict) -> None:
        old = hearing(api, family)
        url = f"{HEARINGS}/{old['id']}/status"
        body = {"status": "vacated", "decided_by": "court", "reason": "Listed in error."}
        assert api.post("ewi_worker", url, body).status_code == 428
        assert api.post("ewi_worker", url, body, '"9"').status_code == 412

    def test_no_outcome_for_a_hearing_that_did_not_take_place(self, api: Api, family: dict) -> None:
        old = hearing(api, family, starts_at=at(timedelta(days=-1)))
        body = {"status": "vacated", "decided_by": "court", "reason": "Listed in error."}
        shown = change(api, "ewi_worker", old, body).json()
        outcome = {"attended": False, "barrier": "late_notice"}
        url = f"{HEARINGS}/{old['id']}/outcome"
        response = api.client.put(
            url, json=outcome, headers=api.headers("ewi_worker", **{"If-Match": etag(shown)})
        )
        assert response.status_code == 409, response.text
        assert "vacated" in response.json()["detail"]

    def test_a_hearing_with_an_outcome_took_place(self, api: Api, family: dict) -> None:
        old = hearing(api, family, starts_at=at(timedelta(days=-1)))
        url = f"{HEARINGS}/{old['id']}/outcome"
        outcome = {"attended": True, "attended_how": "prison_video_link"}
        headers = api.headers("ewi_worker", **{"If-Match": etag(old)})
        done = api.client.put(url, json=outcome, headers=headers).json()
        body = {"status": "vacated", "decided_by": "court", "reason": "Listed in error."}
        assert change(api, "ewi_worker", done, body).status_code == 409

    def test_a_patch_does_not_revive_it(self, api: Api, family: dict) -> None:
        body = {"status": "cancelled", "decided_by": "local_authority", "reason": "Withdrawn."}
        shown = change(api, "ewi_worker", hearing(api, family), body).json()
        url = f"{HEARINGS}/{shown['id']}"
        assert api.patch("ewi_worker", url, {"status": "scheduled"}, etag(shown)).status_code == 422
        moved = api.patch("ewi_worker", url, {"starts_at": at(timedelta(days=20))}, etag(shown))
        assert moved.status_code == 409 and "cancelled" in moved.json()["detail"]
        fixed = api.patch("ewi_worker", url, {"court_code": "GLO"}, etag(shown))
        assert fixed.status_code == 200 and fixed.json()["status"] == "cancelled"

    def test_codes_are_checked(self, api: Api, family: dict) -> None:
        old = hearing(api, family)
        for body in (
            {"status": "scheduled", "decided_by": "court", "reason": "x"},
            {"status": "vacated", "decided_by": "the_weather", "reason": "x"},
            {"status": "vacated", "decided_by": "court"},
        ):
            assert change(api, "ewi_worker", old, body).status_code == 422


class TestLocalAuthority:
    def test_for_its_own_children(self, api: Api, family: dict) -> None:
        old = hearing(api, family, who="bristol")
        response = change(api, "bristol", old, ADJOURN)
        assert response.status_code == 200, response.text
        new = api.get("bristol", f"{HEARINGS}/{response.json()['adjourned_to_id']}").json()
        assert new["adjourned_from_id"] == old["id"]

    def test_not_how_she_attends_nor_when_her_side_learnt(self, api: Api, family: dict) -> None:
        old = hearing(api, family, who="bristol")
        for field, value in (
            ("attendance_mode", "prison_video_link"),
            ("notified_at", at(timedelta(days=-1))),
        ):
            body = {**ADJOURN, "adjourned_to": {"starts_at": at(timedelta(days=9)), field: value}}
            response = change(api, "bristol", old, body)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == f"adjourned_to.{field}"

    def test_not_while_another_authority_has_a_child_in_it(self, api: Api, family: dict) -> None:
        both = hearing(api, family, child_ids=[family["bristol"], family["surrey"]])
        body = {"status": "vacated", "decided_by": "court", "reason": "Listed in error."}
        assert change(api, "bristol", both, body).status_code == 422
        assert change(api, "ewi_worker", both, body).status_code == 200

    def test_out_of_scope_reads_as_not_found(self, api: Api, family: dict) -> None:
        theirs = hearing(api, family, child_ids=[family["surrey"]])
        body = {"status": "vacated", "decided_by": "court", "reason": "Listed in error."}
        assert change(api, "bristol", theirs, body).status_code == 404
        assert change(api, "ewi_governor", theirs, body).status_code == 403


class TestKeptValuesTodaysRulesRefuse:
    """The new hearing keeps the old one's court and type: one recorded before today's rules
    (here a court name of spaces) is a 422 naming the field under adjourned_to, not a 500."""

    def test_named_under_adjourned_to_and_sent_anew(self, api: Api, family: dict) -> None:
        old = hearing(api, family)
        stored = db_id(api, old["id"])
        api.sql("UPDATE court_hearing SET court_name = '   ' WHERE id = :id", id=stored)
        response = change(api, "ewi_worker", old, ADJOURN)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "adjourned_to.court_name"
        assert "send the new hearing's court_name" in error["message"]
        assert api.sql("SELECT count(*) FROM court_hearing")[0][0] == 1
        new_date = {**ADJOURN["adjourned_to"], "court_name": "Bristol"}  # type: ignore[dict-item]
        sent = {**ADJOURN, "adjourned_to": new_date}
        response = change(api, "ewi_worker", old, sent)
        assert response.status_code == 200, response.text
        new = api.get("ewi_worker", f"{HEARINGS}/{response.json()['adjourned_to_id']}").json()
        assert new["court_name"] == "Bristol"
