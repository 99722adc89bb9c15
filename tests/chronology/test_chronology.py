"""Her chronology: every dated event in order, by child and kind, scoped like the records."""

import uuid
from datetime import timedelta
from typing import Any

from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY, communication_body
from tests.support.sql import counting, statements


def day(offset: int) -> str:
    return str(TODAY + timedelta(days=offset))


def at(offset: int, time: str = "10:00:00") -> str:
    return f"{day(offset)}T{time}Z"


def build(api: Api) -> dict[str, Any]:
    """A mother at Eastwood Park with Rhys (Bristol) and Nia (Surrey), and a record of each kind."""
    mother = api.mother(reception_date=day(-400))
    rhys = api.child(mother["id"], local_authority_code="801")["id"]
    nia = api.child(mother["id"], first_name="Nia", local_authority_code="936")["id"]
    her = mother["id"]
    proceedings = api.post(
        "admin",
        "/v1/proceedings",
        {"mother_id": her, "child_ids": [rhys], "court_name": "Bristol", "issued_on": day(-120)},
    ).json()
    hearing = api.post(
        "admin",
        "/v1/court-hearings",
        {
            "mother_id": her,
            "child_ids": [rhys],
            "court_name": "Bristol Civil Justice Centre",
            "hearing_type": "interim_care_order",
            "starts_at": at(-100),
            "notified_at": at(-103),
        },
    ).json()
    meeting = api.post(
        "admin",
        "/v1/meetings",
        {
            "mother_id": her,
            "child_ids": [nia],
            "meeting_type": "looked_after_child_review",
            "starts_at": at(-60, "14:00:00"),
            "platform": "microsoft_teams",
        },
    ).json()
    evidence = api.post(
        "admin",
        f"/v1/mothers/{her}/evidence",
        {"category": "course", "title": "Healthy relationships", "started_on": day(-90)},
    ).json()
    relayed = api.post(
        "admin",
        f"/v1/mothers/{her}/communications",
        communication_body(child_ids=[rhys], occurred_at=at(-30)),
    ).json()
    return {
        "mother": her,
        "rhys": rhys,
        "nia": nia,
        "proceedings": proceedings["id"],
        "hearing": hearing["id"],
        "meeting": meeting["id"],
        "evidence": evidence["id"],
        "communication": relayed["id"],
    }


def chronology(api: Api, who: str, mother_id: str, **params: Any) -> list[dict[str, Any]]:
    response = api.get(who, f"/v1/mothers/{mother_id}/chronology", params=params)
    assert response.status_code == 200, response.text
    return response.json()["events"]


def test_every_dated_event_in_order(api: Api) -> None:
    case = build(api)
    events = chronology(api, "ewi_worker", case["mother"])
    assert [(e["kind"], e["on"]) for e in events] == [
        ("custody", day(-400)),
        ("proceedings", day(-120)),
        ("court_hearing", day(-100)),
        ("evidence", day(-90)),
        ("meeting", day(-60)),
        ("communication", day(-30)),
    ]
    hearing = events[2]
    assert hearing["resource_id"] == case["hearing"] and hearing["child_ids"] == [case["rhys"]]
    assert hearing["summary"] == "Interim care order hearing at Bristol Civil Justice Centre"
    assert hearing["at"] == at(-100)
    assert events[0]["summary"] == "Held at EWI" and events[0]["at"] is None


def test_filtered_by_child_and_by_kind(api: Api) -> None:
    case = build(api)
    for_nia = chronology(api, "admin", case["mother"], child_id=case["nia"])
    assert [e["resource_id"] for e in for_nia] == [case["meeting"]]
    court = chronology(api, "admin", case["mother"], kind=["court_hearing", "proceedings"])
    assert {e["resource_id"] for e in court} == {case["hearing"], case["proceedings"]}
    assert (
        api.get("admin", f"/v1/mothers/{case['mother']}/chronology?kind=gossip").status_code == 422
    )


def test_a_local_authority_sees_what_concerns_its_own_children(api: Api) -> None:
    case = build(api)
    events = chronology(api, "bristol", case["mother"])
    kinds = {e["kind"] for e in events}
    # Her own records (custody, evidence) and Rhys's, never Surrey's meeting about Nia.
    assert kinds == {"custody", "proceedings", "court_hearing", "evidence", "communication"}
    assert all(set(e["child_ids"]) <= {case["rhys"]} for e in events)
    assert api.get("surrey", f"/v1/mothers/{case['mother']}/chronology").status_code == 200
    surrey = {e["kind"] for e in chronology(api, "surrey", case["mother"])}
    assert surrey == {"custody", "evidence", "meeting"}
    # Nor can Bristol find Surrey's meeting by naming Nia.
    assert chronology(api, "bristol", case["mother"], child_id=case["nia"]) == []


def test_out_of_scope_reads_as_not_found(api: Api) -> None:
    case = build(api)
    response = api.get("sdi_worker", f"/v1/mothers/{case['mother']}/chronology")
    assert response.status_code == 404


