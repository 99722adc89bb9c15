"""Transfers: the sending prison keeps a read-only summary of her case as it stood, for
TAC_TRANSFER_SUMMARY_DAYS, read by its own social workers only and audited on every read; her
allocation there ends; the receiving prison gets a handover task listing what is open."""

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from tac_api.cli import app as cli
from tac_api.config import get_settings
from tac_api.transfers.schemas import CaseAsItStood, OpenVisit, WhoSheIs
from tac_api.transfers.service import DETAIL_LIMIT, handover_detail, handover_due
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.sql import db_id

NOW = datetime.now(UTC).replace(microsecond=0)
SUMMARIES = "/v1/transfer-summaries"


def at(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def etag(api: Api, url: str) -> str:
    return api.get("admin", url).headers["ETag"]


def her_case(api: Api) -> dict[str, Any]:
    """A mother in Eastwood Park with two children (Bristol's, Surrey's), an open hearing and a
    vacated one, an open visit and a cancelled one, an open meeting, and a worker there."""
    mother = api.mother(prison_code="EWI", first_name="Siân", last_name="O'Connor")
    rhys = api.child(mother["id"], first_name="Rhys", legal_status="C2")
    nia = api.child(
        mother["id"],
        first_name="Nia",
        date_of_birth="2019-05-06",
        local_authority_code="936",
        legal_status=None,
        placement_type=None,
    )
    hearing = {
        "mother_id": mother["id"],
        "child_ids": [rhys["id"]],
        "court_name": "Bristol Civil and Family Justice Centre",
        "hearing_type": "case_management",
        "starts_at": at(timedelta(days=3)),
        "notified_at": at(timedelta(days=-1)),
    }
    open_hearing = api.post("admin", "/v1/court-hearings", hearing).json()
    vacated = api.post(
        "admin", "/v1/court-hearings", hearing | {"starts_at": at(timedelta(days=20))}
    ).json()
    api.sql(
        "UPDATE court_hearing SET status = 'vacated' WHERE id = :id",
        id=db_id(api, vacated["id"]),
    )
    visit = {"mother_id": mother["id"], "child_ids": [nia["id"]], "visit_type": "video_call"}
    open_visit = api.post("admin", "/v1/contact-visits", visit).json()
    called_off = api.post("admin", "/v1/contact-visits", visit).json()
    cancel = {"status": "cancelled", "reason": "Nia was unwell."}
    url = f"/v1/contact-visits/{called_off['id']}/status"
    assert api.post("admin", url, cancel, if_match='"1"').status_code == 200
    meeting = api.post(
        "admin",
        "/v1/meetings",
        {
            "mother_id": mother["id"],
            "child_ids": [rhys["id"], nia["id"]],
            "meeting_type": "looked_after_child_review",
            "starts_at": at(timedelta(days=10)),
            "platform": "zoom",
        },
    ).json()
    worker = api.post(
        "admin", "/v1/staff", {"prison_code": "EWI", "name": "Eleri Bowen", "role": "advocate"}
    ).json()
    allocation = {"staff_member_id": worker["id"], "allocated_on": str(TODAY - timedelta(days=30))}
    assert api.put("admin", f"/v1/mothers/{mother['id']}/allocation", allocation).is_success
    return {
        "mother": mother,
        "rhys": rhys,
        "nia": nia,
        "hearing": open_hearing,
        "visit": open_visit,
        "meeting": meeting,
        "worker": worker,
    }


def transfer(api: Api, mother_id: str, to: str = "SDI", who: str = "ewi_worker") -> Any:
    url = f"/v1/mothers/{mother_id}"
    moved = api.patch(who, url, {"prison_code": to}, if_match=etag(api, url))
    assert moved.status_code == 200, moved.text
    return moved


def summary_of(api: Api, mother_id: str, who: str = "ewi_worker") -> dict[str, Any]:
    (item,) = api.get(who, SUMMARIES, params={"mother_id": mother_id}).json()["items"]
    return item


@pytest.fixture
def moved(api: Api) -> dict[str, Any]:
    case = her_case(api)
    case["transfer"] = transfer(api, case["mother"]["id"])
    case["summary"] = summary_of(api, case["mother"]["id"])
    return case


def test_the_sending_prison_keeps_her_case_as_it_stood(api: Api, moved: dict[str, Any]) -> None:
    summary = moved["summary"]
    mother = moved["mother"]
    assert summary["mother_id"] == mother["id"]
    assert (summary["from_prison_code"], summary["to_prison_code"]) == ("EWI", "SDI")
    assert summary["transferred_on"] == str(TODAY)
    assert summary["kept_until"] == str(TODAY + timedelta(days=90))
    assert summary["changed_by"]["name"] == "ewi_worker"
    case = summary["case"]
    assert case["mother"] == {
        "first_name": "Siân",
        "last_name": "O'Connor",
        "prison_number": mother["prison_number"],
        "date_of_birth": mother["date_of_birth"],
    }
    assert [
        (c["first_name"], c["local_authority"], c["legal_status"]) for c in case["children"]
    ] == [
        (
            "Rhys",
            {"code": "801", "name": "Bristol, City of"},
            {"code": "C2", "description": "Full care order"},
        ),
        ("Nia", {"code": "936", "name": "Surrey"}, None),
    ]
    # What was open: the hearing still scheduled (not the vacated one), the visit not called
    # off (not the cancelled one), the meeting to come; with the children each concerns.
    hearing, visit, meeting = moved["hearing"], moved["visit"], moved["meeting"]
    assert case["open_hearings"] == [
        {
            "id": hearing["id"],
            "starts_at": hearing["starts_at"],
            "hearing_type": "case_management",
            "court_name": "Bristol Civil and Family Justice Centre",
            "attendance_mode": None,
            "child_ids": [moved["rhys"]["id"]],
        }
    ]
    assert case["open_visits"] == [
        {
            "id": visit["id"],
            "visit_type": "video_call",
            "status": "requested",
            "scheduled_at": None,
            "child_ids": [moved["nia"]["id"]],
        }
    ]
    assert [(m["id"], m["platform"], sorted(m["child_ids"])) for m in case["open_meetings"]] == [
        (meeting["id"], "zoom", sorted([moved["rhys"]["id"], moved["nia"]["id"]]))
    ]
    assert case["worker"] == {
        "staff_member_id": moved["worker"]["id"],
        "name": "Eleri Bowen",
        "role": "advocate",
        "allocated_on": str(TODAY - timedelta(days=30)),
    }


def test_later_changes_do_not_alter_it(api: Api, moved: dict[str, Any]) -> None:
    """Her case goes on in Send: what Eastwood Park keeps is what it was when she left."""
    child_url = f"/v1/children/{moved['rhys']['id']}"
    renamed = api.patch("sdi_worker", child_url, {"first_name": "Rhodri"}, etag(api, child_url))
    assert renamed.status_code == 200, renamed.text
    visit_url = f"/v1/contact-visits/{moved['visit']['id']}/status"
    refused = {"status": "refused", "reason": "Surrey decided against it."}
    assert api.post("sdi_worker", visit_url, refused, if_match='"1"').status_code == 200
    her = f"/v1/mothers/{moved['mother']['id']}"
    assert api.patch("sdi_worker", her, {"last_name": "Evans"}, etag(api, her)).status_code == 200
    again = api.get("ewi_worker", f"{SUMMARIES}/{moved['summary']['id']}")
    assert again.status_code == 200
    assert again.json() == moved["summary"]


def test_only_the_sending_prison_reads_it_until_it_is_kept(api: Api, moved: dict[str, Any]) -> None:
    url = f"{SUMMARIES}/{moved['summary']['id']}"
    assert api.get("ewi_worker", url).status_code == 200
    assert api.get("admin", url).status_code == 200
    # The receiving prison has her case itself, never the summary: not found, nor listed.
    assert api.get("sdi_worker", url).status_code == 404
    assert api.get("sdi_worker", SUMMARIES).json()["items"] == []
    assert api.get("sdi_worker", SUMMARIES, params={"prison_code": "EWI"}).json()["items"] == []
    # Local authorities, governors and auditors: not theirs at all.
    for who in ("bristol", "bristol_system", "surrey", "ewi_governor", "auditor"):
        assert api.get(who, url).status_code == 403, who
        assert api.get(who, SUMMARIES).status_code == 403, who
    # Read-only: no route writes one.
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        response = api.client.request(method, url, json={}, headers=api.headers("ewi_worker"))
        assert response.status_code == 405, method
    # Kept until its last day, inclusive; the day after, not found.
    summary_id = db_id(api, moved["summary"]["id"])
    api.sql("UPDATE transfer_summary SET kept_until = :d WHERE id = :id", d=TODAY, id=summary_id)
    assert api.get("ewi_worker", url).status_code == 200
    yesterday = TODAY - timedelta(days=1)
    api.sql(
        "UPDATE transfer_summary SET kept_until = :d WHERE id = :id", d=yesterday, id=summary_id
    )
    assert api.get("ewi_worker", url).status_code == 404
    assert api.get("admin", url).status_code == 200  # an admin: until retention erases it
    assert api.get("ewi_worker", SUMMARIES).json()["items"] == []


def test_every_read_is_audited(api: Api, moved: dict[str, Any]) -> None:
    """The summary, and each record it shows a copy of: her children, the hearing, visit and
    meeting it lists as open; her as their subject."""
    mother_id, summary_id = moved["mother"]["id"], moved["summary"]["id"]
    who = ("ewi_worker", "prison_social_worker", "consult")
    expected = sorted(
        (*who, kind, moved[name]["id"], mother_id, "succeeded")
        for kind, name in (
            ("transfer_summary", "summary"),
            ("child", "rhys"),
            ("child", "nia"),
            ("court_hearing", "hearing"),
            ("contact_visit", "visit"),
            ("meeting", "meeting"),
        )
    )
    one = api.get("ewi_worker", f"{SUMMARIES}/{summary_id}")
    assert sorted(trail(api, one)) == expected
    listed = api.get("ewi_worker", SUMMARIES, params={"prison_code": "EWI"})
    assert sorted(trail(api, listed)) == expected


def test_the_transfer_is_audited_and_ends_her_allocation_there(
    api: Api, moved: dict[str, Any]
) -> None:
    mother_id = moved["mother"]["id"]
    rows = {(row[2], row[3]) for row in trail(api, moved["transfer"])}
    assert {
        ("alter", "mother"),
        ("collect", "transfer_summary"),
        ("alter", "allocation"),
        ("collect", "task"),
    } <= rows
    allocations = api.get("admin", f"/v1/mothers/{mother_id}/allocations").json()["items"]
    assert [(a["ended_on"], a["end_reason"]) for a in allocations] == [
        (str(TODAY), "She was transferred to SDI.")
    ]
    # On no one's caseload in the prison she left.
    caseloads = api.get("ewi_worker", "/v1/caseloads", params={"prison_code": "EWI"}).json()
    assert all(w["count"] == 0 for p in caseloads["prisons"] for w in p["workers"]), caseloads


def test_the_receiving_prison_gets_a_handover_task_listing_what_is_open(
    api: Api, moved: dict[str, Any]
) -> None:
    rows = api.sql(
        "SELECT mother_id, resource_type, resource_id, title, detail, owner_id, due_on, "
        "done_on, made_by_record FROM task"
    )
    ((mother, kind, record, title, detail, owner, due_on, done_on, made_by),) = rows
    assert str(uuid.UUID(str(mother))) == moved["mother"]["id"]
    assert (kind, str(uuid.UUID(str(record)))) == ("transfer_summary", moved["summary"]["id"])
    assert made_by == "transfer_handover"
    assert "HMP Eastwood Park" in title
    assert owner is None and done_on is None  # the prison's, nobody's yet
    # Within a week, or by the first thing open if sooner: the hearing in three days.
    assert str(due_on)[:10] == str(TODAY + timedelta(days=3))
    for item in ("hearing", "visit", "meeting"):
        assert moved[item]["id"] in detail, item
    assert "Eleri Bowen" in detail
    # What is closed is not listed; nor any child's name.
    assert "Rhys" not in detail and "Nia" not in detail and "cancelled" not in detail


def test_nothing_open_and_no_worker(api: Api) -> None:
    mother = api.mother(prison_code="SDI")
    transfer(api, mother["id"], to="EWI", who="sdi_worker")
    summary = summary_of(api, mother["id"], who="sdi_worker")
    case = summary["case"]
    assert (case["children"], case["open_hearings"], case["worker"]) == ([], [], None)
    ((detail, due_on),) = api.sql("SELECT detail, due_on FROM task")
    assert "Nothing was open" in detail and "allocated to no worker" in detail
    assert str(due_on)[:10] == str(TODAY + timedelta(days=7))


def test_kept_for_the_configured_days(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.client.app.state.settings, "transfer_summary_days", 14)
    mother = api.mother()
    transfer(api, mother["id"])
    assert summary_of(api, mother["id"])["kept_until"] == str(TODAY + timedelta(days=14))


def test_newest_first_a_page_at_a_time(api: Api) -> None:
    made = []
    for days_ago in (40, 10, 25):
        mother = api.mother()
        transfer(api, mother["id"])
        api.sql(
            "UPDATE transfer_summary SET transferred_on = :d WHERE mother_id = :m",
            d=TODAY - timedelta(days=days_ago),
            m=db_id(api, mother["id"]),
        )
        made.append((days_ago, mother["id"]))
    # Another prison's transfers are not Eastwood Park's.
    other = api.mother(prison_code="SDI")
    transfer(api, other["id"], to="EWI", who="sdi_worker")
    seen, cursor = [], None
    while True:
        params = {"prison_code": "EWI", "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = api.get("ewi_worker", SUMMARIES, params=params).json()
        seen += [item["mother_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [mother_id for _, mother_id in sorted(made)]
    assert [i["mother_id"] for i in api.get("sdi_worker", SUMMARIES).json()["items"]] == [
        other["id"]
    ]
    unknown = api.get("ewi_worker", SUMMARIES, params={"colour": "red"})
    assert unknown.status_code == 422


def test_her_subject_access_export_holds_the_summaries_of_her(
    api: Api, moved: dict[str, Any]
) -> None:
    export = api.get("admin", f"/v1/mothers/{moved['mother']['id']}/subject-access-export")
    assert export.status_code == 200, export.text
    (kept,) = export.json()["records"]["transfer_summary"]
    assert kept["id"] == moved["summary"]["id"]
    assert kept["summary"] == moved["summary"]["case"]


@pytest.fixture
def retention(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    get_settings.cache_clear()

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, ["retention", "run", *args])
        assert result.exit_code == 0, result.output
        return result.output

    yield run
    get_settings.cache_clear()


def test_retention_erases_summaries_past_kept_until(
    api: Api, moved: dict[str, Any], retention: Any
) -> None:
    kept = moved["summary"]
    other = api.mother()
    transfer(api, other["id"])
    expired = summary_of(api, other["id"])
    api.sql(
        "UPDATE transfer_summary SET kept_until = :d WHERE id = :id",
        d=TODAY - timedelta(days=1),
        id=db_id(api, expired["id"]),
    )
    dry = retention()
    assert "transfer summaries" in dry and "dry run: 1 would go" in dry
    assert expired["id"] in dry and kept["id"] not in dry
    assert api.get("admin", f"{SUMMARIES}/{expired['id']}").status_code == 200

    applied = retention("--apply")
    assert "erased 1." in applied.split("transfer summaries")[1]
    assert api.get("admin", f"{SUMMARIES}/{expired['id']}").status_code == 404
    assert api.get("ewi_worker", f"{SUMMARIES}/{kept['id']}").status_code == 200
    erased = api.sql(
        "SELECT resource_type, subject_id, client_name FROM audit_event "
        "WHERE action = 'erase' AND resource_id = :id",
        id=db_id(api, expired["id"]),
    )
    assert [(r[0], str(uuid.UUID(str(r[1]))), r[2]) for r in erased] == [
        ("transfer_summary", other["id"], "tac-api retention")
    ]
    # Her case goes on in the receiving prison, handover task and all.
    assert api.get("sdi_worker", f"/v1/mothers/{other['id']}").status_code == 200
    assert api.sql("SELECT count(*) FROM task")[0][0] == 2


def test_a_long_handover_fits_its_task() -> None:
    """A case with very much open still makes a task: the list says how many more it left out."""
    visits = [
        OpenVisit(
            id=uuid.uuid4(),
            visit_type="letter_or_card",
            status="requested",
            scheduled_at=None,
            child_ids=[],
        )
        for _ in range(100)
    ]
    case = CaseAsItStood(
        mother=WhoSheIs(
            first_name="Siân", last_name="O'Connor", prison_number="A1234BC", date_of_birth=None
        ),
        children=[],
        open_hearings=[],
        open_visits=visits,
        open_meetings=[],
        worker=None,
    )
    detail = handover_detail(case, "EWI", "HMP Eastwood Park", TODAY)
    assert len(detail) <= DETAIL_LIMIT
    shown = detail.count("- Contact visit")
    assert 0 < shown < 100 and f"- and {100 - shown} more" in detail
    assert detail.endswith("allocate her to a worker here.")
    assert handover_due(case, TODAY) == TODAY + timedelta(days=7)


def test_her_open_tasks_go_with_her_and_the_handover_lists_them_and_her_flags(
    api: Api,
) -> None:
    """A task owned by the sending prison's staff (who can no longer see it) becomes nobody's,
    the receiving prison's to take on; a done one is left as it was. The handover task lists
    her open tasks and flags for review, by id: never their free text."""
    case = her_case(api)
    mother_id, worker = case["mother"]["id"], case["worker"]["id"]

    def task(title: str, **fields: Any) -> dict[str, Any]:
        body = {"mother_id": mother_id, "title": title, "due_on": str(TODAY), **fields}
        made = api.post("ewi_worker", "/v1/tasks", body)
        assert made.status_code == 201, made.text
        return made.json()

    owned = task("Ring Rhys's school", owner_id=worker)
    nobodys = task("Send the visiting order")
    done = task("Book the video link", owner_id=worker)
    url = f"/v1/tasks/{done['id']}"
    assert api.patch("ewi_worker", url, {"done_on": str(TODAY)}, if_match='"1"').is_success
    flag = api.post(
        "ewi_worker",
        "/v1/flags",
        {"resource_type": "court_hearing", "resource_id": case["hearing"]["id"], "reason": "Odd"},
    ).json()
    moved = transfer(api, mother_id)
    now_owned = api.get("sdi_worker", f"/v1/tasks/{owned['id']}").json()
    assert now_owned["owner_id"] is None and now_owned["version"] == owned["version"] + 1
    assert api.get("sdi_worker", f"/v1/tasks/{nobodys['id']}").json() == nobodys
    assert api.get("sdi_worker", url).json()["owner_id"] == worker  # done: as it was
    assert ("alter", "task", owned["id"]) in [row[2:5] for row in trail(api, moved)]
    ((detail,),) = api.sql("SELECT detail FROM task WHERE made_by_record = 'transfer_handover'")
    for listed in (owned, nobodys, flag):
        assert listed["id"] in detail
    assert done["id"] not in detail
    assert "Rhys" not in detail and "Odd" not in detail


def test_a_transfer_and_its_summary_read_days_in_utc(api: Api) -> None:
    from datetime import date

    mother = api.mother()
    with pytest.MonkeyPatch.context() as patch:
        import time

        zone = "Etc/GMT+12" if datetime.now(UTC).hour < 12 else "Etc/GMT-14"
        patch.setenv("TZ", zone)
        time.tzset()
        try:
            assert date.today() != datetime.now(UTC).date()
            transfer(api, mother["id"])
            summary = summary_of(api, mother["id"])
        finally:
            patch.undo()
            time.tzset()
    today = datetime.now(UTC).date()
    assert summary["transferred_on"] == str(today)
    assert summary["kept_until"] == str(today + timedelta(days=90))
    ((due_on,),) = api.sql("SELECT due_on FROM task")
    assert str(due_on)[:10] == str(today + timedelta(days=7))
