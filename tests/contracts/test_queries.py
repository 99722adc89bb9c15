"""Hot reads stay at a fixed number of statements, however many children or rows they return.

On PostgreSQL an audited read is two round trips: admission (the caller's token and the rate
limit, one statement) and the read, which writes its own audit rows in the same statement (a
data-modifying CTE). SQLite has no data-modifying CTEs: there the token, the rate limit, the read
and the audit insert are four statements. See README, "Reads in two round trips".
"""

import pytest

from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import BATCH, batch_item, child_body
from tests.support.examples import every_record
from tests.support.sql import counting


def on_postgres(api: Api) -> bool:
    return api.database_url.startswith("postgresql")


def audited_read(api: Api) -> int:
    """What an audited read of one statement costs: two round trips on PostgreSQL (admission,
    then the read writing its audit rows); four on SQLite (token, rate limit, read, audit)."""
    return 2 if on_postgres(api) else 4


def check_audited_in_the_read(api: Api, statements: list[str]) -> None:
    """Admission is one statement, and the audit rows are written by the read itself, on
    PostgreSQL; on SQLite, the token and the rate limit come first, the audit insert last."""
    audit_inserts = [s for s in statements if "INSERT INTO audit_event" in s]
    if on_postgres(api):
        assert "api_client" in statements[0] and "rate_limit_state" in statements[0]
        assert audit_inserts == [statements[1]], statements
        assert "FROM shown" in statements[1]
    else:
        assert "api_client" in statements[0] and "rate_limit_state" in statements[1]
        assert audit_inserts == [statements[-1]], statements


def test_her_record_and_children_cost_two_round_trips(api: Api) -> None:
    mother = api.mother()
    for name in ("Rhys", "Cerys", "Nia", "Iolo", "Leo"):
        api.child(mother["id"], first_name=name)
    with counting(api) as statements:
        response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}")
    assert len(response.json()["children"]) == 5
    # One audit insert for her and all her children, whatever their number; and, for the
    # prison side, one statement more: her open flags for review.
    assert len(statements) == audited_read(api) + 1, statements
    check_audited_in_the_read(api, statements)


def test_her_records_audit_rows_are_her_and_each_child_in_order(api: Api) -> None:
    """The read that writes its own audit rows writes what the session wrote before: her
    record, then each child's, in the order shown, consulted, by this caller, succeeded."""
    mother = api.mother()
    born = ("2024-01-05", "2021-06-30", "2023-03-14")
    for name, date_of_birth in zip(("Rhys", "Cerys", "Nia"), born, strict=True):
        api.child(mother["id"], first_name=name, date_of_birth=date_of_birth)
    other = api.mother()
    api.child(other["id"], first_name="Elsewhere")
    response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}")
    children = response.json()["children"]
    assert [c["first_name"] for c in children] == ["Cerys", "Nia", "Rhys"]
    who = ("ewi_worker", "prison_social_worker", "consult")
    assert trail(api, response) == [
        (*who, "mother", mother["id"], mother["id"], "succeeded"),
        *((*who, "child", c["id"], mother["id"], "succeeded") for c in children),
    ]
    # A mother with no children: her record alone.
    alone = api.mother()
    response = api.get("ewi_worker", f"/v1/mothers/{alone['id']}")
    assert trail(api, response) == [(*who, "mother", alone["id"], alone["id"], "succeeded")]


def test_a_page_costs_the_same_whatever_its_size(api: Api) -> None:
    for n in range(30):
        mother = api.mother(last_name=f"Hughes-{n:02d}")
        api.child(mother["id"])
    with counting(api) as small:
        api.get("admin", "/v1/mothers?limit=2")
    with counting(api) as large:
        response = api.get("admin", "/v1/mothers?limit=30")
    assert len(response.json()["items"]) == 30
    # The prison side's page: one statement more, the open flags for review of the whole page.
    assert len(small) == len(large) == audited_read(api) + 1, large
    check_audited_in_the_read(api, large)
    cursor = api.get("admin", "/v1/mothers?limit=10").json()["next_cursor"]
    with counting(api) as later:
        api.get("admin", f"/v1/mothers?limit=10&cursor={cursor}")
    assert len(later) == audited_read(api) + 1
    assert any(") > (" in s for s in later)  # a keyset seek, not a count of rows to skip


