"""Synthetic support plans: some mothers still held have one, a few versions each; some she has
agreed as they stand, some never agreed, some changed since she agreed them."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.history import BY_DEMO_DATA
from tac_api.schemas import AREA_ORDER
from tac_api.support_plans.models import SupportPlan, SupportPlanArea, SupportPlanVersion
from tac_api.support_plans.service import changes_between

# Area -> goals she might set, in her own words.
GOALS: dict[str, list[str]] = {
    "managing_mental_health": [
        "Talk to someone on the bad days instead of bottling it up.",
        "Get my anxiety meds sorted before I go out.",
    ],
    "voluntary_work_and_employment": [
        "Finish my barista course and get a job in a café.",
        "Volunteer at the charity shop on Saturdays.",
    ],
    "addictive_behaviours": ["Stay clean — one day at a time.", "Cut down and then stop drinking."],
    "healthy_relationships": [
        "Keep in touch with my sister Ffion.",
        "Know the signs and say no when it's not right for me.",
    ],
    "healthy_lifestyle": ["Walk every day on exercise.", "Eat proper meals, not just biscuits."],
    "daily_living_skills": ["Learn to budget my money.", "Cook a meal for my kids."],
    "social_networks": ["Go to the Sunday group at the chapel.", "Make one friend who's sober."],
    "self_care": ["Sleep through the night.", "Do something for me once a week."],
}
STEPS = [
    "Weekly session with the wellbeing team; keep a diary.",
    "Book onto the course through education; ask for a mentor.",
    "Write a letter every fortnight; the social worker posts photos on.",
    "Meet the community worker before release; get the group's number.",
]
HELPERS = [
    "Siân, her key worker",
    "Aoife Ní Bhriain, peer mentor",
    "The in-reach mental health team",
    "Mared, from Forward Trust",
]
WRITERS = ["her", "her", "together", "together", "worker"]
# How her plan stands now: agreed as it is, never agreed, or changed since she agreed it.
STANDINGS = ["agreed", "agreed", "draft", "changed_since_agreed"]


def _area(rng: Any, name: str) -> dict[str, Any]:
    with_steps = rng.random() < 0.8
    return {
        "area": name,
        "chosen_by_her": rng.random() < 0.85,
        "goal": rng.choice(GOALS[name]),
        "goal_written_by": rng.choice(WRITERS),
        "steps": rng.choice(STEPS) if with_steps else None,
        "steps_written_by": rng.choice(WRITERS) if with_steps else None,
        "who_helps": rng.choice(HELPERS) if rng.random() < 0.7 else None,
        "rating_at_start": rng.randint(1, 7) if rng.random() < 0.9 else None,
    }


def _next(rng: Any, areas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A later version: an area's goal or rating reworded, or an area added."""
    changed = [dict(area) for area in areas]
    unused = [name for name in GOALS if name not in {area["area"] for area in areas}]
    if unused and rng.random() < 0.5:
        changed.append(_area(rng, rng.choice(unused)))
    else:
        area = rng.choice(changed)
        area["goal"] = rng.choice([g for g in GOALS[area["area"]] if g != area["goal"]])
        area["goal_written_by"] = "her"
    return sorted(changed, key=lambda area: AREA_ORDER[area["area"]])


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 30), tzinfo=UTC)


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, stamp = world.rng, world.today, world.stamp
    plans, area_rows, version_rows = [], [], []
    for mother in world.mothers:
        days_in = (today - mother["reception_date"]).days
        if mother["status"] != "active" or days_in < 30 or rng.random() < 0.5:
            continue
        standing = rng.choice(STANDINGS)
        count = rng.randint(2, 3) if standing == "changed_since_agreed" else rng.randint(1, 3)
        plan_id = uuid.uuid4()
        names = rng.sample(list(GOALS), rng.randint(2, 4))
        areas = sorted((_area(rng, name) for name in names), key=lambda a: AREA_ORDER[a["area"]])
        # Her versions, spread over her time here, the last some days ago.
        first_day = mother["reception_date"] + timedelta(days=rng.randrange(7, days_in // 2))
        gap = max(1, (today - first_day).days // (count + 1))
        before: list[dict[str, Any]] = []
        agreed_version = agreed_on = None
        for number in range(1, count + 1):
            made_on = first_day + timedelta(days=(number - 1) * gap)
            # Agreed: the last version if agreed as it stands; the one before it if changed since.
            agreed_here = (standing == "agreed" and number == count) or (
                standing == "changed_since_agreed" and number == count - 1
            )
            on = made_on + timedelta(days=rng.randrange(0, max(1, gap))) if agreed_here else None
            if on is not None:
                agreed_version, agreed_on = number, min(on, today)
            version_rows.append(
                {
                    "id": uuid.uuid4(),
                    "support_plan_id": plan_id,
                    "number": number,
                    "areas": areas,
                    "changes": changes_between(before, areas),
                    "agreed_on": agreed_on if agreed_here else None,
                    **stamp,
                    **BY_DEMO_DATA,
                    "changed_at": _at(made_on),
                }
            )
            before, areas = areas, (_next(rng, areas) if number < count else areas)
        plans.append(
            {
                "id": plan_id,
                "mother_id": mother["id"],
                "content_version": count,
                "agreed_version": agreed_version,
                "agreed_on": agreed_on,
                **stamp,
                "version": count + (agreed_version is not None),
            }
        )
        area_rows += [
            {"id": uuid.uuid4(), "support_plan_id": plan_id, **a, **stamp} for a in before
        ]
    return [(SupportPlan, plans), (SupportPlanArea, area_rows), (SupportPlanVersion, version_rows)]
