"""Local authority sync: children, court hearings and meetings pushed by the authority's own ids."""

import json
from typing import Any

import pytest

from tac_api.sync.schemas import SyncBatchResult
from tests.support.api import Api
from tests.support.bodies import BATCH, batch_item, sync_child
from tests.support.sql import count
from tests.support.world import linked_mother, surrey_system

# One child, PUT by the authority's id ------------------------------------------------------


def test_put_creates_then_the_same_body_again_changes_nothing(api: Api) -> None:
    mother = linked_mother(api)
    body = sync_child(mother["prison_number"])

    first = api.put("bristol_system", "/v1/sync/children/BR-1001", body)
    assert first.status_code == 201, first.text
    assert first.headers["Sync-Result"] == "created"
    child = first.json()
    assert child["external_id"] == "BR-1001"
    assert child["mother_id"] == mother["id"]
    assert child["local_authority_code"] == "801"
    assert first.headers["Location"] == f"/v1/children/{child['id']}"

    again = api.put("bristol_system", "/v1/sync/children/BR-1001", body)
    assert again.status_code == 200
    assert again.headers["Sync-Result"] == "unchanged"
    assert again.json() == child
    assert again.headers["ETag"] == first.headers["ETag"] == '"1"'
    assert count(api, "child") == 2  # hers, and the one that linked Bristol to her


def test_put_updates_and_bumps_the_version(api: Api) -> None:
    mother = linked_mother(api)
    api.put("bristol_system", "/v1/sync/children/BR-1", sync_child(mother["prison_number"]))
    moved = sync_child(mother["prison_number"], lives_with="kinship_carer", placement_type="U4")

    response = api.put("bristol_system", "/v1/sync/children/BR-1", moved)

    assert response.status_code == 200
    assert response.headers["Sync-Result"] == "updated"
    assert response.json()["lives_with"] == "kinship_carer"
    assert response.json()["version"] == 2


def test_a_field_left_out_of_a_put_is_cleared(api: Api) -> None:
    mother = linked_mother(api)
    api.put("bristol_system", "/v1/sync/children/BR-1", sync_child(mother["prison_number"]))
    body = sync_child(mother["prison_number"])
    del body["social_worker"]

    response = api.put("bristol_system", "/v1/sync/children/BR-1", body)

    assert response.json()["social_worker"] is None


def test_put_honours_if_match_and_if_none_match(api: Api) -> None:
    mother = linked_mother(api)
    body = sync_child(mother["prison_number"])
    url = "/v1/sync/children/BR-7"

    assert api.put("bristol_system", url, body, if_match='"1"').status_code == 412  # none yet
    assert api.put("bristol_system", url, body, if_none_match="*").status_code == 201
    assert api.put("bristol_system", url, body, if_none_match="*").status_code == 412
    # Read as everywhere (RFC 9110): a list of ETags, compared weakly, that names the current one.
    assert api.put("bristol_system", url, body, if_none_match='"7", W/"1"').status_code == 412
    assert api.put("bristol_system", url, body, if_none_match='"7"').status_code == 200
    changed = sync_child(mother["prison_number"], first_name="Dafydd")
    stale = api.put("bristol_system", url, changed, if_match='"7"')
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert api.put("bristol_system", url, changed, if_match='"1"').status_code == 200
    assert api.get("admin", api.put("bristol_system", url, changed).headers["Location"]).json()[
        "first_name"
    ] == ("Dafydd")


def test_a_mother_the_service_does_not_know_is_held_as_a_request_not_a_child(api: Api) -> None:
    response = api.put("bristol_system", "/v1/sync/children/BR-1", sync_child("Z9999ZZ"))

    assert response.status_code == 202, response.text
    assert response.headers["Sync-Result"] == "pending"
    assert response.json()["status"] == "pending"
    assert response.headers["Location"] == f"/v1/sync/link-requests/{response.json()['id']}"
    assert count(api, "child") == 0
    assert count(api, "link_request") == 1


def test_the_rules_of_a_childs_record_apply(api: Api) -> None:
    mother = linked_mother(api)
    bad = sync_child(mother["prison_number"], date_of_birth="1980-01-01", legal_status="ZZ")

    response = api.put("bristol_system", "/v1/sync/children/BR-1", bad)

    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"date_of_birth", "legal_status"}
    assert count(api, "child") == 1  # only the one that linked Bristol to her


