"""Prison events applied to her case (`events.service.handle_message`), each rule on its own:
bodies shaped exactly as the estate's queues receive them (the SNS notification around the
HMPPS event), handed to the function the queue's consumer calls."""

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from tac_api import events as events_package
from tac_api.events import service
from tac_api.events.schemas import EVENT_SOURCE, MalformedEvent
from tac_api.events.service import Outcome
from tac_api.hearings.models import CourtHearing
from tac_api.meetings.models import Meeting
from tac_api.subject_access.service import case_tables
from tac_api.visits.models import ContactVisit
from tests.support import events
from tests.support.api import Api
from tests.support.events import deliver, notification
from tests.support.sql import db_id

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)
BST = timezone(timedelta(hours=1))
HANDOVER = "transfer_handover"
UNSERVED = "BZI"  # HMP Bronzefield: a women's prison the service does not work in


def at(delta: timedelta = timedelta()) -> str:
    """An occurredAt as the estate writes it: an offset and nanoseconds."""
    moment = (NOW + delta).astimezone(BST)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ".624796498+01:00"


def day_of(delta: timedelta = timedelta()) -> str:
    """The day an event at `at(delta)` happened on, as her record says it (UTC)."""
    return str((NOW + delta).date())


def add(api: Api, *records: Any) -> None:
    async def write() -> None:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            session.add_all(records)

    api.client.portal.call(write)  # type: ignore[union-attr]


def her(api: Api, mother_id: str, who: str = "admin") -> dict[str, Any]:
    response = api.get(who, f"/v1/mothers/{mother_id}")
    assert response.status_code == 200, response.text
    return response.json()


def count(api: Api, table: str, where: str = "", **params: Any) -> int:
    return api.sql(f"SELECT count(*) FROM {table} {where}", **params)[0][0]


def flags_on(api: Api, record_id: str) -> list[tuple[str, str, str]]:
    """(reason, source, raised by) of the open flags on a record."""
    rows = api.sql(
        "SELECT reason, raised_by_source, raised_by_name FROM review_flag "
        "WHERE resource_id = :id AND cleared_at IS NULL ORDER BY raised_at",
        id=db_id(api, record_id),
    )
    return [tuple(row) for row in rows]


def inbox(api: Api, mother_id: str) -> list[tuple[str, str]]:
    rows = api.sql(
        "SELECT event_type, outcome FROM prison_event WHERE mother_id = :id ORDER BY occurred_at",
        id=db_id(api, mother_id),
    )
    return [tuple(row) for row in rows]


def changes_told(api: Api, who: str = "bristol") -> list[tuple[str, dict[str, Any]]]:
    items = api.get(who, "/v1/sync/changes").json()["items"]
    return [(e["type"], e["data"]) for e in items]


def mother_in(api: Api, prison: str = "EWI", **fields: Any) -> dict[str, Any]:
    """A mother with a Bristol child (so Bristol's feed hears of her)."""
    mother = api.mother(prison_code=prison, **fields)
    api.child(mother["id"])
    return mother


# -- Transfers ---------------------------------------------------------------------------------


def test_a_transfer_between_the_services_prisons_moves_her_as_a_patch_does(api: Api) -> None:
    mother = mother_in(api)
    worker = api.post(
        "admin", "/v1/staff", {"prison_code": "EWI", "name": "Eleri Bowen", "role": "advocate"}
    ).json()
    allocation = {"staff_member_id": worker["id"], "allocated_on": "2025-10-01"}
    assert api.put("admin", f"/v1/mothers/{mother['id']}/allocation", allocation).is_success

    received = events.received(mother["prison_number"], "SDI", at(), reason="TRANSFERRED")
    assert deliver(api, received) is Outcome.applied

    record = her(api, mother["id"], who="sdi_worker")
    assert (record["prison_code"], record["status"]) == ("SDI", "active")
    stays = api.get("admin", f"/v1/mothers/{mother['id']}/prison-stays").json()["items"]
    assert [(s["prison_code"], s["left_on"]) for s in stays] == [
        ("EWI", day_of()),
        ("SDI", None),
    ]
    (summary,) = api.get(
        "ewi_worker", "/v1/transfer-summaries", params={"mother_id": mother["id"]}
    ).json()["items"]
    assert (summary["from_prison_code"], summary["to_prison_code"]) == ("EWI", "SDI")
    assert summary["transferred_on"] == day_of()
    assert summary["changed_by"]["name"] == EVENT_SOURCE.name
    where = "WHERE mother_id = :id AND made_by_record = :purpose"
    assert count(api, "task", where, id=db_id(api, mother["id"]), purpose=HANDOVER) == 1
    (ended,) = api.sql(
        "SELECT ended_on FROM allocation WHERE mother_id = :id", id=db_id(api, mother["id"])
    )
    assert str(ended[0]) == day_of()
    assert inbox(api, mother["id"]) == [(events.RECEIVED, "applied")]


