"""Demo group sessions: in each prison, the fortnightly two-hour group over the last year,
facilitated by one or two of the prison's demo staff who had not left by then, with a register
of the women supported there that day. Most leave feeling as well or better than they came;
some check out lower, and are followed up that week (or, for the latest sessions and a few
older ones, are still owed a follow-up).

Its draws come from a generator of its own (seeded from the demo's, without drawing from it),
so that the packages after it draw as they would without it."""

import random
import uuid
from datetime import date, timedelta
from typing import Any

from tac_api.demo_world import DemoRows, DemoWorld, Row
from tac_api.groups.models import GroupAttendance, GroupFacilitator, GroupSession
from tac_api.groups.service import follow_up_due
from tac_api.staff.models import StaffMember

WEEKS = 52
ACTIVITIES = [
    "Making memory boxes for the children",
    "Writing letters home",
    "Recording bedtime stories",
    "Mindfulness and breathing",
    "Cooking on a budget",
    "Scrapbooking",
    "Baby massage (practice dolls)",
    "Talking about contact visits",
]
IN_WORDS = ["anxious", "tired", "hopeful", "low", "okay", "nervous", "angry", "calm"]
OUT_WORDS = ["lighter", "settled", "proud", "heard", "sad", "calmer", "wobbly", "tired"]
NOTES = [
    "Talked on the wing the next morning; the letter from her son had unsettled her.",
    "Sat with her after lunch; she has an appointment with mental health in-reach.",
    "She was upset after talking about contact; agreed to speak with her social worker.",
]
# Of the women who check out lower, this share of those whose Sunday has passed were followed up.
FOLLOWED_UP = 0.8


def _group_days(today: date, prison_offset: int) -> list[date]:
    """Every other Wednesday (Thursday in the second prison) over the last year, up to today."""
    last = today - timedelta(days=(today.weekday() - 2 - prison_offset) % 7)
    return sorted(last - timedelta(weeks=2 * n) for n in range(WEEKS // 2))


def _held_there(mother: Row, prison: str, day: date) -> bool:
    """Supported by the service and held in this prison that day (the demo's women have one
    stay each, from their reception on). Worked out on the demo's rows in memory, before any
    is written, so it cannot be the SQL check the service makes
    (`tac_api.mothers.service.held_there_on`): the same rule, read off the rows."""
    closed_on: date | None = mother.get("closed_on")
    return (
        mother["prison_code"] == prison
        and mother["reception_date"] <= day
        and mother["supported_from"] <= day
        and (closed_on is None or closed_on >= day)
    )


def _staff(world: DemoWorld) -> dict[str, list[Row]]:
    """The demo's staff directory (made by the staff package before this one), by prison."""
    found: dict[str, list[Row]] = {}
    for row in world.rows_of(StaffMember):
        found.setdefault(row["prison_code"], []).append(row)
    return found


def _row(
    rng: random.Random, world: DemoWorld, session: Row, mother: Row, facilitators: list[Row]
) -> Row:
    check_in = rng.randint(1, 5)
    lower = check_in > 1 and rng.random() < 0.2
    check_out = rng.randint(1, check_in - 1) if lower else rng.randint(check_in, 5)
    held_on: date = session["held_on"]
    due = follow_up_due(held_on) if lower else None
    done: date | None = None
    if due is not None and due < world.today and rng.random() < FOLLOWED_UP:
        done = held_on + timedelta(days=rng.randint(1, (due - held_on).days or 1))
        done = min(done, world.today)
    return {
        "id": uuid.uuid4(),
        "group_session_id": session["id"],
        "mother_id": mother["id"],
        "check_in": check_in,
        "check_in_word": rng.choice(IN_WORDS) if rng.random() < 0.6 else None,
        "check_out": check_out,
        "check_out_word": rng.choice(OUT_WORDS) if rng.random() < 0.6 else None,
        "follow_up_due_on": due,
        "follow_up_done_on": done,
        "follow_up_by_id": rng.choice(facilitators)["id"] if done else None,
        "follow_up_note": rng.choice(NOTES) if done else None,
        **world.stamp,
    }


def demo_rows(world: DemoWorld) -> DemoRows:
    rng = random.Random(f"groups {world.rng.getstate()[1][:8]}")
    staff = _staff(world)
    sessions: list[Row] = []
    facilitator_rows: list[dict[str, Any]] = []
    attendance: list[Row] = []
    for offset, prison in enumerate(sorted(staff)):
        for day in _group_days(world.today, offset):
            working = [
                member
                for member in staff[prison]
                if member["left_on"] is None or member["left_on"] >= day
            ]
            women = [mother for mother in world.mothers if _held_there(mother, prison, day)]
            if not working or not women:
                continue
            session = {
                "id": uuid.uuid4(),
                "prison_code": prison,
                "held_on": day,
                "duration_minutes": 120,
                "activity": rng.choice(ACTIVITIES),
                "activity_chosen_by_members": rng.random() < 0.6,
                **world.stamp,
            }
            sessions.append(session)
            facilitators = rng.sample(working, k=min(len(working), rng.choice([1, 2])))
            facilitator_rows += [
                {"group_session_id": session["id"], "staff_member_id": member["id"]}
                for member in facilitators
            ]
            for mother in rng.sample(women, k=min(len(women), rng.randint(3, 8))):
                attendance.append(_row(rng, world, session, mother, facilitators))
    return [
        (GroupSession, sessions),
        (GroupFacilitator, facilitator_rows),
        (GroupAttendance, attendance),
    ]
