"""Tasks on her case: made by a person (title, owner, due on, who made it) or by a record (a group
check-out lower than check-in makes a follow-up task, kept in step with its row); listed soonest
due first by owner (`me` too), due date, done and prison; the prison side's only."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.support import groups, world
from tests.support.api import Api
from tests.support.audit import trail
from tests.support.bodies import TODAY
from tests.support.sql import counting

TASKS = "/v1/tasks"


@pytest.fixture
def her(api: Api) -> dict[str, Any]:
    """An EWI mother with a Bristol child, and two members of EWI's staff (one has left)."""
    made = world.family(api, {"bristol": world.child("Rhys")}, prison_code="EWI")
    made["worker"] = groups.facilitator(api, name="Siân O'Connor", role="prison_social_worker")
    made["gone"] = groups.facilitator(api, name="Zoë Dupré", left_on=str(TODAY))
    made["elsewhere"] = groups.facilitator(api, prison_code="SDI", name="Aoife Ní Bhriain")
    return made


def task_body(her: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "mother_id": her["mother"]["id"],
        "title": "Ask Bristol for the date of Rhys's review",
        "owner_id": her["worker"]["id"],
        "due_on": str(TODAY + timedelta(days=3)),
        **fields,
    }


def make(api: Api, her: dict[str, Any], who: str = "admin", **fields: Any) -> dict[str, Any]:
    made = api.post(who, TASKS, task_body(her, **fields))
    assert made.status_code == 201, made.text
    return made.json()


def test_a_task_records_what_who_by_when_and_who_made_it(api: Api, her: dict[str, Any]) -> None:
    response = api.post(
        "ewi_worker",
        TASKS,
        task_body(
            her,
            detail="Gwen said she would confirm by Friday.",
            resource_type="child",
            resource_id=her["bristol"]["id"],
        ),
    )
    assert response.status_code == 201, response.text
    task = response.json()
    assert response.headers["Location"] == f"{TASKS}/{task['id']}"
    assert response.headers["ETag"] == f'"{task["version"]}"'
    assert (task["owner_id"], task["due_on"], task["done_on"], task["done"]) == (
        her["worker"]["id"],
        str(TODAY + timedelta(days=3)),
        None,
        False,
    )
    assert (task["resource_type"], task["resource_id"]) == ("child", her["bristol"]["id"])
    assert task["made_by_record"] is None
    assert task["changed_by"]["name"] == "ewi_worker"
    assert api.get("ewi_worker", f"{TASKS}/{task['id']}").json() == task
    assert [row[2:6] for row in trail(api, response)] == [
        ("collect", "task", task["id"], her["mother"]["id"])
    ]
    # Nobody's yet: her prison's.
    assert make(api, her, owner_id=None)["owner_id"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"owner_id": "gone"}, "owner_id"),  # left the service
        ({"owner_id": "elsewhere"}, "owner_id"),  # another prison's staff
        ({"owner_id": str(uuid.uuid4())}, "owner_id"),
        ({"mother_id": str(uuid.uuid4())}, "mother_id"),
        ({"resource_type": "child"}, "resource_id"),  # both or neither
        ({"resource_type": "child", "resource_id": "other_child"}, "resource_id"),  # not hers
        ({"resource_type": "court_hearing", "resource_id": "bristol"}, "resource_id"),  # a child
        ({"resource_type": "webhook", "resource_id": "bristol"}, "resource_type"),
        ({"title": ""}, "title"),
        ({"title": "Two\nlines"}, "title"),
        ({"due_on": "soon"}, "due_on"),
        ({"made_by_record": "group_follow_up"}, "made_by_record"),
    ],
)
def test_a_task_that_breaks_a_rule_is_refused_and_writes_nothing(
    api: Api, her: dict[str, Any], fields: dict[str, Any], field: str
) -> None:
    other = api.mother(prison_code="EWI")
    her["other_child"] = api.child(other["id"])
    named = {k: her[v]["id"] if isinstance(v, str) and v in her else v for k, v in fields.items()}
    response = api.post("ewi_worker", TASKS, task_body(her, **named))
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert api.sql("SELECT count(*) FROM task")[0][0] == 0


