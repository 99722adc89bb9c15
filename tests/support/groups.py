"""Group sessions and their registers, built through the API: a facilitator in a prison's
directory, a session she facilitated, and women's rows of its register."""

from datetime import date, timedelta
from typing import Any

from tests.support.api import Api
from tests.support.bodies import TODAY

SESSIONS = "/v1/group-sessions"


def facilitator(
    api: Api, prison_code: str = "EWI", left_on: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A member of staff in the prison's directory (`left_on`: who has since left)."""
    body = {"prison_code": prison_code, "name": "Eleri Bowen", "role": "facilitator", **fields}
    made = api.post("admin", "/v1/staff", body)
    assert made.status_code == 201, made.text
    if left_on is None:
        return made.json()
    url = f"/v1/staff/{made.json()['id']}"
    left = api.patch("admin", url, {"left_on": left_on}, if_match='"1"')
    assert left.status_code == 200, left.text
    return left.json()


def a_monday(weeks_ago: int = 1) -> date:
    """The Monday of a week some weeks before this one (its Sunday is in the past)."""
    return TODAY - timedelta(days=TODAY.weekday()) - timedelta(weeks=weeks_ago)


def session_body(facilitator_ids: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "prison_code": "EWI",
        "held_on": str(a_monday()),
        "activity": "Making memory boxes",
        "activity_chosen_by_members": True,
        "facilitator_ids": facilitator_ids,
        **fields,
    }


def group_session(
    api: Api, facilitator_ids: list[str], who: str = "admin", **fields: Any
) -> dict[str, Any]:
    made = api.post(who, SESSIONS, session_body(facilitator_ids, **fields))
    assert made.status_code == 201, made.text
    return made.json()


def attend(
    api: Api, session: dict[str, Any], mother_id: str, who: str = "admin", **fields: Any
) -> Any:
    """Her row of the session's register (the response, to check or read)."""
    body = {"mother_id": mother_id, "check_in": 3, **fields}
    return api.post(who, f"{SESSIONS}/{session['id']}/attendance", body)


def attended(
    api: Api, session: dict[str, Any], mother_id: str, who: str = "admin", **fields: Any
) -> dict[str, Any]:
    made = attend(api, session, mother_id, who, **fields)
    assert made.status_code == 201, made.text
    return made.json()


def row_url(row: dict[str, Any]) -> str:
    return f"/v1/group-attendances/{row['id']}"


def etag(record: dict[str, Any]) -> str:
    return f'"{record["version"]}"'