def test_a_page_audits_the_records_it_shows_and_not_the_next_one(api: Api) -> None:
    made = [api.mother(last_name=f"Hughes-{n}") for n in range(3)]
    response = api.get("admin", "/v1/mothers?limit=2")
    assert response.json()["next_cursor"]
    who = ("admin", "admin", "consult")
    assert trail(api, response) == [
        (*who, "mother", m["id"], m["id"], "succeeded") for m in made[:2]
    ]
    cursor = response.json()["next_cursor"]
    last = api.get("admin", f"/v1/mothers?limit=2&cursor={cursor}")
    assert trail(api, last) == [(*who, "mother", made[2]["id"], made[2]["id"], "succeeded")]
    empty = api.get("admin", "/v1/mothers?limit=2&q=Nobody")
    assert empty.json()["items"] == [] and trail(api, empty) == []


def test_the_family_view_is_one_query_for_all_children(api: Api) -> None:
    mother = api.mother()
    for authority in ("801", "803", "936", "936"):
        api.child(mother["id"], local_authority_code=authority)
    with counting(api) as statements:
        api.get("ewi_worker", f"/v1/mothers/{mother['id']}/family")
    # Admission (token and rate limit: one statement on PostgreSQL, two on SQLite), mother,
    # children with authorities, audit.
    assert len(statements) == (4 if on_postgres(api) else 5), statements


def test_her_children_cost_two_round_trips(api: Api) -> None:
    mother = api.mother()
    for name in ("Rhys", "Cerys", "Nia"):
        api.child(mother["id"], first_name=name)
    with counting(api) as statements:
        response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}/children?limit=2")
    children = response.json()["items"]
    assert len(children) == 2 and response.json()["next_cursor"]
    # And, for the prison side, the page's open flags for review: one statement more.
    assert len(statements) == audited_read(api) + 1, statements
    check_audited_in_the_read(api, statements)
    # The two shown, not the look-ahead row.
    who = ("ewi_worker", "prison_social_worker", "consult")
    assert trail(api, response) == [
        (*who, "child", c["id"], mother["id"], "succeeded") for c in children
    ]


# One record's read, of each kind a route shows alone: (path, who reads it, its kind, statements
# beyond the read itself on both databases: what its answer adds, children or history, and for
# the prison side the open flags for review on the records that show them).
ONE_RECORD = [
    ("/v1/mothers/{mother_id}", "bristol", "mother", 0),
    ("/v1/children/{child_id}", "admin", "child", 1),
    ("/v1/children/{child_id}", "bristol", "child", 0),
    ("/v1/practitioners/{practitioner_id}", "admin", "practitioner", 0),
    ("/v1/communications/{communication_id}", "admin", "communication", 1),
    ("/v1/meetings/{meeting_id}", "admin", "meeting", 2),
    ("/v1/parenting-assessments/{parenting_assessment_id}", "admin", "parenting_assessment", 3),
    ("/v1/contact-visits/{contact_visit_id}", "admin", "contact_visit", 3),
]


@pytest.mark.parametrize(("path", "who", "kind", "more"), ONE_RECORD)
def test_one_record_and_its_audit_row_are_one_statement(
    api: Api, path: str, who: str, kind: str, more: int
) -> None:
    ids = every_record(api)
    url = path.format(**ids)
    with counting(api) as statements:
        response = api.get(who, url)
    assert response.status_code == 200, response.text
    assert len(statements) == audited_read(api) + more, statements
    check_audited_in_the_read(api, statements)
    record_id = url.rsplit("/", 1)[1]
    subject = None if kind == "practitioner" else ids["mother_id"]
    (row,) = trail(api, response)
    assert row[2:] == ("consult", kind, record_id, subject, "succeeded")


