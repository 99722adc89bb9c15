"""Court hearings and proceedings: notice, attendance, outcomes, amendments, the 26 weeks."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tac_api.audit import service as audit_service
from tac_api.cli import app as cli
from tac_api.config import Settings, get_settings
from tac_api.demo import load_demo_data
from tac_api.main import create_app
from tests.support import world
from tests.support.api import Api
from tests.support.audit import audit_fails, failing_app, trail
from tests.support.bodies import TODAY
from tests.support.sql import count, counting, db_id, statements

NOW = datetime.now(UTC).replace(microsecond=0)
HEARINGS = "/v1/court-hearings"
PROCEEDINGS = "/v1/proceedings"


def at(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def hearing_body(mother_id: str, child_ids: list[str], **fields: Any) -> dict[str, Any]:
    body = {
        "mother_id": mother_id,
        "child_ids": child_ids,
        "court_name": "Bristol Civil and Family Justice Centre",
        "court_code": "BRS",
        "hearing_type": "case_management",
        "starts_at": at(timedelta(days=10)),
        "notified_at": at(timedelta(days=-1)),
    }
    body.update(fields)
    return body


def la_hearing_body(mother_id: str, child_ids: list[str], **fields: Any) -> dict[str, Any]:
    """A local authority's hearing: it does not say when her side learnt of it."""
    body = hearing_body(mother_id, child_ids, **fields)
    del body["notified_at"]
    return body


def proceedings_body(mother_id: str, child_ids: list[str], **fields: Any) -> dict[str, Any]:
    body = {
        "mother_id": mother_id,
        "child_ids": child_ids,
        "court_name": "Gloucester Family Court",
        "case_number": "BS26C00123",
        "issued_on": str(TODAY - timedelta(days=40)),
    }
    body.update(fields)
    return body


def etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'


COURT_TABLES = (
    "court_hearing",
    "court_hearing_child",
    "court_hearing_amendment",
    "proceedings",
    "proceedings_child",
    "proceedings_extension",
)


def nothing_written(api: Api) -> bool:
    tables = ("court_hearing", "court_hearing_child", "court_hearing_amendment")
    return all(count(api, table) == 0 for table in tables)


@pytest.fixture
def family(api: Api) -> dict[str, Any]:
    """An Eastwood Park mother with a Bristol child and a Surrey child; a Send mother with a
    Bristol child."""
    ours = world.family(api)
    theirs = world.family(
        api, {"child": world.child("Élodie")}, prison_code="SDI", first_name="Zoë"
    )
    return {
        **world.ids(ours),
        "sdi_mother": theirs["mother"]["id"],
        "sdi_child": theirs["child"]["id"],
    }


def record(api: Api, who: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(who, HEARINGS, body)
    assert response.status_code == 201, response.text
    return response.json()


def put(api: Api, who: str, url: str, body: dict, if_match: str | None) -> Any:
    headers = api.headers(who, **({"If-Match": if_match} if if_match else {}))
    return api.client.put(url, json=body, headers=headers)


def past_hearing(api: Api, family: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = hearing_body(
        family["mother"],
        [family["bristol"]],
        starts_at=at(timedelta(days=-2)),
        notified_at=at(timedelta(days=-20)),
        attendance_mode="prison_video_link",
    )
    return record(api, "ewi_worker", body | fields)


class TestRecordAHearing:
    def test_the_prison_side_records_a_hearing(self, api: Api, family: dict) -> None:
        body = hearing_body(
            family["mother"],
            [family["surrey"], family["bristol"]],
            hearing_type="issues_resolution",
            attendance_mode="prison_video_link",
            social_worker_attends=True,
        )
        response = api.post("ewi_worker", HEARINGS, body)
        assert response.status_code == 201, response.text
        hearing = response.json()
        assert response.headers["Location"] == f"{HEARINGS}/{hearing['id']}"
        assert response.headers["ETag"] == '"1"'
        assert hearing["mother_id"] == family["mother"]
        assert sorted(hearing["child_ids"]) == sorted([family["bristol"], family["surrey"]])
        assert hearing["hearing_type"] == "issues_resolution"
        assert hearing["attendance_mode"] == "prison_video_link"
        assert hearing["social_worker_attends"] is True
        assert hearing["notice_days"] == 11 and hearing["late_notice"] is False
        assert hearing["outcome"] is None and hearing["proceedings_id"] is None
        assert api.get("ewi_worker", f"{HEARINGS}/{hearing['id']}").json() == hearing

    def test_notified_now_when_not_said(self, api: Api, family: dict) -> None:
        body = hearing_body(family["mother"], [family["bristol"]])
        del body["notified_at"]
        body["starts_at"] = at(timedelta(days=3, hours=2))
        before = datetime.now(UTC) - timedelta(seconds=1)
        hearing = record(api, "ewi_worker", body)
        notified = datetime.fromisoformat(hearing["notified_at"])
        assert before <= notified <= datetime.now(UTC)
        assert hearing["notice_days"] == 3 and hearing["late_notice"] is True

    @pytest.mark.parametrize(
        ("notice", "days", "late"),
        [
            (timedelta(days=7), 7, False),
            (timedelta(days=6, hours=23), 6, True),  # whole days: 6 days 23 hours is 6
            (timedelta(hours=5), 0, True),
            (timedelta(days=-3), 0, True),  # learnt only after the hearing
        ],
    )
    def test_notice_days_and_late_notice(
        self, api: Api, family: dict, notice: timedelta, days: int, late: bool
    ) -> None:
        starts = timedelta(days=-5)
        body = hearing_body(
            family["mother"],
            [family["bristol"]],
            starts_at=at(starts),
            notified_at=at(starts - notice),
        )
        hearing = record(api, "ewi_worker", body)
        assert (hearing["notice_days"], hearing["late_notice"]) == (days, late)

    def test_the_late_notice_threshold_is_a_setting(
        self, api: Api, family: dict, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        hearing = record(
            api,
            "ewi_worker",
            hearing_body(family["mother"], [family["bristol"]], starts_at=at(timedelta(days=4))),
        )
        assert hearing["notice_days"] == 5 and hearing["late_notice"] is True
        monkeypatch.setenv("TAC_LATE_NOTICE_DAYS", "3")
        settings = Settings(database_url=api.database_url, rate_limit_per_minute=0)
        assert settings.late_notice_days == 3
        with TestClient(create_app(settings)) as client:
            url = f"{HEARINGS}/{hearing['id']}"
            again = client.get(url, headers=api.headers("ewi_worker")).json()
        assert again["notice_days"] == 5 and again["late_notice"] is False

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"child_ids": []}, "child_ids"),
            ({"child_ids": ["sdi_child"]}, "child_ids"),  # another mother's child
            ({"child_ids": ["00000000-0000-4000-8000-000000000000"]}, "child_ids"),
            ({"child_ids": ["bristol", "bristol"]}, "child_ids"),
            ({"hearing_type": "sentencing"}, "hearing_type"),
            ({"attendance_mode": "by_pigeon"}, "attendance_mode"),
            ({"notified_at": "future"}, "notified_at"),
            ({"starts_at": "far"}, "starts_at"),
            ({"starts_at": 1767225600}, "starts_at"),
            ({"starts_at": "1999-12-31T10:00:00Z"}, "starts_at"),
            ({"court_name": " "}, "court_name"),
            ({"court_code": "X" * 17}, "court_code"),
            ({"mother_id": "sdi_mother"}, "mother_id"),  # not in her prison: not visible
            ({"notice_days": 30}, "notice_days"),
            ({"late_notice": False}, "late_notice"),
            ({"id": "6f1c3bc4-3a3b-4b0e-9a53-1f5b1f1e2b10"}, "id"),
            ({"version": 3}, "version"),
            ({"outcome": {"attended": True}}, "outcome"),
            ({"proceedings_id": "00000000-0000-4000-8000-000000000000"}, "proceedings_id"),
        ],
    )
    def test_bad_input_is_refused_and_writes_nothing(
        self, api: Api, family: dict, fields: dict, field: str
    ) -> None:
        resolved: dict[str, Any] = {}
        for key, value in fields.items():
            if key == "child_ids":
                value = [family.get(v, v) for v in value]
            elif value == "future":
                value = at(timedelta(hours=1))
            elif value == "far":
                value = at(timedelta(days=3 * 365))
            elif isinstance(value, str):
                value = family.get(value, value)
            resolved[key] = value
        body = hearing_body(family["mother"], [family["bristol"]]) | resolved
        response = api.post("ewi_worker", HEARINGS, body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]]
        assert nothing_written(api)

    def test_proceedings_must_be_hers(self, api: Api, family: dict) -> None:
        theirs = api.post(
            "admin", PROCEEDINGS, proceedings_body(family["sdi_mother"], [family["sdi_child"]])
        ).json()
        body = hearing_body(family["mother"], [family["bristol"]], proceedings_id=theirs["id"])
        assert api.post("admin", HEARINGS, body).status_code == 422
        ours = api.post(
            "admin", PROCEEDINGS, proceedings_body(family["mother"], [family["bristol"]])
        ).json()
        body["proceedings_id"] = ours["id"]
        assert record(api, "ewi_worker", body)["proceedings_id"] == ours["id"]


