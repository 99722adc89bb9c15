import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tac_api.auth.schemas import Caller, Role
from tac_api.errors import Conflict
from tac_api.visits.schemas import ContactVisitCreate
from tac_api.visits.service import create_visit
from tests.support import world
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.sql import count, counting, statements

NOW = datetime.now(UTC).replace(microsecond=0)
SUPERVISOR = {"name": "Gwen Llewellyn", "role": "contact supervisor, Bristol"}
ESCORT = {"name": "Aoife Ní Bhriain", "role": "carer"}


def at(**offset: float) -> str:
    return (NOW + timedelta(**offset)).isoformat().replace("+00:00", "Z")


def visit_body(mother_id: str, child_ids: list[str], /, **fields: Any) -> dict[str, Any]:
    body = {"mother_id": mother_id, "child_ids": child_ids, "visit_type": "in_person_social_visit"}
    body.update(fields)
    return body


@pytest.fixture
def family(api: Api) -> dict[str, Any]:
    """An Eastwood Park mother with a child for each contact arrangement: two in Bristol, two
    in Surrey."""

    def child(name: str, authority: str, arrangement: str) -> dict[str, Any]:
        reason = None if arrangement == "direct" else "Agreed at the looked-after child review."
        return world.child(
            name, authority, contact_arrangement=arrangement, contact_arrangement_reason=reason
        )

    return world.family(
        api,
        {
            "direct": child("Rhys", "801", "direct"),
            "supervised": child("Cerys", "801", "supervised"),
            "indirect": child("Élodie", "936", "indirect_only"),
            "none": child("Dafydd", "936", "none"),
        },
    )


def create(
    api: Api, family: dict[str, Any], /, *children: str, who: str = "ewi_worker", **fields: Any
) -> dict[str, Any]:
    ids = [family[name]["id"] for name in children or ("direct",)]
    response = api.post(
        who, "/v1/contact-visits", visit_body(family["mother"]["id"], ids, **fields)
    )
    assert response.status_code == 201, response.text
    return response.json()


def etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'


def move(api: Api, visit: dict[str, Any], status: str, reason: str | None = None) -> Any:
    body = {"status": status} | ({"reason": reason} if reason else {})
    url = f"/v1/contact-visits/{visit['id']}"
    etag = api.get("ewi_worker", url).headers["ETag"]
    return api.post("ewi_worker", f"{url}/status", body, if_match=etag)


def held_visit(api: Api, family: dict[str, Any], *children: str, **fields: Any) -> dict[str, Any]:
    fields = {"escort": ESCORT, "scheduled_at": at(hours=-2)} | fields
    visit = create(api, family, *children, **fields)
    for status in ("approved", "scheduled", "held"):
        response = move(api, visit, status)
        assert response.status_code == 200, response.text
    return response.json()


