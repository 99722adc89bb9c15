"""Demo onward referrals, in the release plans the release demo made: every plan whose
children, families and community pathway is complete has a referral accepted (the gate is not
an end), some with one declined before it; about half of those in progress have one made and
awaiting an answer, or declined. Loaded after the directory of services, with random numbers of
its own (seeded from the demo's first mother), so that the other packages' draws stay as they
were."""

import random
import uuid
from datetime import date, timedelta

from tac_api.demo_world import DemoRows, DemoWorld, Row
from tac_api.organisations.demo import CLOSED, SERVICES, organisation_id
from tac_api.release.models import OnwardReferral, ReleasePlan, ReleasePlanPathway
from tac_api.release.schemas import COMMUNITY

OPEN = [organisation_id(name) for name, *_ in SERVICES if name != CLOSED]
NOTES = [
    "Her advocate there will meet her at the gate.",
    "Fortnightly group from the first week out; she asked for it herself.",
    "Warm handover call with her prison social worker booked.",
    None,
]


def demo_rows(world: DemoWorld) -> DemoRows:
    if not world.mothers:
        return []
    rng = random.Random(f"onward|{world.mothers[0]['prison_number']}")
    today = world.today
    status = {
        row["release_plan_id"]: row["status"]
        for row in world.rows_of(ReleasePlanPathway)
        if row["pathway"] == COMMUNITY
    }
    rows: list[Row] = []
    for plan in world.rows_of(ReleasePlan):
        pathway = status.get(plan["id"])
        if pathway == "complete":
            if rng.random() < 0.3:
                rows.append(_referral(rng, plan, today, answer="declined"))
            rows.append(_referral(rng, plan, today, answer="accepted"))
        elif pathway == "in_progress" and rng.random() < 0.5:
            rows.append(_referral(rng, plan, today, answer=rng.choice(["awaiting", "declined"])))
    return [(OnwardReferral, rows)]


def _referral(rng: random.Random, plan: Row, today: date, answer: str) -> Row:
    made_on = today - timedelta(days=rng.randrange(20, 90))
    answered = made_on + timedelta(days=rng.randrange(3, 15))
    return {
        "id": uuid.uuid4(),
        "release_plan_id": plan["id"],
        "organisation_id": rng.choice(OPEN),
        "made_on": made_on,
        "accepted_on": answered if answer == "accepted" else None,
        "declined_on": answered if answer == "declined" else None,
        "first_contact_on": None,  # her plan's mothers are all still held
        "note": rng.choice(NOTES),
    }
