"""Subject access the HMPPS way: GET /subject-access-request?prn=&crn=&fromDate=&toDate=, as
hmpps-kotlin-lib defines it, answered with her export's content (limited to the dates asked for)
for the estate's subject access service and admins."""

import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.api import CLIENTS, Api
from tests.support.bodies import communication_body
from tests.support.examples import UNRECORDED_PRISON_NUMBER
from tests.support.sql import db_id

URL = "/subject-access-request"


def backdate(api: Api, table: str, record_id: str, moment: str, column: str = "created_at") -> None:
    """Say a row was written at `moment` (UTC, 'YYYY-MM-DD HH:MM:SS')."""
    # asyncpg takes a datetime; SQLite keeps the text as SQLAlchemy writes it.
    utc = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    value: Any = utc if api.database_url.startswith("postgresql") else moment
    statement = f"UPDATE {table} SET {column} = :moment WHERE id = :id"
    api.sql(statement, moment=value, id=db_id(api, record_id))


def last_audit_event(api: Api) -> int:
    """The audit trail is kept from test to test: a test reads what came after this."""
    return api.sql("SELECT coalesce(max(id), 0) FROM audit_event")[0][0]


def her_case(api: Api) -> dict[str, Any]:
    """A mother recorded in March 2024; a child recorded late on 15 June 2025 in UTC (the 16th in
    England, on summer time) with a communication about him on 20 June 2025 and a solicitor
    linked then; and a child placed confidentially, recorded today."""
    mother = api.mother()
    june = api.child(mother["id"], first_name="Rhys")
    today = api.child(mother["id"], first_name="Nia", placement_confidential=True)
    relayed = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/communications",
        communication_body(child_ids=[june["id"]]),
    )
    assert relayed.status_code == 201, relayed.text
    solicitor = api.post(
        "admin", "/v1/practitioners", {"role": "solicitor", "name": "Máire O'Donnell"}
    ).json()
    link = api.post(
        "admin", f"/v1/mothers/{mother['id']}/practitioners", {"practitioner_id": solicitor["id"]}
    ).json()
    backdate(api, "mother", mother["id"], "2024-03-10 12:00:00")
    backdate(api, "child", june["id"], "2025-06-15 23:30:00")
    backdate(api, "communication", relayed.json()["id"], "2025-06-20 09:00:00")
    backdate(api, "practitioner_link", link["id"], "2025-06-20 09:05:00")
    return {
        "mother": mother,
        "june": june,
        "today": today,
        "communication": relayed.json(),
        "solicitor": solicitor,
    }


def ask(api: Api, who: str = "sar_service", **params: str) -> Any:
    return api.client.get(URL, params=params, headers=api.headers(who))


def ids(content: dict[str, Any], table: str) -> set[str]:
    return {row["id"] for row in content["records"][table]}