class TestCreate:
    def test_request_a_visit(self, api: Api, family: dict[str, Any]) -> None:
        body = visit_body(
            family["mother"]["id"],
            [family["direct"]["id"], family["supervised"]["id"]],
            visit_type="family_day",
            escort={"name": "Hélène D'Arcy", "role": "social_worker"},
            supervisor=SUPERVISOR,
            scheduled_at=at(days=14),
        )
        response = api.post("ewi_worker", "/v1/contact-visits", body)
        assert response.status_code == 201, response.text
        visit = response.json()
        assert response.headers["Location"] == f"/v1/contact-visits/{visit['id']}"
        assert response.headers["ETag"] == '"1"'
        assert sorted(visit["child_ids"]) == sorted(body["child_ids"])
        assert visit["status"] == "requested" and visit["status_reason"] is None
        assert visit["next_statuses"] == ["approved", "cancelled", "refused"]
        assert visit["escort"] == {"name": "Hélène D'Arcy", "role": "social_worker"}
        assert visit["supervisor"] == SUPERVISOR
        assert visit["outcome"] is None and visit["outcome_notes"] is None
        [requested] = visit["status_history"]
        assert requested["from_status"] is None and requested["to_status"] == "requested"
        assert requested["changed_by"]["name"] == "ewi_worker"
        assert requested["changed_by"]["role"] == "prison_social_worker"
        assert api.get("ewi_worker", f"/v1/contact-visits/{visit['id']}").json() == visit

    @pytest.mark.parametrize("visit_type", ["in_person_social_visit", "letter_or_card"])
    def test_no_contact_means_none(self, api: Api, family: dict[str, Any], visit_type: str) -> None:
        for children in (["none"], ["direct", "none"]):
            ids = [family[name]["id"] for name in children]
            body = visit_body(family["mother"]["id"], ids, visit_type=visit_type)
            response = api.post("ewi_worker", "/v1/contact-visits", body)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "child_ids"
        assert count(api, "contact_visit") == count(api, "contact_visit_status_change") == 0

    @pytest.mark.parametrize(
        "visit_type",
        [
            "in_person_social_visit",
            "family_day",
            "video_call",
            "phone_call",
            "final_contact_before_adoption",
        ],
    )
    def test_indirect_only_allows_letters_and_cards_only(
        self, api: Api, family: dict[str, Any], visit_type: str
    ) -> None:
        ids = [family["indirect"]["id"]]
        body = visit_body(family["mother"]["id"], ids, visit_type=visit_type)
        response = api.post("ewi_worker", "/v1/contact-visits", body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "visit_type"
        assert count(api, "contact_visit") == 0
        assert create(api, family, "indirect", visit_type="letter_or_card")["status"] == "requested"

    def test_supervised_contact_needs_a_supervisor(self, api: Api, family: dict[str, Any]) -> None:
        ids = [family["direct"]["id"], family["supervised"]["id"]]
        response = api.post(
            "ewi_worker", "/v1/contact-visits", visit_body(family["mother"]["id"], ids)
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "supervisor"
        assert count(api, "contact_visit") == 0
        assert create(api, family, "supervised", supervisor=SUPERVISOR)["supervisor"] == SUPERVISOR
        # A letter is read before it is passed on, not supervised.
        assert create(api, family, "supervised", visit_type="letter_or_card")["supervisor"] is None

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"child_ids": []}, "child_ids"),
            ({"visit_type": "sleepover"}, "visit_type"),
            ({"escort": {"name": "Aoife", "role": "neighbour"}}, "escort.role"),
            ({"escort": {"name": ""}}, "escort.name"),
            ({"supervisor": {"role": "supervisor"}}, "supervisor.name"),
            ({"scheduled_at": 1767225600}, "scheduled_at"),
            # A plausible time, as a hearing's (`tac_api.plausible`): not year 1, not 2062.
            ({"scheduled_at": "0001-01-01T00:00:00Z"}, "scheduled_at"),
            ({"scheduled_at": at(days=800)}, "scheduled_at"),
            ({"status": "held"}, "status"),
            ({"outcome": "went_ahead_as_planned"}, "outcome"),
            ({"mother_id": "00000000-0000-4000-8000-000000000000"}, "mother_id"),
            ({"id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}, "id"),
            ({"version": 2}, "version"),
            ({"status_history": []}, "status_history"),
        ],
    )
    def test_bad_input_writes_nothing(
        self, api: Api, family: dict[str, Any], fields: dict, field: str
    ) -> None:
        body = visit_body(family["mother"]["id"], [family["direct"]["id"]], **fields)
        response = api.post("ewi_worker", "/v1/contact-visits", body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count(api, "contact_visit") == count(api, "contact_visit_child") == 0

    def test_children_must_be_hers_each_once(self, api: Api, family: dict[str, Any]) -> None:
        other = api.mother(first_name="Zoë")
        not_hers = api.child(other["id"], first_name="Nia")["id"]
        mine = family["direct"]["id"]
        for child_ids in ([mine, not_hers], [mine, mine]):
            body = visit_body(family["mother"]["id"], child_ids)
            response = api.post("ewi_worker", "/v1/contact-visits", body)
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "child_ids"
        assert count(api, "contact_visit") == 0

    @pytest.mark.parametrize("visit_type", ["in_person_social_visit", "letter_or_card"])
    def test_no_visit_with_a_child_not_yet_born(
        self, api: Api, family: dict[str, Any], visit_type: str
    ) -> None:
        unborn = api.child(
            family["mother"]["id"],
            first_name="Baby",
            date_of_birth=None,
            expected_date=str(TODAY + timedelta(days=60)),
            lives_with="mother",
        )
        ids = [family["direct"]["id"], unborn["id"]]
        body = visit_body(family["mother"]["id"], ids, visit_type=visit_type)
        response = api.post("ewi_worker", "/v1/contact-visits", body)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "child_ids" and "item 2 is not born yet" in error["message"]
        assert count(api, "contact_visit") == count(api, "contact_visit_child") == 0
        # Nor added to a visit already requested.
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        response = api.patch("ewi_worker", url, {"child_ids": ids}, if_match='"1"')
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "child_ids"
        assert count(api, "contact_visit_child") == 1

    def test_the_prison_side_writes(self, api: Api, family: dict[str, Any]) -> None:
        body = visit_body(family["mother"]["id"], [family["direct"]["id"]])
        for who in ("bristol", "bristol_system", "ewi_governor", "auditor"):
            assert api.post(who, "/v1/contact-visits", body).status_code == 403, who
        response = api.post("sdi_worker", "/v1/contact-visits", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "mother_id"
        assert count(api, "contact_visit") == 0


class TestLifecycle:
    def test_requested_to_held(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family, escort=ESCORT, scheduled_at=at(hours=-1))
        for status, version, onward in (
            ("approved", 2, ["scheduled", "cancelled", "refused"]),
            ("scheduled", 3, ["held", "cancelled", "refused"]),
            ("held", 4, []),
        ):
            response = move(api, visit, status)
            assert response.status_code == 200, response.text
            assert response.headers["ETag"] == f'"{version}"'
            assert response.json()["status"] == status
            assert response.json()["next_statuses"] == onward
        history = api.get("bristol", f"/v1/contact-visits/{visit['id']}").json()["status_history"]
        assert [(h["from_status"], h["to_status"]) for h in history] == [
            (None, "requested"),
            ("requested", "approved"),
            ("approved", "scheduled"),
            ("scheduled", "held"),
        ]
        assert {h["changed_by"]["name"] for h in history} == {"ewi_worker"}
        times = [h["changed_at"] for h in history]
        assert times == sorted(times)

    @pytest.mark.parametrize(
        ("path", "wanted", "allowed"),
        [
            ([], "scheduled", "approved, cancelled, refused"),
            ([], "held", "approved, cancelled, refused"),
            (["approved"], "held", "scheduled, cancelled, refused"),
            (["approved"], "approved", "scheduled, cancelled, refused"),
            (["approved", "scheduled", "held"], "cancelled", "nothing"),
            (["cancelled"], "approved", "nothing"),
            (["refused"], "scheduled", "nothing"),
        ],
    )
    def test_only_the_allowed_transitions(
        self, api: Api, family: dict[str, Any], path: list[str], wanted: str, allowed: str
    ) -> None:
        visit = create(api, family, escort=ESCORT, scheduled_at=at(hours=-1))
        for status in path:
            assert move(api, visit, status, reason="Her choice.").status_code == 200
        url = f"/v1/contact-visits/{visit['id']}"
        before = api.get("admin", url).json()
        response = move(api, visit, wanted, reason="Because.")
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        current = path[-1] if path else "requested"
        assert f"This visit is {current}" in response.json()["detail"]
        assert allowed in response.json()["detail"]
        assert api.get("admin", url).json() == before

    @pytest.mark.parametrize("status", ["cancelled", "refused"])
    def test_calling_it_off_needs_a_reason(
        self, api: Api, family: dict[str, Any], status: str
    ) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        response = move(api, visit, status)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "reason"
        assert api.get("admin", url).json() == visit
        done = move(api, visit, status, reason="The carer's car broke down.")
        assert done.status_code == 200
        assert done.json()["status_reason"] == "The carer's car broke down."
        assert done.json()["status_history"][-1]["reason"] == "The carer's car broke down."
        assert done.json()["next_statuses"] == []

    def test_a_reason_code_is_kept_for_calling_it_off_only(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        wrong = api.post(
            "ewi_worker",
            f"{url}/status",
            {"status": "approved", "reason_code": "transport"},
            if_match=etag(visit),
        )
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "reason_code"
        unknown = api.post(
            "ewi_worker",
            f"{url}/status",
            {"status": "cancelled", "reason": "Snow.", "reason_code": "weather_on_mars"},
            if_match=etag(visit),
        )
        assert unknown.status_code == 422
        assert api.get("admin", url).json() == visit
        done = api.post(
            "ewi_worker",
            f"{url}/status",
            {"status": "cancelled", "reason": "No escort free.", "reason_code": "transport"},
            if_match=etag(visit),
        )
        assert done.status_code == 200, done.text
        assert done.json()["status_reason_code"] == "transport"
        assert done.json()["status_history"][-1]["reason_code"] == "transport"
        assert done.json()["status_history"][0]["reason_code"] is None

    def test_scheduling_needs_a_time_and_an_escort(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family)
        assert move(api, visit, "approved").status_code == 200
        response = move(api, visit, "scheduled")
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"scheduled_at", "escort"}
        # A call needs a time, but nobody brings the child to the prison.
        call = create(api, family, visit_type="video_call", scheduled_at=at(days=1))
        move(api, call, "approved")
        assert move(api, call, "scheduled").status_code == 200

    def test_scheduling_is_one_request(self, api: Api, family: dict[str, Any]) -> None:
        """The status, its time and its escort in one body: one change, one history entry, one
        event; the old way (a PATCH, then the status) still works."""
        visit = create(api, family)
        approved = move(api, visit, "approved").json()
        url = f"/v1/contact-visits/{visit['id']}/status"
        when = at(days=3)
        body = {"status": "scheduled", "scheduled_at": when, "escort": ESCORT}
        events = count(api, "change_event")
        scheduled = api.post("ewi_worker", url, body, if_match=etag(approved))
        assert scheduled.status_code == 200, scheduled.text
        shown = scheduled.json()
        assert (shown["status"], shown["scheduled_at"], shown["escort"]) == (
            "scheduled",
            when,
            ESCORT,
        )
        assert shown["version"] == approved["version"] + 1
        assert [h["to_status"] for h in shown["status_history"]] == [
            "requested",
            "approved",
            "scheduled",
        ]
        assert count(api, "change_event") == events + 1
        # The time may be on the visit already: the escort alone comes with the status.
        timed = create(api, family, scheduled_at=at(days=4))
        approved = move(api, timed, "approved").json()
        only_escort = {"status": "scheduled", "escort": ESCORT}
        timed_url = f"/v1/contact-visits/{timed['id']}/status"
        response = api.post("ewi_worker", timed_url, only_escort, if_match=etag(approved))
        assert response.status_code == 200, response.text
        assert response.json()["scheduled_at"] == timed["scheduled_at"]
        # The old way: a PATCH with the time and escort, then the status alone.
        old = create(api, family)
        approved = move(api, old, "approved").json()
        old_url = f"/v1/contact-visits/{old['id']}"
        patched = api.patch(
            "ewi_worker", old_url, {"scheduled_at": when, "escort": ESCORT}, etag(approved)
        )
        assert patched.status_code == 200, patched.text
        assert move(api, old, "scheduled").status_code == 200

    def test_scheduling_fields_go_with_scheduled_only(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}/status"
        for body, fields in (
            ({"status": "approved", "scheduled_at": at(days=3)}, {"scheduled_at"}),
            ({"status": "approved", "escort": ESCORT}, {"escort"}),
            (
                {"status": "cancelled", "reason": "Ill.", "escort": ESCORT, "scheduled_at": at()},
                {"escort", "scheduled_at"},
            ),
        ):
            response = api.post("ewi_worker", url, body, if_match=etag(visit))
            assert response.status_code == 422, (body, response.text)
            assert {e["field"] for e in response.json()["errors"]} == fields
        unchanged = api.get("ewi_worker", f"/v1/contact-visits/{visit['id']}").json()
        assert unchanged == visit
        # Scheduling with a time but no escort, for a visit in person: the escort is named.
        approved = move(api, visit, "approved").json()
        body = {"status": "scheduled", "scheduled_at": at(days=3)}
        response = api.post("ewi_worker", url, body, if_match=etag(approved))
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"escort"}
        assert api.get("ewi_worker", f"/v1/contact-visits/{visit['id']}").json() == approved

    @pytest.mark.parametrize(
        "when", ["0001-01-01T00:00:00Z", at(days=800)], ids=["year_one", "ahead"]
    )
    def test_scheduling_in_one_request_needs_a_plausible_time(
        self, api: Api, family: dict[str, Any], when: str
    ) -> None:
        approved = move(api, create(api, family), "approved").json()
        url = f"/v1/contact-visits/{approved['id']}"
        body = {"status": "scheduled", "scheduled_at": when, "escort": ESCORT}
        response = api.post("ewi_worker", f"{url}/status", body, if_match=etag(approved))
        assert response.status_code == 422, response.text
        assert {e["field"] for e in response.json()["errors"]} == {"scheduled_at"}
        assert api.get("ewi_worker", url).json() == approved

    def test_held_only_once_its_time_has_come(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family, escort=ESCORT, scheduled_at=at(days=2))
        move(api, visit, "approved")
        move(api, visit, "scheduled")
        response = move(api, visit, "held")
        assert response.status_code == 422
        assert api.get("admin", f"/v1/contact-visits/{visit['id']}").json()["status"] == "scheduled"

    def test_approval_checks_the_childs_arrangement_again(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        visit = create(api, family)
        child_url = f"/v1/children/{family['direct']['id']}"
        change = {"contact_arrangement": "none", "contact_arrangement_reason": "Court order."}
        assert api.patch("bristol", child_url, change, if_match='"1"').status_code == 200
        response = move(api, visit, "approved")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "child_ids"
        assert move(api, visit, "refused", reason="No contact order.").status_code == 200

    def test_holding_checks_the_childs_arrangement_again(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        visit = create(api, family, escort=ESCORT, scheduled_at=at(hours=-2))
        assert move(api, visit, "approved").status_code == 200
        assert move(api, visit, "scheduled").status_code == 200
        child_url = f"/v1/children/{family['direct']['id']}"
        change = {"contact_arrangement": "none", "contact_arrangement_reason": "Court order."}
        assert api.patch("bristol", child_url, change, if_match='"1"').status_code == 200
        response = move(api, visit, "held")
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "child_ids"
        assert api.get("admin", f"/v1/contact-visits/{visit['id']}").json()["status"] == "scheduled"
        assert count(api, "contact_visit_status_change") == 3

    @pytest.mark.parametrize(
        "body",
        [{}, {"status": "requested"}, {"status": "lost"}, {"status": "approved", "by": "me"}],
    )
    def test_bad_bodies(self, api: Api, family: dict[str, Any], body: dict) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}/status"
        assert api.post("ewi_worker", url, body, if_match=etag(visit)).status_code == 422
        assert count(api, "contact_visit_status_change") == 1

    def test_if_match_is_required(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}/status"
        # A status change is a change like any other: the ETag last read, current.
        assert api.post("ewi_worker", url, {"status": "approved"}).status_code == 428
        first = etag(visit)
        approved = api.post("ewi_worker", url, {"status": "approved"}, if_match=first)
        assert approved.status_code == 200
        stale = api.post("ewi_worker", url, {"status": "scheduled"}, if_match=first)
        assert stale.status_code == 412
        assert count(api, "contact_visit_status_change") == 2

    def test_the_prison_side_moves_it(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}/status"
        assert api.post("bristol", url, {"status": "approved"}).status_code == 403
        assert api.post("sdi_worker", url, {"status": "approved"}).status_code == 404
        approved = api.post("admin", url, {"status": "approved"}, if_match=etag(visit))
        assert approved.status_code == 200


class TestOutcome:
    def test_only_once_held(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family, escort=ESCORT, scheduled_at=at(hours=-3))
        url = f"/v1/contact-visits/{visit['id']}"
        for version, status in ((1, "approved"), (2, "scheduled")):
            early = api.patch(
                "ewi_worker", url, {"outcome": "went_ahead_as_planned"}, if_match=f'"{version}"'
            )
            # Too early is a problem with the input, as for a hearing's or a meeting's outcome.
            assert early.status_code == 422, early.text
            assert (
                f"this visit is {'requested' if version == 1 else 'approved'}"
                in (early.json()["detail"])
            )
            move(api, visit, status)
        move(api, visit, "held")
        how = {"outcome": "visit_cut_short", "outcome_notes": "Rhys was tired after the journey."}
        response = api.patch("ewi_worker", url, how, if_match='"4"')
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "held"  # the outcome is not a status
        assert response.json()["outcome"] == "visit_cut_short"

    @pytest.mark.parametrize(
        "outcome",
        ["child_did_not_arrive", "mother_refused", "visit_cut_short", "went_ahead_as_planned"],
    )
    def test_each_outcome(self, api: Api, family: dict[str, Any], outcome: str) -> None:
        visit = held_visit(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        response = api.patch("ewi_worker", url, {"outcome": outcome}, if_match='"4"')
        assert response.json()["outcome"] == outcome

    def test_no_outcome_for_a_visit_called_off(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family)
        move(api, visit, "cancelled", reason="Lockdown on the wing.")
        url = f"/v1/contact-visits/{visit['id']}"
        response = api.patch("ewi_worker", url, {"outcome": "mother_refused"}, if_match='"2"')
        assert response.status_code == 409
        assert api.patch("ewi_worker", url, {"outcome": "x"}, if_match='"2"').status_code == 422


class TestUpdate:
    def test_patch_with_if_match(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        change = {"scheduled_at": at(days=3), "escort": ESCORT}
        assert api.patch("ewi_worker", url, change).status_code == 428
        assert api.patch("ewi_worker", url, change, if_match='"3"').status_code == 412
        response = api.patch("ewi_worker", url, change, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.json()["escort"] == ESCORT and response.json()["version"] == 2
        assert api.patch("bristol", url, change, if_match='"2"').status_code == 403

    def test_children_and_type_are_what_was_approved(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        both = {"child_ids": [family["direct"]["id"], family["supervised"]["id"]]}
        response = api.patch("ewi_worker", url, both | {"supervisor": SUPERVISOR}, if_match='"1"')
        assert response.status_code == 200, response.text
        assert len(response.json()["child_ids"]) == 2
        move(api, visit, "approved")
        for change in ({"child_ids": [family["direct"]["id"]]}, {"visit_type": "family_day"}):
            refused = api.patch("ewi_worker", url, change, if_match='"3"')
            assert refused.status_code == 409, refused.text
        # The same children in another order is no change.
        same = {"child_ids": list(reversed(both["child_ids"])), "scheduled_at": at(days=5)}
        assert api.patch("ewi_worker", url, same, if_match='"3"').status_code == 200

    def test_a_patch_that_changes_nothing_keeps_the_version(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        visit = create(api, family, escort=ESCORT)
        url = f"/v1/contact-visits/{visit['id']}"
        events = count(api, "change_event")
        same = {
            "escort": ESCORT,
            "child_ids": [family["direct"]["id"]],
            "visit_type": "in_person_social_visit",
        }
        response = api.patch("ewi_worker", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"'
        assert count(api, "change_event") == events  # nothing to tell anyone
        assert [(r[2], r[3]) for r in trail(api, response)] == [("consult", "contact_visit")]
        moved = api.patch("ewi_worker", url, {"scheduled_at": at(days=3)}, if_match='"1"')
        assert moved.headers["ETag"] == '"2"'
        assert count(api, "change_event") == events + 1
        assert [(r[2], r[3]) for r in trail(api, moved)] == [("alter", "contact_visit")]
        # Other children are a change, with no column of the visit's own changed.
        children = {"child_ids": [family["direct"]["id"], family["supervised"]["id"]]}
        both = api.patch("ewi_worker", url, children | {"supervisor": SUPERVISOR}, if_match='"2"')
        assert both.headers["ETag"] == '"3"', both.text
        fewer = api.patch(
            "ewi_worker", url, {"child_ids": [family["direct"]["id"]]}, if_match='"3"'
        )
        assert fewer.headers["ETag"] == '"4"', fewer.text

    def test_nothing_changes_once_called_off(self, api: Api, family: dict[str, Any]) -> None:
        visit = create(api, family)
        move(api, visit, "refused", reason="The child's social worker advised against it.")
        url = f"/v1/contact-visits/{visit['id']}"
        response = api.patch("ewi_worker", url, {"escort": ESCORT}, if_match='"2"')
        assert response.status_code == 409
        assert "refused" in response.json()["detail"]

    def test_a_held_visit_keeps_what_happened(self, api: Api, family: dict[str, Any]) -> None:
        visit = held_visit(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        assert (
            api.patch("ewi_worker", url, {"visit_type": "family_day"}, if_match='"4"').status_code
            == 409
        )
        corrected = {"escort": {"name": "Aoife Ní Bhriain-Walsh", "role": "carer"}}
        assert api.patch("ewi_worker", url, corrected, if_match='"4"').status_code == 200

    @pytest.mark.parametrize(
        ("arrange", "change", "field"),
        [
            (
                {"children": ("supervised",), "supervisor": SUPERVISOR},
                {"supervisor": None},
                "supervisor",
            ),
            ({}, {"child_ids": ["none"]}, "child_ids"),
            ({}, {"child_ids": ["indirect"]}, "visit_type"),
            (
                {"children": ("indirect",), "visit_type": "letter_or_card"},
                {"visit_type": "phone_call"},
                "visit_type",
            ),
            ({"scheduled": True}, {"scheduled_at": None}, "scheduled_at"),
            ({"scheduled": True}, {"escort": None}, "escort"),
            ({"held": True}, {"scheduled_at": at(days=1)}, "scheduled_at"),
            ({"held": True}, {"scheduled_at": None}, "scheduled_at"),
            ({}, {"scheduled_at": "0001-01-01T00:00:00Z"}, "scheduled_at"),
            ({"held": True}, {"scheduled_at": "0001-01-01T00:00:00Z"}, "scheduled_at"),
            ({"scheduled": True}, {"scheduled_at": at(days=800)}, "scheduled_at"),
            ({}, {"visit_type": None}, "visit_type"),
            ({}, {"child_ids": []}, "child_ids"),
            ({}, {"status": "held"}, "status"),
            ({}, {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}, "mother_id"),
            ({}, {"version": 9}, "version"),
            ({}, {"next_statuses": []}, "next_statuses"),
        ],
    )
    def test_bad_changes_write_nothing(
        self, api: Api, family: dict[str, Any], arrange: dict, change: dict, field: str
    ) -> None:
        arrange = dict(arrange)  # the parameters are shared by both databases' runs
        children = arrange.pop("children", ("direct",))
        scheduled = arrange.pop("scheduled", False)
        if arrange.pop("held", False):
            visit = held_visit(api, family, *children, **arrange)
        else:
            visit = create(
                api, family, *children, escort=ESCORT, scheduled_at=at(days=1), **arrange
            )
        if scheduled:
            move(api, visit, "approved")
            visit = move(api, visit, "scheduled").json()
        if "child_ids" in change:
            change = {"child_ids": [family[name]["id"] for name in change["child_ids"]]}
        url = f"/v1/contact-visits/{visit['id']}"
        response = api.patch("ewi_worker", url, change, if_match=f'"{visit["version"]}"')
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert api.get("admin", url).json() == visit


class TestFinalContact:
    def final(self, api: Api, family: dict[str, Any], *children: str, **fields: Any) -> Any:
        ids = [family[name]["id"] for name in children]
        body = visit_body(
            family["mother"]["id"],
            ids,
            visit_type="final_contact_before_adoption",
            escort=ESCORT,
            **fields,
        )
        return api.post("ewi_worker", "/v1/contact-visits", body)

    def test_once_per_child(self, api: Api, family: dict[str, Any]) -> None:
        first = self.final(api, family, "direct")
        assert first.status_code == 201
        second = self.final(api, family, "direct")
        assert second.status_code == 409, second.text
        assert second.headers["content-type"] == "application/problem+json"
        assert first.json()["id"] in second.json()["detail"]
        assert count(api, "contact_visit") == 1
        # A brother or sister has a final contact of their own.
        siblings = self.final(api, family, "supervised", "direct", supervisor=SUPERVISOR)
        assert siblings.status_code == 409
        other = api.child(family["mother"]["id"], first_name="Iolo")
        assert self.final(api, family | {"iolo": other}, "iolo").status_code == 201

    @pytest.mark.parametrize("called_off", ["cancelled", "refused"])
    def test_one_called_off_does_not_count(
        self, api: Api, family: dict[str, Any], called_off: str
    ) -> None:
        first = self.final(api, family, "direct").json()
        assert (
            move(api, first, called_off, reason="The adopters asked to move it.").status_code == 200
        )
        assert self.final(api, family, "direct").status_code == 201

    def test_a_held_final_contact_still_counts(self, api: Api, family: dict[str, Any]) -> None:
        held_visit(api, family, visit_type="final_contact_before_adoption")
        assert self.final(api, family, "direct").status_code == 409

    def test_not_by_changing_a_visit_either(self, api: Api, family: dict[str, Any]) -> None:
        assert self.final(api, family, "direct").status_code == 201
        visit = create(api, family)
        url = f"/v1/contact-visits/{visit['id']}"
        change = {"visit_type": "final_contact_before_adoption"}
        assert api.patch("ewi_worker", url, change, if_match='"1"').status_code == 409
        other = create(api, family, "supervised", supervisor=SUPERVISOR, **change)
        url = f"/v1/contact-visits/{other['id']}"
        both = {"child_ids": [family["supervised"]["id"], family["direct"]["id"]]}
        assert api.patch("ewi_worker", url, both, if_match='"1"').status_code == 409
        # Changing it from a final contact frees the child for another.
        changed = api.patch("ewi_worker", url, {"visit_type": "family_day"}, if_match='"1"')
        assert changed.status_code == 200
        assert self.final(api, family, "supervised", supervisor=SUPERVISOR).status_code == 201

    def test_two_at_the_same_moment_cannot_both_be_recorded(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        if not api.database_url.startswith("postgresql"):
            pytest.skip("SQLite lets one writer at a time hold the whole database")
        admin = Caller(client_id=uuid.uuid4(), name="test", role=Role.admin)
        data = ContactVisitCreate(
            mother_id=family["mother"]["id"],
            child_ids=[family["direct"]["id"]],
            visit_type="final_contact_before_adoption",
        )
        app = api.client.app

        async def race() -> str:
            async with app.state.sessionmaker() as first:  # type: ignore[attr-defined]
                await create_visit(first, admin, data)

                async def second() -> str:
                    async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
                        try:
                            await create_visit(session, admin, data)
                        except Conflict:
                            return "409"
                        await session.commit()
                        return "recorded twice"

                waiting = asyncio.create_task(second())
                await asyncio.sleep(0.3)
                assert not waiting.done(), "the second should wait for the first"
                await first.commit()
            return await waiting

        assert api.client.portal.call(race) == "409"  # type: ignore[union-attr]
        assert count(api, "contact_visit") == 1


class TestScope:
    def test_a_local_authority_reads_visits_with_its_children(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        both = create(api, family, "direct", "indirect", visit_type="letter_or_card")
        surrey_only = create(api, family, "indirect", visit_type="letter_or_card")
        url = f"/v1/contact-visits/{both['id']}"
        assert api.get("bristol", url).json()["child_ids"] == [family["direct"]["id"]]
        assert api.get("surrey", url).json()["child_ids"] == [family["indirect"]["id"]]
        assert api.get("bristol", f"/v1/contact-visits/{surrey_only['id']}").status_code == 404
        listed = api.get("bristol", "/v1/contact-visits").json()["items"]
        assert [v["id"] for v in listed] == [both["id"]]

    def test_a_confidential_placements_carer_is_not_named_as_escort(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        hidden = api.child(
            family["mother"]["id"],
            first_name="Nia",
            local_authority_code="801",
            placement_confidential=True,
        )
        family["surreys"] = api.child(
            family["mother"]["id"], first_name="Osian", local_authority_code="936"
        )
        with_hidden = create(api, family, "surreys", escort=ESCORT)
        url = f"/v1/contact-visits/{with_hidden['id']}"
        change = {"child_ids": [family["surreys"]["id"], hidden["id"]]}
        patched = api.patch("ewi_worker", url, change, if_match='"1"')
        assert patched.status_code == 200, patched.text
        withheld = {"name": None, "role": "carer"}
        assert patched.json()["escort"] == withheld
        for who in ("admin", "ewi_worker", "surrey"):  # Surrey is told of its own child only
            assert api.get(who, url).json()["escort"] == withheld, who
            [listed] = [
                v
                for v in api.get(who, "/v1/contact-visits").json()["items"]
                if v["id"] == with_hidden["id"]
            ]
            assert listed["escort"] == withheld, who
        for who in ("bristol", "bristol_system"):
            assert api.get(who, url).json()["escort"] == ESCORT, who
        # A worker escorting is named to everyone; so is a carer where no placement is hidden.
        worker = {"name": "Hélène D'Arcy", "role": "social_worker"}
        by_worker = create(api, family, "surreys", escort=worker)
        assert api.get("admin", f"/v1/contact-visits/{by_worker['id']}").json()["escort"] == worker
        open_visit = create(api, family, "surreys", escort=ESCORT)
        assert api.get("admin", f"/v1/contact-visits/{open_visit['id']}").json()["escort"] == ESCORT

    def test_out_of_scope_reads_as_not_found(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        child = api.child(mother["id"], local_authority_code="801")
        visit = api.post(
            "sdi_worker", "/v1/contact-visits", visit_body(mother["id"], [child["id"]])
        ).json()
        url = f"/v1/contact-visits/{visit['id']}"
        for who in ("ewi_worker", "surrey"):
            assert api.get(who, url).status_code == 404, who
            assert api.get(who, "/v1/contact-visits").json()["items"] == []
        assert api.patch("ewi_worker", url, {"escort": ESCORT}, if_match='"1"').status_code == 404
        for who in ("admin", "sdi_worker", "bristol", "bristol_system"):
            assert api.get(who, url).status_code == 200, who
        assert api.get("ewi_governor", url).status_code == 403


class TestList:
    def test_filters(self, api: Api, family: dict[str, Any]) -> None:
        sdi = api.mother(prison_code="SDI", first_name="Chloé")
        sdi_child = api.child(sdi["id"], local_authority_code="936")
        soon = create(api, family, scheduled_at=at(days=2))
        letter = create(api, family, "indirect", visit_type="letter_or_card")
        later = create(api, family, scheduled_at=at(days=20))
        elsewhere = api.post(
            "admin",
            "/v1/contact-visits",
            visit_body(sdi["id"], [sdi_child["id"]], scheduled_at=at(days=3)),
        ).json()
        move(api, later, "approved")

        def ids(who: str, query: str = "") -> list[str]:
            response = api.get(who, f"/v1/contact-visits{query}")
            assert response.status_code == 200, response.text
            return [v["id"] for v in response.json()["items"]]

        assert ids("admin") == [soon["id"], letter["id"], later["id"], elsewhere["id"]]
        week = f"?from={at()}&to={at(days=7)}"
        assert ids("admin", week) == [soon["id"], elsewhere["id"]]
        assert ids("admin", week + "&prison_code=SDI") == [elsewhere["id"]]
        assert ids("ewi_worker") == [soon["id"], letter["id"], later["id"]]
        assert ids("admin", f"?mother_id={sdi['id']}") == [elsewhere["id"]]
        assert ids("admin", f"?child_id={family['indirect']['id']}") == [letter["id"]]
        assert ids("bristol", f"?child_id={family['indirect']['id']}") == []
        assert ids("admin", "?status=approved") == [later["id"]]
        assert ids("surrey") == [letter["id"], elsewhere["id"]]
        for query in ("?status=lost", f"?from={at(days=2)}&to={at(days=1)}", "?type=x"):
            assert api.get("admin", f"/v1/contact-visits{query}").status_code == 422, query

    def test_keyset_pages(self, api: Api, family: dict[str, Any]) -> None:
        made = [create(api, family)["id"] for _ in range(7)]
        seen, url = [], "/v1/contact-visits?limit=3"
        while url:
            body = api.get("admin", url).json()
            seen += [v["id"] for v in body["items"]]
            url = body["next_cursor"] and f"/v1/contact-visits?limit=3&cursor={body['next_cursor']}"
        assert seen == made

    def test_a_page_costs_the_same_whatever_its_size(
        self, api: Api, family: dict[str, Any]
    ) -> None:
        create(api, family, "direct", "indirect", visit_type="letter_or_card")
        with counting(api) as one:
            assert len(api.get("surrey", "/v1/contact-visits").json()["items"]) == 1
        for _ in range(11):
            visit = create(api, family, "direct", "indirect", visit_type="letter_or_card")
            move(api, visit, "approved")
        with counting(api) as many:
            assert len(api.get("surrey", "/v1/contact-visits").json()["items"]) == 12
        # Token, rate limit, the page, its children, their histories, one audit insert.
        assert len(one) == len(many) == statements(api, sqlite=6, postgres=4), many


class TestAudit:
    def test_each_row_names_the_visit_and_her(self, api: Api, family: dict[str, Any]) -> None:
        # That each route leaves its rows, and a failure its row: tests/contracts.
        mother_id = family["mother"]["id"]
        created = api.post(
            "ewi_worker", "/v1/contact-visits", visit_body(mother_id, [family["direct"]["id"]])
        )
        visit_id = created.json()["id"]
        assert trail(api, created) == [
            (
                "ewi_worker",
                "prison_social_worker",
                "collect",
                "contact_visit",
                visit_id,
                mother_id,
                "succeeded",
            )
        ]
        url = f"/v1/contact-visits/{visit_id}"
        for response, action in (
            (api.get("bristol", url), "consult"),
            (api.get("bristol", "/v1/contact-visits"), "consult"),
            (api.patch("ewi_worker", url, {"escort": ESCORT}, if_match='"1"'), "alter"),
            (api.post("ewi_worker", f"{url}/status", {"status": "approved"}, '"2"'), "alter"),
        ):
            assert response.status_code == 200, response.text
            assert [(r[2], r[3], r[4], r[5]) for r in trail(api, response)] == [
                (action, "contact_visit", visit_id, mother_id)
            ]
        refused = api.post("ewi_worker", f"{url}/status", {"status": "held"}, if_match='"3"')
        assert refused.status_code == 409
        assert [(r[2], r[3], r[4], r[6]) for r in trail(api, refused)] == [
            ("alter", "contact_visit", visit_id, "conflict")
        ]


def test_demo_data_keeps_the_rules(api: Api) -> None:
    from tac_api.demo import load_demo_data

    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=60, seed=11)

    api.client.portal.call(load)  # type: ignore[union-attr]
    visits, url = [], "/v1/contact-visits?limit=200"
    while url:
        body = api.get("admin", url).json()
        visits += body["items"]
        url = body["next_cursor"] and f"/v1/contact-visits?limit=200&cursor={body['next_cursor']}"
    assert {v["status"] for v in visits} >= {"requested", "held", "cancelled", "refused"}
    rows = api.sql("SELECT id, contact_arrangement FROM child")
    arrangement = {str(uuid.UUID(str(row[0]))): row[1] for row in rows}
    finals: list[str] = []
    for visit in visits:
        kinds = {arrangement[child_id] for child_id in visit["child_ids"]}
        assert "none" not in kinds
        if "indirect_only" in kinds:
            assert visit["visit_type"] == "letter_or_card"
        if "supervised" in kinds and visit["visit_type"] != "letter_or_card":
            assert visit["supervisor"] is not None
        if visit["status"] in ("scheduled", "held"):
            assert visit["scheduled_at"] is not None
        assert [h["to_status"] for h in visit["status_history"]][-1] == visit["status"]
        final = visit["visit_type"] == "final_contact_before_adoption"
        if final and visit["status"] not in ("cancelled", "refused"):
            finals += visit["child_ids"]
    assert len(finals) == len(set(finals))
    # A confidential placement's carer is never the escort: a worker brings the child.
    carers_of_hidden = api.sql(
        "SELECT count(*) FROM contact_visit v JOIN contact_visit_child c "
        "ON c.contact_visit_id = v.id JOIN child ON child.id = c.child_id "
        "WHERE child.placement_confidential AND v.escort_role = 'carer'"
    )[0][0]
    assert carers_of_hidden == 0
    assert any(v["escort"] and v["escort"]["role"] == "social_worker" for v in visits)
