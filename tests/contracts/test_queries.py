"""Hot reads stay at a fixed number of statements, however many children or rows they return."""

from tests.support.api import Api
from tests.support.bodies import BATCH, batch_item, child_body
from tests.support.sql import counting


def test_her_record_and_children_cost_four_statements(api: Api) -> None:
    mother = api.mother()
    for name in ("Rhys", "Cerys", "Nia", "Iolo", "Leo"):
        api.child(mother["id"], first_name=name)
    with counting(api) as statements:
        response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}")
    assert len(response.json()["children"]) == 5
    # The caller's token, her rate limit, her record with children, one audit insert for all.
    assert len(statements) == 4, statements


def test_a_page_costs_the_same_whatever_its_size(api: Api) -> None:
    for n in range(30):
        mother = api.mother(last_name=f"Hughes-{n:02d}")
        api.child(mother["id"])
    with counting(api) as small:
        api.get("admin", "/v1/mothers?limit=2")
    with counting(api) as large:
        response = api.get("admin", "/v1/mothers?limit=30")
    assert len(response.json()["items"]) == 30
    assert len(small) == len(large) == 4  # token, rate limit, the page, one audit insert
    cursor = api.get("admin", "/v1/mothers?limit=10").json()["next_cursor"]
    with counting(api) as later:
        api.get("admin", f"/v1/mothers?limit=10&cursor={cursor}")
    assert len(later) == 4 and ") > (" in later[2]  # a keyset seek, not a count of rows to skip


def test_the_family_view_is_one_query_for_all_children(api: Api) -> None:
    mother = api.mother()
    for authority in ("801", "803", "936", "936"):
        api.child(mother["id"], local_authority_code=authority)
    with counting(api) as statements:
        api.get("ewi_worker", f"/v1/mothers/{mother['id']}/family")
    assert len(statements) == 5  # token, rate limit, mother, children with authorities, audit


def test_her_children_cost_four_statements(api: Api) -> None:
    mother = api.mother()
    for name in ("Rhys", "Cerys", "Nia"):
        api.child(mother["id"], first_name=name)
    with counting(api) as statements:
        response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}/children")
    assert len(response.json()["items"]) == 3
    assert len(statements) == 4, statements  # token, rate limit, children in scope, audit


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
