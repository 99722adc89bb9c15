"""A session's register: who may be on it, her check-in and check-out, and the one-to-one
follow-up owed when she checks out lower than she checked in."""

from datetime import date, timedelta
from typing import Any

import pytest

from tests.support import groups
from tests.support.api import Api
from tests.support.audit import audit_of, trail
from tests.support.bodies import TODAY
from tests.support.groups import SESSIONS, a_monday, attend, attended, etag, row_url
from tests.support.sql import count, counting, statements

FOLLOW_UPS = "/v1/group-follow-ups"


@pytest.fixture
def setting(api: Api) -> dict[str, Any]:
    """A session in Eastwood Park last Monday, its facilitator, and two women held there."""
    facilitator = groups.facilitator(api)
    return {
        "facilitator": facilitator,
        "session": groups.group_session(api, [facilitator["id"]]),
        "sian": api.mother()["id"],
        "nia": api.mother(first_name="Nia")["id"],
    }


def problem_fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


def sunday_after(day: date) -> str:
    return str(day + timedelta(days=6 - day.weekday()))


def test_her_row_and_the_register(api: Api, setting: dict[str, Any]) -> None:
    session = setting["session"]
    made = attend(
        api,
        session,
        setting["sian"],
        "ewi_worker",
        check_in=4,
        check_in_word="hopeful",
        check_out=5,
        check_out_word="lighter",
    )
    assert made.status_code == 201, made.text
    row = made.json()
    assert made.headers["Location"] == row_url(row)
    assert row["group_session_id"] == session["id"]
    assert (row["held_on"], row["activity"], row["prison_code"]) == (
        session["held_on"],
        "Making memory boxes",
        "EWI",
    )
    assert (row["check_in"], row["check_in_word"], row["check_out"]) == (4, "hopeful", 5)
    assert row["follow_up_due_on"] is None  # she left feeling better
    other = attended(api, session, setting["nia"], check_in=2)
    register = api.get("ewi_worker", f"{SESSIONS}/{session['id']}/register")
    assert register.status_code == 200, register.text
    assert register.json()["session"] == session
    assert [r["id"] for r in register.json()["attendance"]] == [row["id"], other["id"]]
    # Every row shown is on the trail as consulted.
    for shown in (row, other):
        assert ("consult", "group_attendance", "succeeded") in audit_of(api, shown["id"])
    assert api.get("sdi_worker", f"{SESSIONS}/{session['id']}/register").status_code == 404
    assert api.get("bristol", f"{SESSIONS}/{session['id']}/register").status_code == 403
    # Hers, as her case: oldest first.
    hers = api.get("ewi_worker", f"/v1/mothers/{setting['sian']}/group-attendance")
    assert [r["id"] for r in hers.json()["items"]] == [row["id"]]


def test_who_may_be_on_the_register(api: Api, setting: dict[str, Any]) -> None:
    session = setting["session"]
    attended(api, session, setting["sian"])
    # Once per session.
    twice = attend(api, session, setting["sian"], check_in=1)
    assert twice.status_code == 409, twice.text
    # A woman held in Send: not the Eastwood Park worker's to see (and not held there).
    send = api.mother(prison_code="SDI")["id"]
    assert problem_fields(attend(api, session, send, "ewi_worker")) == ["mother_id"]
    assert problem_fields(attend(api, session, send)) == ["mother_id"]
    # Received after the session: she was not held there that day.
    newcomer = api.mother(reception_date=str(TODAY))["id"]
    assert problem_fields(attend(api, session, newcomer)) == ["mother_id"]
    for bad in ({"check_in": 0}, {"check_in": 6}, {"check_in": "3"}, {"check_out": 10**12}):
        assert problem_fields(attend(api, session, setting["nia"], **bad)) == [next(iter(bad))]
    assert problem_fields(attend(api, session, setting["nia"], check_in_word="x" * 41)) == [
        "check_in_word"
    ]
    assert count(api, "group_attendance") == 1
    # Another prison's session is not found.
    assert attend(api, session, setting["nia"], "sdi_worker").status_code == 404
    assert attend(api, session, setting["nia"], "bristol").status_code == 403


