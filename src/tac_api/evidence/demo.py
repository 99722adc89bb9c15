"""Demo evidence of rehabilitation: a few invented items per mother, in her time in custody."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.evidence.models import Evidence

# Category -> (title, provider, typical hours or None when hours say nothing).
ITEMS: dict[str, list[tuple[str, str | None, int | None]]] = {
    "course": [
        ("Healthy Relationships Programme", "HMPPS Interventions", 40),
        ("Budgeting and money management", "Citizens Advice", 12),
        ("First aid at work", "St John Ambulance", 18),
    ],
    "counselling": [
        ("One-to-one trauma counselling", "Women in Prison", 20),
        ("Bereavement counselling", "Cruse Bereavement Support", 10),
    ],
    "therapy": [("Dialectical behaviour therapy skills group", "Prison mental health team", 30)],
    "education": [
        ("Functional Skills English Level 2", "Novus Cambria", 60),
        ("Cwrs Cymraeg i Oedolion - Mynediad", "Dysgu Cymraeg", 45),
    ],
    "training": [("Barista training", "Clink Charity", 24), ("Industrial cleaning", None, 16)],
    "qualification": [
        ("Level 2 Certificate in Food Hygiene", "Highfield Qualifications", None),
        ("NVQ Level 1 Hairdressing", "City & Guilds", None),
    ],
    "employment": [("Wing cleaner and peer mentor", "HMPPS", 300), ("Kitchen orderly", None, 250)],
    "substance_misuse_programme": [
        ("Building Skills for Recovery", "Forward Trust", 36),
        ("Alcohol awareness group", "Change Grow Live", 12),
    ],
    "parenting_programme": [
        ("Triple P Level 4", "Barnardo's", 16),
        ("Storybook Dads recordings", "Storybook Dads", 6),
        ("Family Man / Family Woman course", "Safe Ground", 30),
    ],
    "behaviour": [
        ("Enhanced incentives level", None, None),
        ("No adjudications for 12 months", None, None),
    ],
    "other": [("Listener scheme volunteer", "Samaritans", 50)],
}
CATEGORIES = list(ITEMS)
VERIFIERS = [
    ("Hélène D'Arcy", "Education manager"),
    ("Owain Pugh", "Programme facilitator"),
    ("Margaret Ó Briain", "Custodial manager"),
    ("Precious Okafor", "Family services lead"),
]


def demo_rows(world: DemoWorld) -> DemoRows:
    """Up to five items per mother, each begun after her reception and none in the future."""
    rng, today, now = world.rng, world.today, world.now
    rows = []
    for mother in world.mothers:
        received: date = mother["reception_date"]
        days_in = (today - received).days
        if days_in < 14:
            continue
        for _ in range(rng.choice([0, 1, 2, 2, 3, 4, 5])):
            category = rng.choice(CATEGORIES)
            title, provider, typical_hours = rng.choice(ITEMS[category])
            started = received + timedelta(days=rng.randrange(days_in))
            length = rng.randrange(1, 120)
            completed = started + timedelta(days=length) if rng.random() < 0.7 else None
            if completed is not None and completed > today:
                completed = None
            hours = None
            if typical_hours is not None:
                hours = Decimal(typical_hours * rng.choice([2, 3, 4])) / 4
            verified = rng.random() < 0.6
            verified_on = min(today, (completed or started) + timedelta(days=rng.randrange(14)))
            verifier = rng.choice(VERIFIERS)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "mother_id": mother["id"],
                    "category": category,
                    "title": title,
                    "provider": provider,
                    "started_on": started,
                    "completed_on": completed,
                    "hours": hours,
                    "verified_by_name": verifier[0] if verified else None,
                    "verified_by_role": verifier[1] if verified else None,
                    "verified_on": verified_on if verified else None,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
    return [(Evidence, rows)]