def test_a_transfer_out_records_where_she_went_and_flags_her_case(api: Api) -> None:
    mother = mother_in(api)
    received = events.received(mother["prison_number"], UNSERVED, at(), reason="TRANSFERRED")
    assert deliver(api, received) is Outcome.applied

    # The prison is data now, not one the service works in, named by its code.
    assert api.sql("SELECT name, served FROM prison WHERE code = :c", c=UNSERVED) == [
        (UNSERVED, False)
    ]
    record = her(api, mother["id"])
    assert (record["prison_code"], record["status"]) == (UNSERVED, "transferred")
    ((reason, source, by),) = flags_on(api, mother["id"])
    assert UNSERVED in reason and "does not work in" in reason
    assert (source, by) == ("event", EVENT_SOURCE.name)
    # Eastwood Park keeps its summary; no one in Bronzefield gets a handover task.
    (summary,) = api.get(
        "ewi_worker", "/v1/transfer-summaries", params={"mother_id": mother["id"]}
    ).json()["items"]
    assert summary["to_prison_code"] == UNSERVED
    assert count(api, "task", "WHERE made_by_record = :p", p=HANDOVER) == 0


# -- Release and readmission -------------------------------------------------------------------


def test_a_release_sets_her_status_and_day_and_her_support_stays_open(api: Api) -> None:
    mother = mother_in(api)
    assert her(api, mother["id"])["released_on"] is None
    released = events.released(mother["prison_number"], "EWI", at(-DAY), reason="RELEASED")
    assert deliver(api, released) is Outcome.applied

    record = her(api, mother["id"])
    assert (record["status"], record["released_on"]) == ("released", day_of(-DAY))
    assert record["closed_on"] is None  # her support goes on past the gate
    assert record["earliest_release_date"] == mother["earliest_release_date"]  # the plan's
    # Her child's authority reads the day too (it is told of her release).
    assert her(api, mother["id"], who="bristol")["released_on"] == day_of(-DAY)
    assert (
        "mother.released",
        {
            "status": "released",
            "released_on": day_of(-DAY),
            "changed": ["status", "released_on"],
        },
    ) in changes_told(api)


@pytest.mark.parametrize("reason", ["TRANSFERRED", "TEMPORARY_ABSENCE_RELEASE", "SENT_TO_COURT"])
def test_a_release_that_is_not_one_changes_nothing(api: Api, reason: str) -> None:
    mother = mother_in(api)
    before = her(api, mother["id"])
    assert deliver(api, events.released(mother["prison_number"], "EWI", at(), reason)) == "applied"
    after = her(api, mother["id"])
    assert (after["status"], after["version"]) == ("active", before["version"])
    assert flags_on(api, mother["id"]) == []


def test_a_released_woman_received_again_is_back_in_custody_and_flagged(api: Api) -> None:
    mother = mother_in(api)
    number = mother["prison_number"]
    assert deliver(api, events.released(number, "EWI", at(-10 * DAY))) is Outcome.applied
    readmitted = events.received(number, "EWI", at(), reason="READMISSION")
    assert deliver(api, readmitted) is Outcome.applied

    record = her(api, mother["id"])
    assert (record["status"], record["prison_code"], record["released_on"]) == (
        "active",
        "EWI",
        None,
    )
    ((reason, source, _),) = flags_on(api, mother["id"])
    assert "back into custody" in reason and "READMISSION" in reason and source == "event"


# -- Updates -----------------------------------------------------------------------------------