def test_checking_out_lower_owes_a_follow_up_that_week(api: Api, setting: dict[str, Any]) -> None:
    session = setting["session"]
    row = attended(api, session, setting["sian"], check_in=4, check_out=2)
    due = sunday_after(date.fromisoformat(session["held_on"]))
    assert row["follow_up_due_on"] == due
    # The same check-out as check-in owes nothing.
    level = attended(api, session, setting["nia"], check_in=3, check_out=3)
    assert level["follow_up_due_on"] is None
    # A correction that removes the drop clears it; putting it back owes it again.
    corrected = api.patch("ewi_worker", row_url(row), {"check_out": 4}, etag(row))
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["follow_up_due_on"] is None
    again = api.patch("ewi_worker", row_url(row), {"check_out": 1}, etag(corrected.json()))
    assert again.json()["follow_up_due_on"] == due
    # Her check-out recorded later, lower: owed.
    later = api.patch("ewi_worker", row_url(level), {"check_out": 2}, etag(level))
    assert later.json()["follow_up_due_on"] == due


def test_recording_her_follow_up(api: Api, setting: dict[str, Any]) -> None:
    session = setting["session"]
    held_on = date.fromisoformat(session["held_on"])
    row = attended(api, session, setting["sian"], check_in=4, check_out=2)
    url, version = row_url(row), etag(row)
    for when in (held_on - timedelta(days=1), TODAY + timedelta(days=1)):
        refused = api.patch("ewi_worker", url, {"follow_up_done_on": str(when)}, version)
        assert problem_fields(refused) == ["follow_up_done_on"]
    send_worker = groups.facilitator(api, "SDI")["id"]
    by_send = {"follow_up_done_on": str(held_on), "follow_up_by_id": send_worker}
    assert problem_fields(api.patch("ewi_worker", url, by_send, version)) == ["follow_up_by_id"]
    undated = {"follow_up_by_id": setting["facilitator"]["id"]}
    assert problem_fields(api.patch("ewi_worker", url, undated, version)) == ["follow_up_by_id"]
    done = {
        "follow_up_done_on": str(held_on + timedelta(days=2)),
        "follow_up_by_id": setting["facilitator"]["id"],
        "follow_up_note": "Talked in the library; she is writing to her son.",
    }
    followed = api.patch("ewi_worker", url, done, version)
    assert followed.status_code == 200, followed.text
    assert {k: followed.json()[k] for k in done} == done
    # Done: a later correction that removes the drop keeps it on record.
    kept = api.patch("ewi_worker", url, {"check_out": 5}, etag(followed.json()))
    assert kept.json()["follow_up_due_on"] == sunday_after(held_on)
    assert kept.json()["follow_up_done_on"] == done["follow_up_done_on"]
    # None owed: nothing to record.
    level = attended(api, session, setting["nia"], check_in=3, check_out=3)
    nothing = {"follow_up_done_on": str(held_on)}
    assert problem_fields(api.patch("ewi_worker", row_url(level), nothing, etag(level))) == [
        "follow_up_done_on"
    ]
    assert problem_fields(api.patch("ewi_worker", url, {"check_in": None}, etag(kept.json()))) == [
        "check_in"
    ]


