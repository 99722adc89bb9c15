"""Her chronology: every dated event in order, by child and kind, scoped like the records."""

from datetime import timedelta
from typing import Any

from tests.support.api import Api
from tests.support.bodies import TODAY, communication_body
from tests.support.sql import counting


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