def test_a_sentence_update_flags_her_record_once_while_open(api: Api) -> None:
    mother = mother_in(api)
    number = mother["prison_number"]
    for minutes in (1, 2):
        updated = events.updated(number, ["SENTENCE", "STATUS"], at(timedelta(minutes=minutes)))
        assert deliver(api, updated) is Outcome.applied
    (flag,) = flags_on(api, mother["id"])
    assert flag[0] == service.SENTENCE_CHANGED
    # Cleared: the next change of her dates flags her again.
    api.sql("UPDATE review_flag SET cleared_at = updated_at")
    assert deliver(api, events.updated(number, ["SENTENCE"], at(3 * DAY))) is Outcome.applied
    assert len(flags_on(api, mother["id"])) == 1
    assert count(api, "review_flag") == 2


def test_an_update_of_other_categories_changes_nothing(api: Api) -> None:
    mother = mother_in(api)
    before = her(api, mother["id"])
    updated = events.updated(mother["prison_number"], ["PERSONAL_DETAILS", "LOCATION"], at())
    assert deliver(api, updated) is Outcome.applied
    assert her(api, mother["id"])["version"] == before["version"]
    assert count(api, "review_flag") == 0
    assert inbox(api, mother["id"]) == [(events.UPDATED, "applied")]


# -- Who it is about, and delivery at least once, out of order ---------------------------------


def case_rows(api: Api) -> dict[str, int]:
    return {table.name: count(api, table.name) for table in case_tables()} | {
        "prison": count(api, "prison"),
        # The events' own rows (a GET between two deliveries writes its own).
        "audit_event": count(api, "audit_event", "WHERE client_name = :n", n=EVENT_SOURCE.name),
        "change_event": count(api, "change_event"),
    }


def test_an_event_about_someone_unknown_is_ignored_with_nothing_stored(api: Api) -> None:
    mother_in(api)
    before = case_rows(api)
    for message in (
        events.received("Z9999ZZ", UNSERVED, at()),
        events.released("Z9999ZZ", "EWI", at()),
        events.updated("Z9999ZZ", ["SENTENCE"], at()),
    ):
        assert deliver(api, message) is Outcome.ignored
    # A type this service does not consume: acknowledged, nothing stored.
    other = events.received("Z9999ZZ", "EWI", at()) | {"eventType": "prison.case-note.created"}
    assert deliver(api, other) is Outcome.ignored
    assert case_rows(api) == before


def test_an_event_delivered_twice_changes_nothing_the_second_time(api: Api) -> None:
    mother = mother_in(api)
    received = events.received(mother["prison_number"], "SDI", at())
    assert deliver(api, received) is Outcome.applied
    url = f"/v1/mothers/{mother['id']}"
    etag = api.get("admin", url).headers["ETag"]
    rows = case_rows(api)
    # Delivered again in another notification (SQS redelivery; the publisher publishing twice).
    again = notification(received, message_id=str(uuid.uuid4()))
    assert deliver(api, again) is Outcome.duplicate
    assert api.get("admin", url).headers["ETag"] == etag
    assert case_rows(api) == rows