def test_moving_the_session_moves_what_it_owes(api: Api, setting: dict[str, Any]) -> None:
    session = setting["session"]
    url = f"{SESSIONS}/{session['id']}"
    row = attended(api, session, setting["sian"], check_in=4, check_out=2)
    newcomer = api.mother(reception_date=str(a_monday(2)))["id"]
    hers = attended(api, session, newcomer)
    earlier = a_monday(3) + timedelta(days=2)
    # Not to a day one of its women was not held there.
    refused = api.patch("admin", url, {"held_on": str(earlier)}, etag(session))
    assert problem_fields(refused) == ["held_on"]
    assert api.delete("admin", row_url(hers), etag(hers)).status_code == 204
    moved = api.patch("admin", url, {"held_on": str(earlier)}, etag(session))
    assert moved.status_code == 200, moved.text
    after = api.get("admin", row_url(row)).json()
    assert after["follow_up_due_on"] == sunday_after(earlier)
    assert after["version"] == row["version"] + 1
    # Not to a day after her follow-up was done.
    done = {"follow_up_done_on": str(earlier)}
    assert api.patch("admin", row_url(row), done, etag(after)).status_code == 200
    later = {"held_on": str(earlier + timedelta(days=1))}
    assert problem_fields(api.patch("admin", url, later, etag(moved.json()))) == ["held_on"]


def test_a_row_entered_in_error_is_removed(api: Api, setting: dict[str, Any]) -> None:
    row = attended(api, setting["session"], setting["sian"])
    assert api.delete("ewi_worker", row_url(row)).status_code == 428
    assert api.delete("sdi_worker", row_url(row), etag(row)).status_code == 404
    assert api.delete("ewi_worker", row_url(row), etag(row)).status_code == 204
    assert api.get("admin", row_url(row)).status_code == 404
    assert ("erase", "group_attendance", "succeeded") in audit_of(api, row["id"])
    # She may be added again, rightly this time.
    assert attend(api, setting["session"], setting["sian"]).status_code == 201


def test_follow_ups_owed_and_overdue(api: Api, setting: dict[str, Any]) -> None:
    facilitator = setting["facilitator"]["id"]
    last_week = setting["session"]
    this_week = groups.group_session(api, [facilitator], held_on=str(TODAY))
    owed_overdue = attended(api, last_week, setting["sian"], check_in=5, check_out=1)
    owed_in_time = attended(api, this_week, setting["sian"], check_in=4, check_out=3)
    done = attended(api, last_week, setting["nia"], check_in=3, check_out=2)
    attended(api, this_week, setting["nia"], check_in=2, check_out=4)  # owes nothing
    record = {"follow_up_done_on": str(TODAY)}
    assert api.patch("admin", row_url(done), record, etag(done)).status_code == 200
    send_facilitator = groups.facilitator(api, "SDI")["id"]
    in_send = groups.group_session(api, [send_facilitator], prison_code="SDI")
    send_row = attended(api, in_send, api.mother(prison_code="SDI")["id"], check_in=5, check_out=4)

    owed = api.get("ewi_worker", FOLLOW_UPS, params={"owed": "true"})
    assert owed.status_code == 200, owed.text
    items = owed.json()["items"]
    assert [i["id"] for i in items] == [owed_overdue["id"], owed_in_time["id"]]
    # This week's is due on Sunday: today at the earliest, so not yet overdue.
    assert [i["overdue"] for i in items] == [True, False]
    followed = api.get("ewi_worker", FOLLOW_UPS, params={"owed": "false"}).json()["items"]
    assert [i["id"] for i in followed] == [done["id"]]
    overdue = api.get("ewi_worker", FOLLOW_UPS, params={"overdue": "true"}).json()["items"]
    assert [i["id"] for i in overdue] == [owed_overdue["id"]]
    everywhere = api.get("admin", FOLLOW_UPS, params={"owed": "true"}).json()["items"]
    assert send_row["id"] in {i["id"] for i in everywhere}
    in_ewi = api.get("admin", FOLLOW_UPS, params={"owed": "true", "prison_code": "EWI"})
    assert [i["id"] for i in in_ewi.json()["items"]] == [i["id"] for i in items]
    assert api.get("bristol", FOLLOW_UPS).status_code == 403
    assert ("consult", "group_attendance", "succeeded") in audit_of(api, owed_overdue["id"])