@pytest.mark.parametrize("external_id", ["-starts-with-dash", "has space", "x" * 65])
def test_an_external_id_must_be_a_plain_key(api: Api, external_id: str) -> None:
    mother = api.mother()
    response = api.put(
        "bristol_system", f"/v1/sync/children/{external_id}", sync_child(mother["prison_number"])
    )
    assert response.status_code == 422


def test_the_authority_comes_from_the_token_not_the_body(api: Api) -> None:
    mother = api.mother()
    body = {**sync_child(mother["prison_number"]), "local_authority_code": "936"}
    assert api.put("bristol_system", "/v1/sync/children/BR-1", body).status_code == 422


def test_only_an_authority_system_syncs(api: Api) -> None:
    mother = api.mother()
    body = sync_child(mother["prison_number"])
    # An admin acts for no one authority.
    for who in ("admin", "bristol", "ewi_worker", "ewi_governor", "auditor"):
        assert api.put(who, "/v1/sync/children/BR-1", body).status_code == 403, who
    assert count(api, "child") == 0


def test_external_ids_are_each_authoritys_own(api: Api) -> None:
    mother = linked_mother(api, "801", "936")

    bristol = api.put(
        "bristol_system", "/v1/sync/children/C-1", sync_child(mother["prison_number"])
    )
    surrey = api.client.put(
        "/v1/sync/children/C-1",
        json=sync_child(mother["prison_number"], first_name="Nia", date_of_birth="2019-05-06"),
        headers=surrey_system(api),
    )

    assert bristol.status_code == surrey.status_code == 201
    assert bristol.json()["id"] != surrey.json()["id"]
    assert surrey.json()["local_authority_code"] == "936"
    # Another authority's key is not shown to anyone else.
    shown = api.get("admin", f"/v1/children/{bristol.json()['id']}").json()
    assert shown["external_id"] is None
    assert api.get("bristol", f"/v1/children/{bristol.json()['id']}").json()["external_id"] == (
        "C-1"
    )


def test_a_child_the_prison_side_recorded_first_is_taken_up_not_made_twice(api: Api) -> None:
    mother = api.mother()
    recorded = api.child(mother["id"], first_name="Rhys", date_of_birth="2016-02-03")

    response = api.put(
        "bristol_system",
        "/v1/sync/children/BR-55",
        sync_child(mother["prison_number"], first_name="RHYS", date_of_birth="2016-02-03"),
    )

    assert response.status_code == 200
    assert response.headers["Sync-Result"] == "updated"
    assert response.json()["id"] == recorded["id"]
    assert response.json()["external_id"] == "BR-55"
    assert count(api, "child") == 1


def test_twins_of_the_same_name_are_not_guessed_between(api: Api) -> None:
    mother = api.mother()
    api.child(mother["id"], first_name="Rhys", date_of_birth="2016-02-03")
    api.child(mother["id"], first_name="Rhys", date_of_birth="2016-02-03")

    response = api.put(
        "bristol_system", "/v1/sync/children/BR-55", sync_child(mother["prison_number"])
    )

    assert response.status_code == 201
    assert count(api, "child") == 3


def test_a_child_moved_to_another_authority_loses_the_old_authoritys_id(api: Api) -> None:
    mother = linked_mother(api)
    child = api.put(
        "bristol_system", "/v1/sync/children/BR-1", sync_child(mother["prison_number"])
    ).json()
    api.patch("admin", f"/v1/children/{child['id']}", {"local_authority_code": "936"}, '"1"')

    again = api.put("bristol_system", "/v1/sync/children/BR-1", sync_child(mother["prison_number"]))

    # Bristol's system now makes a new child of its own: the moved one is no longer Bristol's.
    assert again.status_code == 201
    assert again.json()["id"] != child["id"]
    assert api.get("surrey", f"/v1/children/{child['id']}").json()["external_id"] is None


def test_syncing_writes_audit_events(api: Api) -> None:
    mother = linked_mother(api)
    body = sync_child(mother["prison_number"])
    api.put("bristol_system", "/v1/sync/children/BR-1", body)
    api.put("bristol_system", "/v1/sync/children/BR-1", body)
    api.put(
        "bristol_system",
        "/v1/sync/children/BR-1",
        sync_child(mother["prison_number"], sex="unknown"),
    )

    trail = api.get(
        "auditor", "/v1/audit", params={"subject_id": mother["id"], "client": "bristol_system"}
    ).json()["items"]
    actions = [event["action"] for event in trail if event["resource_type"] == "child"]
    assert sorted(actions) == ["alter", "collect", "consult"]