def test_a_record_not_found_is_audited_once_as_not_found(api: Api) -> None:
    """Not there, or out of scope: no row shown, so none consulted; the failure's own row."""
    mother = api.mother(prison_code="EWI")
    for who, mother_id in (
        ("sdi_worker", mother["id"]),
        ("ewi_worker", "00000000-0000-4000-8000-000000000000"),
    ):
        response = api.get(who, f"/v1/mothers/{mother_id}")
        assert response.status_code == 404
        assert [row[2:] for row in trail(api, response)] == [
            ("consult", "mother", mother_id, mother_id, "not_found")
        ]
        child = api.get(who, f"/v1/children/{mother_id}")
        assert [row[2:] for row in trail(api, child)] == [
            ("consult", "child", mother_id, None, "not_found")
        ]


def _pushed(prison_number: str) -> dict[str, object]:
    body = child_body(mother_prison_number=prison_number)
    del body["local_authority_code"]
    return body


def test_an_unknown_prison_number_and_an_unlinked_mother_cost_the_same(api: Api) -> None:
    """Same status, same body shape, same statements: the answer tells an authority nothing
    of which prison numbers exist."""
    mother = api.mother()
    answers, sent = [], []
    for external_id, number in (("BR-1", mother["prison_number"]), ("BR-2", "Z9999ZZ")):
        with counting(api) as statements:
            answers.append(
                api.put("bristol_system", f"/v1/sync/children/{external_id}", _pushed(number))
            )
        sent.append(statements)
    known, unknown = answers
    assert known.status_code == unknown.status_code == 202
    assert known.headers["Sync-Result"] == unknown.headers["Sync-Result"] == "pending"
    assert known.json().keys() == unknown.json().keys()
    assert len(sent[0]) == len(sent[1]), sent
    assert sent[0] == sent[1]  # the very same statements, too


def test_a_hearing_for_an_unlinked_mother_costs_what_an_unknown_one_does(api: Api) -> None:
    mother = api.mother()
    body = {
        "child_external_ids": ["BR-A"],
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": "2027-01-12T10:00:00Z",
    }
    answers, sent = [], []
    for number in (mother["prison_number"], "Z9999ZZ"):
        with counting(api) as statements:
            answers.append(
                api.put(
                    "bristol_system",
                    "/v1/sync/court-hearings/H-1",
                    {**body, "mother_prison_number": number},
                )
            )
        sent.append(statements)
    assert answers[0].status_code == answers[1].status_code == 422
    assert answers[0].json() == answers[1].json()
    assert len(sent[0]) == len(sent[1]), sent


def test_a_sync_batch_and_its_history_cost_the_same_whatever_its_size(api: Api) -> None:
    """Each child's history is written with the batch: one insert for all of them."""
    mother = api.mother()
    for name in ("Rhys", "Cerys"):  # recorded by the prison side: taken up by the batch
        api.child(mother["id"], first_name=name, carer={"name": "Morwenna Trevithick"})

    def batch(size: int, **fields: str) -> list[dict]:
        return [
            batch_item(
                mother["prison_number"],
                f"Q{size}-{n}",
                first_name=["Rhys", "Cerys"][n] if n < 2 else f"Child{n}",
                **fields,
            )
            for n in range(size)
        ]

    costs = {}
    for size in (2, 40):
        with counting(api) as created:
            answer = api.post("bristol_system", BATCH, {"items": batch(size)}).json()
        with counting(api) as updated:
            again = api.post("bristol_system", BATCH, {"items": batch(size, sex="unknown")})
        assert answer["failed"] == again.json()["failed"] == 0, answer
        assert again.json()["updated"] == size
        costs[size] = (len(created), len(updated))
    assert costs[2] == costs[40], costs
    # Two recorded by the prison side, taken up by the first batch (the second's Rhys and Cerys
    # are new children: the prison side's are Q2's now), 40 created, and all 42 changed once.
    assert api.sql("SELECT count(*) FROM child_history")[0][0] == 2 + 2 + 40 + 42
