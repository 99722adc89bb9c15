"""Synthetic release plans: most mothers have one, some complete, most still in progress."""

import uuid
from datetime import timedelta

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.release.models import (
    ReleasePlan,
    ReleasePlanAction,
    ReleasePlanContact,
    ReleasePlanPathway,
)
from tac_api.release.schemas import PATHWAYS

ACCOMMODATION = ["settled", "temporary", "approved_premises", "no_fixed_abode", "unknown"]
PATHWAY_STATUSES = ["not_started", "in_progress", "in_progress", "complete", "complete"]
NOTES = {
    "accommodation": "Referral to the local housing options team sent.",
    "attitudes_thinking_behaviour": "Completing a thinking skills programme.",
    "children_families_community": "Family group conference requested.",
    "drugs_alcohol": "Community substance misuse service to meet her at the gate.",
    "education_skills_work": "Level 2 English and maths certificates gained.",
    "finance_id": "Birth certificate ordered; bank account to open.",
    "health": "GP registration and prescriptions on release arranged.",
}
ACTIONS = [
    ("Book the housing options interview.", "Prison social worker"),
    ("Apply for a birth certificate.", "Resettlement team"),
    ("Open a basic bank account.", "Siân, resettlement worker"),
    ("Arrange GP registration for release day.", "Healthcare"),
    ("Confirm the approved premises place.", "Probation"),
    ("Set up the first supervised contact session.", "Children's social worker"),
]
ARRANGEMENTS = [
    "Supervised contact at the family centre, fortnightly at first.",
    "Letters through the carer, reviewed after three months.",
    "Video calls on Sundays, arranged by the foster carer.",
    "Contact to be agreed at the next looked-after child review.",
]
PROBATION = ["Rhiannon Pryce-Jones", "Oluwaseun Adébáyọ̀", "Máire Ó Dónaill", "Joanne D'Arcy"]


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, stamp = world.rng, world.today, world.stamp

    plans, pathways, actions, contacts = [], [], [], []
    for mother in world.mothers:
        # Most mothers still held have a plan; many of those due soon are not complete.
        if mother["status"] != "active" or rng.random() < 0.3:
            continue
        hers = world.children_of(mother)
        complete = rng.random() < 0.25
        plan_id = uuid.uuid4()
        probation = rng.choice(PROBATION)
        plans.append(
            {
                "id": plan_id,
                "mother_id": mother["id"],
                # Her plan's date, where the release is better known than her earliest date.
                "expected_release_date": mother["earliest_release_date"]
                + timedelta(days=rng.choice([0, 0, 14, 28]))
                if rng.random() < 0.6
                else None,
                "release_local_authority_code": hers[0]["local_authority_code"] if hers else None,
                "accommodation_status": rng.choice(["settled", "approved_premises"])
                if complete
                else rng.choice(ACCOMMODATION),
                "probation_name": probation,
                "probation_email": f"{probation.split()[0].lower()}.pp@probation.example.gov.uk"
                if probation.isascii()
                else None,
                "probation_phone": f"0300 047 {rng.randrange(10_000):04d}",
                **stamp,
            }
        )
        for pathway in PATHWAYS:
            status = (
                rng.choice(["complete", "complete", "not_needed"])
                if complete
                else rng.choice(PATHWAY_STATUSES)
            )
            pathways.append(
                {
                    "release_plan_id": plan_id,
                    "pathway": pathway,
                    "status": status,
                    "note": NOTES[pathway] if status != "not_started" else None,
                }
            )
        for description, owner in rng.sample(ACTIONS, rng.randrange(1, 4)):
            due_on = today + timedelta(days=rng.randrange(-30, 120))
            done = complete or (due_on < today and rng.random() < 0.7)
            actions.append(
                {
                    "id": uuid.uuid4(),
                    "release_plan_id": plan_id,
                    "description": description,
                    "owner": owner,
                    "due_on": due_on,
                    "done_on": min(due_on, today) if done else None,
                }
            )
        for child in hers:
            if child["contact_arrangement"] != "none" and rng.random() < 0.5:
                contacts.append(
                    {
                        "release_plan_id": plan_id,
                        "child_id": child["id"],
                        "arrangement": rng.choice(ARRANGEMENTS),
                    }
                )
    return [
        (ReleasePlan, plans),
        (ReleasePlanPathway, pathways),
        (ReleasePlanAction, actions),
        (ReleasePlanContact, contacts),
    ]
