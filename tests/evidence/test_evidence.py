"""Evidence of rehabilitation: her record of what she has done, and the bundle a court reads."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.audit import audit_of, trail
from tests.support.bodies import TODAY
from tests.support.documents import cells, pdf_pages, printed
from tests.support.sql import counting, db_id, statements

COURSE = {
    "category": "course",
    "title": "Level 2 Certificate in Food Hygiene",
    "provider": "Novus Cambria",
    "started_on": "2025-10-01",
    "completed_on": "2025-11-14",
    "hours": 24,
    "verified_by": {"name": "Hélène D'Arcy", "role": "Education manager, HMP Eastwood Park"},
    "verified_on": "2025-11-20",
}


def evidence_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/evidence"


def add(api: Api, mother_id: str, who: str = "admin", **fields: Any) -> dict[str, Any]:
    response = api.post(who, evidence_url(mother_id), {**COURSE, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def count_evidence(api: Api) -> int:
    return api.sql("SELECT count(*) FROM evidence")[0][0]


class TestCreate:
    def test_record_evidence(self, api: Api) -> None:
        mother = api.mother()
        response = api.post(
            "ewi_worker",
            evidence_url(mother["id"]),
            {**COURSE, "title": "Cwrs Cymraeg i Oedolion - Mynediad", "hours": 12.5},
        )
        assert response.status_code == 201, response.text
        item = response.json()
        assert item["mother_id"] == mother["id"]
        assert item["title"] == "Cwrs Cymraeg i Oedolion - Mynediad"
        assert item["hours"] == 12.5
        assert item["verified_by"] == COURSE["verified_by"]
        assert item["verified_on"] == "2025-11-20"
        assert response.headers["Location"] == f"/v1/evidence/{item['id']}"
        assert response.headers["ETag"] == '"1"'
        assert api.get("ewi_worker", f"/v1/evidence/{item['id']}").json() == item
        assert audit_of(api, item["id"])[0] == ("collect", "evidence", "succeeded")

    def test_the_least_an_item_needs(self, api: Api) -> None:
        mother = api.mother()
        body = {"category": "behaviour", "title": "Enhanced status", "started_on": str(TODAY)}
        response = api.post("admin", evidence_url(mother["id"]), body)
        assert response.status_code == 201, response.text
        item = response.json()
        assert item["hours"] is None and item["verified_by"] is None
        assert item["completed_on"] is None and item["provider"] is None

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"started_on": str(TODAY + timedelta(days=1))}, "started_on"),
            ({"completed_on": str(TODAY + timedelta(days=1))}, "completed_on"),
            ({"completed_on": "2025-09-30"}, "completed_on"),  # before it started
            ({"started_on": "1899-12-31", "completed_on": None}, "started_on"),
            ({"verified_on": None}, "verified_on"),  # a verifier without a date
            ({"verified_by": None}, "verified_by"),  # a date without a verifier
            ({"verified_on": "2025-09-01"}, "verified_on"),  # verified before it started
            ({"verified_on": str(TODAY + timedelta(days=1))}, "verified_on"),
            ({"verified_by": {"name": "Gwen Llewellyn"}}, "verified_by.role"),
            ({"hours": -1}, "hours"),
            ({"hours": 1.255}, "hours"),
            ({"hours": 10_001}, "hours"),
            ({"hours": "24"}, "hours"),
            ({"hours": True}, "hours"),
            ({"category": "knitting"}, "category"),
            ({"title": "  "}, "title"),
            ({"started_on": 0}, "started_on"),
            ({"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}, "mother_id"),
            ({"id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}, "id"),
            ({"version": 3}, "version"),
        ],
    )
    def test_rules_refuse_bad_input_and_write_nothing(
        self, api: Api, fields: dict, field: str
    ) -> None:
        mother = api.mother()
        response = api.post("admin", evidence_url(mother["id"]), {**COURSE, **fields})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count_evidence(api) == 0

    def test_whole_and_decimal_hours(self, api: Api) -> None:
        mother = api.mother()
        assert add(api, mother["id"], hours=0)["hours"] == 0
        assert add(api, mother["id"], hours=7.25)["hours"] == 7.25
        assert add(api, mother["id"], hours=10_000)["hours"] == 10_000

    def test_only_the_prison_side_writes_and_only_in_scope(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        api.child(mother["id"], local_authority_code="801")
        url = evidence_url(mother["id"])
        assert api.post("ewi_worker", url, COURSE).status_code == 404
        assert api.post("bristol", url, COURSE).status_code == 403
        assert api.post("ewi_governor", url, COURSE).status_code == 403
        missing = evidence_url(str(uuid.uuid4()))
        assert api.post("admin", missing, COURSE).status_code == 404
        assert count_evidence(api) == 0
        assert api.post("sdi_worker", url, COURSE).status_code == 201


class TestRead:
    def test_her_evidence_in_date_order_page_by_page(self, api: Api) -> None:
        mother = api.mother()
        other = api.mother(first_name="Zoë")
        add(api, other["id"], title="Someone else's course")
        for started in ("2025-06-01", "2024-01-15", "2025-02-03"):
            add(
                api,
                mother["id"],
                started_on=started,
                completed_on=None,
                verified_on=None,
                verified_by=None,
            )
        url = evidence_url(mother["id"])
        first = api.get("ewi_worker", f"{url}?limit=2")
        assert first.status_code == 200
        page = first.json()
        assert [i["started_on"] for i in page["items"]] == ["2024-01-15", "2025-02-03"]
        assert 'rel="next"' in first.headers["Link"]
        rest = api.get("ewi_worker", f"{url}?limit=2&cursor={page['next_cursor']}").json()
        assert [i["started_on"] for i in rest["items"]] == ["2025-06-01"]
        assert rest["next_cursor"] is None

    def test_a_local_authority_with_one_of_her_children_reads_it(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        api.child(mother["id"], local_authority_code="801")
        item = add(api, mother["id"])
        url = evidence_url(mother["id"])
        # The prison side reads it with its open flags for review (none), an authority without.
        shared = {k: v for k, v in item.items() if k != "flags_for_review"}
        readers = {"bristol": shared, "bristol_system": shared, "sdi_worker": item, "admin": item}
        for who, shown in readers.items():
            assert api.get(who, url).json()["items"] == [shown], who
            assert api.get(who, f"/v1/evidence/{item['id']}").status_code == 200, who
        # Surrey has none of her children; Eastwood Park does not hold her.
        for who in ("surrey", "ewi_worker"):
            assert api.get(who, url).status_code == 404, who
            assert api.get(who, f"/v1/evidence/{item['id']}").status_code == 404, who
        assert api.get("ewi_governor", url).status_code == 403
        assert api.get("auditor", f"/v1/evidence/{item['id']}").status_code == 403

    def test_one_item_is_admission_then_its_read_writing_its_audit_row(self, api: Api) -> None:
        mother = api.mother()
        item = add(api, mother["id"])
        with counting(api) as sent:
            response = api.get("ewi_worker", f"/v1/evidence/{item['id']}")
        assert response.status_code == 200 and response.headers["ETag"] == '"1"'
        # PostgreSQL: admission, then the read with its audit row (routing.show_visible);
        # SQLite: the token, the rate limit, the read, the audit insert; and for the prison
        # side, its open flags for review.
        assert len(sent) == statements(api, sqlite=5, postgres=3), sent
        assert [row[2:] for row in trail(api, response)] == [
            ("consult", "evidence", item["id"], mother["id"], "succeeded")
        ]
        refused = api.get("surrey", f"/v1/evidence/{item['id']}")
        assert refused.status_code == 404
        assert [row[2:] for row in trail(api, refused)] == [
            ("consult", "evidence", item["id"], None, "not_found")
        ]

    def test_unknown_query_parameters_are_refused(self, api: Api) -> None:
        mother = api.mother()
        response = api.get("admin", f"{evidence_url(mother['id'])}?category=course")
        assert response.status_code == 422

    def test_a_page_costs_the_same_whatever_its_size(self, api: Api) -> None:
        mother = api.mother()
        for n in range(12):
            add(
                api,
                mother["id"],
                started_on=str(TODAY - timedelta(days=n)),
                completed_on=None,
                verified_by=None,
                verified_on=None,
            )
        with counting(api) as small:
            api.get("ewi_worker", f"{evidence_url(mother['id'])}?limit=1")
        with counting(api) as large:
            response = api.get("ewi_worker", f"{evidence_url(mother['id'])}?limit=12")
        assert len(response.json()["items"]) == 12
        # Token, rate limit, her scope, the page, its open flags for review, one audit insert.
        assert len(small) == len(large) == statements(api, sqlite=6, postgres=4), large


class TestUpdate:
    def test_patch_with_if_match(self, api: Api) -> None:
        item = add(api, api.mother()["id"])
        url = f"/v1/evidence/{item['id']}"
        change = {"hours": 30, "completed_on": "2025-11-21"}
        assert api.patch("ewi_worker", url, change).status_code == 428
        assert api.patch("ewi_worker", url, change, if_match='"5"').status_code == 412
        response = api.patch("ewi_worker", url, change, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.json()["hours"] == 30 and response.json()["version"] == 2
        assert response.headers["ETag"] == '"2"'
        assert audit_of(api, item["id"])[-1] == ("alter", "evidence", "succeeded")

    def test_a_patch_that_changes_nothing_keeps_the_version(self, api: Api) -> None:
        item = add(api, api.mother()["id"])
        url = f"/v1/evidence/{item['id']}"
        events = api.sql("SELECT count(*) FROM change_event")[0][0]
        same = {"hours": 24, "title": COURSE["title"], "verified_by": COURSE["verified_by"]}
        response = api.patch("ewi_worker", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"' and response.json() == item
        assert api.sql("SELECT count(*) FROM change_event")[0][0] == events
        assert audit_of(api, item["id"])[-1] == ("consult", "evidence", "succeeded")

    def test_withdraw_a_verification(self, api: Api) -> None:
        item = add(api, api.mother()["id"])
        url = f"/v1/evidence/{item['id']}"
        alone = api.patch("admin", url, {"verified_by": None}, if_match='"1"')
        assert alone.status_code == 422
        both = api.patch("admin", url, {"verified_by": None, "verified_on": None}, if_match='"1"')
        assert both.status_code == 200
        assert both.json()["verified_by"] is None and both.json()["verified_on"] is None

    @pytest.mark.parametrize(
        "change",
        [
            {"completed_on": "2025-01-01"},  # now before it started
            {"started_on": "2025-12-01"},  # now after it was completed
            {"started_on": None},
            {"title": None},
            {"category": "gardening"},
            {"hours": -0.5},
            {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"},
            {"created_at": "2020-01-01T00:00:00Z"},
        ],
    )
    def test_bad_changes_write_nothing(self, api: Api, change: dict) -> None:
        item = add(api, api.mother()["id"])
        url = f"/v1/evidence/{item['id']}"
        response = api.patch("admin", url, change, if_match='"1"')
        assert response.status_code == 422, response.text
        assert api.get("admin", url).json() == item

    def test_only_the_prison_side_in_scope_changes_it(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        api.child(mother["id"], local_authority_code="801")
        item = add(api, mother["id"])
        url = f"/v1/evidence/{item['id']}"
        assert api.patch("bristol", url, {"hours": 1}, if_match='"1"').status_code == 403
        assert api.patch("ewi_worker", url, {"hours": 1}, if_match='"1"').status_code == 404
        assert api.get("admin", url).json() == item


class TestDelete:
    def test_remove_an_item_recorded_in_error(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        api.child(mother["id"], local_authority_code="801")
        item = add(api, mother["id"])
        url = f"/v1/evidence/{item['id']}"
        assert api.delete("bristol", url).status_code == 403
        assert api.delete("ewi_worker", url).status_code == 404
        assert count_evidence(api) == 1
        etag = api.get("sdi_worker", url).headers["ETag"]
        # Removing is a change like any other: the ETag last read, current.
        assert api.delete("sdi_worker", url).status_code == 428
        assert api.delete("sdi_worker", url, if_match='"9"').status_code == 412
        assert count_evidence(api) == 1
        assert api.delete("sdi_worker", url, if_match=etag).status_code == 204
        assert api.get("admin", url).status_code == 404
        assert count_evidence(api) == 0
        assert ("erase", "evidence", "succeeded") in audit_of(api, item["id"])


def bundle_url(mother_id: str) -> str:
    return f"/v1/mothers/{mother_id}/evidence-bundle"


@pytest.fixture
def her_evidence(api: Api) -> dict[str, Any]:
    """A Send mother with a Bristol child and four items across three categories."""
    mother = api.mother(
        prison_code="SDI", first_name="Siân", last_name="O'Connor", prison_number="A1234BC"
    )
    api.child(mother["id"], local_authority_code="801")
    unverified = {"verified_by": None, "verified_on": None, "completed_on": None}
    items = [
        add(
            api,
            mother["id"],
            started_on="2025-03-01",
            hours=1.25,
            **unverified,
            category="counselling",
            title='Counselling <with> "Women in Prison" & co',
        ),
        add(
            api,
            mother["id"],
            started_on="2024-11-10",
            hours=2.5,
            **unverified,
            category="counselling",
            title="Trauma-informed counselling",
        ),
        add(
            api,
            mother["id"],
            started_on="2025-01-20",
            completed_on="2025-02-20",
            category="parenting_programme",
            title="Triple P",
            hours=None,
            verified_by=None,
            verified_on=None,
        ),
        add(api, mother["id"], **{**COURSE, "title": "<script>alert('x')</script>"}),
    ]
    # The court's case number heads it: proceedings concerning Bristol's child, and
    # Birmingham's (not Bristol's to see), and one with no number yet.
    other_child = api.child(mother["id"], local_authority_code="330")["id"]
    bristol_child = api.sql("SELECT id FROM child WHERE local_authority_code = '801'")[0][0]
    proceedings = []
    for child, number, issued in (
        (str(uuid.UUID(str(bristol_child))), "BS25C00042", "2025-06-01"),
        (other_child, "BM25C00077", "2025-05-01"),
        (other_child, None, "2025-07-01"),
    ):
        body = {"mother_id": mother["id"], "child_ids": [child], "court_name": "Bristol"}
        body |= {"issued_on": issued, "case_number": number}
        made = api.post("admin", "/v1/proceedings", body)
        assert made.status_code == 201, made.text
        proceedings.append(made.json()["id"])
    return {"mother": mother, "items": items, "proceedings": proceedings}


class TestBundle:
    def test_json_in_date_order_with_totals(self, api: Api, her_evidence: dict) -> None:
        mother = her_evidence["mother"]
        response = api.get("bristol", bundle_url(mother["id"]))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        bundle = response.json()
        # A local authority knows of her only her name, prison, status and release date.
        assert bundle["mother"] == {
            "id": mother["id"],
            "first_name": "Siân",
            "last_name": "O'Connor",
            "date_of_birth": None,
            "prison_number": None,
            "prison_code": "SDI",
            "prison_name": "HMP Send",
        }
        assert [i["started_on"] for i in bundle["items"]] == [
            "2024-11-10",
            "2025-01-20",
            "2025-03-01",
            "2025-10-01",
        ]
        # Hours not recorded add none, and are counted as not recorded: never as 0 hours.
        assert bundle["totals"] == [
            {"category": "course", "count": 1, "hours": 24, "hours_not_recorded": 0},
            {"category": "counselling", "count": 2, "hours": 3.75, "hours_not_recorded": 0},
            {"category": "parenting_programme", "count": 1, "hours": 0, "hours_not_recorded": 1},
        ]
        assert bundle["total"] == {"count": 4, "hours": 27.75, "hours_not_recorded": 1}
        # Bristol's proceedings' number; not Surrey's, nor one with no number.
        assert bundle["case_numbers"] == ["BS25C00042"]
        admin = api.get("admin", bundle_url(mother["id"])).json()
        assert admin["case_numbers"] == ["BM25C00077", "BS25C00042"]  # oldest first
        # The prison side's (and a court's, through it): her date of birth and prison number.
        assert admin["mother"]["date_of_birth"] == "1990-04-12"
        assert admin["mother"]["prison_number"] == "A1234BC"
        assert api.get("sdi_worker", bundle_url(mother["id"])).json()["mother"] == {
            **bundle["mother"],
            "date_of_birth": "1990-04-12",
            "prison_number": "A1234BC",
        }
        assert bundle["prepared_by"] == "Together a Chance"
        generated = datetime.fromisoformat(bundle["generated_at"].replace("Z", "+00:00"))
        assert abs(datetime.now(UTC) - generated) < timedelta(minutes=5)

    def test_html_document_escapes_everything(self, api: Api, her_evidence: dict) -> None:
        mother = her_evidence["mother"]
        response = api.client.get(
            bundle_url(mother["id"]), headers=api.headers("bristol", Accept="text/html")
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "default-src 'none'" in response.headers["content-security-policy"]
        page = response.text
        assert page.startswith("<!DOCTYPE html>")
        assert "Siân O&#x27;Connor" in page and "HMP Send" in page
        # Not a local authority's to know: left out of its papers.
        assert "A1234BC" not in page and "Date of birth" not in page
        assert "Prison number" not in page
        prison_side = api.get("sdi_worker", f"{bundle_url(mother['id'])}?format=html").text
        assert "<dt>Date of birth</dt><dd>12 April 1990</dd>" in prison_side
        assert "<dt>Prison number</dt><dd>A1234BC</dd>" in prison_side
        assert "<dt>Court case number</dt><dd>BS25C00042</dd>" in page
        assert "Prepared by bristol on " in page and f"{TODAY.year} at " in page
        # Typed text is shown as typed, never as markup.
        assert "<script>" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
        assert "Counselling &lt;with&gt; &quot;Women in Prison&quot; &amp; co" in page
        verified = "Hélène D&#x27;Arcy, Education manager, HMP Eastwood Park, on 20 November 2025"
        assert verified in page
        assert "Not verified" in page
        # In date order, with the totals.
        assert page.index("10 November 2024") < page.index("20 January 2025")
        assert page.index("20 January 2025") < page.index("1 March 2025")
        items = {row[3]: row for row in cells(page)[1:]}
        # Ongoing as ongoing; hours not recorded said so, in the list and in the totals.
        assert items["Trauma-informed counselling"][1] == "Ongoing: started, not completed"
        assert items["Triple P"][1] == "20 February 2025" and items["Triple P"][5] == "Not recorded"
        assert cells(page, 1)[1:] == [
            ["Course", "1", "24"],
            ["Counselling", "2", "3.75"],
            ["Parenting programme", "1", "Not recorded"],
            ["All evidence", "4", "27.75, and 1 item not recorded"],
        ]

    @pytest.mark.parametrize(
        ("query", "accept", "html"),
        [
            ("?format=html", None, True),
            ("?format=json", "text/html", False),
            ("", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
            ("", "application/json", False),
            ("", "*/*", False),
            ("", None, False),
            ("", "application/json, text/html;q=0.5", False),
            ("", "text/html;q=0.9, application/json;q=0.1", True),
        ],
    )
    def test_content_negotiation(
        self, api: Api, her_evidence: dict, query: str, accept: str | None, html: bool
    ) -> None:
        extra = {"Accept": accept} if accept else {}
        response = api.client.get(
            bundle_url(her_evidence["mother"]["id"]) + query,
            headers=api.headers("admin", **extra),
        )
        assert response.status_code == 200
        kind = "text/html" if html else "application/json"
        assert response.headers["content-type"].startswith(kind)
        assert response.headers["vary"] == "Accept"

    def test_a_bad_format_is_refused(self, api: Api) -> None:
        mother = api.mother()
        assert api.get("admin", f"{bundle_url(mother['id'])}?format=docx").status_code == 422

    def test_an_empty_bundle(self, api: Api) -> None:
        mother = api.mother()
        bundle = api.get("ewi_worker", bundle_url(mother["id"])).json()
        assert bundle["items"] == [] and bundle["totals"] == []
        assert bundle["total"] == {"count": 0, "hours": 0, "hours_not_recorded": 0}
        assert bundle["case_numbers"] == []
        page = api.get("ewi_worker", f"{bundle_url(mother['id'])}?format=html").text
        assert "No evidence has been recorded." in page

    def test_scope(self, api: Api, her_evidence: dict) -> None:
        url = bundle_url(her_evidence["mother"]["id"])
        for who in ("surrey", "ewi_worker"):
            response = api.get(who, url)
            assert response.status_code == 404, who
            assert response.headers["content-type"] == "application/problem+json"
            mother_id = her_evidence["mother"]["id"]
            assert f"No mother with id {mother_id} is visible" in response.json()["detail"]
            assert api.get(who, f"{url}?format=html").status_code == 404
        assert api.get("ewi_governor", url).status_code == 403
        assert api.get("sdi_worker", url).status_code == 200

    def test_reading_it_is_a_disclosure_of_her_and_each_item(
        self, api: Api, her_evidence: dict
    ) -> None:
        mother_id = her_evidence["mother"]["id"]
        api.get("bristol", f"{bundle_url(mother_id)}?format=html")
        disclosed = api.sql(
            "SELECT resource_type, resource_id, client_name FROM audit_event "
            "WHERE subject_id = :id AND action = 'disclose'",
            id=db_id(api, mother_id),
        )
        assert sorted((r[0], str(uuid.UUID(str(r[1]))), r[2]) for r in disclosed) == sorted(
            [("mother", mother_id, "bristol")]
            + [("evidence", item["id"], "bristol") for item in her_evidence["items"]]
            # The proceedings whose case number heads it; not those Bristol may not see.
            + [("proceedings", her_evidence["proceedings"][0], "bristol")]
        )
        refused = api.get("surrey", bundle_url(mother_id))
        assert refused.status_code == 404
        failed = api.sql(
            "SELECT action, outcome FROM audit_event WHERE subject_id = :id AND client_name = "
            "'surrey'",
            id=db_id(api, mother_id),
        )
        assert [tuple(row) for row in failed] == [("disclose", "not_found")]

    def test_the_bundle_costs_the_same_however_many_items(self, api: Api) -> None:
        mother = api.mother()
        add(api, mother["id"])
        with counting(api) as one:
            api.get("ewi_worker", bundle_url(mother["id"]))
        for n in range(10):
            add(
                api,
                mother["id"],
                started_on=str(TODAY - timedelta(days=n)),
                completed_on=None,
                verified_by=None,
                verified_on=None,
            )
        with counting(api) as many:
            response = api.get("ewi_worker", bundle_url(mother["id"]))
        with counting(api) as printed_many:
            response = api.get("ewi_worker", f"{bundle_url(mother['id'])}?format=html")
        assert response.status_code == 200
        # Her with her prison and her items in one statement; the caller's and the audit's
        # statements (tests/contracts/test_liaison_queries.py counts them all) besides; the
        # document one more, the name of who prepared it (her staff directory entry).
        assert len(one) == len(many) == statements(api, sqlite=4, postgres=2), many
        assert len(printed_many) == len(many) + 1, printed_many
        for read in (many, printed_many):
            assert (
                len([sql for sql in read if "FROM evidence" in sql or "JOIN evidence" in sql]) == 1
            )

    def test_its_audit_rows_are_her_and_each_item_in_bundle_order(
        self, api: Api, her_evidence: dict
    ) -> None:
        """The same rows on SQLite (noted by the route) as on PostgreSQL (written by the read
        itself): her record, then each item in the bundle's order, disclosed."""
        mother_id = her_evidence["mother"]["id"]
        bristols, birminghams, _ = her_evidence["proceedings"]
        for who, cases in (("bristol", [bristols]), ("admin", [birminghams, bristols])):
            response = api.get(who, bundle_url(mother_id))
            assert response.status_code == 200
            items = [item["id"] for item in response.json()["items"]]
            assert len(items) == 4
            assert [row[2:] for row in trail(api, response)] == (
                [("disclose", "mother", mother_id, mother_id, "succeeded")]
                + [("disclose", "evidence", item, mother_id, "succeeded") for item in items]
                + [("disclose", "proceedings", case, mother_id, "succeeded") for case in cases]
            )
        empty = api.mother()["id"]
        response = api.get("ewi_worker", bundle_url(empty))
        assert [row[2:] for row in trail(api, response)] == [
            ("disclose", "mother", empty, empty, "succeeded")
        ]
        refused = api.get("surrey", bundle_url(mother_id))
        assert refused.status_code == 404
        assert [row[2:] for row in trail(api, refused)] == [
            ("disclose", "mother", mother_id, mother_id, "not_found")
        ]


