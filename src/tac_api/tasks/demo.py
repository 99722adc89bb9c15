"""Demo tasks and flags for review: the follow-up task each demo register row owing one made
(owned by her current worker, done when the row's follow-up was), a few tasks her worker made
by hand, and a few records flagged for review, some cleared.

Its draws come from a generator of its own (seeded from the demo's, without drawing from it),
so that the packages before and after it draw as they would without it."""

import random
import uuid
from datetime import UTC, datetime, time, timedelta

from tac_api.demo_world import DemoRows, DemoWorld, Row
from tac_api.flags.models import ReviewFlag
from tac_api.groups.models import GroupAttendance, GroupSession
from tac_api.hearings.models import CourtHearing
from tac_api.history import BY_DEMO_DATA
from tac_api.staff.models import Allocation, StaffMember
from tac_api.tasks.models import Task
from tac_api.tasks.service import GROUP_FOLLOW_UP

TASKS = [
    "Ask her son's social worker for the date of the looked-after child review",
    "Book the video link room for Thursday's hearing",
    "Send Zoë the visiting order for the family day",
    "Chase Cafcass for the guardian's report",
    "Call Mrs O'Brien (foster carer) about letterbox contact",
    "Help her write to the court about her release address",
]
FLAG_REASONS = [
    "The hearing date doesn't match the court's letter: check with the listing office.",
    "Her son's placement has changed twice this month: ask Bristol what's happening.",
    "She says she wasn't told about this meeting; check who was invited.",
    "Release date changed after the sentence calculation: update the plan.",
]
WORKERS = ["Siân O'Connor", "Aoife Ní Bhriain", "Zoë Dupré"]


def _at(day: object, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)  # type: ignore[arg-type]


def _follow_up_tasks(world: DemoWorld, workers: dict[uuid.UUID, uuid.UUID]) -> list[Row]:
    sessions = {row["id"]: row for row in world.rows_of(GroupSession)}
    tasks = []
    for row in world.rows_of(GroupAttendance):
        if row["follow_up_due_on"] is None:
            continue
        held_on = sessions[row["group_session_id"]]["held_on"]
        tasks.append(
            {
                "id": uuid.uuid4(),
                "mother_id": row["mother_id"],
                "resource_type": "group_attendance",
                "resource_id": row["id"],
                "title": f"One-to-one follow-up after the group session of {held_on}",
                "detail": "She checked out lower than she checked in.",
                "owner_id": workers.get(row["mother_id"]),
                "due_on": row["follow_up_due_on"],
                "done_on": row["follow_up_done_on"],
                "made_by_record": GROUP_FOLLOW_UP,
                **world.stamp,
                **BY_DEMO_DATA,
                "changed_at": _at(held_on, 16),
            }
        )
    return tasks


def demo_rows(world: DemoWorld) -> DemoRows:
    rng = random.Random(f"tasks {world.rng.getstate()[1][:8]}")
    today = world.today
    left = {row["id"] for row in world.rows_of(StaffMember) if row["left_on"] is not None}
    workers = {
        row["mother_id"]: row["staff_member_id"]
        for row in world.rows_of(Allocation)
        if row["ended_on"] is None and row["staff_member_id"] not in left
    }
    tasks = _follow_up_tasks(world, workers)
    active = [mother for mother in world.mothers if mother["status"] == "active"]
    for mother in rng.sample(active, k=min(len(active), 12)):
        made_on = today - timedelta(days=rng.randint(1, 20))
        due_on = made_on + timedelta(days=rng.randint(2, 21))
        done = due_on < today and rng.random() < 0.6
        tasks.append(
            {
                "id": uuid.uuid4(),
                "mother_id": mother["id"],
                "resource_type": None,
                "resource_id": None,
                "title": rng.choice(TASKS),
                "detail": None if rng.random() < 0.5 else "Mentioned at Monday's supervision.",
                "owner_id": workers.get(mother["id"]),
                "due_on": due_on,
                "done_on": due_on - timedelta(days=rng.randint(0, 1)) if done else None,
                "made_by_record": None,
                **world.stamp,
                "version": 2 if done else 1,
                **BY_DEMO_DATA,
                "changed_at": _at(made_on, 10),
            }
        )
    flags = []
    records: list[tuple[str, Row]] = [("mother", mother) for mother in active]
    records += [("court_hearing", hearing) for hearing in world.rows_of(CourtHearing)]
    held = {mother["id"] for mother in active}
    records = [(kind, row) for kind, row in records if row.get("mother_id", row["id"]) in held]
    for kind, record in rng.sample(records, k=min(len(records), 10)):
        raised_on = today - timedelta(days=rng.randint(0, 30))
        cleared = rng.random() < 0.3
        flags.append(
            {
                "id": uuid.uuid4(),
                "mother_id": record["id"] if kind == "mother" else record["mother_id"],
                "resource_type": kind,
                "resource_id": record["id"],
                "reason": rng.choice(FLAG_REASONS),
                "raised_by_source": "person",
                "raised_at": _at(raised_on, 9),
                "raised_by_client_id": None,
                "raised_by_name": rng.choice(WORKERS),
                "raised_by_role": "prison_social_worker",
                "cleared_at": _at(raised_on, 17) if cleared else None,
                "cleared_by_client_id": None,
                "cleared_by_name": rng.choice(WORKERS) if cleared else None,
                "cleared_by_role": "prison_social_worker" if cleared else None,
                "clearance_note": "Checked: it's right as recorded." if cleared else None,
                **world.stamp,
                "version": 2 if cleared else 1,
            }
        )
    return [(Task, tasks), (ReviewFlag, flags)]
