import base64
import json
import urllib.parse
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tac_api.pagination import encode_cursor
from tests.support.api import Api
from tests.support.bodies import TODAY, mother_body


def count_mothers(api: Api) -> int:
    return api.sql("SELECT count(*) FROM mother")[0][0]


class TestCreate:
    def test_prison_social_worker_records_a_mother_in_her_prison(self, api: Api) -> None:
        response = api.post("ewi_worker", "/v1/mothers", mother_body(first_name="Zoë"))
        assert response.status_code == 201
        mother = response.json()
        assert mother["first_name"] == "Zoë" and mother["last_name"] == "O'Connor"
        assert mother["status"] == "active" and mother["version"] == 1
        assert response.headers["ETag"] == '"1"'
        assert response.headers["Location"] == f"/v1/mothers/{mother['id']}"
        assert mother["created_at"].endswith("Z")

    def test_not_in_another_prison(self, api: Api) -> None:
        response = api.post("ewi_worker", "/v1/mothers", mother_body(prison_code="SDI"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "prison_code"
        assert count_mothers(api) == 0

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"prison_number": "1234ABC"}, "prison_number"),
            ({"prison_number": "a1234bc"}, "prison_number"),
            ({"first_name": ""}, "first_name"),
            ({"first_name": "x" * 101}, "first_name"),
            ({"date_of_birth": "not a date"}, "date_of_birth"),
            ({"status": "escaped"}, "status"),
            ({"nickname": "Sia"}, "nickname"),
            ({"id": "7b0e4b4e-7d7e-4a5f-9e0a-8f3f0b9c1d2e"}, "id"),
            ({"version": 7}, "version"),
        ],
    )
    def test_bad_input_is_a_problem_and_writes_nothing(
        self, api: Api, fields: dict, field: str
    ) -> None:
        response = api.post("admin", "/v1/mothers", mother_body(**fields))
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 422 and problem["title"] and problem["detail"]
        assert field in [error["field"] for error in problem["errors"]]
        assert count_mothers(api) == 0

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"date_of_birth": str(TODAY + timedelta(days=1))}, "date_of_birth"),
            ({"date_of_birth": "1850-01-01"}, "date_of_birth"),
            ({"reception_date": str(TODAY + timedelta(days=3))}, "reception_date"),
            ({"reception_date": "1989-01-01"}, "reception_date"),
            (
                {"reception_date": "2025-09-01", "earliest_release_date": "2025-08-31"},
                "earliest_release_date",
            ),
            ({"prison_code": "XYZ"}, "prison_code"),
            ({"ethnicity": "martian"}, "ethnicity"),
            ({"supported_from": str(TODAY + timedelta(days=1))}, "supported_from"),
            ({"supported_from": "1850-01-01"}, "supported_from"),
        ],
    )
    def test_dates_and_codes_are_checked(self, api: Api, fields: dict, field: str) -> None:
        response = api.post("admin", "/v1/mothers", mother_body(**fields))
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count_mothers(api) == 0

    def test_prison_number_is_unique(self, api: Api) -> None:
        api.mother(prison_number="A1234BC")
        response = api.post("admin", "/v1/mothers", mother_body(prison_number="A1234BC"))
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert count_mothers(api) == 1