class TestContent:
    def test_her_content_is_her_export(self, api: Api) -> None:
        case = her_case(api)
        number = case["mother"]["prison_number"]
        export = api.get("admin", f"/v1/subject-access-export?prison_number={number}").json()

        response = ask(api, prn=number)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert set(response.json()) == {"content"}
        content = response.json()["content"]
        unchanged = ("subject", "records", "withheld")
        assert {k: content[k] for k in unchanged} == {k: export[k] for k in unchanged}
        # Her audit trail as the export gave it, and since then, the export itself.
        earlier = len(export["audit_trail"])
        assert content["audit_trail"][:earlier] == export["audit_trail"]
        assert {(e["action"], e["client_name"]) for e in content["audit_trail"][earlier:]} == {
            ("disclose", "admin")
        }

    def test_a_crn_beside_the_prn_changes_nothing(self, api: Api) -> None:
        mother = api.mother()
        with_crn = ask(api, prn=mother["prison_number"], crn="X123456").json()["content"]
        assert with_crn["subject"]["mother_id"] == mother["id"]

    def test_a_prison_number_with_referrals_only(self, api: Api) -> None:
        referral = {
            "received_on": "2026-01-05",
            "prison_code": "EWI",
            "source": "self",
            "prison_number": UNRECORDED_PRISON_NUMBER,
            "first_name": "Siân",
            "last_name": "O'Connor",
            "reason": "She asked for help to keep in touch with her son.",
        }
        made = api.post("admin", "/v1/referrals", referral).json()
        content = ask(api, prn=UNRECORDED_PRISON_NUMBER).json()["content"]
        assert content["subject"] == {"mother_id": None, "prison_number": UNRECORDED_PRISON_NUMBER}
        assert ids(content, "referral") == {made["id"]}

    def test_the_disclosure_is_audited(self, api: Api) -> None:
        case = her_case(api)
        before = last_audit_event(api)
        assert ask(api, prn=case["mother"]["prison_number"]).status_code == 200
        disclosed = api.sql(
            "SELECT resource_type, resource_id FROM audit_event WHERE id > :before "
            "AND client_name = 'sar_service' AND action = 'disclose' AND outcome = 'succeeded'",
            before=before,
        )
        assert sorted((row[0], str(uuid.UUID(str(row[1])))) for row in disclosed) == sorted(
            [
                ("mother", case["mother"]["id"]),
                ("child", case["june"]["id"]),
                ("child", case["today"]["id"]),
            ]
        )


class TestStatuses:
    def test_nothing_held_is_204(self, api: Api) -> None:
        before = last_audit_event(api)
        response = ask(api, prn=UNRECORDED_PRISON_NUMBER)
        assert response.status_code == 204 and response.content == b""
        # The request is in the trail, naming no one.
        rows = api.sql(
            "SELECT action, resource_type, resource_id, outcome FROM audit_event "
            "WHERE id > :before AND client_name = 'sar_service'",
            before=before,
        )
        assert [tuple(row) for row in rows] == [
            ("disclose", "subject_access_request", None, "succeeded")
        ]

    def test_a_prison_number_of_another_shape_holds_nothing(self, api: Api) -> None:
        """The library passes any prn on; none of another shape is ever held."""
        assert ask(api, prn="not-a-number").status_code == 204

    def test_a_crn_alone_is_not_an_identifier_this_service_uses(self, api: Api) -> None:
        api.mother()
        response = ask(api, crn="X123456")
        assert response.status_code == 209 and response.content == b""

    @pytest.mark.parametrize(
        ("params", "detail"),
        [
            ({}, "One of prn or crn must be supplied."),
            ({"prn": "", "crn": " "}, "One of prn or crn must be supplied."),
            ({"fromDate": "2026-01-01"}, "One of prn or crn must be supplied."),
            ({"prn": "A1234BC", "fromDate": "2026-13-01"}, "fromDate must be a date"),
            ({"prn": "A1234BC", "toDate": "20260105"}, "toDate must be a date"),
            ({"prn": "A1234BC", "toDate": "2026-W01-1"}, "toDate must be a date"),
            ({"prn": "A1234BC", "toDate": "yesterday"}, "toDate must be a date"),
            ({"crn": "X123456", "fromDate": "1/1/2026"}, "fromDate must be a date"),
        ],
    )
    def test_bad_requests_are_400(self, api: Api, params: dict[str, str], detail: str) -> None:
        before = last_audit_event(api)
        response = ask(api, **params)
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"].startswith(detail)
        attempted = api.sql(
            "SELECT action, resource_type, outcome FROM audit_event WHERE id > :before",
            before=before,
        )
        assert [tuple(row) for row in attempted] == [
            ("disclose", "subject_access_request", "invalid")
        ]

    def test_the_subject_access_service_calls_the_subject_access_routes_only(
        self, api: Api
    ) -> None:
        mother = api.mother()
        assert api.get("sar_service", f"/v1/mothers/{mother['id']}").status_code == 403
        assert api.get("sar_service", "/v1/reference/prisons").status_code == 403
        assert ask(api, prn=mother["prison_number"]).status_code == 200
        for who in set(CLIENTS) - {"admin", "sar_service"}:
            assert ask(api, who, prn=mother["prison_number"]).status_code == 403, who
        assert ask(api, "admin", prn=mother["prison_number"]).status_code == 200


