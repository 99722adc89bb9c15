"""The change feed: each change tells the right authorities, of their own children only, with
nothing they could not read themselves; a rolled-back request tells no one; a reader resuming
from its cursor sees every later event once and in order, even while others write."""

import asyncio
import base64
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tac_api.auth.schemas import Caller, Role
from tac_api.changes import service as changes_service
from tac_api.changes.service import emit
from tac_api.hearings.schemas import CourtHearingUpdate
from tac_api.hearings.service import update_hearing
from tac_api.mothers.schemas import MotherUpdate
from tac_api.mothers.service import update_mother
from tests.support import world
from tests.support.api import Api
from tests.support.audit import audit_fails, failing_app
from tests.support.bodies import TODAY
from tests.support.sql import counting, db_id, statements

FEED = "/v1/sync/changes"
NOW = datetime.now(UTC).replace(microsecond=0)


def at(delta: timedelta) -> str:
    return (NOW + delta).isoformat().replace("+00:00", "Z")


def read(api: Api, who: str, **params: Any) -> Any:
    response = api.get(who, FEED, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def events(api: Api, who: str, **params: Any) -> list[dict[str, Any]]:
    """The whole feed, page by page, as a poller reads it."""
    found: list[dict[str, Any]] = []
    while True:
        page = read(api, who, **params)
        found += page["items"]
        if not page["items"]:
            return found
        params["after"] = page["next_cursor"]


def of_type(found: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [event for event in found if event["type"] == event_type]


def admin_feed(api: Api, authority: str) -> list[dict[str, Any]]:
    return events(api, "admin", local_authority=authority)


def etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'


@pytest.fixture
def family(api: Api) -> dict[str, Any]:
    """A mother with two Bristol children and a Surrey one (siblings split across authorities),
    and another mother with a Bristol child (someone else's case)."""
    child = world.child
    ours = world.family(
        api, {"rhys": child("Rhys"), "cerys": child("Cerys"), "dafydd": child("Dafydd", "936")}
    )
    theirs = world.family(api, {"osian": child("Osian")})
    return {**ours, "other": theirs["mother"], "osian": theirs["osian"]}


def ids(family: dict[str, Any], *names: str) -> list[str]:
    return [family[name]["id"] for name in names]


def hearing_body(family: dict[str, Any], *children: str, **fields: Any) -> dict[str, Any]:
    return {
        "mother_id": family["mother"]["id"],
        "child_ids": ids(family, *children),
        "court_name": "Bristol Civil and Family Justice Centre",
        "court_code": "BRS",
        "hearing_type": "case_management",
        "starts_at": at(timedelta(days=10)),
        "notified_at": at(timedelta(days=-1)),
        **fields,
    }


# Who is told, and of which children ------------------------------------------------------


def test_a_hearing_is_told_to_each_authority_of_its_own_children_only(
    api: Api, family: dict[str, Any]
) -> None:
    body = hearing_body(family, "rhys", "cerys", "dafydd", attendance_mode="prison_video_link")
    hearing = api.post("admin", "/v1/court-hearings", body).json()

    bristol, surrey = events(api, "bristol"), events(api, "surrey")
    assert [e["type"] for e in bristol] == [e["type"] for e in surrey] == ["court-hearing.created"]
    (told_bristol,), (told_surrey,) = bristol, surrey
    assert told_bristol["id"] == told_surrey["id"]  # one change, one event id, a row each
    assert sorted(told_bristol["child_ids"]) == sorted(ids(family, "rhys", "cerys"))
    assert told_surrey["child_ids"] == ids(family, "dafydd")
    assert told_bristol["mother_id"] == family["mother"]["id"]
    assert (told_bristol["resource_type"], told_bristol["resource_id"]) == (
        "court_hearing",
        hearing["id"],
    )
    assert told_bristol["data"] == {
        "hearing_type": "case_management",
        "starts_at": body["starts_at"],
        "notified_at": body["notified_at"],
        "court_name": "Bristol Civil and Family Justice Centre",
        "court_code": "BRS",
        "proceedings_id": None,
        "attendance_mode": "prison_video_link",
        "social_worker_attends": False,
    }
    # Nobody else: another authority's feed is empty, and Surrey never hears of Bristol's.
    assert admin_feed(api, "803") == []
    assert family["rhys"]["id"] not in str(surrey)
    # Both feeds are the same rows an admin reads, authority by authority.
    assert admin_feed(api, "801") == bristol


def test_a_hearing_about_one_authoritys_child_is_not_told_to_the_other(
    api: Api, family: dict[str, Any]
) -> None:
    api.post("admin", "/v1/court-hearings", hearing_body(family, "dafydd"))
    assert events(api, "bristol") == []
    assert len(events(api, "surrey")) == 1


def test_hearing_updates_and_outcomes(api: Api, family: dict[str, Any]) -> None:
    past = hearing_body(
        family, "rhys", starts_at=at(timedelta(days=-2)), notified_at=at(timedelta(days=-9))
    )
    hearing = api.post("admin", "/v1/court-hearings", past).json()
    url = f"/v1/court-hearings/{hearing['id']}"
    moved = at(timedelta(days=-1))
    hearing = api.patch("admin", url, {"starts_at": moved}, etag(hearing)).json()
    # Sending what it already is changes nothing, and tells no one.
    api.patch("admin", url, {"court_code": "BRS"}, etag(hearing))
    outcome = {
        "attended": False,
        "barrier": "other",
        "barrier_detail": "The video link room was double-booked.",
        "order_made": "other",
        "order_detail": "A further assessment in custody.",
    }
    headers = api.headers("admin", **{"If-Match": etag(hearing)})
    assert api.client.put(f"{url}/outcome", json=outcome, headers=headers).status_code == 200

    created, updated, recorded = events(api, "bristol")
    assert created["type"] == "court-hearing.created"
    assert updated["type"] == "court-hearing.updated"
    assert updated["data"]["changed"] == ["starts_at"] and updated["data"]["starts_at"] == moved
    assert recorded["type"] == "court-hearing.outcome-recorded"
    assert recorded["data"] == {
        "hearing_type": "case_management",
        "starts_at": moved,
        "attended": False,
        "attended_how": None,
        "barrier": "other",
        "order_made": "other",
        "changed": ["attended", "barrier", "order_made"],
        "recorded_at": recorded["data"]["recorded_at"],
    }
    # The free-text details are the record's to show, not the feed's.
    assert "double-booked" not in str(recorded) and "further assessment" not in str(recorded)


def test_a_child_moved_off_a_hearing_leaves_that_authority_untold(
    api: Api, family: dict[str, Any]
) -> None:
    """Told to the authorities of the children it concerns now: Surrey, whose child it no
    longer concerns, cannot read the hearing any more; and `changed` never names child_ids,
    which would tell Bristol that another authority's children changed."""
    hearing = api.post("admin", "/v1/court-hearings", hearing_body(family, "rhys", "dafydd")).json()
    url = f"/v1/court-hearings/{hearing['id']}"
    api.patch("admin", url, {"child_ids": ids(family, "rhys")}, etag(hearing))
    assert [e["type"] for e in events(api, "surrey")] == ["court-hearing.created"]
    updated = of_type(events(api, "bristol"), "court-hearing.updated")
    assert [e["data"]["changed"] for e in updated] == [[]]


def test_a_hearing_a_local_authority_records_is_in_its_own_feed(
    api: Api, family: dict[str, Any]
) -> None:
    body = hearing_body(family, "rhys")
    del body["notified_at"]
    assert api.post("bristol_system", "/v1/court-hearings", body).status_code == 201
    assert [e["type"] for e in events(api, "bristol")] == ["court-hearing.created"]


def test_meetings(api: Api, family: dict[str, Any]) -> None:
    body = {
        "mother_id": family["mother"]["id"],
        "child_ids": ids(family, "rhys", "dafydd"),
        "meeting_type": "child_protection_conference",
        "starts_at": at(timedelta(days=-1)),
        "notified_at": at(timedelta(days=-3)),
        "platform": "microsoft_teams",
    }
    meeting = api.post("admin", "/v1/meetings", body).json()
    change = {
        "attended": False,
        "barrier": "other",
        "barrier_detail": "The link sent did not open on the prison's laptop.",
        "supported_by": "Eleri Bowen, prison social worker",
    }
    api.patch("admin", f"/v1/meetings/{meeting['id']}", change, etag(meeting))

    for who, children in (("bristol", ["rhys"]), ("surrey", ["dafydd"])):
        created, updated = events(api, who)
        assert (created["type"], updated["type"]) == ("meeting.created", "meeting.updated")
        assert created["child_ids"] == updated["child_ids"] == ids(family, *children)
        assert updated["data"] == {
            "meeting_type": "child_protection_conference",
            "starts_at": body["starts_at"],
            "notified_at": body["notified_at"],
            "platform": "microsoft_teams",
            "prison_can_join": False,
            "invited": True,
            "attended": False,
            "barrier": "other",
            "changed": ["attended", "barrier"],
        }
        assert "laptop" not in str(updated) and "Eleri" not in str(updated)


def test_contact_visits(api: Api, family: dict[str, Any]) -> None:
    """Created, each status change, and the outcome once held; never the escort's name (a
    carer of a confidential placement is named to nobody else), nor reasons or notes."""
    hidden = api.child(
        family["mother"]["id"],
        first_name="Nia",
        local_authority_code="936",
        placement_confidential=True,
    )
    body = {
        "mother_id": family["mother"]["id"],
        "child_ids": [family["rhys"]["id"], hidden["id"]],
        "visit_type": "family_day",
        "escort": {"name": "Eirlys Price", "role": "carer"},
        "scheduled_at": at(timedelta(hours=-3)),
    }
    visit = api.post("admin", "/v1/contact-visits", body).json()
    url = f"/v1/contact-visits/{visit['id']}"
    response = api.get("admin", url)
    for status in ("approved", "scheduled", "held"):
        response = api.post("admin", f"{url}/status", {"status": status}, response.headers["ETag"])
        assert response.status_code == 200, response.text
    visit = response.json()
    notes = {"outcome": "went_ahead_as_planned", "outcome_notes": "Nia read her a story."}
    assert api.patch("admin", url, notes, etag(visit)).status_code == 200

    bristol = events(api, "bristol")
    assert [e["type"] for e in bristol] == [
        "contact-visit.created",
        "contact-visit.status-changed",
        "contact-visit.status-changed",
        "contact-visit.status-changed",
        "contact-visit.outcome-recorded",
    ]
    assert {tuple(e["child_ids"]) for e in bristol} == {(family["rhys"]["id"],)}
    assert [(e["data"]["from_status"], e["data"]["status"]) for e in bristol[1:4]] == [
        ("requested", "approved"),
        ("approved", "scheduled"),
        ("scheduled", "held"),
    ]
    assert bristol[-1]["data"] == {
        "visit_type": "family_day",
        "scheduled_at": body["scheduled_at"],
        "status": "held",
        "outcome": "went_ahead_as_planned",
        "changed": ["outcome"],
    }
    surrey = events(api, "surrey")
    assert {tuple(e["child_ids"]) for e in surrey} == {(hidden["id"],)}
    for who in ("bristol", "surrey"):
        shown = api.get(who, FEED).text
        assert "Eirlys" not in shown and "story" not in shown


def test_a_visit_change_other_than_its_outcome_is_an_update(
    api: Api, family: dict[str, Any]
) -> None:
    body = {
        "mother_id": family["mother"]["id"],
        "child_ids": ids(family, "cerys"),
        "visit_type": "video_call",
    }
    visit = api.post("admin", "/v1/contact-visits", body).json()
    later = at(timedelta(days=5))
    api.patch("admin", f"/v1/contact-visits/{visit['id']}", {"scheduled_at": later}, etag(visit))
    (updated,) = of_type(events(api, "bristol"), "contact-visit.updated")
    assert updated["data"]["changed"] == ["scheduled_at"]
    assert updated["data"]["scheduled_at"] == later


def test_parenting_assessments(api: Api, family: dict[str, Any]) -> None:
    body = {
        "mother_id": family["mother"]["id"],
        "child_ids": ids(family, "rhys", "dafydd"),
        "requested_by": "court",
        "requested_on": "2025-10-01",
        "assessor_name": "Bethan Ap Rhys",
        "model": "parent_assess",
    }
    assessment = api.post("admin", "/v1/parenting-assessments", body).json()
    url = f"/v1/parenting-assessments/{assessment['id']}"
    started = str(TODAY - timedelta(days=3))
    changed = api.patch("admin", url, {"started_on": started}, etag(assessment))
    assert api.delete("admin", url, if_match=changed.headers["ETag"]).status_code == 204

    for who, child in (("bristol", "rhys"), ("surrey", "dafydd")):
        created, updated, deleted = events(api, who)
        assert [created["type"], updated["type"], deleted["type"]] == [
            "parenting-assessment.created",
            "parenting-assessment.updated",
            "parenting-assessment.deleted",
        ]
        assert (
            created["child_ids"]
            == updated["child_ids"]
            == deleted["child_ids"]
            == ids(family, child)
        )
        assert updated["data"] == {
            "requested_by": "court",
            "requested_on": "2025-10-01",
            "requesting_local_authority_code": None,
            "model": "parent_assess",
            "started_on": started,
            "completed_on": None,
            "outcome": None,
            "changed": ["started_on"],
        }
        assert deleted["data"] == {}
        assert "Bethan" not in str(created)


def test_evidence_is_hers_so_every_authority_of_hers_is_told(
    api: Api, family: dict[str, Any]
) -> None:
    body = {
        "category": "parenting_programme",
        "title": "Triple P Level 4",
        "provider": "Barnardo's",
        "started_on": "2025-09-01",
        "hours": 16.5,
        "verified_by": {"name": "Hélène D'Arcy", "role": "Family services lead"},
        "verified_on": "2025-10-21",
    }
    item = api.post("admin", f"/v1/mothers/{family['mother']['id']}/evidence", body).json()
    url = f"/v1/evidence/{item['id']}"
    changed = api.patch("admin", url, {"completed_on": "2025-10-20"}, etag(item))
    assert api.delete("admin", url, if_match=changed.headers["ETag"]).status_code == 204

    for who, children in (("bristol", ("rhys", "cerys")), ("surrey", ("dafydd",))):
        added, updated, deleted = events(api, who)
        assert [added["type"], updated["type"], deleted["type"]] == [
            "evidence.added",
            "evidence.updated",
            "evidence.deleted",
        ]
        # About her, not a child: each authority is given its own children of hers.
        assert sorted(added["child_ids"]) == sorted(ids(family, *children))
        assert updated["data"] == {
            "category": "parenting_programme",
            "started_on": "2025-09-01",
            "completed_on": "2025-10-20",
            "hours": 16.5,
            "verified_on": "2025-10-21",
            "changed": ["completed_on"],
        }
        assert "Hélène" not in str(added)
    # The other mother's authority-mates hear nothing of her: Osian's feed rows are his own.
    assert all(e["mother_id"] == family["mother"]["id"] for e in events(api, "bristol"))


def test_release_plans_and_her_release_date(api: Api, family: dict[str, Any]) -> None:
    url = f"/v1/mothers/{family['mother']['id']}/release-plan"
    plan = {
        "expected_release_date": str(TODAY + timedelta(days=60)),
        "release_local_authority_code": "801",
        "accommodation_status": "temporary",
        "contact_after_release": [
            {"child_id": family["dafydd"]["id"], "arrangement": "Letters through the carer."}
        ],
    }
    created = api.put("admin", url, plan)
    assert created.status_code == 201, created.text
    api.patch("admin", url, {"accommodation_status": "settled"}, if_match=created.headers["ETag"])

    for who in ("bristol", "surrey"):
        found = events(api, who)
        assert [e["type"] for e in found] == [
            "release-plan.created",
            "mother.release-date-changed",
            "release-plan.updated",
        ]
        assert found[0]["data"] == {
            "expected_release_date": plan["expected_release_date"],
            "release_local_authority_code": "801",
            "accommodation_status": "temporary",
            "changed": [
                "expected_release_date",
                "release_local_authority_code",
                "accommodation_status",
            ],
            "complete": False,
        }
        assert found[1]["data"] == {
            "expected_release_date": plan["expected_release_date"],
            "changed": ["expected_release_date"],
        }
        assert found[2]["data"]["changed"] == ["accommodation_status"]
        # A child's contact after release is not the feed's to tell (least of all to Bristol).
        assert "Letters" not in str(found)


def test_her_transfer_release_and_release_date(api: Api, family: dict[str, Any]) -> None:
    url = f"/v1/mothers/{family['mother']['id']}"
    mother = api.patch("admin", url, {"prison_code": "SDI"}, etag(family["mother"])).json()
    mother = api.patch("admin", url, {"earliest_release_date": "2027-01-04"}, etag(mother)).json()
    # Nothing that a local authority reads of her changed: nothing to tell.
    mother = api.patch("admin", url, {"domestic_abuse_history": False}, etag(mother)).json()
    api.patch("admin", url, {"status": "released"}, etag(mother))

    for who, children in (("bristol", ("rhys", "cerys")), ("surrey", ("dafydd",))):
        found = events(api, who)
        assert [(e["type"], e["data"]) for e in found] == [
            ("mother.transferred", {"prison_code": "SDI", "changed": ["prison_code"]}),
            (
                "mother.release-date-changed",
                {"earliest_release_date": "2027-01-04", "changed": ["earliest_release_date"]},
            ),
            ("mother.released", {"status": "released", "changed": ["status"]}),
        ]
        assert {(e["resource_type"], e["resource_id"]) for e in found} == {
            ("mother", family["mother"]["id"])
        }
        assert all(sorted(e["child_ids"]) == sorted(ids(family, *children)) for e in found)
    assert admin_feed(api, "803") == []


def test_a_mother_with_no_children_concerns_no_authority(api: Api) -> None:
    mother = api.mother()
    api.patch("admin", f"/v1/mothers/{mother['id']}", {"prison_code": "SDI"}, etag(mother))
    assert api.sql("SELECT count(*) FROM change_event") == [(0,)]


# Rolled back, written together --------------------------------------------------------------


def test_a_rolled_back_request_tells_no_one(
    api: Api, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The events are written, then the request fails before its commit: they go with it."""
    written = changes_service.write_pending

    async def written_then_failed(session: Any) -> None:
        await written(session)
        assert api.sql("SELECT count(*) FROM change_event") == [(0,)]  # not visible outside
        raise RuntimeError("the commit never came")

    monkeypatch.setattr(changes_service, "write_pending", written_then_failed)
    url = f"/v1/mothers/{family['mother']['id']}"
    change = {"prison_code": "SDI", "status": "released"}
    with failing_app(api) as client:
        headers = api.headers("admin", **{"If-Match": etag(family["mother"])})
        assert client.patch(url, json=change, headers=headers).status_code == 500
        body = hearing_body(family, "rhys", "dafydd")
        response = client.post("/v1/court-hearings", json=body, headers=api.headers("admin"))
        assert response.status_code == 500
    assert api.sql("SELECT count(*) FROM change_event") == [(0,)]
    assert api.sql("SELECT count(*) FROM court_hearing") == [(0,)]
    assert api.get("admin", url).json()["prison_code"] == "EWI"


def test_a_change_whose_audit_fails_tells_no_one(
    api: Api, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tac_api.audit import service as audit_service

    monkeypatch.setattr(audit_service, "write_pending", audit_fails)
    with failing_app(api) as client:
        body = hearing_body(family, "rhys")
        response = client.post("/v1/court-hearings", json=body, headers=api.headers("admin"))
    assert response.status_code == 500
    assert api.sql("SELECT count(*) FROM change_event") == [(0,)]


def test_refused_input_tells_no_one(api: Api, family: dict[str, Any]) -> None:
    hearing = api.post("admin", "/v1/court-hearings", hearing_body(family, "rhys")).json()
    url = f"/v1/court-hearings/{hearing['id']}"
    assert (
        api.patch("admin", url, {"starts_at": "2062-01-01T10:00:00Z"}, etag(hearing)).status_code
        == 422
    )
    assert api.patch("admin", url, {"court_code": "X"}, '"99"').status_code == 412
    assert [e["type"] for e in events(api, "bristol")] == ["court-hearing.created"]


def test_a_service_committed_outside_a_request_still_tells(
    api: Api, family: dict[str, Any]
) -> None:
    """Events emitted in a session committed by other code (a command, a test) are written by
    the commit itself: a committed change is never left untold."""
    mother_id = uuid.UUID(family["mother"]["id"])

    async def elsewhere() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            emit(
                session,
                "mother.transferred",
                "mother",
                mother_id,
                mother_id,
                data={"prison_code": "SDI"},
            )

    api.client.portal.call(elsewhere)  # type: ignore[union-attr]
    assert [e["type"] for e in events(api, "surrey")] == ["mother.transferred"]


# Reading the feed -------------------------------------------------------------------------


def many_events(api: Api, family: dict[str, Any], count: int) -> None:
    """`count` evidence items: each one an event in Bristol's feed and in Surrey's."""
    url = f"/v1/mothers/{family['mother']['id']}/evidence"
    for n in range(count):
        body = {"category": "course", "title": f"Module {n}", "started_on": "2025-09-01"}
        assert api.post("admin", url, body).status_code == 201


def test_the_feed_pages_and_resumes_exactly(api: Api, family: dict[str, Any]) -> None:
    many_events(api, family, 23)
    everything = read(api, "bristol", limit=1000)["items"]
    assert len(everything) == 23
    positions = [position_of(e["cursor"]) for e in everything]
    assert positions == sorted(set(positions))

    pages, cursor, seen = 0, None, []
    while True:
        params = {"limit": 5} | ({"after": cursor} if cursor else {})
        response = api.get("bristol", FEED, params=params)
        page = response.json()
        pages += 1
        seen += page["items"]
        # There is more exactly when a full page left some: the Link says where.
        assert ("link" in response.headers) == (len(seen) < 23)
        if page["items"]:
            assert page["next_cursor"] == page["items"][-1]["cursor"]
        else:
            assert page["next_cursor"] == cursor  # nothing new: poll again from the same place
            break
        cursor = page["next_cursor"]
    assert seen == everything and pages == 6

    # Resuming from any event's cursor gives exactly what came after it.
    middle = everything[9]["cursor"]
    assert read(api, "bristol", after=middle, limit=1000)["items"] == everything[10:]
    # More arrive: a poller at the end sees only those, once.
    many_events(api, family, 2)
    newer = read(api, "bristol", after=cursor)["items"]
    assert len(newer) == 2 and position_of(newer[0]["cursor"]) > positions[-1]
    assert read(api, "bristol", after=newer[-1]["cursor"])["items"] == []


def test_an_empty_feed_starts_a_poller_at_the_beginning(api: Api) -> None:
    page = read(api, "bristol")
    assert page == {"items": [], "next_cursor": page["next_cursor"]}
    assert position_of(page["next_cursor"]) == 0


def test_positions_are_never_handed_out_again(api: Api, family: dict[str, Any]) -> None:
    """Erasing the latest events (her case, at retention) must not let the next events take
    their positions: a reader standing there would skip them (SQLite: AUTOINCREMENT)."""
    other_url = f"/v1/mothers/{family['other']['id']}/evidence"
    many_events(api, family, 2)
    body = {"category": "course", "title": "Osian's mother's course", "started_on": "2025-09-01"}
    assert api.post("admin", other_url, body).status_code == 201
    cursor = read(api, "bristol", limit=1000)["next_cursor"]
    api.sql("DELETE FROM change_event WHERE mother_id = :id", id=db_id(api, family["other"]["id"]))
    many_events(api, family, 1)
    assert len(read(api, "bristol", after=cursor)["items"]) == 1


def position_of(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    (position,) = orjson.loads(base64.urlsafe_b64decode(padded))
    return int(position)


def cursor_from(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "after",
    [
        "not-a-cursor",
        cursor_from([-1]),
        cursor_from([True]),
        cursor_from([1.5]),
        cursor_from(["7"]),
        cursor_from([1, 2]),
        cursor_from({"position": 1}),
        cursor_from([2**63]),
    ],
)
def test_a_cursor_the_feed_did_not_give_out_is_refused(api: Api, after: str) -> None:
    response = api.get("bristol", FEED, params={"after": after})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "after"


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 1001}, {"since": "1"}, {"local_authority": "80"}]
)
def test_bad_parameters_are_refused(api: Api, params: dict[str, Any]) -> None:
    response = api.get("bristol", FEED, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_who_reads_which_feed(api: Api, family: dict[str, Any]) -> None:
    api.post("admin", "/v1/court-hearings", hearing_body(family, "rhys", "dafydd"))
    # A local authority reads its own feed; naming itself is fine, naming another is 404.
    assert (
        read(api, "bristol")
        == read(api, "bristol_system")
        == read(api, "bristol", local_authority="801")
    )
    other = api.get("bristol", FEED, params={"local_authority": "936"})
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    # An admin names the authority, a known one.
    assert read(api, "admin", local_authority="936") == read(api, "surrey")
    for params in ({}, {"local_authority": "999"}):
        refused = api.get("admin", FEED, params=params)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "local_authority"
    # Nobody else reads a feed at all.
    for who in ("ewi_worker", "ewi_governor", "auditor"):
        assert api.get(who, FEED).status_code == 403
    assert api.client.get(FEED).status_code == 401


def test_reading_the_feed_is_a_disclosure_of_each_record_shown(
    api: Api, family: dict[str, Any]
) -> None:
    hearing = api.post("admin", "/v1/court-hearings", hearing_body(family, "rhys")).json()
    many_events(api, family, 2)
    response = api.get("bristol", FEED)
    shown = response.json()["items"]
    rows = api.sql(
        "SELECT action, resource_type, resource_id, subject_id FROM audit_event "
        "WHERE request_id = :r",
        r=response.headers["X-Request-ID"],
    )
    assert sorted(
        (a, t, str(uuid.UUID(str(r))), str(uuid.UUID(str(s)))) for a, t, r, s in rows
    ) == sorted(
        ("disclose", e["resource_type"], e["resource_id"], family["mother"]["id"]) for e in shown
    )
    assert len(rows) == 3 and hearing["id"] in {e["resource_id"] for e in shown}
    # Nothing new: said, with nothing disclosed.
    empty = api.get("bristol", FEED, params={"after": response.json()["next_cursor"]})
    assert empty.json()["items"] == []
    assert api.sql(
        "SELECT count(*) FROM audit_event WHERE request_id = :r", r=empty.headers["X-Request-ID"]
    ) == [(0,)]


# Cost ---------------------------------------------------------------------------------------


def test_a_page_costs_the_same_whatever_its_size(api: Api, family: dict[str, Any]) -> None:
    many_events(api, family, 30)
    with counting(api) as small:
        api.get("bristol", FEED, params={"limit": 2})
    with counting(api) as large:
        assert len(read(api, "bristol", limit=30)["items"]) == 30
    cursor = read(api, "bristol", limit=10)["next_cursor"]
    with counting(api) as later:
        assert len(read(api, "bristol", after=cursor, limit=10)["items"]) == 10
    # The caller's token, the rate limit, the page (one index seek), one audit insert for all.
    assert len(small) == len(large) == len(later) == statements(api, sqlite=4, postgres=3), large
    with counting(api) as admin:
        read(api, "admin", local_authority="801", limit=30)
    assert len(admin) == statements(api, sqlite=5, postgres=4)  # and the authority it names


def test_writing_a_thousand_events_takes_a_fixed_number_of_statements(
    api: Api, family: dict[str, Any]
) -> None:
    mother_ids = [uuid.UUID(family["mother"]["id"]), uuid.UUID(family["other"]["id"])]

    async def write(count: int) -> list[str]:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            for n in range(count):
                mother_id = mother_ids[n % 2]
                emit(session, "evidence.added", "evidence", uuid.uuid4(), mother_id, data={"n": n})
            with counting(api) as statements:
                await changes_service.write_pending(session)
        # The transaction's own BEGIN is sent with its first statement: not the events' cost.
        return [statement for statement in statements if not statement.startswith("BEGIN")]

    few = api.client.portal.call(write, 2)  # type: ignore[union-attr]
    many = api.client.portal.call(write, 1000)  # type: ignore[union-attr]
    # Which authorities (one query for all), the feed's lock on PostgreSQL, one insert for the
    # feed and one for the service's outbox.
    expected = 4 if api.database_url.startswith("postgresql") else 3
    assert len(few) == len(many) == expected, many
    # Her two authorities and his one: three rows for every two events.
    assert api.sql("SELECT count(*) FROM change_event") == [(3 + 1500,)]
    assert api.sql("SELECT count(*) FROM service_event") == [(2 + 1000,)]


# Concurrent writers -----------------------------------------------------------------------


def test_a_reader_polling_while_others_write_misses_nothing_and_sees_nothing_twice(
    api: Api, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real concurrent requests on PostgreSQL, where positions are taken at insert but become
    visible at commit. Each writer lingers a little between writing its events and committing
    (the window in which an unordered writer would let a later position show first), while a
    reader polls from its cursor. What it read must be what was written: each once, in order."""
    if not api.database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time hold the whole database")
    written = changes_service.write_pending
    lingering = random.Random(7)

    async def write_then_linger(session: Any) -> None:
        await written(session)
        await asyncio.sleep(lingering.uniform(0, 0.03))

    monkeypatch.setattr(changes_service, "write_pending", write_then_linger)
    app = api.client.app
    mothers = [family["mother"]["id"], family["other"]["id"]]
    writers, items_each = 6, 12

    async def race() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            finished = asyncio.Event()

            async def writer(n: int) -> None:
                for k in range(items_each):
                    body = {"category": "course", "title": f"W{n}-{k}", "started_on": "2025-09-01"}
                    url = f"/v1/mothers/{mothers[(n + k) % 2]}/evidence"
                    response = await client.post(url, json=body, headers=api.headers("admin"))
                    assert response.status_code == 201, response.text

            async def reader() -> list[dict[str, Any]]:
                seen: list[dict[str, Any]] = []
                cursor: str | None = None
                while True:
                    done = finished.is_set()  # read once more after the last write
                    params = {"limit": 7} | ({"after": cursor} if cursor else {})
                    response = await client.get(FEED, params=params, headers=api.headers("bristol"))
                    assert response.status_code == 200, response.text
                    page = response.json()
                    seen += page["items"]
                    cursor = page["next_cursor"]
                    if done and not page["items"]:
                        return seen
                    await asyncio.sleep(0 if page["items"] else 0.005)

            polling = asyncio.create_task(reader())
            await asyncio.gather(*(writer(n) for n in range(writers)))
            finished.set()
            return await polling

    seen = api.client.portal.call(race)  # type: ignore[union-attr]
    stored = api.sql(
        "SELECT event_id FROM change_event WHERE local_authority_code = '801' ORDER BY position"
    )
    assert len(stored) == writers * items_each
    positions = [position_of(event["cursor"]) for event in seen]
    assert positions == sorted(positions), "out of order"
    assert len(seen) == len({event["id"] for event in seen}), "an event seen twice"
    assert [event["id"] for event in seen] == [str(uuid.UUID(str(row[0]))) for row in stored], (
        "missed events"
    )


def test_a_change_to_her_record_and_a_change_about_her_do_not_deadlock(
    api: Api, family: dict[str, Any]
) -> None:
    """One request holds her row (a change to her record) and will wait for the feed's lock;
    another, about her (a hearing moved: nothing in it locks her row), must not be holding that
    lock while it waits for her row, which its events' foreign key needs: it waits for her row
    first, then takes the lock."""
    if not api.database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer at a time hold the whole database")
    hearing = api.post("admin", "/v1/court-hearings", hearing_body(family, "dafydd")).json()
    mother_id = uuid.UUID(family["mother"]["id"])
    admin = Caller(client_id=uuid.uuid4(), name="test", role=Role.admin)
    app = api.client.app

    async def both() -> str:
        async with app.state.sessionmaker() as holding:  # type: ignore[attr-defined]
            change = MotherUpdate(earliest_release_date="2027-01-04")
            await update_mother(holding, admin, mother_id, change, "*")

            async def about_her() -> str:
                async with app.state.sessionmaker() as session:  # type: ignore[attr-defined]
                    moved = CourtHearingUpdate(starts_at=at(timedelta(days=11)))
                    await update_hearing(session, admin, uuid.UUID(hearing["id"]), moved, "*")
                    await session.commit()
                    return "committed"

            waiting = asyncio.create_task(about_her())
            await asyncio.sleep(0.3)
            assert not waiting.done(), "the hearing's events should wait for her row"
            await holding.commit()
        return await waiting

    assert api.client.portal.call(both) == "committed"  # type: ignore[union-attr]
    assert [e["type"] for e in events(api, "surrey")] == [
        "court-hearing.created",
        "mother.release-date-changed",
        "court-hearing.updated",
    ]