class TestBundleAsPaper:
    def test_a_pdf_of_the_same_page(self, api: Api, her_evidence: dict) -> None:
        mother_id = her_evidence["mother"]["id"]
        response = api.client.get(
            bundle_url(mother_id), headers=api.headers("bristol", Accept="application/pdf")
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["vary"] == "Accept"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith(f'inline; filename="evidence-bundle-{mother_id}-')
        assert disposition.endswith('.pdf"') and "Connor" not in disposition
        pages = pdf_pages(response.content)
        page = api.get("bristol", f"{bundle_url(mother_id)}?format=html").text
        shown = printed(page)
        assert len(shown) == pages >= 1
        assert "Siân O'Connor" in shown[0] and "12 April 1990" not in shown[0]
        assert "BS25C00042" in shown[0] and f"Page 1 of {pages}" in shown[0]
        assert "Prepared by bristol on" in shown[0]
        # Audited as the JSON: a disclosure of the same records.
        assert [row[2:] for row in trail(api, response)] == [
            row[2:] for row in trail(api, api.get("bristol", bundle_url(mother_id)))
        ]

    def test_prepared_by_her_name_in_the_staff_directory(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        (row,) = api.sql("SELECT id FROM api_client WHERE name = 'sdi_worker'")
        staff = {
            "prison_code": "SDI",
            "name": "Gwenllian Ap Siôn",
            "role": "prison_social_worker",
            "api_client_id": str(uuid.UUID(str(row[0]))),
        }
        assert api.post("admin", "/v1/staff", staff).status_code == 201
        page = api.get("sdi_worker", f"{bundle_url(mother['id'])}?format=html").text
        assert "Prepared by Gwenllian Ap Siôn on " in page
        assert "<dt>Court case number</dt><dd>Not recorded</dd>" in page

    @pytest.mark.parametrize(
        ("accept", "kind"),
        [
            ("application/pdf", "application/pdf"),
            ("application/pdf;q=0.5, text/html", "text/html"),
            ("application/json, application/pdf;q=0.9", "application/json"),
            ("image/png", "application/json"),  # not refused: the default, as always
        ],
    )
    def test_pdf_in_content_negotiation(
        self, api: Api, her_evidence: dict, accept: str, kind: str
    ) -> None:
        response = api.client.get(
            bundle_url(her_evidence["mother"]["id"]), headers=api.headers("admin", Accept=accept)
        )
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)
