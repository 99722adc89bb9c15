"""Link requests: a local authority cannot attach itself to a mother by naming her prison number.

A child pushed for a mother the authority has no confirmed child of is held until her prison's
social worker (or an admin) confirms it; until then the authority sees its own request and
nothing of her, and her case shows nothing of the child.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from tac_api.retention.service import expire_link_requests
from tests.support.api import Api
from tests.support.bodies import child_body
from tests.support.sql import count

CHILD = "/v1/sync/children"
REQUESTS = "/v1/link-requests"


def pushed(prison_number: str, **fields: Any) -> dict[str, Any]:
    body = child_body(mother_prison_number=prison_number, **fields)
    del body["local_authority_code"]  # the authority is the caller's own
    return body


def push(api: Api, external_id: str, prison_number: str, **fields: Any) -> Any:
    return api.put("bristol_system", f"{CHILD}/{external_id}", pushed(prison_number, **fields))


def feed(api: Api, who: str = "bristol_system") -> list[dict[str, Any]]:
    response = api.get(who, "/v1/sync/changes")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_push_for_a_mother_it_has_no_child_of_is_held_and_shows_nothing_of_her(
    api: Api,
) -> None:
    mother = api.mother()

    response = push(api, "BR-1", mother["prison_number"])

    assert response.status_code == 202, response.text
    assert response.headers["Sync-Result"] == "pending"
    request = response.json()
    assert request["status"] == "pending" and request["external_id"] == "BR-1"
    assert mother["id"] not in response.text
    # Nothing of her for the authority: as before it pushed.
    for url in (
        f"/v1/mothers/{mother['id']}",
        f"/v1/mothers/{mother['id']}/family",
        f"/v1/mothers/{mother['id']}/chronology",
        f"/v1/mothers/{mother['id']}/evidence-bundle",
    ):
        assert api.get("bristol", url).status_code == 404, url
        assert api.get("bristol_system", url).status_code == 404, url
    # Nothing of the child on her case.
    assert count(api, "child") == 0
    assert api.get("ewi_worker", f"/v1/mothers/{mother['id']}").json()["children"] == []
    family = api.get("ewi_worker", f"/v1/mothers/{mother['id']}/family").json()
    assert family["children"] == [] and family["social_workers"] == []
    # The authority sees its own request.
    own = api.get("bristol_system", "/v1/sync/link-requests").json()["items"]
    assert [r["id"] for r in own] == [request["id"]]
    assert api.get("bristol", response.headers["Location"]).json() == request
    assert api.get("surrey", response.headers["Location"]).status_code == 404


def test_a_repeat_push_updates_its_one_request(api: Api) -> None:
    mother = api.mother()
    first = push(api, "BR-1", mother["prison_number"]).json()

    again = push(api, "BR-1", mother["prison_number"])
    moved = push(api, "BR-1", mother["prison_number"], lives_with="kinship_carer")

    assert again.status_code == moved.status_code == 202
    assert again.json() == first  # nothing changed: nothing written
    assert moved.json()["id"] == first["id"]
    assert moved.json()["updated_at"] >= first["updated_at"]
    assert count(api, "link_request") == 1
    shown = api.get("ewi_worker", f"{REQUESTS}/{first['id']}").json()
    assert shown["child"]["lives_with"] == "kinship_carer"


def test_rules_that_depend_on_her_are_not_told_before_she_is_confirmed(api: Api) -> None:
    """Born before her, the child would be refused if the answer checked against her: that
    would tell the authority she exists and roughly when she was born."""
    mother = api.mother(date_of_birth="1990-04-12")

    known = push(api, "BR-1", mother["prison_number"], date_of_birth="1985-01-01")
    unknown = push(api, "BR-2", "Z9999ZZ", date_of_birth="1985-01-01")

    assert known.status_code == unknown.status_code == 202
    # Rules of the record alone still apply at once, alike for both.
    for number in (mother["prison_number"], "Z9999ZZ"):
        refused = push(api, "BR-3", number, date_of_birth="2999-01-01")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "date_of_birth"
    # Confirming checks every rule: the prison side declines it instead.
    request_id = known.json()["id"]
    confirm = api.post("ewi_worker", f"{REQUESTS}/{request_id}/confirm", {})
    assert confirm.status_code == 422
    assert api.get("ewi_worker", f"{REQUESTS}/{request_id}").json()["status"] == "pending"
    assert count(api, "child") == 0


def test_the_prison_side_lists_its_prisons_requests_and_sees_who_asked(api: Api) -> None:
    here = api.mother(prison_code="EWI")
    elsewhere = api.mother(prison_code="SDI")
    mine = push(api, "BR-1", here["prison_number"], first_name="Cerys").json()
    theirs = push(api, "BR-2", elsewhere["prison_number"]).json()
    nobody = push(api, "BR-3", "Z9999ZZ").json()

    listed = api.get("ewi_worker", REQUESTS).json()["items"]

    assert [r["id"] for r in listed] == [mine["id"]]
    shown = listed[0]
    assert shown["local_authority_code"] == "801"
    assert shown["requested_by"] == "bristol_system"
    assert shown["mother_id"] == here["id"]
    assert shown["child"]["first_name"] == "Cerys"
    assert [r["id"] for r in api.get("sdi_worker", REQUESTS).json()["items"]] == [theirs["id"]]
    # An admin sees all, those naming no mother too.
    everything = {r["id"]: r for r in api.get("admin", REQUESTS).json()["items"]}
    assert set(everything) == {mine["id"], theirs["id"], nobody["id"]}
    assert everything[nobody["id"]]["mother_id"] is None
    # Out of scope reads as not there.
    assert api.get("sdi_worker", f"{REQUESTS}/{mine['id']}").status_code == 404
    refused = api.post("sdi_worker", f"{REQUESTS}/{mine['id']}/confirm", {})
    assert refused.status_code == 404
    assert api.get("bristol", REQUESTS).status_code == 403
    assert count(api, "child") == 0


def test_a_number_no_mother_has_joins_her_prisons_list_once_she_is_recorded(api: Api) -> None:
    request = push(api, "BR-1", "A7777BC").json()
    assert api.get("ewi_worker", REQUESTS).json()["items"] == []

    mother = api.mother(prison_number="A7777BC", prison_code="EWI")

    listed = api.get("ewi_worker", REQUESTS).json()["items"]
    assert [(r["id"], r["mother_id"]) for r in listed] == [(request["id"], mother["id"])]


def test_confirming_links_the_authority_as_a_take_up_does(api: Api) -> None:
    mother = api.mother()
    request = push(api, "BR-1", mother["prison_number"]).json()

    confirmed = api.post(
        "ewi_worker", f"{REQUESTS}/{request['id']}/confirm", {"reason": "Her son, she says so"}
    )

    assert confirmed.status_code == 200, confirmed.text
    child = confirmed.json()
    assert child["mother_id"] == mother["id"] and child["local_authority_code"] == "801"
    assert confirmed.headers["Location"] == f"/v1/children/{child['id']}"
    # The authority now sees her, and the child as its own (by its own id).
    assert api.get("bristol", f"/v1/mothers/{mother['id']}/family").status_code == 200
    assert api.get("bristol", f"/v1/children/{child['id']}").json()["external_id"] == "BR-1"
    again = push(api, "BR-1", mother["prison_number"])
    assert again.status_code == 200 and again.headers["Sync-Result"] == "unchanged"
    # Further children it pushes for her link at once.
    sister = push(api, "BR-2", mother["prison_number"], first_name="Nia")
    assert sister.status_code == 201, sister.text
    # The authority learns of it from its change feed.
    (event,) = feed(api)
    assert event["type"] == "link-request.confirmed"
    assert event["mother_id"] == mother["id"] and event["child_ids"] == [child["id"]]
    assert event["data"] == {"external_id": "BR-1", "status": "confirmed", "child_id": child["id"]}
    assert feed(api, "surrey") == []
    decided = api.get("bristol_system", f"/v1/sync/link-requests/{request['id']}").json()
    assert decided["status"] == "confirmed" and decided["child_id"] == child["id"]
    shown = api.get("ewi_worker", f"{REQUESTS}/{request['id']}").json()
    assert shown["decided_by"] == "ewi_worker" and shown["reason"] == "Her son, she says so"
    assert shown["child"] is None  # the child's record holds it now
    assert api.post("ewi_worker", f"{REQUESTS}/{request['id']}/confirm", {}).status_code == 409
    # Her case's trail: the whole trail's newest page may be another test's list (in parallel).
    trail = api.get(
        "auditor", "/v1/audit", params={"client": "ewi_worker", "subject_id": mother["id"]}
    ).json()["items"]
    acts = {(e["action"], e["resource_type"]) for e in trail}
    assert {("alter", "link_request"), ("collect", "child")} <= acts


def test_confirming_takes_up_a_child_the_prison_side_recorded(api: Api) -> None:
    """Confirmation follows sync's own path: the child recorded in another authority is not
    hers to take, so the confirmed push makes Bristol's own, while one recorded in Bristol
    would have linked it at once."""
    mother = api.mother()
    api.child(mother["id"], local_authority_code="936", first_name="Rhys")
    request = push(api, "BR-1", mother["prison_number"], first_name="Rhys").json()

    confirmed = api.post("ewi_worker", f"{REQUESTS}/{request['id']}/confirm", {})

    assert confirmed.status_code == 200
    assert count(api, "child") == 2


def test_other_pending_children_link_at_once_after_a_confirmation(api: Api) -> None:
    mother = api.mother()
    first = push(api, "BR-1", mother["prison_number"]).json()
    push(api, "BR-2", mother["prison_number"], first_name="Nia")
    api.post("ewi_worker", f"{REQUESTS}/{first['id']}/confirm", {})

    second = push(api, "BR-2", mother["prison_number"], first_name="Nia")

    assert second.status_code == 201, second.text
    # Its request has nothing left to ask: gone from the prison side's list.
    assert api.get("ewi_worker", REQUESTS).json()["items"] == []


def test_a_child_the_prison_side_recorded_in_the_authority_links_it_at_once(api: Api) -> None:
    mother = api.mother()
    api.child(mother["id"], local_authority_code="801", first_name="Rhys")

    response = push(api, "BR-9", mother["prison_number"], first_name="Nia")

    assert response.status_code == 201
    assert count(api, "link_request") == 0


def test_children_linked_before_link_requests_count_as_confirmed(api: Api) -> None:
    """The link is a child of hers in the authority: no request table row is needed for the
    children synced before this change."""
    mother = api.mother()
    child = api.child(mother["id"], local_authority_code="801")
    api.sql("UPDATE child SET external_id = 'BR-OLD'")

    response = push(api, "BR-NEW", mother["prison_number"], first_name="Nia")

    assert response.status_code == 201
    old = push(api, "BR-OLD", mother["prison_number"])
    assert old.status_code == 200 and old.json()["id"] == child["id"]


def test_declining_tells_the_authority_nothing_of_her(api: Api) -> None:
    mother = api.mother()
    request = push(api, "BR-1", mother["prison_number"]).json()

    declined = api.post(
        "ewi_worker", f"{REQUESTS}/{request['id']}/decline", {"reason": "Not her child"}
    )

    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    assert declined.json()["reason"] == "Not her child"
    assert declined.json()["child"] is None  # what was pushed is erased
    assert api.sql("SELECT child FROM link_request")[0][0] is None
    (event,) = feed(api)
    assert event["type"] == "link-request.declined"
    assert event["mother_id"] is None and event["child_ids"] == []
    assert event["data"] == {"external_id": "BR-1", "status": "declined"}
    assert mother["id"] not in str(feed(api)) and "Not her child" not in str(feed(api))
    own = api.get("bristol_system", f"/v1/sync/link-requests/{request['id']}").json()
    assert own["status"] == "declined" and "reason" not in own
    # Naming her again is refused; naming another asks again.
    again = push(api, "BR-1", mother["prison_number"])
    assert again.status_code == 409
    assert again.json()["type"] == "urn:tac-api:problem:link-declined"
    other = push(api, "BR-1", "Z9999ZZ")
    assert other.status_code == 202 and other.json()["id"] == request["id"]
    assert other.json()["status"] == "pending"
    assert api.post("ewi_worker", f"{REQUESTS}/{request['id']}/decline", {}).status_code == 422
    assert count(api, "child") == 0


def test_a_request_naming_no_mother_cannot_be_confirmed_but_can_be_declined(api: Api) -> None:
    request = push(api, "BR-1", "Z9999ZZ").json()

    assert api.post("admin", f"{REQUESTS}/{request['id']}/confirm", {}).status_code == 409
    declined = api.post("admin", f"{REQUESTS}/{request['id']}/decline", {"reason": "Unknown"})

    assert declined.status_code == 200
    assert [e["type"] for e in feed(api)] == ["link-request.declined"]


def test_unconfirmed_requests_expire_and_are_erased_with_an_audit_row(api: Api) -> None:
    mother = api.mother()
    waiting = push(api, "BR-1", mother["prison_number"]).json()
    nobody = push(api, "BR-2", "Z9999ZZ").json()
    engine = api.client.app.state.engine  # type: ignore[attr-defined]
    days = api.client.app.state.settings.link_request_expiry_days  # type: ignore[attr-defined]

    def expire(as_of: datetime, apply: bool) -> str:
        return api.client.portal.call(  # type: ignore[union-attr]
            lambda: expire_link_requests(
                engine, as_of=as_of, expiry_days=days, apply=apply, request_id="retention-test"
            )
        )

    soon = datetime.now(UTC) + timedelta(days=days - 1)
    assert expire(soon, apply=True).endswith("erased 0.")
    later = datetime.now(UTC) + timedelta(days=days + 1)
    assert expire(later, apply=False).endswith("dry run: 2 would go.")
    assert count(api, "link_request") == 2
    assert expire(later, apply=True).endswith("erased 2.")

    assert count(api, "link_request") == 0
    erased = api.sql(
        "SELECT resource_id, subject_id FROM audit_event WHERE action = 'erase' "
        "AND resource_type = 'link_request'"
    )
    by_request = {str(row[0]).replace("-", ""): row[1] for row in erased}
    assert set(by_request) == {waiting["id"].replace("-", ""), nobody["id"].replace("-", "")}
    assert [(e["type"], e["mother_id"]) for e in feed(api)] == [("link-request.expired", None)] * 2


def test_hearings_and_meetings_are_no_way_to_attach_either(api: Api) -> None:
    mother = api.mother()
    push(api, "BR-A", mother["prison_number"])  # pending: not linked
    hearing = {
        "child_external_ids": ["BR-A"],
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": "2027-01-12T10:00:00Z",
    }
    meeting = {
        "child_external_ids": ["BR-A"],
        "meeting_type": "looked_after_child_review",
        "starts_at": "2027-01-05T14:00:00Z",
        "platform": "microsoft_teams",
    }
    for url, body in (("/v1/sync/court-hearings/H-1", hearing), ("/v1/sync/meetings/M-1", meeting)):
        answers = [
            api.put("bristol_system", url, {**body, "mother_prison_number": number})
            for number in (mother["prison_number"], "Z9999ZZ")
        ]
        assert [a.status_code for a in answers] == [422, 422], url
        known, unknown = (a.json() for a in answers)
        assert known == unknown
    assert count(api, "court_hearing") == count(api, "meeting") == 0


def test_a_batch_counts_pending_items_apart_from_failed_ones(api: Api) -> None:
    mother = api.mother()
    declined = push(api, "BR-9", mother["prison_number"]).json()
    api.post("ewi_worker", f"{REQUESTS}/{declined['id']}/decline", {"reason": "Not hers"})
    items = [
        {"external_id": "BR-1", **pushed(mother["prison_number"])},
        {"external_id": "BR-2", **pushed("Z9999ZZ")},
        {"external_id": "BR-9", **pushed(mother["prison_number"])},  # declined: refused
    ]

    body = api.post("bristol_system", "/v1/sync/children:batch", {"items": items}).json()

    assert [r["result"] for r in body["results"]] == ["pending", "pending", "failed"]
    assert (body["pending"], body["failed"], body["created"]) == (2, 1, 0)
    assert body["results"][2]["problem"]["status"] == 409
    assert body["results"][0]["id"] is None and body["results"][0]["link_request_id"]
    assert count(api, "child") == 0 and count(api, "link_request") == 3


def test_a_confidential_placement_pushed_is_withheld_from_the_prison_side(api: Api) -> None:
    """As in the child's record: a mistyped prison number must not give an unrelated prison the
    carer's address."""
    mother = api.mother()
    carer = {"name": "Morwenna Trevithick", "phone": "01179 496 000", "address": "1 Quay St"}
    held = push(
        api,
        "BR-5",
        mother["prison_number"],
        placement_confidential=True,
        placement_type="U1",
        carer=carer,
    ).json()

    for who in ("ewi_worker", "admin"):
        request = api.get(who, f"{REQUESTS}/{held['id']}").json()
        child = request["child"]
        assert (child["lives_with"], child["placement_type"], child["carer"]) == (None, None, None)
        assert child["placement_withheld"] is True
        assert "Trevithick" not in str(api.get(who, REQUESTS).json())
    # Confirmed, the record holds the placement the authority sent.
    confirmed = api.post("ewi_worker", f"{REQUESTS}/{held['id']}/confirm", {})
    assert confirmed.status_code == 200, confirmed.text
    assert api.sql("SELECT carer_name, placement_type FROM child") == [
        ("Morwenna Trevithick", "U1")
    ]
