"""A local authority's system pushes hearings and meetings that do not go ahead: the status with
who decided and why, and an adjournment naming the new record by the authority's own id."""

from typing import Any

import pytest

from tests.support.api import Api
from tests.support.bodies import sync_child
from tests.support.world import linked_mother

KINDS = {
    "court-hearings": {
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "decided_by": "court",
    },
    "meetings": {
        "meeting_type": "looked_after_child_review",
        "platform": "microsoft_teams",
        "decided_by": "chair",
    },
}


@pytest.fixture
def mother(api: Api) -> dict[str, Any]:
    mother = linked_mother(api)
    body = sync_child(mother["prison_number"], first_name="Rhys", date_of_birth="2016-02-03")
    assert api.put("bristol_system", "/v1/sync/children/BR-A", body).status_code == 201
    return mother


def body(kind: str, mother: dict[str, Any], starts_at: str, **fields: Any) -> dict[str, Any]:
    own = {k: v for k, v in KINDS[kind].items() if k != "decided_by"}
    return {
        "mother_prison_number": mother["prison_number"],
        "child_external_ids": ["BR-A"],
        "starts_at": starts_at,
        **own,
        **fields,
    }


def push(api: Api, kind: str, external_id: str, sent: dict[str, Any]) -> Any:
    return api.put("bristol_system", f"/v1/sync/{kind}/{external_id}", sent)


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_adjournment_names_the_new_record_by_its_own_id(
    api: Api, mother: dict, kind: str
) -> None:
    decided_by = KINDS[kind]["decided_by"]
    old = push(api, kind, "X-1", body(kind, mother, "2027-01-12T10:00:00Z")).json()
    adjourned = body(
        kind,
        mother,
        "2027-01-12T10:00:00Z",
        status="adjourned",
        status_decided_by=decided_by,
        status_reason="Adjourned for a report.",
        adjourned_to_external_id="X-2",
    )
    # The new one first: until then, the adjournment names nothing.
    early = push(api, kind, "X-1", adjourned)
    assert early.status_code == 422, early.text
    assert early.json()["errors"][0]["field"] == "adjourned_to_external_id"
    new = push(api, kind, "X-2", body(kind, mother, "2027-02-02T10:00:00Z")).json()
    response = push(api, kind, "X-1", adjourned)
    assert response.status_code == 200, response.text
    assert response.headers["Sync-Result"] == "updated"
    shown = response.json()
    assert shown["status"] == "adjourned" and shown["status_decided_by"] == decided_by
    assert shown["adjourned_to_id"] == new["id"] and shown["version"] == old["version"] + 1
    assert (
        api.get("ewi_worker", f"/v1/{kind}/{new['id']}").json()["adjourned_from_id"] == (old["id"])
    )
    # Pushed again: nothing changes. A plain push (no status) keeps the decision.
    again = push(api, kind, "X-1", adjourned)
    assert again.headers["Sync-Result"] == "unchanged" and again.json() == shown
    plain = push(api, kind, "X-1", body(kind, mother, "2027-01-12T10:00:00Z"))
    assert plain.headers["Sync-Result"] == "unchanged"
    # Not revived, nor decided again, nor moved.
    revived = push(api, kind, "X-1", body(kind, mother, "2027-01-12T10:00:00Z", status="scheduled"))
    assert revived.status_code == 409
    vacated = {**adjourned, "status": "vacated", "adjourned_to_external_id": None}
    assert push(api, kind, "X-1", vacated).status_code == 409
    moved = push(api, kind, "X-1", body(kind, mother, "2027-01-19T10:00:00Z"))
    assert moved.status_code == 409
    # The new date of one record only: the unique index on adjourned_to_id says so (as it
    # does for two pushes at the same moment), 409.
    other = push(api, kind, "X-3", body(kind, mother, "2027-01-13T10:00:00Z")).json()
    twice = {**adjourned, "starts_at": "2027-01-13T10:00:00Z"}
    response = push(api, kind, "X-3", twice)
    assert response.status_code == 409, response.text
    assert "already the new date of another" in response.json()["detail"]
    assert api.get("ewi_worker", f"/v1/{kind}/{other['id']}").json()["status"] == "scheduled"


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_new_record_is_scheduled_and_does_not_point_back(
    api: Api, mother: dict, kind: str
) -> None:
    decided_by = KINDS[kind]["decided_by"]
    decision = {"status_decided_by": decided_by, "status_reason": "Not going ahead."}

    def adjourn(external_id: str, to: str) -> Any:
        sent = body(
            kind,
            mother,
            "2027-01-12T10:00:00Z",
            status="adjourned",
            adjourned_to_external_id=to,
            **decision,
        )
        return push(api, kind, external_id, sent)

    first = push(api, kind, "C-1", body(kind, mother, "2027-01-12T10:00:00Z")).json()
    push(api, kind, "C-2", body(kind, mother, "2027-01-12T10:00:00Z"))
    assert adjourn("C-1", "C-2").status_code == 200
    # C-2 adjourned back to C-1, which points to it: a circle, refused.
    back = adjourn("C-2", "C-1")
    assert back.status_code == 409, back.text
    assert "was adjourned to this one" in back.json()["detail"]
    # Nor to a record that did not go ahead.
    vacated = body(kind, mother, "2027-01-12T10:00:00Z", status="vacated", **decision)
    assert push(api, kind, "C-3", vacated).status_code == 201
    push(api, kind, "C-4", body(kind, mother, "2027-01-12T10:00:00Z"))
    response = adjourn("C-4", "C-3")
    assert response.status_code == 409, response.text
    assert "is vacated" in response.json()["detail"]
    # Nothing written by either.
    for external_id in ("C-2", "C-4"):
        assert (
            push(api, kind, external_id, body(kind, mother, "2027-01-12T10:00:00Z")).json()[
                "status"
            ]
            == "scheduled"
        )
    assert api.get("ewi_worker", f"/v1/{kind}/{first['id']}").json()["status"] == "adjourned"


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_record_first_pushed_vacated(api: Api, mother: dict, kind: str) -> None:
    sent = body(
        kind,
        mother,
        "2027-01-12T10:00:00Z",
        status="vacated",
        status_decided_by="local_authority",
        status_reason="Proceedings withdrawn.",
    )
    response = push(api, kind, "V-1", sent)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "vacated"
    assert push(api, kind, "V-1", sent).headers["Sync-Result"] == "unchanged"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"status": "vacated"}, "status_decided_by"),
        ({"status": "cancelled", "status_decided_by": "other"}, "status_reason"),
        ({"status_reason": "why"}, "status_reason"),
        (
            {"status": "adjourned", "status_decided_by": "other", "status_reason": "x"},
            "adjourned_to_external_id",
        ),
        ({"adjourned_to_external_id": "X-9"}, "adjourned_to_external_id"),
        ({"status": "postponed"}, "status"),
    ],
)
def test_a_decision_comes_whole(api: Api, mother: dict, fields: dict[str, Any], field: str) -> None:
    response = push(
        api,
        "court-hearings",
        "B-1",
        body("court-hearings", mother, "2027-01-12T10:00:00Z", **fields),
    )
    assert response.status_code == 422, response.text
    assert field in {error["field"] for error in response.json()["errors"]}
    assert api.sql("SELECT count(*) FROM court_hearing")[0][0] == 0