# Batches --------------------------------------------------------------------------------------


def test_a_batch_gives_each_item_its_own_result(api: Api) -> None:
    mother = linked_mother(api)
    api.put(
        "bristol_system",
        "/v1/sync/children/B-2",
        sync_child(mother["prison_number"], first_name="Ffion", date_of_birth="2018-01-01"),
    )
    api.put(
        "bristol_system",
        "/v1/sync/children/B-3",
        sync_child(mother["prison_number"], first_name="Osian", date_of_birth="2019-01-01"),
    )
    items = [
        batch_item(mother["prison_number"], "B-1"),  # new
        batch_item(mother["prison_number"], "B-2", first_name="Ffion", date_of_birth="2018-01-01"),
        batch_item(
            mother["prison_number"],
            "B-3",
            first_name="Osian",
            date_of_birth="2019-01-01",
            sex="unknown",
        ),
        batch_item("Z9999ZZ", "B-4"),  # unknown mother
        {"external_id": "B-5", "first_name": "Ela"},  # not a child's record at all
        batch_item(mother["prison_number"], "B-1"),  # the same child twice
    ]

    response = api.post("bristol_system", BATCH, {"items": items})

    assert response.status_code == 200, response.text
    body = response.json()
    SyncBatchResult.model_validate(body)  # the answer is built by hand: held to the contract
    assert [r["result"] for r in body["results"]] == [
        "created",
        "unchanged",
        "updated",
        "pending",
        "failed",
        "failed",
    ]
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4, 5]
    counts = ("created", "updated", "unchanged", "pending", "failed")
    assert tuple(body[name] for name in counts) == (1, 1, 1, 1, 2)
    unknown_mother = body["results"][3]
    assert unknown_mother["problem"] is None and unknown_mother["id"] is None
    assert unknown_mother["link_request_id"] is not None
    invalid = {e["field"] for e in body["results"][4]["problem"]["errors"]}
    assert {"last_name", "mother_prison_number", "lives_with"} <= invalid
    assert body["results"][4]["external_id"] == "B-5"
    assert "item 0" in body["results"][5]["problem"]["detail"]
    assert count(api, "child") == 4  # three of the batch's, and the one that linked Bristol


def test_replaying_a_batch_three_times_leaves_the_same_state(api: Api) -> None:
    mothers = [linked_mother(api) for _ in range(3)]
    items = [
        batch_item(
            m["prison_number"], f"R-{i}-{j}", first_name=f"Child{j}", date_of_birth=f"201{j}-03-04"
        )
        for i, m in enumerate(mothers)
        for j in range(4)
    ]

    answers = [api.post("bristol_system", BATCH, {"items": items}).json() for _ in range(3)]

    assert answers[0]["created"] == 12
    assert answers[1]["unchanged"] == answers[2]["unchanged"] == 12
    assert [r["id"] for r in answers[0]["results"]] == [r["id"] for r in answers[2]["results"]]
    state = api.sql(
        "SELECT external_id, version, first_name FROM child WHERE external_id IS NOT NULL"
    )
    assert len(state) == 12
    assert {row[1] for row in state} == {1}


def test_a_batch_envelope_that_is_wrong_is_refused_whole(api: Api) -> None:
    mother = api.mother()
    item = batch_item(mother["prison_number"], "E-1")
    for body in (
        {},
        {"items": []},
        {"items": [item] * 1001},
        {"items": [item], "extra": 1},
        [item],
    ):
        response = api.post("bristol_system", BATCH, body)
        assert response.status_code == 422, body if not isinstance(body, dict) else body.keys()
        assert response.headers["content-type"] == "application/problem+json"
    not_json = api.client.post(
        BATCH,
        content=b"{not json",
        headers=api.headers("bristol_system", **{"Content-Type": "application/json"}),
    )
    assert not_json.status_code == 422
    assert count(api, "child") == 0


def test_a_full_batch_of_a_thousand_is_accepted(api: Api) -> None:
    mother = linked_mother(api)
    items = [
        batch_item(
            mother["prison_number"],
            f"K-{n}",
            first_name=f"Child{n}",
            contact_arrangement="supervised",
            contact_arrangement_reason="x" * 500,
        )
        for n in range(1000)
    ]
    response = api.post("bristol_system", BATCH, {"items": items})
    assert response.status_code == 200, response.text[:500]
    assert response.json()["created"] == 1000
    assert count(api, "child") == 1001


