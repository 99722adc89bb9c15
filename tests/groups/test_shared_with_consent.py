"""Her row of a register is hers: a local authority she consents to share her group attendance
with reads her row (and sees on her chronology that she attended), never the other women's
rows, the register or the session. Her chronology never says what she said."""

from typing import Any

import pytest

from tests.support import groups, world
from tests.support.api import Api
from tests.support.groups import SESSIONS, attended, row_url
from tests.support.plans import give_consent, withdraw_consent

AUTHORITY = ("bristol", "bristol_system")
SHARED = {
    "id",
    "created_at",
    "updated_at",
    "version",
    "mother_id",
    "held_on",
    "prison_code",
    "activity",
    "check_in",
    "check_in_word",
    "check_out",
    "check_out_word",
    "follow_up_due_on",
    "follow_up_done_on",
}


@pytest.fixture
def session_of_two(api: Api) -> dict[str, Any]:
    """Two women in Eastwood Park, each with a Bristol child, on one session's register; only
    Siân consents to share her group attendance with Bristol."""
    facilitator = groups.facilitator(api)
    session = groups.group_session(api, [facilitator["id"]])
    sian = world.linked_mother(api, "801")["id"]
    nia = world.linked_mother(api, "801")["id"]
    hers = attended(
        api, session, sian, check_in=4, check_in_word="anxious", check_out=2, check_out_word="raw"
    )
    done = {"follow_up_done_on": session["held_on"], "follow_up_by_id": facilitator["id"]}
    done |= {"follow_up_note": "Spoke after lunch; calmer."}
    followed = api.patch("admin", row_url(hers), done, if_match='"1"')
    assert followed.status_code == 200, followed.text
    other = attended(api, session, nia, check_in=1, check_in_word="furious")
    consent = give_consent(api, sian, "801", groups=True)
    assert consent.status_code == 201, consent.text
    # Nia consents to share her plan only: not her group attendance.
    assert give_consent(api, nia, "801", plan=True).status_code == 201
    return {
        "session": session,
        "sian": sian,
        "nia": nia,
        "hers": followed.json(),
        "other": other,
        "consent": consent.json(),
    }


def her_rows(api: Api, who: str, mother_id: str) -> Any:
    response = api.get(who, f"/v1/mothers/{mother_id}/group-attendance")
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_authority_reads_her_row_and_never_anothers(
    api: Api, session_of_two: dict[str, Any]
) -> None:
    s = session_of_two
    for who in AUTHORITY:
        (row,) = her_rows(api, who, s["sian"])
        # Her row, without the session's id, who followed her up or the worker's note.
        assert set(row) == SHARED
        assert row["id"] == s["hers"]["id"]
        assert (row["check_in"], row["check_out"], row["activity"]) == (4, 2, "Making memory boxes")
        assert api.get(who, row_url(s["hers"])).json() == row
        # The other woman's row: not found, and her list is empty (her own consent does not
        # cover her group attendance).
        assert api.get(who, row_url(s["other"])).status_code == 404
        assert her_rows(api, who, s["nia"]) == []
        # Never the register, the session or the list of sessions.
        session_url = f"{SESSIONS}/{s['session']['id']}"
        for url in (session_url, f"{session_url}/register", SESSIONS, "/v1/group-follow-ups"):
            assert api.get(who, url).status_code == 403, url
    # Surrey has no child of hers, and no consent.
    assert api.get("surrey", f"/v1/mothers/{s['sian']}/group-attendance").status_code == 404
    assert api.get("surrey", row_url(s["hers"])).status_code == 404
    # The prison side reads both rows whole.
    assert her_rows(api, "ewi_worker", s["sian"])[0]["follow_up_note"] == (
        "Spoke after lunch; calmer."
    )
    assert api.get("ewi_worker", row_url(s["other"])).status_code == 200


def test_withdrawal_holds_on_the_next_request(api: Api, session_of_two: dict[str, Any]) -> None:
    s = session_of_two
    assert len(her_rows(api, "bristol", s["sian"])) == 1
    assert withdraw_consent(api, s["consent"]["id"]).status_code == 200
    assert her_rows(api, "bristol", s["sian"]) == []
    assert api.get("bristol", row_url(s["hers"])).status_code == 404
    events = api.get("bristol", f"/v1/mothers/{s['sian']}/chronology").json()["events"]
    assert "group_session" not in {event["kind"] for event in events}


def test_her_chronology_says_she_attended_not_what_she_said(
    api: Api, session_of_two: dict[str, Any]
) -> None:
    s = session_of_two
    for who in ("admin", "ewi_worker", *AUTHORITY):
        response = api.get(who, f"/v1/mothers/{s['sian']}/chronology")
        assert response.status_code == 200, response.text
        attended_events = [e for e in response.json()["events"] if e["kind"] == "group_session"]
        assert attended_events == [
            {
                "on": s["session"]["held_on"],
                "at": None,
                "kind": "group_session",
                "summary": "Attended a group session: Making memory boxes",
                "resource_type": "group_attendance",
                "resource_id": s["hers"]["id"],
                "child_ids": [],
            }
        ]
        for said in ("anxious", "raw", "calmer", "furious"):
            assert said not in response.text
        # Asked for by kind, as any other.
        only = api.get(who, f"/v1/mothers/{s['sian']}/chronology", params={"kind": "group_session"})
        assert [e["kind"] for e in only.json()["events"]] == ["group_session"]
    # Nia's attendance is on her chronology for the prison side; not for Bristol.
    nia = api.get("ewi_worker", f"/v1/mothers/{s['nia']}/chronology").json()["events"]
    assert [e["resource_id"] for e in nia if e["kind"] == "group_session"] == [s["other"]["id"]]
    nia = api.get("bristol", f"/v1/mothers/{s['nia']}/chronology").json()["events"]
    assert "group_session" not in {event["kind"] for event in nia}