class TestDates:
    """Each record by when it was recorded, in England's days, both ends included; the audit
    trail by when each event occurred; the directory entries the records kept name."""

    def test_a_summer_week(self, api: Api) -> None:
        case = her_case(api)
        number = case["mother"]["prison_number"]
        content = ask(api, prn=number, fromDate="2025-06-16", toDate="2025-06-22").json()["content"]
        assert ids(content, "mother") == set()
        assert ids(content, "child") == {case["june"]["id"]}  # 00:30 on the 16th in England
        assert ids(content, "communication") == {case["communication"]["id"]}
        # A part of a record goes with it: the communication's child.
        assert [row["child_id"] for row in content["records"]["communication_child"]] == [
            case["june"]["id"]
        ]
        assert len(content["records"]["practitioner_link"]) == 1
        assert ids(content, "practitioner") == {case["solicitor"]["id"]}
        assert content["audit_trail"] == []  # all of it is from today
        assert content["withheld"] == []  # the confidential child was recorded today
        assert content["subject"] == {"mother_id": case["mother"]["id"], "prison_number": number}

    def test_to_a_day_ends_with_that_day_in_england(self, api: Api) -> None:
        case = her_case(api)
        number = case["mother"]["prison_number"]
        content = ask(api, prn=number, toDate="2025-06-15").json()["content"]
        assert ids(content, "mother") == {case["mother"]["id"]}
        assert ids(content, "child") == set()
        assert content["records"]["communication_child"] == []
        assert ids(content, "practitioner") == set()  # linked later

    def test_from_today(self, api: Api) -> None:
        case = her_case(api)
        today = datetime.now(ZoneInfo("Europe/London")).date().isoformat()
        content = ask(api, prn=case["mother"]["prison_number"], fromDate=today).json()["content"]
        assert ids(content, "mother") == set()
        assert ids(content, "child") == {case["today"]["id"]}
        # Her confidential child's placement, in the record and in its history, both of today.
        withheld = {(w["table"], w["record_id"]) for w in content["withheld"]}
        history = {row["id"] for row in content["records"]["child_history"]}
        assert {table for table, _ in withheld} == {"child", "child_history"}
        assert ("child", case["today"]["id"]) in withheld
        assert {record for table, record in withheld if table == "child_history"} <= history
        assert {e["resource_id"] for e in content["audit_trail"]} >= {case["mother"]["id"]}

    def test_to_the_last_day_there_is(self, api: Api) -> None:
        """The widest window a client can ask for: everything, not a 500."""
        case = her_case(api)
        number = case["mother"]["prison_number"]
        whole = ask(api, prn=number).json()["content"]["records"]
        widest = ask(api, prn=number, fromDate="0001-01-01", toDate="9999-12-31")
        assert widest.status_code == 200, widest.text
        assert ids(widest.json()["content"], "child") == ids({"records": whole}, "child")

    def test_nothing_in_the_dates_is_204(self, api: Api) -> None:
        case = her_case(api)
        number = case["mother"]["prison_number"]
        response = ask(api, prn=number, fromDate="2020-01-01", toDate="2020-12-31")
        assert response.status_code == 204
        # Nor a window that ends before it starts, as the library's services answer it.
        assert ask(api, prn=number, fromDate="2025-06-22", toDate="2025-06-16").status_code == 204
        # Nothing of hers was disclosed.
        assert not api.sql(
            "SELECT 1 FROM audit_event WHERE client_name = 'sar_service' AND subject_id = :id",
            id=db_id(api, case["mother"]["id"]),
        )