# Court hearings and meetings ------------------------------------------------------------------


def bristol_family(api: Api) -> tuple[dict[str, Any], list[str]]:
    """A mother with two of Bristol's children, synced by Bristol's ids."""
    mother = linked_mother(api)
    for external_id, name, born in (
        ("BR-A", "Rhys", "2016-02-03"),
        ("BR-B", "Ffion", "2019-07-08"),
    ):
        response = api.put(
            "bristol_system",
            f"/v1/sync/children/{external_id}",
            sync_child(mother["prison_number"], first_name=name, date_of_birth=born),
        )
        assert response.status_code == 201, response.text
    return mother, ["BR-A", "BR-B"]


def hearing_body(prison_number: str, **fields: Any) -> dict[str, Any]:
    return {
        "mother_prison_number": prison_number,
        "child_external_ids": ["BR-A"],
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": "2027-01-12T10:00:00Z",
        **fields,
    }


def test_a_court_date_is_pushed_once_and_moved_with_its_history(api: Api) -> None:
    mother, _ = bristol_family(api)
    url = "/v1/sync/court-hearings/CASE-42-H1"

    created = api.put("bristol_system", url, hearing_body(mother["prison_number"]))
    assert created.status_code == 201, created.text
    hearing = created.json()
    assert hearing["mother_id"] == mother["id"]
    assert hearing["notified_at"] is not None  # set by the service when not given
    again = api.put("bristol_system", url, hearing_body(mother["prison_number"]))
    assert again.status_code == 200
    assert again.headers["Sync-Result"] == "unchanged"
    assert again.json()["version"] == 1
    assert again.json()["notified_at"] == hearing["notified_at"]  # kept, not reset to now

    moved = api.put(
        "bristol_system",
        url,
        hearing_body(
            mother["prison_number"],
            starts_at="2027-01-19T10:00:00Z",
            child_external_ids=["BR-A", "BR-B"],
        ),
    )
    assert moved.status_code == 200
    assert moved.headers["Sync-Result"] == "updated"
    assert len(moved.json()["child_ids"]) == 2
    amendments = api.get("ewi_worker", f"/v1/court-hearings/{hearing['id']}/amendments").json()
    changed = {c["field"] for a in amendments["items"] for c in a["changes"]}
    assert {"starts_at", "child_ids"} <= changed
    assert api.sql("SELECT count(*) FROM court_hearing")[0][0] == 1


def test_a_pushed_hearing_may_say_when_the_authority_told_her_side(api: Api) -> None:
    mother, _ = bristol_family(api)
    body = hearing_body(mother["prison_number"], notified_at="2026-11-20T09:00:00Z")

    hearing = api.put("bristol_system", "/v1/sync/court-hearings/H-2", body).json()

    assert hearing["notified_at"] == "2026-11-20T09:00:00Z"
    future = hearing_body(mother["prison_number"], notified_at="2099-01-01T00:00:00Z")
    assert api.put("bristol_system", "/v1/sync/court-hearings/H-3", future).status_code == 422


def test_a_pushed_hearing_keeps_the_prison_sides_arrangements(api: Api) -> None:
    mother, _ = bristol_family(api)
    url = "/v1/sync/court-hearings/H-1"
    hearing = api.put("bristol_system", url, hearing_body(mother["prison_number"])).json()
    arranged = api.patch(
        "ewi_worker",
        f"/v1/court-hearings/{hearing['id']}",
        {"attendance_mode": "prison_video_link"},
        '"1"',
    )
    assert arranged.status_code == 200, arranged.text

    again = api.put("bristol_system", url, hearing_body(mother["prison_number"]))

    assert again.headers["Sync-Result"] == "unchanged"
    assert again.json()["attendance_mode"] == "prison_video_link"
    sent = hearing_body(mother["prison_number"], attendance_mode="in_person")
    assert api.put("bristol_system", url, sent).status_code == 422  # not the authority's field