def test_a_duplicate_that_loses_the_race_for_its_fingerprint_is_a_duplicate(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    mother = mother_in(api)
    update = events.updated(mother["prison_number"], ["SENTENCE"], at())
    assert deliver(api, update) is Outcome.applied
    rows = case_rows(api)

    # Another consumer's transaction committed the same event after this one looked.
    async def not_yet(session: Any, fingerprint: str) -> bool:
        monkeypatch.undo()
        return False

    monkeypatch.setattr(service, "_seen", not_yet)
    assert deliver(api, update) is Outcome.duplicate
    assert case_rows(api) == rows


def test_an_older_release_after_a_newer_reception_is_superseded(api: Api) -> None:
    mother = mother_in(api)
    number = mother["prison_number"]
    assert deliver(api, events.received(number, "SDI", at())) is Outcome.applied
    before = her(api, mother["id"])
    # Released from Eastwood Park an hour before she was received into Send: late, and old.
    late = events.released(number, "EWI", at(-timedelta(hours=1)))
    assert deliver(api, late) is Outcome.superseded
    after = her(api, mother["id"])
    assert (after["status"], after["prison_code"]) == ("active", "SDI")
    assert after["version"] == before["version"]
    assert inbox(api, mother["id"]) == [
        (events.RELEASED, "superseded"),
        (events.RECEIVED, "applied"),
    ]
    # At the same moment as the newest, a different event still applies.
    same_time = events.released(number, "SDI", at())
    assert deliver(api, same_time) is Outcome.applied
    assert her(api, mother["id"])["status"] == "released"


def test_a_release_to_another_prison_does_not_overtake_a_reception(api: Api) -> None:
    """A non-release (TRANSFERRED) applied changes nothing, so it orders nothing either."""
    mother = mother_in(api)
    number = mother["prison_number"]
    moving = events.released(number, "EWI", at(), reason="TRANSFERRED")
    assert deliver(api, moving) is Outcome.applied
    earlier = events.received(number, "SDI", at(-timedelta(minutes=5)))
    assert deliver(api, earlier) is Outcome.applied
    assert her(api, mother["id"])["prison_code"] == "SDI"


# -- What is arranged around her ---------------------------------------------------------------


def hearing(mother_id: str, starts_at: datetime, **fields: Any) -> CourtHearing:
    values: dict[str, Any] = {
        "court_name": "Bristol Civil Justice Centre",
        "hearing_type": "case_management",
        "notified_at": starts_at - timedelta(days=30),
        "attendance_mode": "video_link",
    }
    return CourtHearing(mother_id=uuid.UUID(mother_id), starts_at=starts_at, **(values | fields))


def meeting(mother_id: str, starts_at: datetime) -> Meeting:
    return Meeting(
        mother_id=uuid.UUID(mother_id),
        starts_at=starts_at,
        meeting_type="core_group",
        notified_at=starts_at - timedelta(days=30),
        platform="cloud_video_platform",
        prison_can_join=True,
        invited=True,
    )


def visit(mother_id: str, scheduled_at: datetime | None, status: str = "scheduled") -> Any:
    return ContactVisit(
        mother_id=uuid.UUID(mother_id),
        visit_type="in_person_social_visit",
        status=status,
        scheduled_at=scheduled_at,
    )


@pytest.mark.parametrize(
    ("make", "worker", "words"),
    [
        (lambda n: events.received(n, "SDI", at()), "sdi_worker", "received into HMP Send"),
        # Where no one works: an admin reads that prison's worklist (see README).
        (lambda n: events.received(n, UNSERVED, at()), "admin", f"received into {UNSERVED}"),
        (lambda n: events.released(n, "EWI", at()), "ewi_worker", "released from EWI"),
    ],
    ids=["transfer", "transfer-out", "release"],
)
def test_her_future_arrangements_are_flagged_not_cancelled(
    api: Api, make: Any, worker: str, words: str
) -> None:
    mother = mother_in(api)
    her_id = mother["id"]
    coming = [
        hearing(her_id, NOW + 3 * DAY),
        meeting(her_id, NOW + 5 * DAY),
        visit(her_id, NOW + 2 * DAY),
        visit(her_id, None, status="requested"),  # not dated yet: still to come
    ]
    gone = [
        hearing(her_id, NOW - 3 * DAY),
        hearing(her_id, NOW + 3 * DAY, status="vacated"),
        meeting(her_id, NOW - DAY),
        visit(her_id, NOW - 2 * DAY),  # before the event's day
        visit(her_id, NOW + 2 * DAY, status="cancelled"),
        visit(her_id, NOW + 2 * DAY, status="held"),
    ]
    add(api, *coming, *gone)

    assert deliver(api, make(mother["prison_number"])) is Outcome.applied

    for record in coming:
        ((reason, source, by),) = flags_on(api, str(record.id))
        assert words in reason and "Nothing was cancelled" in reason, reason
        assert (source, by) == ("event", EVENT_SOURCE.name)
    for record in gone:
        assert flags_on(api, str(record.id)) == []
    statuses = api.sql("SELECT status FROM contact_visit WHERE status <> 'cancelled'")
    assert sorted(s for (s,) in statuses) == ["held", "requested", "scheduled", "scheduled"]
    assert count(api, "court_hearing", "WHERE status = 'scheduled'") == 2
    # In the worklist of whoever now has her case.
    flagged = api.sql(
        "SELECT id FROM review_flag WHERE resource_type <> 'mother'",
    )
    prison = {"prison_code": UNSERVED} if worker == "admin" else {}
    listed = api.get(worker, "/v1/worklist", params=prison).json()["items"]
    shown = {i["resource_id"] for i in listed if i["kind"] == "review_flag"}
    assert {str(uuid.UUID(str(flag_id))) for (flag_id,) in flagged} <= shown
    assert len(flagged) == len(coming)


# -- The audit trail and the change feed -------------------------------------------------------


def test_the_audit_trail_names_the_event_source(api: Api) -> None:
    mother = mother_in(api)
    received = events.received(mother["prison_number"], "SDI", at())
    assert deliver(api, received) is Outcome.applied
    rows = api.sql(
        "SELECT client_id, client_name, role, action, resource_type, request_id "
        "FROM audit_event WHERE subject_id = :id AND client_name = :name ORDER BY id",
        id=db_id(api, mother["id"]),
        name=EVENT_SOURCE.name,
    )
    assert {str(uuid.UUID(str(r[0]))) for r in rows} == {str(EVENT_SOURCE.client_id)}
    done = {(r[3], r[4]) for r in rows}
    assert {
        ("alter", "mother"),
        ("collect", "transfer_summary"),
        ("collect", "task"),
        ("collect", "prison_event"),
    } <= done
    # Every row of it says which event it came in: its fingerprint, the inbox row's.
    (fingerprint,) = api.sql("SELECT fingerprint FROM prison_event")[0]
    assert {r[5] for r in rows} == {fingerprint}


def test_the_change_feed_hears_of_her_transfer_and_release(api: Api) -> None:
    mother = mother_in(api)
    number = mother["prison_number"]
    assert deliver(api, events.received(number, "SDI", at(-DAY))) is Outcome.applied
    assert deliver(api, events.released(number, "SDI", at())) is Outcome.applied
    assert changes_told(api) == [
        ("mother.transferred", {"prison_code": "SDI", "changed": ["prison_code"]}),
        (
            "mother.released",
            {"status": "released", "released_on": day_of(), "changed": ["status", "released_on"]},
        ),
    ]


# -- Merges, and what is not an event ------------------------------------------------------------


def test_merges_go_to_the_merge_and_are_deduplicated(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    mother = mother_in(api)
    calls: list[str] = []

    class Merge:
        @staticmethod
        async def apply_merge(session: Any, delivered: Any) -> uuid.UUID | None:
            calls.append(delivered.event.additional_information.removed_noms_number)
            known = delivered.event.noms_number == mother["prison_number"]
            return uuid.UUID(mother["id"]) if known else None

    monkeypatch.setattr(events_package, "merge", Merge, raising=False)
    merged = events.merged(mother["prison_number"], "A9999ZZ", at())
    assert deliver(api, merged) is Outcome.applied
    assert deliver(api, merged) is Outcome.duplicate
    assert calls == ["A9999ZZ"]
    assert inbox(api, mother["id"]) == [(events.MERGED, "applied")]
    strangers = events.merged("Z9999ZZ", "Z9998ZZ", at())
    assert deliver(api, strangers) is Outcome.ignored
    assert count(api, "prison_event") == 1


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"Type": "Notification", "MessageId": "1", "Message": "{"}),
        notification({"eventType": events.RECEIVED, "occurredAt": "yesterday"}),
    ],
)
def test_a_malformed_message_raises(api: Api, body: str) -> None:
    with pytest.raises(MalformedEvent):
        deliver(api, body)


def test_a_transient_failure_is_raised_and_writes_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    mother = mother_in(api)
    rows = case_rows(api)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise IntegrityError("INSERT", {}, Exception("another constraint"))

    monkeypatch.setattr(service, "_flag_arrangements", broken)
    with pytest.raises(IntegrityError):
        deliver(api, events.received(mother["prison_number"], "SDI", at()))
    assert case_rows(api) == rows
    assert her(api, mother["id"])["prison_code"] == "EWI"