def test_the_prison_side_keeps_tasks_and_no_one_else_sees_them(
    api: Api, her: dict[str, Any]
) -> None:
    task = make(api, her)
    url = f"{TASKS}/{task['id']}"
    for who in ("bristol", "bristol_system", "surrey", "ewi_governor", "auditor"):
        assert api.get(who, url).status_code == 403
        assert api.get(who, TASKS).status_code == 403
        assert api.get(who, f"/v1/mothers/{her['mother']['id']}/tasks").status_code == 403
        assert api.post(who, TASKS, task_body(her)).status_code == 403
        assert api.patch(who, url, {"title": "x"}, if_match='"1"').status_code == 403
    # Another prison's worker: out of scope, as if there were none.
    assert api.get("sdi_worker", url).status_code == 404
    assert api.get("sdi_worker", TASKS).json()["items"] == []
    assert api.get("sdi_worker", f"/v1/mothers/{her['mother']['id']}/tasks").status_code == 404
    assert api.patch("sdi_worker", url, {"title": "x"}, if_match='"1"').status_code == 404
    refused = api.post("sdi_worker", TASKS, task_body(her, owner_id=None))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "mother_id"


def test_tasks_are_listed_soonest_due_first_and_filtered(api: Api, her: dict[str, Any]) -> None:
    (client_id,) = api.sql("SELECT id FROM api_client WHERE name = 'ewi_worker'")
    linked = api.patch(
        "admin",
        f"/v1/staff/{her['worker']['id']}",
        {"api_client_id": str(uuid.UUID(str(client_id[0])))},
        if_match='"1"',
    )
    assert linked.status_code == 200, linked.text
    later = make(api, her, due_on=str(TODAY + timedelta(days=9)))
    sooner = make(api, her, due_on=str(TODAY + timedelta(days=1)), owner_id=None)
    done = make(api, her, due_on=str(TODAY - timedelta(days=2)))
    marked = api.patch("admin", f"{TASKS}/{done['id']}", {"done_on": str(TODAY)}, if_match='"1"')
    assert marked.status_code == 200, marked.text
    elsewhere = world.family(api, {"c": world.child("Nia")}, prison_code="SDI")["mother"]
    theirs = api.post(
        "admin",
        TASKS,
        {"mother_id": elsewhere["id"], "title": "Call Surrey", "due_on": str(TODAY)},
    ).json()

    def ids(who: str = "admin", **params: Any) -> list[str]:
        response = api.get(who, TASKS, params=params)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert ids() == [done["id"], theirs["id"], sooner["id"], later["id"]]
    assert ids("ewi_worker") == [done["id"], sooner["id"], later["id"]]
    assert ids(done="false", prison_code="EWI") == [sooner["id"], later["id"]]
    assert ids(done="true") == [done["id"]]
    assert ids(due_before=str(TODAY + timedelta(days=2))) == [
        done["id"],
        theirs["id"],
        sooner["id"],
    ]
    assert ids("ewi_worker", owner="me") == [done["id"], later["id"]]
    assert ids(owner=her["worker"]["id"], done="false") == [later["id"]]
    assert ids(mother_id=elsewhere["id"]) == [theirs["id"]]
    her_tasks = api.get("admin", f"/v1/mothers/{her['mother']['id']}/tasks?done=false").json()
    assert [t["id"] for t in her_tasks["items"]] == [sooner["id"], later["id"]]
    # Keyset paginated like every list.
    first = api.get("admin", TASKS, params={"limit": 2}).json()
    rest = api.get("admin", TASKS, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [t["id"] for t in first["items"] + rest["items"]] == ids()
    # `me` for someone who signs in as no one in the directory; an owner that is no id.
    for owner in ("me", "Siân"):
        refused = api.get("admin", TASKS, params={"owner": owner})
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "owner"


def test_a_task_is_changed_with_if_match_and_done_on_a_day_between_it_being_made_and_today(
    api: Api, her: dict[str, Any]
) -> None:
    task = make(api, her)
    url = f"{TASKS}/{task['id']}"
    assert api.patch("admin", url, {"title": "x"}).status_code == 428
    assert api.patch("admin", url, {"title": "x"}, if_match='"9"').status_code == 412
    for done_on in (str(TODAY + timedelta(days=1)), str(TODAY - timedelta(days=1))):
        refused = api.patch("admin", url, {"done_on": done_on}, if_match='"1"')
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "done_on"
    for body, field in (
        ({"owner_id": her["gone"]["id"]}, "owner_id"),
        ({"title": None}, "title"),
        ({"due_on": None}, "due_on"),
        ({"mother_id": her["mother"]["id"]}, "mother_id"),
    ):
        refused = api.patch("admin", url, body, if_match='"1"')
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["errors"][0]["field"] == field
    changed = api.patch(
        "ewi_worker",
        url,
        {"done_on": str(TODAY), "owner_id": None, "detail": "Done by phone."},
        if_match='"1"',
    )
    assert changed.status_code == 200, changed.text
    done = changed.json()
    assert (done["done"], done["owner_id"], done["detail"]) == (True, None, "Done by phone.")
    assert changed.headers["ETag"] == f'"{done["version"]}"' != '"1"'
    assert done["changed_by"]["name"] == "admin"  # who made it, not who changed it
    assert [row[2:5] for row in trail(api, changed)] == [("alter", "task", task["id"])]
    reopened = api.patch("admin", url, {"done_on": None}, if_match=f'"{done["version"]}"')
    assert reopened.json()["done"] is False


# -- Tasks a group register makes ----------------------------------------------------------


def follow_up_tasks(api: Api, mother_id: str) -> list[dict[str, Any]]:
    listed = api.get("admin", f"/v1/mothers/{mother_id}/tasks").json()["items"]
    return [t for t in listed if t["made_by_record"] == "group_follow_up"]


@pytest.fixture
def group(api: Api, her: dict[str, Any]) -> dict[str, Any]:
    """A session in EWI a week ago, her worker allocated to her."""
    allocation = {"staff_member_id": her["worker"]["id"], "allocated_on": str(TODAY)}
    url = f"/v1/mothers/{her['mother']['id']}/allocation"
    assert api.put("admin", url, allocation).is_success
    return groups.group_session(api, [her["worker"]["id"]])


def test_a_check_out_lower_than_check_in_makes_a_follow_up_task_for_her_worker(
    api: Api, her: dict[str, Any], group: dict[str, Any]
) -> None:
    mother_id = her["mother"]["id"]
    response = groups.attend(api, group, mother_id, "ewi_worker", check_in=4, check_out=2)
    row = response.json()
    [task] = follow_up_tasks(api, mother_id)
    assert (task["resource_type"], task["resource_id"]) == ("group_attendance", row["id"])
    assert (task["due_on"], task["done"]) == (row["follow_up_due_on"], False)
    assert task["owner_id"] == her["worker"]["id"]
    assert task["changed_by"]["name"] == "ewi_worker"
    assert ("collect", "task", task["id"]) in [r[2:5] for r in trail(api, response)]
    # No drop, no task; no worker allocated, nobody's yet.
    other = api.mother(prison_code="EWI")
    groups.attended(api, group, other["id"], check_in=2, check_out=4)
    assert follow_up_tasks(api, other["id"]) == []
    later = groups.group_session(api, [her["worker"]["id"]], held_on=str(groups.a_monday(2)))
    groups.attended(api, later, other["id"], check_in=5, check_out=1)
    [unowned] = follow_up_tasks(api, other["id"])
    assert unowned["owner_id"] is None


def test_the_follow_up_task_follows_its_row(
    api: Api, her: dict[str, Any], group: dict[str, Any]
) -> None:
    mother_id = her["mother"]["id"]
    row = groups.attended(api, group, mother_id, check_in=3)
    assert follow_up_tasks(api, mother_id) == []

    def change(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal row
        changed = api.patch("admin", groups.row_url(row), body, if_match=groups.etag(row))
        assert changed.status_code == 200, changed.text
        row = changed.json()
        return row

    # A check-out recorded later, lower: the task is made then.
    change({"check_out": 1})
    [task] = follow_up_tasks(api, mother_id)
    assert task["due_on"] == row["follow_up_due_on"]
    # The follow-up recorded on the row: the task is done that day.
    done_on = str(groups.a_monday() + timedelta(days=2))
    change({"follow_up_done_on": done_on, "follow_up_by_id": her["worker"]["id"]})
    [task] = follow_up_tasks(api, mother_id)
    assert (task["done_on"], task["done"]) == (done_on, True)
    # Taken back: open again.
    change({"follow_up_done_on": None, "follow_up_by_id": None})
    [task] = follow_up_tasks(api, mother_id)
    assert task["done"] is False
    # The session moved a week earlier: the task's due date moves with its row's.
    moved_to = str(groups.a_monday(2))
    session_url = f"{groups.SESSIONS}/{group['id']}"
    moved = api.patch("admin", session_url, {"held_on": moved_to}, if_match=groups.etag(group))
    assert moved.status_code == 200, moved.text
    row = api.get("admin", groups.row_url(row)).json()
    [task] = follow_up_tasks(api, mother_id)
    assert task["due_on"] == row["follow_up_due_on"] == str(groups.a_monday(2) + timedelta(days=6))
    assert moved_to in task["title"]
    # A correction that removes the drop: no follow-up is owed, and the task is removed.
    change({"check_out": 3})
    assert row["follow_up_due_on"] is None
    assert follow_up_tasks(api, mother_id) == []
    assert api.sql("SELECT count(*) FROM task")[0][0] == 0
    # Owed again, then the row taken off the register: its task goes with it.
    change({"check_out": 2})
    [task] = follow_up_tasks(api, mother_id)
    removed = api.delete("admin", groups.row_url(row), if_match=groups.etag(row))
    assert removed.status_code == 204, removed.text
    assert ("erase", "task", task["id"]) in [r[2:5] for r in trail(api, removed)]
    assert api.sql("SELECT count(*) FROM task")[0][0] == 0


def test_a_row_made_with_its_follow_up_done_makes_its_task_done(
    api: Api, her: dict[str, Any], group: dict[str, Any]
) -> None:
    """A correction that makes a drop on a row whose follow-up is recorded already."""
    mother_id = her["mother"]["id"]
    row = groups.attended(api, group, mother_id, check_in=3, check_out=1)
    done_on = str(groups.a_monday())
    body = {"follow_up_done_on": done_on}
    row = api.patch("admin", groups.row_url(row), body, if_match=groups.etag(row)).json()
    api.sql("DELETE FROM task")  # as if made before tasks were
    changed = api.patch("admin", groups.row_url(row), {"check_out": 2}, if_match=groups.etag(row))
    assert changed.status_code == 200, changed.text
    [task] = follow_up_tasks(api, mother_id)
    assert task["done_on"] == done_on


def test_tasks_are_in_her_chronology_and_her_subject_access_export(
    api: Api, her: dict[str, Any]
) -> None:
    mother_id = her["mother"]["id"]
    task = make(api, her, due_on=str(TODAY + timedelta(days=5)))
    done = make(api, her, title="Send the visiting order", due_on=str(TODAY - timedelta(days=1)))
    api.patch("admin", f"{TASKS}/{done['id']}", {"done_on": str(TODAY)}, if_match='"1"')
    events = api.get("ewi_worker", f"/v1/mothers/{mother_id}/chronology").json()["events"]
    shown = [(e["on"], e["summary"]) for e in events if e["kind"] == "task"]
    assert (str(TODAY), f"Task made: {task['title']}") in shown
    assert (str(TODAY + timedelta(days=5)), f"Task due: {task['title']}") in shown
    assert (str(TODAY), "Task done: Send the visiting order") in shown
    # Done: no longer shown as due.
    assert (str(TODAY - timedelta(days=1)), "Task due: Send the visiting order") not in shown
    only = api.get("ewi_worker", f"/v1/mothers/{mother_id}/chronology?kind=task").json()
    assert {e["kind"] for e in only["events"]} == {"task"}
    # A local authority's chronology of her never shows a task.
    theirs = api.get("bristol", f"/v1/mothers/{mother_id}/chronology").json()["events"]
    assert [e for e in theirs if e["resource_type"] == "task"] == []
    export = api.get("admin", f"/v1/mothers/{mother_id}/subject-access-export").json()
    assert sorted(r["id"] for r in export["records"]["task"]) == sorted([task["id"], done["id"]])
    assert her["worker"]["id"] in [s["id"] for s in export["records"]["staff_member"]]


def test_a_task_a_record_keeps_in_step_is_changed_through_that_record(
    api: Api, her: dict[str, Any], group: dict[str, Any]
) -> None:
    """Its title, due and done days are its register row's: changed there (409 here, naming the
    row); its owner and detail may change here."""
    mother_id = her["mother"]["id"]
    row = groups.attended(api, group, mother_id, check_in=4, check_out=2)
    [task] = follow_up_tasks(api, mother_id)
    url = f"{TASKS}/{task['id']}"
    for body in (
        {"done_on": str(TODAY)},
        {"due_on": str(TODAY + timedelta(days=9))},
        {"title": "Something else"},
    ):
        refused = api.patch("ewi_worker", url, body, if_match=f'"{task["version"]}"')
        assert refused.status_code == 409, (body, refused.text)
        assert row["id"] in refused.json()["detail"] and "group_attendance" in refused.text
    assert api.get("admin", url).json() == task
    changed = api.patch(
        "ewi_worker",
        url,
        {"owner_id": None, "detail": "She asked to see Siân."},
        if_match=f'"{task["version"]}"',
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["owner_id"], changed.json()["detail"]) == (
        None,
        "She asked to see Siân.",
    )


def test_making_a_task_locks_her_row_before_reading_her_prison(
    api: Api, her: dict[str, Any]
) -> None:
    """A transfer moving her at the same moment locks her row too: the task waits for it, and
    its owner is checked against the prison she is then held in."""
    if not api.database_url.startswith("postgresql"):
        pytest.skip("SQLite takes no row locks: one writer at a time")
    with counting(api) as statements:
        make(api, her, who="ewi_worker")
    reads = [s for s in statements if "FROM mother" in s]
    assert reads and "FOR UPDATE" in reads[0], reads


def test_erasing_a_record_clears_its_flags_and_its_tasks(api: Api, her: dict[str, Any]) -> None:
    """Its open flags cleared by whoever erased it; a task made by hand about it kept, naming it
    no more; a task it made removed with it. Each audited, with the erasure."""
    mother_id = her["mother"]["id"]
    group_row = groups.attended(
        api,
        groups.group_session(api, [her["worker"]["id"]]),
        mother_id,
        check_in=4,
        check_out=2,
    )
    [made] = follow_up_tasks(api, mother_id)
    by_hand = make(api, her, resource_type="group_attendance", resource_id=group_row["id"])
    other = make(api, her, resource_type="child", resource_id=her["bristol"]["id"])
    flagged = api.post(
        "ewi_worker",
        "/v1/flags",
        {"resource_type": "group_attendance", "resource_id": group_row["id"], "reason": "Odd."},
    )
    assert flagged.status_code == 201, flagged.text
    flag = flagged.json()
    erased = api.delete("ewi_worker", groups.row_url(group_row), if_match=groups.etag(group_row))
    assert erased.status_code == 204, erased.text
    cleared = api.get("ewi_worker", f"/v1/flags/{flag['id']}").json()
    assert (cleared["open"], cleared["clearance_note"]) == (False, "The record was erased.")
    assert cleared["cleared_by"] == {"name": "ewi_worker", "role": "prison_social_worker"}
    kept = api.get("ewi_worker", f"{TASKS}/{by_hand['id']}").json()
    assert (kept["resource_type"], kept["resource_id"], kept["done"]) == (None, None, False)
    assert api.get("ewi_worker", f"{TASKS}/{made['id']}").status_code == 404
    assert api.get("ewi_worker", f"{TASKS}/{other['id']}").json() == other
    rows = {row[2:5] for row in trail(api, erased)}
    assert {
        ("erase", "group_attendance", group_row["id"]),
        ("erase", "task", made["id"]),
        ("alter", "task", by_hand["id"]),
        ("alter", "review_flag", flag["id"]),
    } <= rows
    # Nothing left on the worklist for a record that is gone.
    listed = api.get("ewi_worker", "/v1/worklist").json()["items"]
    assert [i for i in listed if i["kind"] == "review_flag"] == []