class TestRead:
    def test_her_record_summarises_her_children(self, api: Api) -> None:
        mother = api.mother()
        older = api.child(mother["id"], first_name="Rhys", date_of_birth="2016-02-03")
        baby = api.child(
            mother["id"],
            first_name="Élodie",
            date_of_birth=str(TODAY - timedelta(days=200)),
            lives_with="mother",
            local_authority_code="803",
            legal_status=None,
            placement_type=None,
        )
        response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}")
        assert response.status_code == 200
        assert response.headers["ETag"] == '"1"'
        body = response.json()
        assert body["prison_number"] == mother["prison_number"]
        summary = {c["id"]: c for c in body["children"]}
        assert set(summary[older["id"]]) == {
            "id",
            "first_name",
            "age",
            "local_authority_code",
            "lives_with",
            "placement_withheld",
        }
        assert summary[older["id"]]["age"] == older["age"] >= 9
        assert summary[baby["id"]] == {
            "id": baby["id"],
            "first_name": "Élodie",
            "age": 0,
            "local_authority_code": "803",
            "lives_with": "mother",
            "placement_withheld": False,
        }

    def test_a_mother_without_children(self, api: Api) -> None:
        mother = api.mother()
        assert api.get("admin", f"/v1/mothers/{mother['id']}").json()["children"] == []

    def test_another_prisons_mother_reads_as_not_found(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        unknown = api.get("ewi_worker", "/v1/mothers/00000000-0000-4000-8000-000000000000")
        assert unknown.status_code == 404
        assert (
            unknown.json()["detail"].replace("00000000-0000-4000-8000-000000000000", mother["id"])
            == response.json()["detail"]
        )

    def test_local_authority_sees_only_the_minimal_record(self, api: Api) -> None:
        mother = api.mother()
        api.child(mother["id"], local_authority_code="801")
        response = api.get("bristol", f"/v1/mothers/{mother['id']}")
        assert response.status_code == 200
        assert set(response.json()) == {
            "id",
            "first_name",
            "last_name",
            "prison_code",
            "status",
            "earliest_release_date",
            "released_on",
        }
        listed = api.get("bristol_system", "/v1/mothers").json()["items"]
        assert [set(m) for m in listed] == [set(response.json())]

    def test_local_authority_without_her_children_cannot_see_her(self, api: Api) -> None:
        mother = api.mother()
        api.child(mother["id"], local_authority_code="801")
        assert api.get("surrey", f"/v1/mothers/{mother['id']}").status_code == 404
        assert api.get("surrey", "/v1/mothers").json()["items"] == []

    def test_governors_see_no_person(self, api: Api) -> None:
        mother = api.mother()
        assert api.get("ewi_governor", f"/v1/mothers/{mother['id']}").status_code == 403
        assert api.get("ewi_governor", "/v1/mothers").status_code == 403

    def test_no_token_is_401_with_a_challenge(self, api: Api) -> None:
        response = api.client.get("/v1/mothers")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"
        bad = api.client.get("/v1/mothers", headers={"Authorization": "Bearer tac_nonsense"})
        assert bad.status_code == 401


class TestList:
    def test_filters(self, api: Api) -> None:
        siân = api.mother(first_name="Siân", last_name="O'Connor")
        api.mother(first_name="Chloé", last_name="D'Souza", prison_code="SDI")
        released = api.mother(first_name="Niamh", last_name="Ní Bhriain", status="released")

        def names(who: str, query: str) -> list[str]:
            response = api.get(who, f"/v1/mothers{query}")
            assert response.status_code == 200, response.text
            return [m["first_name"] for m in response.json()["items"]]

        assert names("admin", "") == ["Chloé", "Niamh", "Siân"]  # by last name
        assert names("admin", "?prison_code=SDI") == ["Chloé"]
        assert names("ewi_worker", "") == ["Niamh", "Siân"]
        assert names("ewi_worker", "?prison_code=SDI") == []
        assert names("admin", "?status=released") == [released["first_name"]]
        assert names("admin", "?q=o'con") == [siân["first_name"]]
        assert names("admin", "?q=Siân") == ["Siân"]
        assert names("admin", "?q=%25") == []  # a literal %, not a wildcard

    def test_keyset_pages_with_link_header(self, api: Api) -> None:
        for n in range(7):
            api.mother(last_name=f"Evans-{n}")
        seen, url, pages = [], "/v1/mothers?limit=3", 0
        while url:
            response = api.get("admin", url)
            body = response.json()
            seen += [m["last_name"] for m in body["items"]]
            pages += 1
            if body["next_cursor"]:
                link = response.headers["Link"]
                assert link.endswith('; rel="next"') and body["next_cursor"] in link
                url = link[1 : link.index(">")].replace("http://testserver", "")
            else:
                assert "Link" not in response.headers
                url = None
        assert seen == [f"Evans-{n}" for n in range(7)] and pages == 3

    @pytest.mark.parametrize("query", ["limit=201", "limit=0", "cursor=!!!", "cursor=WzFd"])
    def test_bad_paging_is_a_problem(self, api: Api, query: str) -> None:
        response = api.get("admin", f"/v1/mothers?{query}")
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


class TestUpdate:
    def test_patch_needs_if_match(self, api: Api) -> None:
        mother = api.mother()
        url = f"/v1/mothers/{mother['id']}"
        assert api.patch("admin", url, {"status": "closed"}).status_code == 428
        stale = api.patch("admin", url, {"status": "closed"}, if_match='"0"')
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"
        assert api.get("admin", url).json()["status"] == "active"
        ok = api.patch("admin", url, {"status": "closed"}, if_match='"1"')
        assert ok.status_code == 200 and ok.json()["status"] == "closed"
        assert ok.json()["version"] == 2 and ok.headers["ETag"] == '"2"'
        again = api.patch("admin", url, {"status": "active"}, if_match='"1"')
        assert again.status_code == 412

    @pytest.mark.parametrize(
        "change",
        [
            {"earliest_release_date": "2020-01-01"},
            {"first_name": None},
            {"prison_number": "B1234CD"},
            {"version": 9},
            {"date_of_birth": str(TODAY + timedelta(days=1))},
            {"supported_from": None},
            {"supported_from": str(TODAY + timedelta(days=1))},
        ],
    )
    def test_bad_changes_write_nothing(self, api: Api, change: dict) -> None:
        mother = api.mother()
        response = api.patch("admin", f"/v1/mothers/{mother['id']}", change, if_match='"1"')
        assert response.status_code == 422
        after = api.get("admin", f"/v1/mothers/{mother['id']}").json()
        assert after["version"] == 1
        assert {k: after[k] for k in mother} == mother

    def test_support_began_today_unless_told(self, api: Api) -> None:
        assert api.mother()["supported_from"] == str(TODAY)
        told = api.mother(supported_from="2026-01-05")
        assert told["supported_from"] == "2026-01-05"

    def test_support_cannot_begin_after_her_case_closed(self, api: Api) -> None:
        mother = api.mother(supported_from=str(TODAY - timedelta(days=30)))
        url = f"/v1/mothers/{mother['id']}"
        closed = api.patch("admin", url, {"status": "closed"}, if_match='"1"').json()
        assert closed["closed_on"] == str(TODAY)
        api.sql("UPDATE mother SET closed_on = :day", day=TODAY - timedelta(days=10))
        later = api.patch(
            "admin", url, {"supported_from": str(TODAY - timedelta(days=5))}, if_match='"2"'
        )
        assert later.status_code == 422
        assert later.json()["errors"][0]["field"] == "supported_from"
        earlier = api.patch(
            "admin", url, {"supported_from": str(TODAY - timedelta(days=40))}, if_match='"2"'
        )
        assert earlier.status_code == 200, earlier.text

    def test_cannot_change_another_prisons_mother(self, api: Api) -> None:
        mother = api.mother(prison_code="SDI")
        url = f"/v1/mothers/{mother['id']}"
        response = api.patch("ewi_worker", url, {"status": "closed"}, if_match='"1"')
        assert response.status_code == 404
        assert api.patch("bristol", url, {"status": "closed"}, if_match='"1"').status_code == 403

    def test_a_change_that_changes_nothing_keeps_her_version(self, api: Api) -> None:
        """Nothing altered: her ETag still holds, no authority is told, no transfer is made, and
        the audit trail says her record was consulted."""
        mother = api.mother(earliest_release_date="2027-03-01")
        api.child(mother["id"])  # an authority that would be told of a change
        url = f"/v1/mothers/{mother['id']}"
        events = api.sql("SELECT count(*) FROM change_event")[0][0]
        same = {key: mother[key] for key in ("status", "prison_code", "earliest_release_date")}
        response = api.patch("admin", url, same, if_match='"1"')
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"1"'
        assert response.json() == mother
        assert api.sql("SELECT count(*) FROM change_event")[0][0] == events
        assert api.sql("SELECT count(*) FROM prison_stay")[0][0] == 1
        audited = "SELECT action FROM audit_event WHERE request_id = :r AND resource_type = :t"
        request_id = response.headers["X-Request-ID"]
        assert api.sql(audited, r=request_id, t="mother") == [("consult",)]
        moved = api.patch("admin", url, {**same, "earliest_release_date": "2027-04-01"}, '"1"')
        assert moved.headers["ETag"] == '"2"'
        assert api.sql("SELECT count(*) FROM change_event")[0][0] == events + 1
        request_id = moved.headers["X-Request-ID"]
        assert api.sql(audited, r=request_id, t="mother") == [("alter",)]

    def test_transfer_keeps_history(self, api: Api) -> None:
        mother = api.mother(prison_code="EWI", reception_date="2025-09-01")
        url = f"/v1/mothers/{mother['id']}"
        moved = api.patch("ewi_worker", url, {"prison_code": "SDI"}, if_match='"1"')
        assert moved.status_code == 200 and moved.json()["prison_code"] == "SDI"
        # She has left Eastwood Park's caseload and joined Send's.
        assert api.get("ewi_worker", url).status_code == 404
        assert api.get("sdi_worker", url).status_code == 200
        stays = api.get("sdi_worker", f"{url}/prison-stays").json()["items"]
        assert [(s["prison_code"], s["arrived_on"], s["left_on"]) for s in stays] == [
            ("EWI", "2025-09-01", str(TODAY)),
            ("SDI", str(TODAY), None),
        ]


def test_a_cursor_of_the_wrong_shape_is_a_problem_not_a_crash(api: Api) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b'["a", "b", 5]').decode().rstrip("=")
    response = api.get("admin", f"/v1/mothers?cursor={cursor}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def decoded(cursor: str) -> Any:
    """What anyone holding a cursor (a URL in a log, a browser history) can read from it."""
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


class TestCursors:
    def test_a_cursor_names_a_row_by_id_and_says_nothing_of_her(self, api: Api) -> None:
        made = [api.mother(first_name="Gwenllian", last_name=f"Pritchard-{n}") for n in range(3)]
        response = api.get("ewi_worker", "/v1/mothers?limit=2")
        body = response.json()
        cursor = body["next_cursor"]
        assert decoded(cursor) == [body["items"][-1]["id"]]
        link = urllib.parse.unquote(response.headers["Link"])
        for mother in made:
            for value in (mother["first_name"], mother["last_name"], mother["date_of_birth"]):
                assert value not in json.dumps(decoded(cursor)) and value not in link
        assert "Pritchard" not in base64.urlsafe_b64decode(cursor + "==").decode()

    def test_pages_are_right_across_mothers_of_the_same_name(self, api: Api) -> None:
        """The sort key (surname, first name, id) is read back from the row the cursor names:
        ties in name are broken by id, as before, and no one is missed or shown twice."""
        for last, first in [("Jones", "Mair")] * 5 + [("Jones", "Ann"), ("Ahmed", "Mair")] * 2:
            api.mother(last_name=last, first_name=first)
        everyone = api.get("admin", "/v1/mothers?limit=200").json()["items"]
        expected = sorted(everyone, key=lambda m: (m["last_name"], m["first_name"], m["id"]))
        assert [m["id"] for m in everyone] == [m["id"] for m in expected]
        for limit in (1, 2, 3):
            seen, cursor = [], None
            while True:
                query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
                body = api.get("admin", f"/v1/mothers?{query}").json()
                seen += [m["id"] for m in body["items"]]
                if not (cursor := body["next_cursor"]):
                    break
            assert seen == [m["id"] for m in expected]

    def test_a_cursor_naming_no_row_of_this_list_is_422_whatever_the_row(self, api: Api) -> None:
        """Made up, another prison's mother, or one who left the list since: the same answer,
        so a cursor cannot tell whether a record exists, nor where it sorts."""
        ewi = [api.mother(prison_code="EWI", last_name=f"Lewis-{n}") for n in range(3)]
        sdi = api.mother(prison_code="SDI", last_name="Lewis-1b")
        first = api.get("ewi_worker", "/v1/mothers?limit=1").json()
        assert first["items"][0]["id"] == ewi[0]["id"]
        answers = []
        for cursor in (
            encode_cursor((uuid.uuid4(),)),  # no one
            encode_cursor((sdi["id"],)),  # someone this worker may not see
            encode_cursor((ewi[0]["id"], "Lewis-0")),  # a doctored shape
            first["next_cursor"][:-2] + "AA",  # altered bytes
        ):
            response = api.get("ewi_worker", f"/v1/mothers?limit=1&cursor={cursor}")
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == "cursor"
            answers.append(response.json()["detail"])
        assert answers[0] == answers[1]
        # She is transferred between two pages: her cursor no longer places a page of EWI's.
        mother = api.get("admin", f"/v1/mothers/{ewi[0]['id']}")
        moved = api.patch(
            "admin", f"/v1/mothers/{ewi[0]['id']}", {"prison_code": "SDI"}, mother.headers["ETag"]
        )
        assert moved.status_code == 200, moved.text
        after_move = api.get("ewi_worker", f"/v1/mothers?limit=1&cursor={first['next_cursor']}")
        assert after_move.status_code == 422
        assert after_move.json()["detail"] == answers[0]
        # The row a cursor names is found as the list finds it: with the list's own filters.
        admin_next = api.get("admin", f"/v1/mothers?limit=1&cursor={first['next_cursor']}")
        assert [m["id"] for m in admin_next.json()["items"]] == [ewi[1]["id"]]
        filtered = api.get("admin", f"/v1/mothers?prison_code=EWI&cursor={first['next_cursor']}")
        assert filtered.status_code == 422