class TestLocalAuthorityRecords:
    def test_a_local_authority_records_a_hearing_for_its_own_children(
        self, api: Api, family: dict
    ) -> None:
        hearing = record(api, "bristol", la_hearing_body(family["mother"], [family["bristol"]]))
        assert hearing["attendance_mode"] is None and hearing["social_worker_attends"] is False
        # That is how the prison side hears early.
        seen = api.get("ewi_worker", HEARINGS).json()["items"]
        assert [h["id"] for h in seen] == [hearing["id"]]

    @pytest.mark.parametrize(
        "fields",
        [
            {"attendance_mode": "prison_video_link"},
            {"attendance_mode": None},
            {"social_worker_attends": False},
        ],
    )
    def test_how_she_attends_is_the_prison_sides_to_arrange(
        self, api: Api, family: dict, fields: dict
    ) -> None:
        body = la_hearing_body(family["mother"], [family["bristol"]], **fields)
        response = api.post("bristol_system", HEARINGS, body)
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == list(fields)
        assert nothing_written(api)

    def test_only_for_its_own_children(self, api: Api, family: dict) -> None:
        body = la_hearing_body(family["mother"], [family["bristol"], family["surrey"]])
        response = api.post("bristol", HEARINGS, body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "child_ids"
        # Surrey has no child of the Send mother: she is not visible to it at all.
        other = la_hearing_body(family["sdi_mother"], [family["sdi_child"]])
        assert api.post("surrey", HEARINGS, other).json()["errors"][0]["field"] == "mother_id"
        assert nothing_written(api)

    def test_another_authoritys_child_of_hers_reads_as_not_hers(
        self, api: Api, family: dict
    ) -> None:
        """Surrey's child of hers and a child of another mother get the same answer: Bristol
        does not learn from it which children she has elsewhere. (The one children check
        names a child by its place in the list: first here, in each request.)"""
        messages = []
        for child in (family["surrey"], family["sdi_child"]):
            body = la_hearing_body(family["mother"], [child, family["bristol"]])
            response = api.post("bristol", HEARINGS, body)
            assert response.status_code == 422
            [error] = response.json()["errors"]
            messages.append(error["message"].replace(child, "<child>"))
            hearing = record(api, "ewi_worker", hearing_body(family["mother"], [family["bristol"]]))
            url = f"{HEARINGS}/{hearing['id']}"
            changed = api.patch("bristol", url, {"child_ids": [child]}, etag(hearing))
            assert changed.status_code == 422
            [error] = changed.json()["errors"]
            messages.append(error["message"].replace(child, "<child>"))
            proceedings = proceedings_body(family["mother"], [child])
            refused = api.post("bristol", PROCEEDINGS, proceedings)
            assert refused.status_code == 422
            [error] = refused.json()["errors"]
            messages.append(error["message"].replace(child, "<child>"))
        assert len(set(messages)) == 1, messages
        assert "another authority" not in messages[0]
        assert count(api, "proceedings") == 0

    def test_it_does_not_say_when_her_side_learnt_of_it(self, api: Api, family: dict) -> None:
        """`notified_at` decides late notice, the barrier the evaluation measures the local
        authorities by: for a local authority's hearing it is when it recorded it."""
        body = hearing_body(family["mother"], [family["bristol"]], notified_at=at(timedelta(-9)))
        refused = api.post("bristol", HEARINGS, body)
        assert refused.status_code == 422
        assert [e["field"] for e in refused.json()["errors"]] == ["notified_at"]
        assert nothing_written(api)
        before = datetime.now(UTC) - timedelta(seconds=1)
        hearing = record(api, "bristol", la_hearing_body(family["mother"], [family["bristol"]]))
        assert before <= datetime.fromisoformat(hearing["notified_at"]) <= datetime.now(UTC)
        url = f"{HEARINGS}/{hearing['id']}"
        earlier = {"notified_at": at(timedelta(days=-30))}
        changed = api.patch("bristol_system", url, earlier, etag(hearing))
        assert changed.status_code == 422
        assert [e["field"] for e in changed.json()["errors"]] == ["notified_at"]
        assert api.get("bristol", url).json() == hearing
        # The prison side records an earlier time it knows of.
        known = api.patch("ewi_worker", url, earlier, etag(hearing))
        assert known.status_code == 200 and known.json()["late_notice"] is False

    def test_it_changes_its_hearings_but_not_how_she_attends(self, api: Api, family: dict) -> None:
        hearing = record(api, "bristol", la_hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        refused = api.patch("bristol", url, {"attendance_mode": "remote_platform"}, etag(hearing))
        assert refused.status_code == 422
        moved = api.patch("bristol", url, {"court_code": "BRS2"}, etag(hearing))
        assert moved.status_code == 200, moved.text
        arranged = api.patch(
            "ewi_worker",
            url,
            {"attendance_mode": "remote_platform", "social_worker_attends": True},
            etag(moved.json()),
        )
        assert arranged.status_code == 200
        changes = [a["changes"] for a in api.get("bristol", f"{url}/amendments").json()["items"]]
        assert changes == [
            [{"field": "court_code", "old": "BRS", "new": "BRS2"}],
            [
                {"field": "attendance_mode", "old": None, "new": "remote_platform"},
                {"field": "social_worker_attends", "old": False, "new": True},
            ],
        ]

    def test_a_hearing_about_another_authoritys_child_is_not_its_to_change(
        self, api: Api, family: dict
    ) -> None:
        hearing = record(
            api, "ewi_worker", hearing_body(family["mother"], [family["bristol"], family["surrey"]])
        )
        url = f"{HEARINGS}/{hearing['id']}"
        assert api.get("bristol", url).status_code == 200
        response = api.patch("bristol", url, {"court_name": "Bath Family Court"}, etag(hearing))
        assert response.status_code == 422
        assert api.get("admin", url).json() == hearing
        assert count(api, "court_hearing_amendment") == 0


class TestScope:
    def test_each_reads_what_concerns_it(self, api: Api, family: dict) -> None:
        ours = record(api, "ewi_worker", hearing_body(family["mother"], [family["bristol"]]))
        send = record(api, "sdi_worker", hearing_body(family["sdi_mother"], [family["sdi_child"]]))
        for who, visible in [
            ("admin", {ours["id"], send["id"]}),
            ("ewi_worker", {ours["id"]}),
            ("sdi_worker", {send["id"]}),
            ("bristol", {ours["id"], send["id"]}),
            ("surrey", set()),
        ]:
            listed = api.get(who, HEARINGS).json()["items"]
            assert {h["id"] for h in listed} == visible, who
            for hearing in (ours, send):
                response = api.get(who, f"{HEARINGS}/{hearing['id']}")
                assert response.status_code == (200 if hearing["id"] in visible else 404), who
                amendments = api.get(who, f"{HEARINGS}/{hearing['id']}/amendments")
                assert amendments.status_code == response.status_code

    def test_a_local_authority_sees_only_its_own_children_of_a_shared_record(
        self, api: Api, family: dict
    ) -> None:
        both = sorted([family["bristol"], family["surrey"]])
        hearing = record(api, "ewi_worker", hearing_body(family["mother"], both))
        proceedings = api.post("admin", PROCEEDINGS, proceedings_body(family["mother"], both))
        shared = {
            f"{HEARINGS}/{hearing['id']}": HEARINGS,
            f"{PROCEEDINGS}/{proceedings.json()['id']}": PROCEEDINGS,
        }
        for url, listing in shared.items():
            for who, own in [("bristol", family["bristol"]), ("surrey", family["surrey"])]:
                assert api.get(who, url).json()["child_ids"] == [own], (who, url)
                [item] = api.get(who, listing).json()["items"]
                assert item["child_ids"] == [own], (who, listing)
            for who in ("admin", "ewi_worker"):
                assert sorted(api.get(who, url).json()["child_ids"]) == both

    def test_a_local_authority_cannot_ask_after_another_authoritys_child(
        self, api: Api, family: dict
    ) -> None:
        both = [family["bristol"], family["surrey"]]
        record(api, "ewi_worker", hearing_body(family["mother"], both))
        api.post("admin", PROCEEDINGS, proceedings_body(family["mother"], both))
        for listing in (HEARINGS, PROCEEDINGS):
            for who, child, found in [
                ("bristol", family["bristol"], 1),
                ("bristol", family["surrey"], 0),  # in a record it sees, but not its child
                ("surrey", family["bristol"], 0),
                ("ewi_worker", family["surrey"], 1),
                ("sdi_worker", family["surrey"], 0),
            ]:
                response = api.get(who, listing, params={"child_id": child})
                assert response.status_code == 200
                assert len(response.json()["items"]) == found, (listing, who, child)

    def test_out_of_scope_writes_read_as_not_found(self, api: Api, family: dict) -> None:
        send = record(api, "sdi_worker", hearing_body(family["sdi_mother"], [family["sdi_child"]]))
        url = f"{HEARINGS}/{send['id']}"
        assert api.patch("ewi_worker", url, {"court_code": "X"}, etag(send)).status_code == 404
        assert api.patch("surrey", url, {"court_code": "X"}, etag(send)).status_code == 404
        outcome = {"attended": False, "barrier": "unwell"}
        assert put(api, "ewi_worker", f"{url}/outcome", outcome, etag(send)).status_code == 404
        assert api.get("admin", url).json() == send


class TestWeekAhead:
    def test_filters_and_order(self, api: Api, family: dict) -> None:
        def make(mother: str, child: str, days: float, who: str = "admin") -> str:
            body = hearing_body(mother, [child], starts_at=at(timedelta(days=days)))
            return record(api, who, body)["id"]

        later = make(family["mother"], family["bristol"], 5)
        soon = make(family["mother"], family["surrey"], 1)
        past = make(family["mother"], family["bristol"], -3)
        far = make(family["mother"], family["bristol"], 30)
        send = make(family["sdi_mother"], family["sdi_child"], 2)

        def ids(**params: Any) -> list[str]:
            response = api.get("admin", HEARINGS, params=params)
            assert response.status_code == 200, response.text
            return [h["id"] for h in response.json()["items"]]

        assert ids() == [past, soon, send, later, far]
        week = {"from": at(timedelta(0)), "to": at(timedelta(days=7))}
        assert ids(**week) == [soon, send, later]
        assert ids(**week, prison_code="EWI") == [soon, later]
        assert ids(**week, prison_code="SDI") == [send]
        assert ids(mother_id=family["mother"]) == [past, soon, later, far]
        assert ids(child_id=family["bristol"]) == [past, later, far]
        assert ids(**{"from": str(TODAY + timedelta(days=20))}) == [far]
        items = api.get("bristol", HEARINGS, params=week).json()["items"]
        assert [(h["id"], h["child_ids"]) for h in items] == [
            (send, [family["sdi_child"]]),
            (later, [family["bristol"]]),
        ]
        assert {"notice_days", "late_notice"} <= set(items[0])

    def test_a_listed_hearing_reads_as_its_own_record(self, api: Api, family: dict) -> None:
        """The list shapes its rows itself: each item is what the hearing's own GET answers,
        to each caller (a local authority: its own children only), outcome and all."""
        both = [family["bristol"], family["surrey"]]
        past = past_hearing(api, family, child_ids=both)
        outcome = {"attended": True, "attended_how": "prison_video_link", "order_made": "no_order"}
        answer = put(api, "ewi_worker", f"{HEARINGS}/{past['id']}/outcome", outcome, etag(past))
        assert answer.status_code == 200, answer.text
        record(api, "ewi_worker", hearing_body(family["mother"], both, court_code=None))
        record(api, "admin", hearing_body(family["sdi_mother"], [family["sdi_child"]]))
        for who in ("admin", "ewi_worker", "bristol", "surrey"):
            items = api.get(who, HEARINGS).json()["items"]
            assert items, who
            for item in items:
                assert item == api.get(who, f"{HEARINGS}/{item['id']}").json(), who

    def test_pages_follow_the_time_order(self, api: Api, family: dict) -> None:
        made = [
            record(
                api,
                "admin",
                hearing_body(
                    family["mother"], [family["bristol"]], starts_at=at(timedelta(days=n % 4))
                ),
            )
            for n in range(7)
        ]
        expected = [h["id"] for h in sorted(made, key=lambda h: (h["starts_at"], h["id"]))]
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 3}
        while True:
            page = api.get("ewi_worker", HEARINGS, params=params).json()
            seen += [h["id"] for h in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        assert seen == expected

    @pytest.mark.parametrize(
        "params",
        [
            {"from": "2026-12-01", "to": "2026-11-01"},
            {"from": "yesterday"},
            {"prison_code": "ewi"},
            {"prisoncode": "EWI"},
            {"child_id": "Rhys"},
        ],
    )
    def test_bad_filters_are_refused(self, api: Api, params: dict) -> None:
        response = api.get("admin", HEARINGS, params=params)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"

    def test_a_page_costs_the_same_whatever_its_size(self, api: Api, family: dict) -> None:
        for n in range(12):
            children = [family["bristol"], family["surrey"]][: 1 + n % 2]
            body = hearing_body(family["mother"], children, starts_at=at(timedelta(days=n)))
            record(api, "admin", body)
        with counting(api) as small:
            api.get("ewi_worker", f"{HEARINGS}?limit=2")
        with counting(api) as large:
            response = api.get("ewi_worker", f"{HEARINGS}?limit=12")
        assert len(response.json()["items"]) == 12
        # SQLite: the caller, her rate limit, the page with its children, the audit insert.
        # PostgreSQL: admission, then the page writing its own audit rows. And for the prison
        # side, the page's open flags for review.
        assert len(small) == len(large) == statements(api, sqlite=5, postgres=3), large
        hearings = response.json()["items"]
        assert trail(api, response) == [
            (*WORKER, "court_hearing", h["id"], family["mother"], "succeeded") for h in hearings
        ]
        # The look-ahead row is not audited.
        response = api.get("ewi_worker", f"{HEARINGS}?limit=2")
        assert [r[4] for r in trail(api, response)] == [h["id"] for h in hearings[:2]]


WORKER = ("ewi_worker", "prison_social_worker", "consult")


class TestAmendments:
    def test_a_moved_date_is_kept(self, api: Api, family: dict) -> None:
        hearing = record(api, "ewi_worker", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        new_start = at(timedelta(days=3))
        assert api.patch("ewi_worker", url, {"starts_at": new_start}).status_code == 428
        assert api.patch("ewi_worker", url, {"starts_at": new_start}, '"9"').status_code == 412
        response = api.patch("ewi_worker", url, {"starts_at": new_start}, etag(hearing))
        assert response.status_code == 200, response.text
        moved = response.json()
        assert response.headers["ETag"] == '"2"' and moved["starts_at"] == new_start
        assert moved["notice_days"] == 4 and moved["late_notice"] is True
        [amendment] = api.get("bristol", f"{url}/amendments").json()["items"]
        assert amendment["changes"] == [
            {"field": "starts_at", "old": hearing["starts_at"], "new": new_start}
        ]
        assert amendment["changed_by"]["name"] == "ewi_worker"
        assert amendment["changed_by"]["role"] == "prison_social_worker"
        assert amendment["court_hearing_id"] == hearing["id"]
        client_id = api.sql("SELECT id FROM api_client WHERE name = 'ewi_worker'")[0][0]
        assert amendment["changed_by"]["client_id"].replace("-", "") == str(client_id).replace(
            "-", ""
        )
        amended_at = datetime.fromisoformat(amendment["changed_at"])
        assert abs(amended_at - datetime.now(UTC)) < timedelta(minutes=1)

    def test_children_changed_are_listed_before_and_after(self, api: Api, family: dict) -> None:
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        both = sorted([family["bristol"], family["surrey"]])
        response = api.patch("admin", url, {"child_ids": both}, etag(hearing))
        assert response.status_code == 200 and sorted(response.json()["child_ids"]) == both
        [amendment] = api.get("admin", f"{url}/amendments").json()["items"]
        assert amendment["changes"] == [
            {"field": "child_ids", "old": [family["bristol"]], "new": both}
        ]
        # Surrey now sees it; Bristol may no longer change it.
        assert api.get("surrey", url).status_code == 200

    def test_a_local_authority_sees_only_its_own_children_in_the_history(
        self, api: Api, family: dict
    ) -> None:
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        both = sorted([family["bristol"], family["surrey"]])
        hearing = api.patch("admin", url, {"child_ids": both}, etag(hearing)).json()
        api.patch("admin", url, {"child_ids": [family["surrey"]]}, etag(hearing))

        def child_changes(who: str) -> list[Any]:
            items = api.get(who, f"{url}/amendments").json()["items"]
            return [(c["old"], c["new"]) for a in items for c in a["changes"]]

        assert child_changes("admin") == [
            ([family["bristol"]], both),
            (both, [family["surrey"]]),
        ]
        assert child_changes("surrey") == [([], [family["surrey"]]), ([family["surrey"]],) * 2]
        # No longer Bristol's hearing: not in its scope at all.
        assert api.get("bristol", f"{url}/amendments").status_code == 404

    def test_a_change_to_nothing_is_no_amendment(self, api: Api, family: dict) -> None:
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        same = {"court_code": "BRS", "hearing_type": "case_management"}
        response = api.patch("admin", url, same, etag(hearing))
        assert response.status_code == 200 and response.json() == hearing
        assert count(api, "court_hearing_amendment") == 0

    def test_a_change_to_nothing_keeps_the_version_and_is_a_consultation(
        self, api: Api, family: dict
    ) -> None:
        """No new ETag (a client holding it has not been overtaken), nothing told to the
        change feed, and audited as what it was: the hearing shown, not altered."""
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        events = count(api, "change_event")
        same = {
            "starts_at": hearing["starts_at"],
            "child_ids": hearing["child_ids"],
            "court_name": hearing["court_name"],
        }
        response = api.patch("ewi_worker", url, same, etag(hearing))
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == etag(hearing) and response.json() == hearing
        assert count(api, "change_event") == events
        assert [r[2:5] for r in trail(api, response)] == [
            ("consult", "court_hearing", hearing["id"])
        ]

    @pytest.mark.parametrize(
        "change",
        [
            {"starts_at": None},
            {"child_ids": []},
            {"child_ids": ["sdi_child"]},
            {"notified_at": "future"},
            {"hearing_type": "sentencing"},
            {"mother_id": "sdi_mother"},
            {"notice_days": 9},
            {"version": 5},
        ],
    )
    def test_bad_changes_write_nothing(self, api: Api, family: dict, change: dict) -> None:
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        resolved = {
            key: (
                [family[v] for v in value]
                if isinstance(value, list)
                else at(timedelta(hours=2))
                if value == "future"
                else family.get(value, value)
                if isinstance(value, str)
                else value
            )
            for key, value in change.items()
        }
        response = api.patch("admin", url, resolved, etag(hearing))
        assert response.status_code == 422, response.text
        assert api.get("admin", url).json() == hearing
        assert count(api, "court_hearing_amendment") == 0

    def test_a_change_and_its_amendment_commit_together(
        self, api: Api, family: dict, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        monkeypatch.setattr(audit_service, "write_pending", audit_fails)
        with failing_app(api) as client:
            headers = api.headers("ewi_worker", **{"If-Match": etag(hearing)})
            response = client.patch(url, json={"starts_at": at(timedelta(days=2))}, headers=headers)
        assert response.status_code == 500
        monkeypatch.undo()
        assert api.get("admin", url).json() == hearing
        assert count(api, "court_hearing_amendment") == 0

    def test_amendments_cost_the_same_whatever_their_number(self, api: Api, family: dict) -> None:
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        for n in range(6):
            hearing = api.patch("admin", url, {"court_code": f"C{n}"}, etag(hearing)).json()
        with counting(api) as small:
            api.get("bristol", f"{url}/amendments?limit=1")
        with counting(api) as large:
            response = api.get("bristol", f"{url}/amendments")
        assert len(response.json()["items"]) == 6
        # Token, rate limit, the hearing in scope, the page, one audit insert.
        assert len(small) == len(large) == statements(api, sqlite=5, postgres=4), large

    def test_amendments_page_oldest_first(self, api: Api, family: dict) -> None:
        hearing = record(api, "admin", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        for n in range(5):
            hearing = api.patch("admin", url, {"court_code": f"C{n}"}, etag(hearing)).json()
        seen: list[Any] = []
        params: dict[str, Any] = {"limit": 2}
        while True:
            page = api.get("ewi_worker", f"{url}/amendments", params=params).json()
            seen += [a["changes"][0]["new"] for a in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        assert seen == [f"C{n}" for n in range(5)]


class TestOutcome:
    def test_she_attended_by_video_link(self, api: Api, family: dict) -> None:
        hearing = past_hearing(api, family, hearing_type="interim_care_order")
        url = f"{HEARINGS}/{hearing['id']}/outcome"
        body = {
            "attended": True,
            "attended_how": "prison_video_link",
            "order_made": "interim_care_order",
        }
        assert put(api, "ewi_worker", url, body, None).status_code == 428
        response = put(api, "ewi_worker", url, body, etag(hearing))
        assert response.status_code == 200, response.text
        outcome = response.json()["outcome"]
        assert outcome["attended"] is True and outcome["attended_how"] == "prison_video_link"
        assert outcome["barrier"] is None and outcome["order_made"] == "interim_care_order"
        assert response.headers["ETag"] == '"2"'
        [amendment] = api.get("admin", f"{HEARINGS}/{hearing['id']}/amendments").json()["items"]
        assert amendment["changes"] == [
            {"field": "outcome.attended", "old": None, "new": True},
            {"field": "outcome.attended_how", "old": None, "new": "prison_video_link"},
            {"field": "outcome.order_made", "old": None, "new": "interim_care_order"},
        ]

    def test_she_could_not_attend_and_why(self, api: Api, family: dict) -> None:
        hearing = past_hearing(api, family)
        url = f"{HEARINGS}/{hearing['id']}/outcome"
        first = {"attended": False, "barrier": "platform_incompatible"}
        hearing = put(api, "ewi_worker", url, first, etag(hearing)).json()
        assert hearing["outcome"]["barrier"] == "platform_incompatible"
        corrected = {
            "attended": False,
            "barrier": "other",
            "barrier_detail": "The court's link was sent to the wrong prison.",
            "order_made": "no_order",
        }
        response = put(api, "ewi_worker", url, corrected, etag(hearing))
        assert response.status_code == 200
        amendments = api.get("admin", f"{HEARINGS}/{hearing['id']}/amendments").json()["items"]
        assert amendments[-1]["changes"] == [
            {"field": "outcome.barrier", "old": "platform_incompatible", "new": "other"},
            {
                "field": "outcome.barrier_detail",
                "old": None,
                "new": "The court's link was sent to the wrong prison.",
            },
            {"field": "outcome.order_made", "old": None, "new": "no_order"},
        ]

    def test_the_same_outcome_again_changes_nothing(self, api: Api, family: dict) -> None:
        hearing = past_hearing(api, family)
        url = f"{HEARINGS}/{hearing['id']}/outcome"
        body = {"attended": False, "barrier": "unwell"}
        hearing = put(api, "ewi_worker", url, body, etag(hearing)).json()
        events = count(api, "change_event")
        again = put(api, "ewi_worker", url, body, etag(hearing))
        assert again.status_code == 200, again.text
        assert again.headers["ETag"] == etag(hearing) and again.json() == hearing
        assert count(api, "court_hearing_amendment") == 1
        assert count(api, "change_event") == events
        assert [r[2:5] for r in trail(api, again)] == [("consult", "court_hearing", hearing["id"])]

    def test_not_before_the_hearing(self, api: Api, family: dict) -> None:
        hearing = record(api, "ewi_worker", hearing_body(family["mother"], [family["bristol"]]))
        url = f"{HEARINGS}/{hearing['id']}"
        body = {"attended": False, "barrier": "late_notice"}
        response = put(api, "ewi_worker", f"{url}/outcome", body, etag(hearing))
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"] == [
            {
                "location": "body",
                "field": "outcome",
                "message": "cannot be recorded before the hearing starts",
            }
        ]
        assert api.get("admin", url).json() == hearing
        assert count(api, "court_hearing_amendment") == 0

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"attended": True}, "attended_how"),
            ({"attended": True, "attended_how": "not_attending"}, "attended_how"),
            ({"attended": True, "attended_how": "remote_platform", "barrier": "unwell"}, "barrier"),
            ({"attended": False}, "barrier"),
            (
                {"attended": False, "attended_how": "remote_platform", "barrier": "unwell"},
                "attended_how",
            ),
            ({"attended": False, "barrier": "other"}, "barrier_detail"),
            ({"attended": False, "barrier": "stuck_in_traffic"}, "barrier"),
            ({"attended": False, "barrier": "unwell", "order_made": "other"}, "order_detail"),
            ({"attended": False, "barrier": "unwell", "order_made": "adoption"}, "order_made"),
            ({"attended": False, "barrier": "unwell", "order_detail": "x"}, "order_detail"),
            ({"barrier": "unwell"}, "attended"),
            ({"attended": False, "barrier": "unwell", "recorded_at": "2026-01-01"}, "recorded_at"),
        ],
    )
    def test_bad_outcomes_write_nothing(
        self, api: Api, family: dict, body: dict, field: str
    ) -> None:
        hearing = past_hearing(api, family)
        url = f"{HEARINGS}/{hearing['id']}"
        response = put(api, "admin", f"{url}/outcome", body, etag(hearing))
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert api.get("admin", url).json() == hearing
        assert count(api, "court_hearing_amendment") == 0

    def test_a_hearing_with_an_outcome_does_not_move_into_the_future(
        self, api: Api, family: dict
    ) -> None:
        hearing = past_hearing(api, family)
        url = f"{HEARINGS}/{hearing['id']}"
        body = {"attended": False, "barrier": "no_video_link_slot"}
        hearing = put(api, "admin", f"{url}/outcome", body, etag(hearing)).json()
        later = at(timedelta(days=14))
        response = api.patch("admin", url, {"starts_at": later}, etag(hearing))
        assert response.status_code == 422
        earlier = at(timedelta(days=-3))
        assert api.patch("admin", url, {"starts_at": earlier}, etag(hearing)).status_code == 200

    @pytest.mark.parametrize("who", ["bristol", "bristol_system"])
    def test_the_outcome_is_the_prison_sides_record(self, api: Api, family: dict, who: str) -> None:
        """The prison social worker arranges how she attends: whether she did, and what
        stopped her, are the prison side's to record, even for the authority's own hearing."""
        hearing = past_hearing(api, family)
        body = {"attended": False, "barrier": "mother_declined"}
        url = f"{HEARINGS}/{hearing['id']}/outcome"
        refused = put(api, who, url, body, etag(hearing))
        assert refused.status_code == 403
        assert api.get("admin", f"{HEARINGS}/{hearing['id']}").json() == hearing
        assert count(api, "court_hearing_amendment") == 0
        assert put(api, "ewi_worker", url, body, etag(hearing)).status_code == 200


class TestProceedings:
    def test_a_change_to_nothing_keeps_the_version(self, api: Api, family: dict) -> None:
        proceedings = api.post(
            "ewi_worker", PROCEEDINGS, proceedings_body(family["mother"], [family["bristol"]])
        ).json()
        url = f"{PROCEEDINGS}/{proceedings['id']}"
        events = count(api, "change_event")
        same = {
            "court_name": proceedings["court_name"],
            "issued_on": proceedings["issued_on"],
            "child_ids": proceedings["child_ids"],
        }
        response = api.patch("ewi_worker", url, same, etag(proceedings))
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == etag(proceedings) and response.json() == proceedings
        assert count(api, "change_event") == events
        assert [r[2:5] for r in trail(api, response)] == [
            ("consult", "proceedings", proceedings["id"])
        ]
        # Its children alone changing is a change: a new ETag.
        both = {"child_ids": [family["bristol"], family["surrey"]]}
        moved = api.patch("ewi_worker", url, both, etag(proceedings))
        assert moved.status_code == 200 and moved.headers["ETag"] == '"2"'
        assert [r[2:5] for r in trail(api, moved)] == [("alter", "proceedings", proceedings["id"])]

    def test_the_twenty_six_weeks_and_their_extensions(self, api: Api, family: dict) -> None:
        issued = TODAY - timedelta(days=200)
        body = proceedings_body(family["mother"], [family["bristol"]], issued_on=str(issued))
        response = api.post("bristol", PROCEEDINGS, body)
        assert response.status_code == 201, response.text
        proceedings = response.json()
        url = f"{PROCEEDINGS}/{proceedings['id']}"
        assert response.headers["Location"] == url and response.headers["ETag"] == '"1"'
        assert proceedings["twenty_six_week_date"] == str(issued + timedelta(weeks=26))
        assert proceedings["extensions"] == [] and proceedings["child_ids"] == [family["bristol"]]

        reason = "Parenting assessment in custody not yet complete."
        extension = {"weeks": 8, "reason": reason}
        # An extension moves the 26-week date: a change to the proceedings, on their ETag.
        assert api.post("ewi_worker", f"{url}/extensions", extension).status_code == 428
        stale = api.post("ewi_worker", f"{url}/extensions", extension, if_match='"9"')
        assert stale.status_code == 412
        assert count(api, "proceedings_extension") == 0
        extended = api.post("ewi_worker", f"{url}/extensions", extension, if_match='"1"')
        assert extended.status_code == 201, extended.text
        assert extended.headers["ETag"] == '"2"'
        granted = str(issued + timedelta(weeks=25))
        again = api.post(
            "bristol",
            f"{url}/extensions",
            {"weeks": 4, "reason": "Expert report delayed.", "granted_on": granted},
            if_match=extended.headers["ETag"],
        ).json()
        assert again["twenty_six_week_date"] == str(issued + timedelta(weeks=38))
        assert [(e["weeks"], e["reason"]) for e in again["extensions"]] == [
            (8, reason),
            (4, "Expert report delayed."),
        ]
        assert again["extensions"][0]["granted_on"] == str(TODAY)
        assert api.get("surrey", url).status_code == 404
        assert api.get("ewi_worker", url).json() == again

    @pytest.mark.parametrize(
        "body",
        [
            {"weeks": 4},
            {"weeks": 0, "reason": "x"},
            {"weeks": 9, "reason": "More than the eight weeks an extension may add."},
            {"weeks": 2, "reason": " "},
            {"weeks": 2, "reason": "x", "granted_on": "future"},
            {"weeks": 2, "reason": "x", "granted_on": "before_issue"},
        ],
    )
    def test_bad_extensions_write_nothing(self, api: Api, family: dict, body: dict) -> None:
        issued = TODAY - timedelta(days=100)
        proceedings = api.post(
            "admin",
            PROCEEDINGS,
            proceedings_body(family["mother"], [family["bristol"]], issued_on=str(issued)),
        ).json()
        dates = {"future": TODAY + timedelta(days=1), "before_issue": issued - timedelta(days=1)}
        if "granted_on" in body:
            body = {**body, "granted_on": str(dates[body["granted_on"]])}
        url = f"{PROCEEDINGS}/{proceedings['id']}"
        response = api.post("admin", f"{url}/extensions", body, if_match='"1"')
        assert response.status_code == 422, response.text
        assert count(api, "proceedings_extension") == 0
        assert api.get("admin", url).json() == proceedings

    @pytest.mark.parametrize(
        ("fields", "field", "who"),
        [
            ({"issued_on": "tomorrow"}, "issued_on", "admin"),
            ({"child_ids": ["sdi_child"]}, "child_ids", "admin"),
            ({"child_ids": ["surrey"]}, "child_ids", "bristol"),
            ({"mother_id": "sdi_mother"}, "mother_id", "ewi_worker"),
            ({"twenty_six_week_date": "2027-01-01"}, "twenty_six_week_date", "admin"),
            ({"extensions": []}, "extensions", "admin"),
        ],
    )
    def test_bad_proceedings_write_nothing(
        self, api: Api, family: dict, fields: dict, field: str, who: str
    ) -> None:
        resolved = {
            key: [family[v] for v in value]
            if isinstance(value, list) and value
            else str(TODAY + timedelta(days=1))
            if value == "tomorrow"
            else family.get(value, value)
            if isinstance(value, str)
            else value
            for key, value in fields.items()
        }
        body = proceedings_body(family["mother"], [family["bristol"]]) | resolved
        response = api.post(who, PROCEEDINGS, body)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert count(api, "proceedings") == count(api, "proceedings_child") == 0

    def test_change_them_with_if_match(self, api: Api, family: dict) -> None:
        issued = TODAY - timedelta(days=100)
        proceedings = api.post(
            "ewi_worker",
            PROCEEDINGS,
            proceedings_body(family["mother"], [family["bristol"]], issued_on=str(issued)),
        ).json()
        url = f"{PROCEEDINGS}/{proceedings['id']}"
        api.post("admin", f"{url}/extensions", {"weeks": 2, "reason": "Expert report."}, '"1"')
        assert api.patch("admin", url, {"case_number": "BS26C00999"}).status_code == 428
        # Issued later than first recorded (the day the extension was granted: still allowed).
        response = api.patch("admin", url, {"issued_on": str(TODAY)}, '"2"')
        assert response.status_code == 200, response.text
        assert response.json()["twenty_six_week_date"] == str(TODAY + timedelta(weeks=28))
        both = {"child_ids": [family["bristol"], family["surrey"]]}
        assert api.patch("bristol", url, both, '"3"').status_code == 422
        changed = api.patch("ewi_worker", url, both, '"3"')
        assert changed.status_code == 200
        assert sorted(changed.json()["child_ids"]) == sorted(both["child_ids"])
        # Now it is also Surrey's: Bristol can read it but not change it.
        assert api.get("surrey", url).status_code == 200
        refused = api.patch("bristol", url, {"case_number": "X1"}, '"4"')
        assert refused.status_code == 422

    def test_issue_date_not_after_an_extension(self, api: Api, family: dict) -> None:
        issued = TODAY - timedelta(days=100)
        proceedings = api.post(
            "admin",
            PROCEEDINGS,
            proceedings_body(family["mother"], [family["bristol"]], issued_on=str(issued)),
        ).json()
        url = f"{PROCEEDINGS}/{proceedings['id']}"
        granted = str(issued + timedelta(days=10))
        extension = {"weeks": 2, "reason": "x", "granted_on": granted}
        api.post("admin", f"{url}/extensions", extension, if_match='"1"')
        moved = {"issued_on": str(issued + timedelta(days=11))}
        assert api.patch("admin", url, moved, '"2"').status_code == 422
        assert api.get("admin", url).json()["issued_on"] == str(issued)

    def test_lists_cost_the_same_whatever_their_size(self, api: Api, family: dict) -> None:
        for n in range(8):
            made = api.post(
                "admin",
                PROCEEDINGS,
                proceedings_body(
                    family["mother"],
                    [family["bristol"], family["surrey"]][: 1 + n % 2],
                    issued_on=str(TODAY - timedelta(days=50 + n)),
                ),
            ).json()
            extensions = f"{PROCEEDINGS}/{made['id']}/extensions"
            api.post("admin", extensions, {"weeks": 1, "reason": "x"}, if_match='"1"')
        api.post(
            "admin", PROCEEDINGS, proceedings_body(family["sdi_mother"], [family["sdi_child"]])
        )
        with counting(api) as small:
            api.get("ewi_worker", f"{PROCEEDINGS}?limit=2")
        with counting(api) as large:
            response = api.get("ewi_worker", f"{PROCEEDINGS}?limit=20")
        items = response.json()["items"]
        assert len(items) == 8 and all(len(p["extensions"]) == 1 for p in items)
        assert [p["issued_on"] for p in items] == sorted(p["issued_on"] for p in items)
        # Token, rate limit, the page, its children, its extensions, one audit insert.
        assert len(small) == len(large) == statements(api, sqlite=6, postgres=4), large

    def test_filters(self, api: Api, family: dict) -> None:
        ours = api.post(
            "admin", PROCEEDINGS, proceedings_body(family["mother"], [family["surrey"]])
        ).json()
        theirs = api.post(
            "admin", PROCEEDINGS, proceedings_body(family["sdi_mother"], [family["sdi_child"]])
        ).json()

        def ids(who: str, **params: Any) -> set[str]:
            return {p["id"] for p in api.get(who, PROCEEDINGS, params=params).json()["items"]}

        assert ids("admin") == {ours["id"], theirs["id"]}
        assert ids("admin", mother_id=family["mother"]) == {ours["id"]}
        assert ids("admin", child_id=family["sdi_child"]) == {theirs["id"]}
        assert ids("bristol") == {theirs["id"]}
        assert ids("surrey") == {ours["id"]}
        assert ids("sdi_worker") == {theirs["id"]}


class TestAudit:
    def test_each_row_names_the_hearing_and_her(self, api: Api, family: dict) -> None:
        # That each route leaves its rows, and a failure its row: tests/contracts.
        mother = family["mother"]
        created = api.post("bristol", HEARINGS, la_hearing_body(mother, [family["bristol"]]))
        hearing = created.json()
        assert trail(api, created) == [
            (
                "bristol",
                "la_practitioner",
                "collect",
                "court_hearing",
                hearing["id"],
                mother,
                "succeeded",
            )
        ]
        url = f"{HEARINGS}/{hearing['id']}"
        changed = api.patch("ewi_worker", url, {"court_code": "GLO"}, etag(hearing))
        assert [r[2:6] for r in trail(api, changed)] == [
            ("alter", "court_hearing", hearing["id"], mother)
        ]
        listed = api.get("ewi_worker", HEARINGS)
        assert [r[2:6] for r in trail(api, listed)] == [
            ("consult", "court_hearing", hearing["id"], mother)
        ]
        history = api.get("ewi_worker", f"{url}/amendments")
        [amendment] = history.json()["items"]
        assert [r[2:6] for r in trail(api, history)] == [
            ("consult", "court_hearing", hearing["id"], mother),
            ("consult", "court_hearing_amendment", amendment["id"], mother),
        ]

        proceedings = api.post("admin", PROCEEDINGS, proceedings_body(mother, [family["bristol"]]))
        pid = proceedings.json()["id"]
        assert [r[2:6] for r in trail(api, proceedings)] == [
            ("collect", "proceedings", pid, mother)
        ]
        extension = api.post(
            "admin", f"{PROCEEDINGS}/{pid}/extensions", {"weeks": 2, "reason": "x"}, '"1"'
        )
        eid = extension.json()["extensions"][0]["id"]
        assert [r[2:6] for r in trail(api, extension)] == [
            ("collect", "proceedings_extension", eid, mother),
            ("alter", "proceedings", pid, mother),
        ]

    def test_one_record_read_writes_its_row_with_its_data(self, api: Api, family: dict) -> None:
        """A hearing with its children is one statement, proceedings three (the record, its
        children, its extensions); on PostgreSQL admission is one and the record's statement
        writes its audit row (README, "Reads in two round trips"), on SQLite each its own."""
        mother, both = family["mother"], [family["bristol"], family["surrey"]]
        hearing = record(api, "admin", hearing_body(mother, both))
        proceedings = api.post("admin", PROCEEDINGS, proceedings_body(mother, both)).json()
        reads = (
            (f"{HEARINGS}/{hearing['id']}", "court_hearing", hearing["id"], 4, 2),
            (f"{PROCEEDINGS}/{proceedings['id']}", "proceedings", proceedings["id"], 6, 4),
        )
        for url, kind, record_id, on_sqlite, on_postgres in reads:
            with counting(api) as sent:
                response = api.get("bristol", url)
            assert response.status_code == 200, response.text
            assert response.headers["ETag"] == '"1"'
            assert response.json()["child_ids"] == [family["bristol"]]  # its own child only
            assert len(sent) == statements(api, sqlite=on_sqlite, postgres=on_postgres), sent
            assert trail(api, response) == [
                ("bristol", "la_practitioner", "consult", kind, record_id, mother, "succeeded")
            ]
            # Out of its scope: 404, and audited as the refusal it is.
            hidden = api.get("sdi_worker", url)
            assert hidden.status_code == 404
            assert [(r[2], r[3], r[4], r[6]) for r in trail(api, hidden)] == [
                ("consult", kind, record_id, "not_found")
            ]

    def test_her_hearings_are_in_her_subject_access_export(self, api: Api, family: dict) -> None:
        hearing = past_hearing(api, family)
        url = f"{HEARINGS}/{hearing['id']}"
        api.patch("admin", url, {"court_code": "GLO"}, etag(hearing))
        api.post("admin", PROCEEDINGS, proceedings_body(family["mother"], [family["bristol"]]))
        export = api.get("admin", f"/v1/mothers/{family['mother']}/subject-access-export").json()
        records = export["records"]
        assert [h["id"] for h in records["court_hearing"]] == [hearing["id"]]
        assert len(records["court_hearing_amendment"]) == 1
        assert len(records["court_hearing_child"]) == len(records["proceedings"]) == 1


def test_demo_data_has_court_work(api: Api) -> None:
    async def load() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await load_demo_data(session, mothers=40, seed=3)

    api.client.portal.call(load)  # type: ignore[union-attr]
    hearings = api.get("admin", f"{HEARINGS}?limit=200").json()["items"]
    proceedings = api.get("admin", f"{PROCEEDINGS}?limit=200").json()["items"]
    assert hearings and proceedings
    assert any(h["late_notice"] for h in hearings) and not all(h["late_notice"] for h in hearings)
    outcomes = [h["outcome"] for h in hearings if h["outcome"]]
    assert any(o["attended"] for o in outcomes) and any(o["barrier"] for o in outcomes)
    assert any(h["starts_at"] > NOW.isoformat() for h in hearings)
    assert any(p["extensions"] for p in proceedings)
    for item in hearings:
        if item["outcome"]:
            assert item["starts_at"] < item["outcome"]["recorded_at"]
    assert all(date.fromisoformat(p["issued_on"]) <= TODAY for p in proceedings)


def test_retention_erases_her_court_work_with_her_case(
    api: Api, family: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    hearing = past_hearing(api, family, child_ids=[family["bristol"], family["surrey"]])
    url = f"{HEARINGS}/{hearing['id']}"
    api.patch("admin", url, {"court_code": "GLO"}, etag(hearing))
    proceedings = api.post(
        "admin", PROCEEDINGS, proceedings_body(family["mother"], [family["bristol"]])
    ).json()
    extensions = f"{PROCEEDINGS}/{proceedings['id']}/extensions"
    api.post("admin", extensions, {"weeks": 2, "reason": "x"}, if_match='"1"')
    kept = record(api, "admin", hearing_body(family["sdi_mother"], [family["sdi_child"]]))
    mother_url = f"/v1/mothers/{family['mother']}"
    assert api.patch("admin", mother_url, {"status": "closed"}, '"1"').status_code == 200
    api.sql(
        "UPDATE mother SET closed_on = :day WHERE id = :id",
        day=TODAY - timedelta(days=3000),
        id=db_id(api, family["mother"]),
    )
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["retention", "run", "--apply"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    left = {table: count(api, table) for table in COURT_TABLES}
    # Only the other mother's hearing, with its one child, is left.
    assert left == {table: int(table in ("court_hearing", "court_hearing_child")) for table in left}
    assert [h["id"] for h in api.get("admin", HEARINGS).json()["items"]] == [kept["id"]]
