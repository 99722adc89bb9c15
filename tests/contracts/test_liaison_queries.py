"""The liaison reads that put her records together stay at a fixed number of statements,
however many records she has: her chronology (every source in one statement) and her evidence
bundle (her, her prison and her items in one)."""

from datetime import timedelta
from typing import Any

from tests.support.api import Api
from tests.support.bodies import TODAY, communication_body
from tests.support.sql import counting, statements

# Every source table of her chronology: a statement naming one reads her records.
SOURCES = (
    "prison_stay",
    "proceedings",
    "court_hearing",
    "meeting",
    "contact_visit",
    "parenting_assessment",
    "evidence",
    "release_plan",
    "communication",
)


def each_read(api: Api) -> int:
    """PostgreSQL: admission (the caller and the rate limit), then the read writing the audit
    rows of everything it shows; SQLite: the token, the rate limit, the read, one audit insert
    for everything shown (see README, "Reads in two round trips")."""
    return statements(api, sqlite=4, postgres=2)


def day(offset: int) -> str:
    return str(TODAY + timedelta(days=offset))


def reading_her_records(statements: list[str]) -> list[str]:
    return [
        sql
        for sql in statements
        if any(f"{word} {table}" in sql for table in SOURCES for word in ("FROM", "JOIN"))
    ]


def add_one_of_each(api: Api, her: str, children: list[str], n: int) -> None:
    """A record of each kind that concerns children (these children), and evidence."""
    concerning: list[tuple[str, dict[str, Any]]] = [
        ("/v1/proceedings", {"court_name": "Bristol", "issued_on": day(-120 + n)}),
        (
            "/v1/court-hearings",
            {
                "court_name": "Bristol Civil Justice Centre",
                "hearing_type": "interim_care_order",
                "starts_at": f"{day(-100 + n)}T10:00:00Z",
            },
        ),
        (
            "/v1/meetings",
            {
                "meeting_type": "looked_after_child_review",
                "starts_at": f"{day(-60 + n)}T14:00:00Z",
                "platform": "microsoft_teams",
            },
        ),
        ("/v1/contact-visits", {"visit_type": "in_person_social_visit"}),
        (
            "/v1/parenting-assessments",
            {
                "requested_by": "local_authority",
                "requested_on": day(-200 + n),
                "requesting_local_authority_code": "801",
                "assessor_name": "Bethan Ap Rhys",
                "assessor_organisation": "Cymru Independent Social Work",
                "model": "pams",
            },
        ),
    ]
    for url, fields in concerning:
        body = {"mother_id": her, "child_ids": children, **fields}
        assert api.post("admin", url, body).status_code == 201, (url, body)
    relayed = communication_body(child_ids=children, occurred_at=f"{day(-30 + n)}T09:00:00Z")
    assert api.post("admin", f"/v1/mothers/{her}/communications", relayed).status_code == 201
    evidence = {"category": "course", "title": f"Course {n}", "started_on": day(-90 + n)}
    assert api.post("admin", f"/v1/mothers/{her}/evidence", evidence).status_code == 201


def test_her_chronology_is_one_statement_however_long(api: Api) -> None:
    her = api.mother(reception_date=day(-400))["id"]
    children = [
        api.child(her, first_name=name, local_authority_code=authority)["id"]
        for name, authority in (("Rhys", "801"), ("Nia", "936"), ("Cerys", "801"))
    ]
    assert api.put("admin", f"/v1/mothers/{her}/release-plan", {}).status_code in (200, 201)
    add_one_of_each(api, her, children[:1], 0)
    costs = {}
    for who in ("ewi_worker", "bristol", "admin"):
        with counting(api) as short:
            answer = api.get(who, f"/v1/mothers/{her}/chronology")
        assert answer.status_code == 200, answer.text
        costs[who] = (len(answer.json()["events"]), short)
    for n in range(1, 4):
        add_one_of_each(api, her, children, n)
    for who, (shown_before, short) in costs.items():
        with counting(api) as long:
            answer = api.get(who, f"/v1/mothers/{her}/chronology")
        assert len(answer.json()["events"]) > shown_before
        assert len(long) == len(short) == each_read(api), long
        assert len(reading_her_records(long)) == 1, long  # never one per source, nor per record
    # Filtered by a child: the same statements, the child's check among them.
    with counting(api) as filtered:
        answer = api.get("bristol", f"/v1/mothers/{her}/chronology?child_id={children[2]}")
    assert answer.status_code == 200 and answer.json()["events"]
    assert len(filtered) == each_read(api), filtered
    assert len(reading_her_records(filtered)) == 1, filtered
    # And by kind: the kinds asked for are the statement's parameter, not another statement.
    with counting(api) as by_kind:
        answer = api.get("bristol", f"/v1/mothers/{her}/chronology?kind=evidence&kind=meeting")
    assert answer.status_code == 200 and answer.json()["events"]
    assert len(by_kind) == each_read(api) and len(reading_her_records(by_kind)) == 1, by_kind


def test_her_evidence_bundle_is_one_statement_however_many_items(api: Api) -> None:
    her = api.mother()["id"]
    api.child(her, local_authority_code="801")  # Bristol may see her, and so her evidence

    def add(n: int) -> None:
        item = {"category": "education", "title": f"Maths {n}", "started_on": day(-n), "hours": 3}
        assert api.post("admin", f"/v1/mothers/{her}/evidence", item).status_code == 201

    add(1)
    with counting(api) as one:
        api.get("ewi_worker", f"/v1/mothers/{her}/evidence-bundle")
    for n in range(2, 30):
        add(n)
    for who in ("ewi_worker", "bristol", "admin"):
        with counting(api) as many:
            answer = api.get(who, f"/v1/mothers/{her}/evidence-bundle")
        assert len(answer.json()["items"]) == 29
        assert len(many) == len(one) == each_read(api), many
        assert len(reading_her_records(many)) == 1, many
