"""Parenting assessments: requested by a local authority or a court, written by the prison side,
read by the authorities whose children they concern."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.audit import audit_of
from tests.support.bodies import TODAY
from tests.support.sql import counting, statements
from tests.support.world import family

URL = "/v1/parenting-assessments"
TOMORROW = TODAY + timedelta(days=1)


def body(mother_id: str, child_ids: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "mother_id": mother_id,
        "child_ids": child_ids,
        "requested_by": "local_authority",
        "requested_on": "2025-08-20",
        "requesting_local_authority_code": "801",
        "assessor_name": "Bethan Ap Rhys",
        "assessor_organisation": "Cymru Independent Social Work",
        "model": "pams",
        "started_on": "2025-09-15",
        **fields,
    }


COMPLETED = {
    "completed_on": "2025-11-03",
    "outcome": "positive",
    "report_shared_with": [
        {"role": "local_authority", "name": "Bristol City Council"},
        {"role": "court", "name": "Bristol Civil and Family Justice Centre"},
        {"role": "mother"},
    ],
}


def add(api: Api, who: str = "admin", **fields: Any) -> dict[str, Any]:
    response = api.post(who, URL, fields)
    assert response.status_code == 201, response.text
    return response.json()


def count_rows(api: Api) -> tuple[int, int, int]:
    return tuple(
        api.sql(f"SELECT count(*) FROM {table}")[0][0]
        for table in (
            "parenting_assessment",
            "parenting_assessment_child",
            "parenting_assessment_recipient",
        )
    )  # type: ignore[return-value]


class TestCreate:
    def test_record_a_completed_assessment(self, api: Api) -> None:
        f = family(api)
        child_ids = [f["bristol"]["id"], f["surrey"]["id"]]
        response = api.post("ewi_worker", URL, body(f["mother"]["id"], child_ids, **COMPLETED))
        assert response.status_code == 201, response.text
        assessment = response.json()
        assert assessment["mother_id"] == f["mother"]["id"]
        assert sorted(assessment["child_ids"]) == sorted(child_ids)
        assert assessment["model"] == "pams" and assessment["model_other"] is None
        assert assessment["outcome"] == "positive"
        assert assessment["report_shared_with"] == [
            {"role": "local_authority", "name": "Bristol City Council"},
            {"role": "court", "name": "Bristol Civil and Family Justice Centre"},
            {"role": "mother", "name": None},
        ]
        assert response.headers["Location"] == f"{URL}/{assessment['id']}"
        assert response.headers["ETag"] == '"1"'
        assert api.get("ewi_worker", f"{URL}/{assessment['id']}").json() == assessment
        assert audit_of(api, assessment["id"])[0] == (
            "collect",
            "parenting_assessment",
            "succeeded",
        )

    def test_requested_by_a_court_with_another_model_not_yet_started(self, api: Api) -> None:
        f = family(api)
        assessment = add(
            api,
            **body(
                f["mother"]["id"],
                [f["surrey"]["id"]],
                requested_by="court",
                requesting_local_authority_code=None,
                model="other",
                model_other="Cognitive-behavioural parenting assessment",
                started_on=None,
                assessor_organisation=None,
            ),
        )
        assert assessment["requested_by"] == "court"
        assert assessment["model_other"] == "Cognitive-behavioural parenting assessment"
        assert assessment["started_on"] is None and assessment["report_shared_with"] == []

    def test_withdrawn_before_it_started(self, api: Api) -> None:
        f = family(api)
        fields = {"started_on": None, "completed_on": "2025-10-01", "outcome": "withdrawn"}
        assessment = add(api, **body(f["mother"]["id"], [f["bristol"]["id"]], **fields))
        assert assessment["outcome"] == "withdrawn"

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"requesting_local_authority_code": None}, "requesting_local_authority_code"),
            ({"requested_by": "court"}, "requesting_local_authority_code"),
            ({"requesting_local_authority_code": "999"}, "requesting_local_authority_code"),
            ({"requesting_local_authority_code": "928"}, "requesting_local_authority_code"),
            ({"requested_by": "mother"}, "requested_by"),
            ({"model": "other"}, "model_other"),
            ({"model_other": "Something else"}, "model_other"),
            ({"model": "ouija"}, "model"),
            ({"started_on": str(TODAY + timedelta(days=1))}, "started_on"),
            ({"requested_on": str(TODAY + timedelta(days=1))}, "requested_on"),
            ({"requested_on": None}, "requested_on"),
            ({"started_on": "2025-08-19"}, "started_on"),  # before it was requested
            ({"completed_on": str(TOMORROW), "outcome": "positive"}, "completed_on"),
            ({"completed_on": "2025-09-14", "outcome": "negative"}, "completed_on"),
            ({"completed_on": "2025-11-03"}, "outcome"),  # completed, with no outcome
            ({"outcome": "positive"}, "outcome"),  # an outcome before it is completed
            ({"outcome": "glowing", "completed_on": "2025-11-03"}, "outcome"),
            ({"started_on": None, **COMPLETED}, "started_on"),
            ({"started_on": "1850-01-01", "requested_on": "1850-01-01"}, "requested_on"),
            ({"started_on": 20250915}, "started_on"),
            ({"child_ids": []}, "child_ids"),
            ({"child_ids": [str(uuid.uuid4())]}, "child_ids"),
            ({"assessor_name": ""}, "assessor_name"),
            ({"report_shared_with": [{"role": "neighbour"}]}, "report_shared_with.0.role"),
            ({"report_shared_with": [{"role": "court", "to": "x"}]}, "report_shared_with.0.to"),
            ({"report_shared_with": [{"role": "court"}] * 21}, "report_shared_with"),
            ({"id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}, "id"),
            ({"version": 4}, "version"),
        ],
    )
    def test_rules_refuse_bad_input_and_write_nothing(
        self, api: Api, fields: dict, field: str
    ) -> None:
        f = family(api)
        new = {**body(f["mother"]["id"], [f["bristol"]["id"]]), **fields}
        response = api.post("admin", URL, new)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count_rows(api) == (0, 0, 0)

    def test_children_must_be_hers_and_named_once(self, api: Api) -> None:
        f = family(api)
        someone_else = family(api)
        for child_ids in (
            [f["bristol"]["id"], someone_else["bristol"]["id"]],
            [f["bristol"]["id"], f["bristol"]["id"]],
        ):
            response = api.post("admin", URL, body(f["mother"]["id"], child_ids))
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"].startswith("child_ids")
        # The one rule every record naming children keeps, with its messages.
        stranger = body(f["mother"]["id"], [f["bristol"]["id"], someone_else["bristol"]["id"]])
        assert api.post("admin", URL, stranger).json()["errors"] == [
            {
                "location": "body",
                "field": "child_ids",
                "message": "item 2 is not one of her children",
            }
        ]
        assert count_rows(api) == (0, 0, 0)

    def test_only_the_prison_side_writes_and_only_for_its_mothers(self, api: Api) -> None:
        f = family(api, prison_code="SDI")
        new = body(f["mother"]["id"], [f["bristol"]["id"]])
        assert api.post("bristol", URL, new).status_code == 403
        assert api.post("ewi_governor", URL, new).status_code == 403
        refused = api.post("ewi_worker", URL, new)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "mother_id"
        assert count_rows(api) == (0, 0, 0)
        assert api.post("sdi_worker", URL, new).status_code == 201


class TestScope:
    def test_a_local_authority_reads_those_concerning_its_children(self, api: Api) -> None:
        f = family(api, prison_code="SDI")
        both = add(api, **body(f["mother"]["id"], [f["bristol"]["id"], f["surrey"]["id"]]))
        surreys = add(api, **body(f["mother"]["id"], [f["surrey"]["id"]]))
        # Bristol sees the one about its child, with its own child only.
        got = api.get("bristol", f"{URL}/{both['id']}")
        assert got.status_code == 200
        assert got.json()["child_ids"] == [f["bristol"]["id"]]
        assert api.get("bristol", f"{URL}/{surreys['id']}").status_code == 404
        listed = api.get("bristol_system", URL).json()["items"]
        assert [a["id"] for a in listed] == [both["id"]]
        surrey = api.get("surrey", URL).json()["items"]
        assert {a["id"] for a in surrey} == {both["id"], surreys["id"]}
        assert all(a["child_ids"] == [f["surrey"]["id"]] for a in surrey)
        # The prison side sees every child it concerns.
        full = api.get("sdi_worker", f"{URL}/{both['id']}").json()
        assert sorted(full["child_ids"]) == sorted([f["bristol"]["id"], f["surrey"]["id"]])

    def test_a_prison_social_worker_reads_her_prisons_mothers_only(self, api: Api) -> None:
        f = family(api, prison_code="SDI")
        assessment = add(api, **body(f["mother"]["id"], [f["bristol"]["id"]]))
        assert api.get("ewi_worker", f"{URL}/{assessment['id']}").status_code == 404
        assert api.get("ewi_worker", URL).json()["items"] == []
        assert api.get("sdi_worker", f"{URL}/{assessment['id']}").status_code == 200
        assert api.get("ewi_governor", URL).status_code == 403
        assert api.get("auditor", f"{URL}/{assessment['id']}").status_code == 403

    def test_filters(self, api: Api) -> None:
        ewi = family(api)
        sdi = family(api, prison_code="SDI")
        first = add(api, **body(ewi["mother"]["id"], [ewi["bristol"]["id"]]))
        second = add(api, **body(ewi["mother"]["id"], [ewi["surrey"]["id"]]))
        third = add(api, **body(sdi["mother"]["id"], [sdi["bristol"]["id"]]))

        def ids(who: str, query: str) -> set[str]:
            response = api.get(who, f"{URL}?{query}")
            assert response.status_code == 200, response.text
            return {a["id"] for a in response.json()["items"]}

        assert ids("admin", f"mother_id={ewi['mother']['id']}") == {first["id"], second["id"]}
        assert ids("admin", f"child_id={ewi['surrey']['id']}") == {second["id"]}
        assert ids("admin", "prison_code=SDI") == {third["id"]}
        assert ids("admin", "prison_code=EWI&child_id=" + sdi["bristol"]["id"]) == set()
        assert ids("ewi_worker", "prison_code=SDI") == set()
        # Another authority's child finds nothing, even in an assessment Bristol may read.
        both = add(api, **body(sdi["mother"]["id"], [sdi["bristol"]["id"], sdi["surrey"]["id"]]))
        assert ids("bristol", f"child_id={sdi['surrey']['id']}") == set()
        assert ids("bristol", f"child_id={sdi['bristol']['id']}") == {third["id"], both["id"]}
        assert api.get("admin", f"{URL}?prison_code=ewi").status_code == 422
        assert api.get("admin", f"{URL}?child=1").status_code == 422

    def test_pages_in_the_order_they_were_requested(self, api: Api) -> None:
        f = family(api)
        made = {
            requested: add(
                api,
                **body(
                    f["mother"]["id"],
                    [f["bristol"]["id"]],
                    requested_on=requested,
                    started_on=None,
                ),
            )["id"]
            for requested in ("2025-05-01", "2024-12-24", "2025-01-02", "2025-04-30", "2023-03-03")
        }
        first = api.get("admin", f"{URL}?limit=2")
        assert 'rel="next"' in first.headers["Link"]
        seen = [a["id"] for a in first.json()["items"]]
        cursor = first.json()["next_cursor"]
        while cursor:
            page = api.get("admin", f"{URL}?limit=2&cursor={cursor}").json()
            seen += [a["id"] for a in page["items"]]
            cursor = page["next_cursor"]
        assert seen == [made[requested] for requested in sorted(made)]

    def test_a_page_costs_the_same_whatever_its_size(self, api: Api) -> None:
        f = family(api)
        for _ in range(10):
            fields = body(f["mother"]["id"], [f["bristol"]["id"], f["surrey"]["id"]], **COMPLETED)
            add(api, **fields)
        for who in ("ewi_worker", "bristol"):
            with counting(api) as small:
                api.get(who, f"{URL}?limit=1")
            with counting(api) as large:
                response = api.get(who, f"{URL}?limit=10")
            assert len(response.json()["items"]) == 10
            assert all(len(a["report_shared_with"]) == 3 for a in response.json()["items"])
            # Token, rate limit, the page, its children, its recipients, one audit insert; and
            # for the prison side, the page's open flags for review.
            flags = 1 if who == "ewi_worker" else 0
            expected = statements(api, sqlite=6 + flags, postgres=4 + flags)
            assert len(small) == len(large) == expected, large


class TestUpdate:
    def test_complete_it_and_share_the_report(self, api: Api) -> None:
        f = family(api)
        assessment = add(api, **body(f["mother"]["id"], [f["bristol"]["id"]]))
        url = f"{URL}/{assessment['id']}"
        assert api.patch("ewi_worker", url, COMPLETED).status_code == 428
        assert api.patch("ewi_worker", url, COMPLETED, if_match='"9"').status_code == 412
        response = api.patch("ewi_worker", url, COMPLETED, if_match='"1"')
        assert response.status_code == 200, response.text
        changed = response.json()
        assert changed["outcome"] == "positive" and changed["version"] == 2
        assert len(changed["report_shared_with"]) == 3
        assert response.headers["ETag"] == '"2"'
        assert audit_of(api, assessment["id"])[-1] == (
            "alter",
            "parenting_assessment",
            "succeeded",
        )
        # The lists are replaced when sent, kept when not.
        later = {
            "child_ids": [f["surrey"]["id"], f["bristol"]["id"]],
            "report_shared_with": [{"role": "solicitor", "name": "Máire O'Donnell"}],
        }
        replaced = api.patch("ewi_worker", url, later, if_match='"2"').json()
        assert sorted(replaced["child_ids"]) == sorted(later["child_ids"])
        assert replaced["report_shared_with"] == later["report_shared_with"]
        kept = api.patch("ewi_worker", url, {"assessor_name": "Eleri Bowen"}, if_match='"3"')
        assert kept.json()["report_shared_with"] == later["report_shared_with"]
        assert count_rows(api) == (1, 2, 1)

    def test_a_patch_that_changes_nothing_keeps_the_version(self, api: Api) -> None:
        f = family(api)
        children = [f["bristol"]["id"], f["surrey"]["id"]]
        assessment = add(api, **body(f["mother"]["id"], children, **COMPLETED))
        url = f"{URL}/{assessment['id']}"
        events = api.sql("SELECT count(*) FROM change_event")[0][0]
        same = {
            "child_ids": list(reversed(children)),  # the same children in another order
            "report_shared_with": COMPLETED["report_shared_with"],
            "assessor_name": assessment["assessor_name"],
            "outcome": "positive",
        }
        response = api.patch("ewi_worker", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"' and response.json() == assessment
        assert api.sql("SELECT count(*) FROM change_event")[0][0] == events
        assert audit_of(api, assessment["id"])[-1] == (
            "consult",
            "parenting_assessment",
            "succeeded",
        )
        # A list alone is a change.
        fewer = {"report_shared_with": [{"role": "mother", "name": None}]}
        response = api.patch("ewi_worker", url, fewer, if_match='"1"')
        assert response.headers["ETag"] == '"2"'
        assert api.sql("SELECT count(*) FROM change_event")[0][0] > events
        assert audit_of(api, assessment["id"])[-1] == ("alter", "parenting_assessment", "succeeded")

    def test_a_court_request_drops_the_authority(self, api: Api) -> None:
        f = family(api)
        assessment = add(api, **body(f["mother"]["id"], [f["bristol"]["id"]]))
        url = f"{URL}/{assessment['id']}"
        alone = api.patch("admin", url, {"requested_by": "court"}, if_match='"1"')
        assert alone.status_code == 422
        change = {"requested_by": "court", "requesting_local_authority_code": None}
        assert api.patch("admin", url, change, if_match='"1"').status_code == 200

    @pytest.mark.parametrize(
        "change",
        [
            {"outcome": "negative"},  # not completed
            {"completed_on": "2025-11-03"},  # no outcome
            {"completed_on": "2025-01-01", "outcome": "negative"},  # before it started
            {"model": "other"},
            {"child_ids": []},
            {"child_ids": None},
            {"child_ids": [str(uuid.uuid4())]},
            {"report_shared_with": None},
            {"report_shared_with": [{"role": "astrologer"}]},
            {"requesting_local_authority_code": "000"},
            {"assessor_name": None},
            {"mother_id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"},
            {"updated_at": "2020-01-01T00:00:00Z"},
        ],
    )
    def test_bad_changes_write_nothing(self, api: Api, change: dict) -> None:
        f = family(api)
        assessment = add(api, **body(f["mother"]["id"], [f["bristol"]["id"]], **COMPLETED))
        assessment = api.patch(
            "admin",
            f"{URL}/{assessment['id']}",
            {"completed_on": None, "outcome": None},
            if_match='"1"',
        ).json()
        url = f"{URL}/{assessment['id']}"
        response = api.patch("admin", url, change, if_match='"2"')
        assert response.status_code == 422, response.text
        assert api.get("admin", url).json() == assessment
        assert count_rows(api) == (1, 1, 3)

    def test_only_the_prison_side_in_scope_changes_it(self, api: Api) -> None:
        f = family(api, prison_code="SDI")
        assessment = add(api, **body(f["mother"]["id"], [f["bristol"]["id"]]))
        url = f"{URL}/{assessment['id']}"
        change = {"assessor_name": "Eleri Bowen"}
        assert api.patch("bristol", url, change, if_match='"1"').status_code == 403
        assert api.patch("ewi_worker", url, change, if_match='"1"').status_code == 404
        assert api.get("admin", url).json() == assessment


class TestDelete:
    def test_remove_an_assessment_recorded_in_error(self, api: Api) -> None:
        f = family(api, prison_code="SDI")
        assessment = add(api, **body(f["mother"]["id"], [f["bristol"]["id"]], **COMPLETED))
        url = f"{URL}/{assessment['id']}"
        assert api.delete("bristol", url).status_code == 403
        assert api.delete("ewi_worker", url).status_code == 404
        assert count_rows(api) == (1, 1, 3)
        etag = api.get("sdi_worker", url).headers["ETag"]
        # Removing is a change like any other: the ETag last read, current.
        assert api.delete("sdi_worker", url).status_code == 428
        assert api.delete("sdi_worker", url, if_match='"9"').status_code == 412
        assert count_rows(api) == (1, 1, 3)
        assert api.delete("sdi_worker", url, if_match=etag).status_code == 204
        assert api.get("admin", url).status_code == 404
        assert count_rows(api) == (0, 0, 0)
        assert ("erase", "parenting_assessment", "succeeded") in audit_of(api, assessment["id"])