def test_a_fixed_number_of_statements_however_many(api: Api, setting: dict[str, Any]) -> None:
    """The follow-ups page, a register and her rows: the same statements for one row as for
    many (no statement per row)."""
    facilitator = setting["facilitator"]["id"]

    def counted() -> list[int]:
        urls = [
            (FOLLOW_UPS, {"owed": "true"}),
            (f"{SESSIONS}/{setting['session']['id']}/register", None),
            (f"/v1/mothers/{setting['sian']}/group-attendance", None),
        ]
        found = []
        for url, params in urls:
            with counting(api) as sent:
                assert api.get("ewi_worker", url, params=params).status_code == 200
            found.append(len(sent))
        return found

    attended(api, setting["session"], setting["sian"], check_in=4, check_out=2)
    one = counted()
    for n in range(4):
        another = groups.group_session(api, [facilitator], held_on=str(a_monday(n + 2)))
        attended(api, another, setting["sian"], check_in=4, check_out=2)
        attended(api, setting["session"], api.mother()["id"], check_in=5, check_out=1)
    assert counted() == one
    assert one[0] <= statements(api, sqlite=6, postgres=4)


def test_reads_follow_her_writes_stay_with_the_sessions_prison(
    api: Api, setting: dict[str, Any]
) -> None:
    """She attends in Eastwood Park, checks out lower and is followed up there; then she is
    transferred to Send. Send reads her row (her case is Send's now) but may not change
    Eastwood Park's register: 403, nothing written. Eastwood Park still may."""
    session = setting["session"]
    mother = api.mother(first_name="Siân", last_name="O'Connor")
    row = attended(api, session, mother["id"], "ewi_worker", check_in=4, check_out=2)
    followed_up = {
        "follow_up_done_on": session["held_on"],
        "follow_up_by_id": setting["facilitator"]["id"],
        "follow_up_note": "Sat with her after lunch.",
    }
    row = api.patch("ewi_worker", row_url(row), followed_up, etag(row)).json()
    moved = api.patch("admin", f"/v1/mothers/{mother['id']}", {"prison_code": "SDI"}, etag(mother))
    assert moved.status_code == 200, moved.text

    # Reads follow her: her row, her list and her chronology; not the session or its register.
    assert api.get("sdi_worker", row_url(row)).json() == row
    hers = api.get("sdi_worker", f"/v1/mothers/{mother['id']}/group-attendance").json()
    assert [r["id"] for r in hers["items"]] == [row["id"]]
    events = api.get("sdi_worker", f"/v1/mothers/{mother['id']}/chronology").json()["events"]
    assert [e["resource_id"] for e in events if e["kind"] == "group_session"] == [row["id"]]
    assert api.get("sdi_worker", f"{SESSIONS}/{session['id']}").status_code == 404
    assert api.get("sdi_worker", f"{SESSIONS}/{session['id']}/register").status_code == 404

    # Writes stay with Eastwood Park: 403 whatever the precondition, and nothing written.
    for attempt in (
        api.patch("sdi_worker", row_url(row), {"follow_up_note": "Rewritten."}, etag(row)),
        api.patch("sdi_worker", row_url(row), {"check_out": 5}, etag(row)),
        api.patch("sdi_worker", row_url(row), {"check_out": 5}, '"99"'),
        api.delete("sdi_worker", row_url(row), etag(row)),
        api.delete("sdi_worker", row_url(row)),
    ):
        assert attempt.status_code == 403, attempt.text
        assert attempt.headers["content-type"] == "application/problem+json"
        assert "only the prison that held the session" in attempt.json()["detail"]
        written = {(entry[2], entry[6]) for entry in trail(api, attempt)}
        assert not written & {("alter", "succeeded"), ("erase", "succeeded")}, written
    assert api.get("admin", row_url(row)).json() == row

    # Eastwood Park, whose register it is, still changes it.
    kept = api.patch("ewi_worker", row_url(row), {"follow_up_note": "Wrote to her son."}, etag(row))
    assert kept.status_code == 200, kept.text
    assert kept.json()["follow_up_note"] == "Wrote to her son."
