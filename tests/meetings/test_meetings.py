from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tac_api.config import Settings
from tac_api.main import create_app
from tests.support import world
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.sql import count, counting, statements

NOW = datetime.now(UTC).replace(microsecond=0)


def at(**offset: float) -> str:
    """A time relative to now, as a client sends it."""
    return (NOW + timedelta(**offset)).isoformat().replace("+00:00", "Z")


def meeting_body(mother_id: str, child_ids: list[str], /, **fields: Any) -> dict[str, Any]:
    body = {
        "mother_id": mother_id,
        "child_ids": child_ids,
        "meeting_type": "looked_after_child_review",
        "starts_at": at(days=10),
        "platform": "microsoft_teams",
    }
    body.update(fields)
    return body


@pytest.fixture
def family(api: Api) -> dict[str, Any]:
    """An Eastwood Park mother with a Bristol child and a Surrey child."""
    return world.family(api)


def create(api: Api, who: str, family: dict[str, Any], /, **fields: Any) -> dict[str, Any]:
    body = meeting_body(family["mother"]["id"], [family["bristol"]["id"]], **fields)
    response = api.post(who, "/v1/meetings", body)
    assert response.status_code == 201, response.text
    return response.json()


class TestCreate:
    def test_record_a_meeting(self, api: Api, family: dict[str, Any]) -> None:
        body = meeting_body(
            family["mother"]["id"],
            [family["bristol"]["id"], family["surrey"]["id"]],
            meeting_type="child_protection_conference",
            starts_at=at(days=3, hours=2),
            notified_at=at(hours=-1),
            platform="zoom",
            supported_by="Hélène D'Arcy, prison social worker",
        )
        response = api.post("ewi_worker", "/v1/meetings", body)
        assert response.status_code == 201, response.text
        meeting = response.json()
        assert response.headers["Location"] == f"/v1/meetings/{meeting['id']}"
        assert response.headers["ETag"] == '"1"'
        assert meeting["mother_id"] == family["mother"]["id"]
        assert sorted(meeting["child_ids"]) == sorted(body["child_ids"])
        assert meeting["meeting_type"] == "child_protection_conference"
        assert meeting["notice_days"] == 3
        assert meeting["prison_can_join"] is False  # Zoom: the prison cannot join it
        assert meeting["invited"] is True and meeting["attended"] is None
        assert meeting["barrier"] is None
        assert meeting["supported_by"] == "Hélène D'Arcy, prison social worker"
        assert api.get("ewi_worker", f"/v1/meetings/{meeting['id']}").json() == meeting

    def test_notified_defaults_to_now(self, api: Api, family: dict[str, Any]) -> None:
        meeting = create(api, "admin", family, starts_at=at(days=2, minutes=30))
        notified = datetime.fromisoformat(meeting["notified_at"])
        assert abs(notified - datetime.now(UTC)) < timedelta(minutes=1)
        assert meeting["notice_days"] == 2

    @pytest.mark.parametrize(
        ("platform", "joins"),
        [
            ("microsoft_teams", False),
            ("zoom", False),
            ("cloud_video_platform", True),
            ("prison_video_link", True),
            ("phone", True),
            ("in_person", True),
        ],
    )
    def test_whether_the_prison_can_join_follows_the_platform(
        self, api: Api, family: dict[str, Any], platform: str, joins: bool
    ) -> None:
        assert create(api, "admin", family, platform=platform)["prison_can_join"] is joins

    def test_the_prison_side_can_say_otherwise(self, api: Api, family: dict[str, Any]) -> None:
        # A Teams meeting the authority opened to a dial-in the prison can use.
        meeting = create(api, "ewi_worker", family, prison_can_join=True)
        assert meeting["platform"] == "microsoft_teams" and meeting["prison_can_join"] is True

    def test_an_outcome_once_it_has_started(self, api: Api, family: dict[str, Any]) -> None:
        attended = create(
            api,
            "ewi_worker",
            family,
            starts_at=at(hours=-2),
            notified_at=at(days=-9),
            attended=True,
            supported_by="Ceri Jones, prison social worker",
        )
        assert attended["attended"] is True and attended["notice_days"] == 8
        missed = create(
            api,
            "ewi_worker",
            family,
            starts_at=at(days=-1),
            notified_at=at(days=-1, hours=-3),
            attended=False,
            barrier="late_notice",
        )
        assert missed["barrier"] == "late_notice" and missed["notice_days"] == 0

    def test_learnt_of_only_afterwards(self, api: Api, family: dict[str, Any]) -> None:
        meeting = create(
            api,
            "ewi_worker",
            family,
            starts_at=at(days=-3),
            attended=False,
            barrier="not_invited",
            invited=False,
        )
        # No notice at all is 0 days, as for a court hearing: never "minus" notice.
        assert meeting["notice_days"] == 0 and meeting["late_notice"] is True

    @pytest.mark.parametrize(
        ("notice", "days", "late"),
        [
            (timedelta(days=7), 7, False),
            (timedelta(days=6, hours=23), 6, True),  # whole days, rounded down
            (timedelta(hours=5), 0, True),
            (timedelta(days=-1, hours=-12), 0, True),  # learnt a day and a half after it began
        ],
    )
    def test_notice_is_counted_as_for_a_hearing(
        self, api: Api, family: dict[str, Any], notice: timedelta, days: int, late: bool
    ) -> None:
        """One notice rule for hearings and meetings (`tac_api.notice`): whole days, rounded
        down, never below 0, late under TAC_LATE_NOTICE_DAYS (7)."""
        starts = NOW - timedelta(days=5)
        meeting = create(
            api,
            "ewi_worker",
            family,
            starts_at=at(days=-5),
            notified_at=(starts - notice).isoformat().replace("+00:00", "Z"),
        )
        assert (meeting["notice_days"], meeting["late_notice"]) == (days, late)

    def test_the_late_notice_threshold_is_the_hearings_setting(
        self, api: Api, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        meeting = create(api, "ewi_worker", family, starts_at=at(days=4), notified_at=at(days=-1))
        assert meeting["notice_days"] == 5 and meeting["late_notice"] is True
        monkeypatch.setenv("TAC_LATE_NOTICE_DAYS", "3")
        settings = Settings(database_url=api.database_url, rate_limit_per_minute=0)
        with TestClient(create_app(settings)) as client:
            url = f"/v1/meetings/{meeting['id']}"
            again = client.get(url, headers=api.headers("ewi_worker")).json()
        assert again["notice_days"] == 5 and again["late_notice"] is False

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"attended": True}, "attended"),  # it starts in ten days
            ({"attended": False, "barrier": "unwell"}, "attended"),
            ({"starts_at": at(days=-1), "attended": False}, "barrier"),
            ({"starts_at": at(days=-1), "attended": True, "barrier": "unwell"}, "barrier"),
            ({"barrier": "late_notice"}, "barrier"),  # attendance not known yet
            ({"starts_at": at(days=-1), "attended": False, "barrier": "other"}, "barrier_detail"),
            ({"barrier_detail": "The link did not work."}, "barrier_detail"),
            ({"notified_at": at(days=2)}, "notified_at"),
            ({"meeting_type": "tea_party"}, "meeting_type"),
            ({"platform": "skype"}, "platform"),
            ({"barrier": "traffic"}, "barrier"),
            ({"child_ids": []}, "child_ids"),
            ({"starts_at": 1767225600}, "starts_at"),
            ({"starts_at": "next tuesday"}, "starts_at"),
            # A plausible time, as a hearing's (`tac_api.plausible`): not year 1, not 2062.
            ({"starts_at": "0001-01-01T00:00:00Z"}, "starts_at"),
            ({"starts_at": "1999-12-31T23:00:00Z"}, "starts_at"),
            ({"starts_at": at(days=800)}, "starts_at"),
            ({"mother_id": "00000000-0000-4000-8000-000000000000"}, "mother_id"),
            ({"id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}, "id"),
            ({"version": 3}, "version"),
            ({"notice_days": 30}, "notice_days"),
            ({"late_notice": False}, "late_notice"),
            ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
            ({"supported_by": ""}, "supported_by"),
        ],
    )
    def test_rules_refuse_bad_input_and_write_nothing(
        self, api: Api, family: dict[str, Any], fields: dict, field: str
    ) -> None:
        body = meeting_body(family["mother"]["id"], [family["bristol"]["id"]], **fields)
        response = api.post("admin", "/v1/meetings", body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count(api, "meeting") == count(api, "meeting_child") == 0

    def test_children_must_be_hers_each_once(self, api: Api, family: dict[str, Any]) -> None:
        other = api.mother(first_name="Zoë")
        not_hers = api.child(other["id"], first_name="Nia")["id"]
        mine = family["bristol"]["id"]
        for child_ids in ([mine, not_hers], [mine, mine], ["6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"]):
            body = meeting_body(family["mother"]["id"], child_ids)
            response = api.post("ewi_worker", "/v1/meetings", body)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "child_ids"
        assert count(api, "meeting") == count(api, "meeting_child") == 0

    def test_only_for_mothers_in_scope(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        child = api.child(mother["id"])
        body = meeting_body(mother["id"], [child["id"]])
        response = api.post("ewi_worker", "/v1/meetings", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "mother_id"
        assert api.post("ewi_governor", "/v1/meetings", body).status_code == 403
        assert api.post("auditor", "/v1/meetings", body).status_code == 403
        assert count(api, "meeting") == 0


class TestLocalAuthority:
    def test_records_an_invitation_for_its_own_child(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        meeting = create(api, "bristol", family, platform="cloud_video_platform")
        assert meeting["prison_can_join"] is True and meeting["attended"] is None
        assert api.get("ewi_worker", f"/v1/meetings/{meeting['id']}").status_code == 200
        assert create(api, "bristol_system", family)["prison_can_join"] is False

    def test_not_for_another_authoritys_child(self, api: Api, family: dict[str, Any]) -> None:
        body = meeting_body(
            family["mother"]["id"], [family["bristol"]["id"], family["surrey"]["id"]]
        )
        response = api.post("bristol", "/v1/meetings", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "child_ids"
        assert count(api, "meeting") == 0

    def test_another_authoritys_child_of_hers_reads_as_not_hers(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        """Surrey's child of hers and another mother's child get the same answer: Bristol
        does not learn from it which children she has elsewhere."""
        stranger = api.child(api.mother(first_name="Zoë")["id"], local_authority_code="801")
        meeting = create(api, "bristol", family)
        url = f"/v1/meetings/{meeting['id']}"
        messages = []
        for child in (family["surrey"]["id"], stranger["id"]):
            child_ids = [family["bristol"]["id"], child]
            body = meeting_body(family["mother"]["id"], child_ids)
            response = api.post("bristol", "/v1/meetings", body)
            assert response.status_code == 422
            changed = api.patch("bristol", url, {"child_ids": child_ids}, if_match='"1"')
            assert changed.status_code == 422
            messages += [e["message"] for r in (response, changed) for e in r.json()["errors"]]
        assert len(messages) == 4 and len(set(messages)) == 1, messages
        assert "another authority" not in messages[0]
        assert count(api, "meeting") == 1

    def test_it_does_not_say_when_her_side_learnt_of_it(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        """`notified_at` decides the notice she had (late notice is a barrier the evaluation
        measures the local authorities by): for an authority's invitation, when it recorded it."""
        body = meeting_body(
            family["mother"]["id"], [family["bristol"]["id"]], notified_at=at(days=-9)
        )
        refused = api.post("bristol_system", "/v1/meetings", body)
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["notified_at"]
        assert count(api, "meeting") == 0
        meeting = create(api, "bristol", family)
        notified = datetime.fromisoformat(meeting["notified_at"])
        assert abs(notified - datetime.now(UTC)) < timedelta(minutes=1)
        url = f"/v1/meetings/{meeting['id']}"
        changed = api.patch("bristol", url, {"notified_at": at(days=-30)}, if_match='"1"')
        assert changed.status_code == 422
        assert [e["field"] for e in changed.json()["errors"]] == ["notified_at"]
        assert api.get("bristol", url).json() == meeting
        known = api.patch("ewi_worker", url, {"notified_at": at(days=-30)}, if_match='"1"')
        assert known.status_code == 200 and known.json()["notice_days"] == 40

    def test_not_for_a_mother_it_cannot_see(self, api: Api) -> None:
        mother = api.mother()
        child = api.child(mother["id"], local_authority_code="801")
        response = api.post("surrey", "/v1/meetings", meeting_body(mother["id"], [child["id"]]))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "mother_id"
        assert count(api, "meeting") == 0

    @pytest.mark.parametrize(
        "fields",
        [
            {"prison_can_join": True},
            {"prison_can_join": False},
            {"starts_at": at(days=-1), "attended": True},
            {"starts_at": at(days=-1), "attended": False, "barrier": "platform_incompatible"},
            {"supported_by": "Ceri Jones"},
        ],
    )
    def test_how_she_attends_is_the_prison_sides(
        self, api: Api, family: dict[str, Any], fields: dict
    ) -> None:
        body = meeting_body(family["mother"]["id"], [family["bristol"]["id"]], **fields)
        response = api.post("bristol", "/v1/meetings", body)
        assert response.status_code == 422, response.text
        assert {e["field"] for e in response.json()["errors"]} <= set(fields)
        assert count(api, "meeting") == 0

        meeting = create(api, "bristol", family, starts_at=at(days=-1))
        url = f"/v1/meetings/{meeting['id']}"
        changed = api.patch("bristol", url, fields, if_match='"1"')
        assert changed.status_code == 422, changed.text
        assert api.get("bristol", url).json() == meeting
        recorded = api.patch("ewi_worker", url, fields, if_match='"1"')
        assert recorded.status_code == 200, recorded.text

    def test_changes_its_own_invitation(self, api: Api, family: dict[str, Any]) -> None:
        meeting = create(api, "bristol", family)
        url = f"/v1/meetings/{meeting['id']}"
        moved = api.patch(
            "bristol", url, {"starts_at": at(days=12), "platform": "phone"}, if_match='"1"'
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["prison_can_join"] is True and moved.json()["version"] == 2
        assert api.patch("surrey", url, {"invited": False}, if_match='"2"').status_code == 404
        to_surrey = api.patch(
            "bristol", url, {"child_ids": [family["surrey"]["id"]]}, if_match='"2"'
        )
        assert to_surrey.status_code == 422
        assert api.get("bristol", url).json() == moved.json()

    def test_sees_its_own_children_only_and_cannot_change_a_shared_meeting(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        both = [family["bristol"]["id"], family["surrey"]["id"]]
        meeting = create(api, "ewi_worker", family, child_ids=both)
        url = f"/v1/meetings/{meeting['id']}"
        assert api.get("bristol", url).json()["child_ids"] == [family["bristol"]["id"]]
        assert api.get("surrey", url).json()["child_ids"] == [family["surrey"]["id"]]
        assert sorted(api.get("ewi_worker", url).json()["child_ids"]) == sorted(both)
        response = api.patch("bristol", url, {"invited": False}, if_match='"1"')
        assert response.status_code == 422
        assert api.get("admin", url).json() == meeting


class TestUpdate:
    def test_patch_with_if_match(self, api: Api, family: dict[str, Any]) -> None:
        meeting = create(api, "ewi_worker", family)
        url = f"/v1/meetings/{meeting['id']}"
        change = {"meeting_type": "core_group"}
        assert api.patch("ewi_worker", url, change).status_code == 428
        assert api.patch("ewi_worker", url, change, if_match='"9"').status_code == 412
        response = api.patch("ewi_worker", url, change, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.json()["meeting_type"] == "core_group"
        assert response.json()["version"] == 2 and response.headers["ETag"] == '"2"'

    def test_not_recorded_before_it_starts(self, api: Api, family: dict[str, Any]) -> None:
        """ "Too early" is 422, said as for a hearing's outcome."""
        meeting = create(api, "ewi_worker", family)
        url = f"/v1/meetings/{meeting['id']}"
        response = api.patch("ewi_worker", url, {"attended": True}, if_match='"1"')
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {
                "location": "body",
                "field": "attended",
                "message": "cannot be recorded before the meeting starts",
            }
        ]

    def test_a_change_that_changes_nothing(self, api: Api, family: dict[str, Any]) -> None:
        """Keeps the version (the ETag), tells the change feed nothing, and is audited as what
        it was: a consultation of the meeting it shows."""
        meeting = create(api, "ewi_worker", family)
        url = f"/v1/meetings/{meeting['id']}"
        events = count(api, "change_event")
        same = {
            "meeting_type": meeting["meeting_type"],
            "starts_at": meeting["starts_at"],
            "child_ids": meeting["child_ids"],
        }
        response = api.patch("ewi_worker", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 1 and response.headers["ETag"] == '"1"'
        assert response.json()["updated_at"] == meeting["updated_at"]
        assert count(api, "change_event") == events
        assert [(r[2], r[3], r[4]) for r in trail(api, response)] == [
            ("consult", "meeting", meeting["id"])
        ]

    def test_record_that_she_missed_it(self, api: Api, family: dict[str, Any]) -> None:
        meeting = create(api, "ewi_worker", family, starts_at=at(hours=-3))
        url = f"/v1/meetings/{meeting['id']}"
        missed = {"attended": False, "barrier": "platform_incompatible"}
        response = api.patch("ewi_worker", url, missed, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.json()["barrier"] == "platform_incompatible"
        # Attended after all: the barrier has to go too.
        assert api.patch("ewi_worker", url, {"attended": True}, if_match='"2"').status_code == 422
        fixed = api.patch(
            "ewi_worker", url, {"attended": True, "barrier": None}, if_match='"2"'
        ).json()
        assert fixed["attended"] is True and fixed["barrier"] is None

    def test_a_new_platform_sets_whether_the_prison_can_join(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        meeting = create(api, "ewi_worker", family)
        url = f"/v1/meetings/{meeting['id']}"
        moved = api.patch("ewi_worker", url, {"platform": "prison_video_link"}, if_match='"1"')
        assert moved.json()["prison_can_join"] is True
        both = {"platform": "zoom", "prison_can_join": True}
        assert api.patch("ewi_worker", url, both, if_match='"2"').json()["prison_can_join"] is True
        other = api.patch("ewi_worker", url, {"invited": False}, if_match='"3"').json()
        assert other["prison_can_join"] is True  # an override stays until the platform changes
        again = api.patch("ewi_worker", url, {"platform": "zoom"}, if_match='"4"')
        assert again.json()["prison_can_join"] is True  # the same platform is no new one
        assert again.headers["ETag"] == '"4"'

    def test_change_the_children(self, api: Api, family: dict[str, Any]) -> None:
        meeting = create(api, "ewi_worker", family)
        url = f"/v1/meetings/{meeting['id']}"
        both = sorted([family["bristol"]["id"], family["surrey"]["id"]])
        response = api.patch("ewi_worker", url, {"child_ids": both}, if_match='"1"')
        assert sorted(response.json()["child_ids"]) == both
        assert count(api, "meeting_child") == 2

    @pytest.mark.parametrize(
        "change",
        [
            {"attended": True},  # still in the future
            {"starts_at": None},
            {"starts_at": "0001-01-01T00:00:00Z"},
            {"starts_at": at(days=800)},
            {"child_ids": []},
            {"child_ids": None},
            {"platform": None},
            {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"},
            {"notice_days": 1},
            {"version": 5},
            {"notified_at": at(days=1)},
            {"barrier": "unwell"},
            {"child_ids": ["6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"]},
        ],
    )
    def test_bad_changes_write_nothing(
        self, api: Api, family: dict[str, Any], change: dict
    ) -> None:
        meeting = create(api, "ewi_worker", family)
        url = f"/v1/meetings/{meeting['id']}"
        response = api.patch("ewi_worker", url, change, if_match='"1"')
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert api.get("admin", url).json() == meeting

    def test_moving_an_attended_meeting_into_the_future_is_refused(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        meeting = create(api, "ewi_worker", family, starts_at=at(days=-1), attended=True)
        url = f"/v1/meetings/{meeting['id']}"
        response = api.patch("ewi_worker", url, {"starts_at": at(days=1)}, if_match='"1"')
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "attended"


class TestScope:
    def test_out_of_scope_reads_as_not_found(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        child = api.child(mother["id"], local_authority_code="801")
        meeting = api.post("admin", "/v1/meetings", meeting_body(mother["id"], [child["id"]]))
        url = f"/v1/meetings/{meeting.json()['id']}"
        for who in ("ewi_worker", "surrey"):
            assert api.get(who, url).status_code == 404, who
            assert api.patch(who, url, {"invited": False}, if_match='"1"').status_code == 404
            assert api.get(who, "/v1/meetings").json()["items"] == []
        for who in ("admin", "sdi_worker", "bristol", "bristol_system"):
            assert api.get(who, url).status_code == 200, who
        assert api.get("ewi_governor", url).status_code == 403
        assert api.get("auditor", "/v1/meetings").status_code == 403


class TestList:
    def test_filters_for_the_week_ahead(self, api: Api, family: dict[str, Any]) -> None:
        sdi = api.mother(prison_code="SDI", first_name="Chloé")
        sdi_child = api.child(sdi["id"], local_authority_code="936")
        soon = create(api, "admin", family, starts_at=at(days=2))
        later = create(api, "admin", family, starts_at=at(days=20))
        past = create(
            api, "admin", family, starts_at=at(days=-5), child_ids=[family["surrey"]["id"]]
        )
        elsewhere = api.post(
            "admin",
            "/v1/meetings",
            meeting_body(sdi["id"], [sdi_child["id"]], starts_at=at(days=4)),
        ).json()

        def ids(who: str, query: str = "") -> list[str]:
            response = api.get(who, f"/v1/meetings{query}")
            assert response.status_code == 200, response.text
            return [m["id"] for m in response.json()["items"]]

        assert ids("admin") == [past["id"], soon["id"], elsewhere["id"], later["id"]]
        week = f"?from={at()}&to={at(days=7)}"
        week = week.replace("+", "%2B")
        assert ids("admin", week) == [soon["id"], elsewhere["id"]]
        assert ids("admin", week + "&prison_code=EWI") == [soon["id"]]
        assert ids("ewi_worker", week) == [soon["id"]]
        assert ids("ewi_worker", "?prison_code=SDI") == []
        assert ids("admin", f"?mother_id={sdi['id']}") == [elsewhere["id"]]
        assert ids("admin", f"?child_id={family['surrey']['id']}") == [past["id"]]
        assert ids("surrey") == [past["id"], elsewhere["id"]]
        assert ids("bristol") == [soon["id"], later["id"]]
        # Another authority's child: no meetings to be learnt about through it.
        assert ids("bristol", f"?child_id={family['surrey']['id']}") == []
        assert ids("admin", f"?from={at(days=30)}") == []

    def test_bad_filters(self, api: Api) -> None:
        for query in (
            f"?from={at(days=2)}&to={at(days=1)}",
            "?from=yesterday",
            "?prison_code=ewi",
            "?child_id=7",
            "?platform=zoom",
        ):
            response = api.get("admin", f"/v1/meetings{query}")
            assert response.status_code == 422, query
            assert response.headers["content-type"] == "application/problem+json"

    def test_keyset_pages(self, api: Api, family: dict[str, Any]) -> None:
        made = [create(api, "admin", family, starts_at=at(days=n))["id"] for n in range(1, 8)]
        seen, url = [], "/v1/meetings?limit=3"
        while url:
            response = api.get("admin", url)
            body = response.json()
            seen += [m["id"] for m in body["items"]]
            url = body["next_cursor"] and f"/v1/meetings?limit=3&cursor={body['next_cursor']}"
        assert seen == made

    def test_a_page_costs_the_same_whatever_its_size(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        both = [family["bristol"]["id"], family["surrey"]["id"]]
        create(api, "admin", family, child_ids=both)
        with counting(api) as one:
            assert len(api.get("bristol", "/v1/meetings").json()["items"]) == 1
        for n in range(1, 12):
            create(api, "admin", family, child_ids=both, starts_at=at(days=n))
        with counting(api) as many:
            assert len(api.get("bristol", "/v1/meetings").json()["items"]) == 12
        # Token, rate limit, the page, its children, one audit insert.
        assert len(one) == len(many) == statements(api, sqlite=5, postgres=3), many


class TestAudit:
    def test_each_row_names_the_meeting_and_her(self, api: Api, family: dict[str, Any]) -> None:
        # That each route leaves its rows, and a failure its row: tests/contracts.
        mother_id = family["mother"]["id"]
        created = api.post(
            "ewi_worker", "/v1/meetings", meeting_body(mother_id, [family["bristol"]["id"]])
        )
        meeting_id = created.json()["id"]
        assert trail(api, created) == [
            (
                "ewi_worker",
                "prison_social_worker",
                "collect",
                "meeting",
                meeting_id,
                mother_id,
                "succeeded",
            )
        ]
        url = f"/v1/meetings/{meeting_id}"
        for response, action in (
            (api.get("bristol", url), "consult"),
            (api.get("bristol", "/v1/meetings"), "consult"),
            (api.patch("bristol", url, {"invited": False}, if_match='"1"'), "alter"),
        ):
            assert response.status_code == 200
            assert [(r[2], r[3], r[4], r[5]) for r in trail(api, response)] == [
                (action, "meeting", meeting_id, mother_id)
            ]


def test_demo_data_keeps_the_rules(api: Api) -> None:
    from tac_api.demo import load_demo_data

    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=60, seed=11)

    api.client.portal.call(load)  # type: ignore[union-attr]
    meetings, url = [], "/v1/meetings?limit=200"
    while url:
        body = api.get("admin", url).json()
        meetings += body["items"]
        url = body["next_cursor"] and f"/v1/meetings?limit=200&cursor={body['next_cursor']}"
    assert len(meetings) > 30
    assert {m["barrier"] for m in meetings} >= {None, "platform_incompatible", "late_notice"}
    now = datetime.now(UTC)
    for meeting in meetings:
        assert meeting["child_ids"]
        if meeting["attended"] is not None:
            assert datetime.fromisoformat(meeting["starts_at"]) <= now
        assert (meeting["barrier"] is not None) == (meeting["attended"] is False)
        assert datetime.fromisoformat(meeting["notified_at"]) <= now