def test_a_pushed_hearing_names_the_authoritys_own_children_only(api: Api) -> None:
    mother, _ = bristol_family(api)
    surrey_child = api.child(mother["id"], local_authority_code="936", first_name="Nia")
    api.sql(
        "UPDATE child SET external_id = 'BR-C' WHERE local_authority_code = '936'"
    )  # the same key in another authority's system is not Bristol's

    for ids in (["BR-C"], ["NOPE"], ["BR-A", "BR-C"]):
        body = hearing_body(mother["prison_number"], child_external_ids=ids)
        response = api.put("bristol_system", "/v1/sync/court-hearings/H-9", body)
        assert response.status_code == 422, ids
        assert response.json()["errors"][0]["field"] == "child_external_ids"
        assert surrey_child["id"] not in response.text
    assert api.sql("SELECT count(*) FROM court_hearing")[0][0] == 0


def test_a_mother_without_the_authoritys_children_is_not_found_for_it(api: Api) -> None:
    stranger = api.mother()
    body = hearing_body(stranger["prison_number"])
    response = api.put("bristol_system", "/v1/sync/court-hearings/H-1", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "mother_prison_number"


def test_a_pushed_hearing_honours_if_match(api: Api) -> None:
    mother, _ = bristol_family(api)
    url = "/v1/sync/court-hearings/H-1"
    body = hearing_body(mother["prison_number"])
    none_yet = api.put("bristol_system", url, body, if_match='"1"')
    assert none_yet.status_code == 412
    assert none_yet.json()["detail"].startswith("No hearing with this id is recorded yet")
    api.put("bristol_system", url, body)
    moved = hearing_body(mother["prison_number"], starts_at="2027-02-01T10:00:00Z")
    assert api.put("bristol_system", url, moved, if_match='"5"').status_code == 412
    assert api.put("bristol_system", url, moved, if_match='"1"').status_code == 200


def meeting_body(prison_number: str, **fields: Any) -> dict[str, Any]:
    return {
        "mother_prison_number": prison_number,
        "child_external_ids": ["BR-A"],
        "meeting_type": "looked_after_child_review",
        "starts_at": "2027-01-05T14:00:00Z",
        "platform": "microsoft_teams",
        **fields,
    }


def test_a_meeting_invitation_is_pushed_idempotently(api: Api) -> None:
    mother, _ = bristol_family(api)
    url = "/v1/sync/meetings/LAC-77"

    created = api.put("bristol_system", url, meeting_body(mother["prison_number"]))
    assert created.status_code == 201, created.text
    meeting = created.json()
    assert meeting["prison_can_join"] is False  # Teams: the prison cannot join
    assert meeting["notified_at"] is not None
    again = api.put("bristol_system", url, meeting_body(mother["prison_number"]))
    assert again.headers["Sync-Result"] == "unchanged"
    assert again.json() == meeting

    moved = api.put(
        "bristol_system", url, meeting_body(mother["prison_number"], platform="prison_video_link")
    )
    assert moved.headers["Sync-Result"] == "updated"
    assert moved.json()["prison_can_join"] is True
    assert moved.json()["version"] == 2
    assert api.sql("SELECT count(*) FROM meeting")[0][0] == 1
    refused = meeting_body(mother["prison_number"], attended=True)
    assert api.put("bristol_system", url, refused).status_code == 422


def test_hearing_and_meeting_ids_are_each_kind_and_authoritys_own(api: Api) -> None:
    mother, _ = bristol_family(api)
    hearing = api.put(
        "bristol_system", "/v1/sync/court-hearings/X-1", hearing_body(mother["prison_number"])
    )
    meeting = api.put(
        "bristol_system", "/v1/sync/meetings/X-1", meeting_body(mother["prison_number"])
    )
    assert hearing.status_code == meeting.status_code == 201


def test_a_batch_may_be_larger_than_other_bodies_but_not_without_limit(api: Api) -> None:
    mother = linked_mother(api)
    limits = api.client.app.state.settings  # type: ignore[attr-defined]
    reason = "x" * 2000
    item = batch_item(
        mother["prison_number"],
        "L-0",
        contact_arrangement="supervised",
        contact_arrangement_reason=reason,
    )
    # Over the ordinary limit: refused anywhere else, taken as a batch.
    big = {"items": [{**item, "external_id": f"L-{n}"} for n in range(200)]}
    assert len(json.dumps(big)) > limits.max_body_bytes
    assert api.post("bristol_system", BATCH, big).status_code == 200
    too_big = {"items": [big["items"][0]] * (limits.max_batch_body_bytes // len(reason) + 1)}
    refused = api.post("bristol_system", BATCH, too_big)
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    ordinary = api.post("ewi_worker", "/v1/mothers", {"first_name": reason * 200})
    assert ordinary.status_code == 413