def test_reading_it_is_recorded_as_a_combination(api: Api) -> None:
    case = build(api)
    response = api.get("ewi_worker", f"/v1/mothers/{case['mother']}/chronology")
    rows = api.sql(
        "SELECT action, resource_type FROM audit_event WHERE request_id = :r",
        r=response.headers["X-Request-ID"],
    )
    assert {row[0] for row in rows} == {"combine"}
    assert {row[1] for row in rows} >= {"mother", "court_hearing", "meeting", "evidence"}


def test_a_fixed_number_of_statements_however_long(api: Api) -> None:
    case = build(api)
    with counting(api) as before:
        chronology(api, "ewi_worker", case["mother"])
    for n in range(3):
        api.post(
            "admin",
            f"/v1/mothers/{case['mother']}/communications",
            communication_body(child_ids=[case["rhys"]], occurred_at=at(-20 + n)),
        )
        api.post(
            "admin",
            f"/v1/mothers/{case['mother']}/evidence",
            {"category": "education", "title": f"Maths level {n + 1}", "started_on": day(-80)},
        )
    with counting(api) as after:
        events = chronology(api, "ewi_worker", case["mother"])
    assert len(events) == 12
    assert len(after) == len(before)


def combined_rows(mother_id: str, events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The audit rows a chronology writes: her record, then each record it shows an event of,
    by kind of record and id (what the route noted before its read wrote them itself)."""
    shown = {(e["resource_type"], e["resource_id"]) for e in events}
    rows = [("combine", "mother", mother_id, mother_id, "succeeded")]
    rows += [
        ("combine", kind, record_id, mother_id, "succeeded")
        for kind, record_id in sorted(shown, key=lambda pair: (pair[0], uuid.UUID(pair[1])))
    ]
    return rows


def test_its_audit_rows_are_the_records_it_shows_whatever_the_filters(api: Api) -> None:
    """The same rows on SQLite (noted by the route) as on PostgreSQL (written by the read
    itself): records of every kind, a record with no dated event (a release plan without its
    date: not shown, not audited), a life story contribution, the kind and child filters."""
    case = build(api)
    her = case["mother"]
    assert api.put("admin", f"/v1/mothers/{her}/release-plan", {}).status_code in (200, 201)
    visit = {"mother_id": her, "child_ids": [case["rhys"]], "visit_type": "in_person_social_visit"}
    assert api.post("admin", "/v1/contact-visits", visit).status_code == 201
    arrangement = {
        "contact_arrangement": "none",
        "contact_arrangement_reason": "Nature of the offence.",
    }
    leo = api.child(her, first_name="Leo", local_authority_code="936", **arrangement)["id"]
    story = communication_body(
        kind="life_story_contribution",
        from_party="mother",
        from_name=None,
        to_party="la_social_worker",
        channel="letter",
        item_description="Letter, two pages.",
        child_ids=[leo],
        occurred_at=at(-10),
    )
    made = api.post("admin", f"/v1/mothers/{her}/communications", story)
    assert made.status_code == 201, made.text
    for who, params in [
        ("ewi_worker", {}),
        ("bristol", {}),
        ("admin", {"kind": ["life_story", "court_hearing"]}),
        ("admin", {"kind": ["communication", "release"]}),
        ("admin", {"child_id": case["nia"]}),
        ("admin", {"child_id": case["rhys"], "kind": ["contact_visit"]}),
        ("bristol", {"child_id": case["nia"]}),  # not hers to see: her record only
    ]:
        response = api.get(who, f"/v1/mothers/{her}/chronology", params=params)
        assert response.status_code == 200, response.text
        events = response.json()["events"]
        assert [row[2:] for row in trail(api, response)] == combined_rows(her, events), params
    kinds = {e["resource_type"] for e in chronology(api, "admin", her)}
    assert kinds >= {"contact_visit", "communication", "evidence", "prison_stay"}
    assert "release_plan" not in kinds
    # Out of her scope: only the failure's row, nothing combined.
    refused = api.get("sdi_worker", f"/v1/mothers/{her}/chronology")
    assert refused.status_code == 404
    assert [row[2:] for row in trail(api, refused)] == [
        ("combine", "mother", her, her, "not_found")
    ]


def test_admission_then_the_read_writing_its_own_audit_rows(api: Api) -> None:
    """On PostgreSQL: admission, then one statement reading her chronology and writing its
    audit rows; SQLite: the token, the rate limit, the read and the audit insert."""
    case = build(api)
    for params in ({}, {"kind": ["evidence"]}, {"child_id": case["rhys"]}):
        with counting(api) as sent:
            response = api.get(
                "ewi_worker", f"/v1/mothers/{case['mother']}/chronology", params=params
            )
        assert response.status_code == 200
        assert len(sent) == statements(api, sqlite=4, postgres=2), sent
