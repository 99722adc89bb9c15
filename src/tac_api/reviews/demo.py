"""Demo reviews and pregnancies: for some mothers whose support began long enough ago, her 3, 6
and 12-month reviews (ratings per area of her plan rising, her children's social workers'
relationships with her mending over time), and a couple of pregnancies, one baby kept with her
under a child in need plan.

Her support is taken to have begun on her `supported_from` (the demo's referrals should say the
same of `engaged_on`). Her children's social workers become directory entries linked to each
child, as a review names them by their practitioner record."""

import uuid
from datetime import date, timedelta
from typing import Any

from tac_api.demo_world import DemoRows, DemoWorld, Row
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.reviews.models import Birth, Pregnancy, Review, ReviewRating, ReviewRelationship
from tac_api.reviews.schemas import MILESTONE_MONTHS, OUTCOMES
from tac_api.reviews.service import add_months
from tac_api.schemas import SUPPORT_AREA_LABELS

# From worst to best: each review moves a relationship a step along, now and then.
MENDING = ["antagonistic", "fractured", "none", "improving", "working"]
SUMMARIES = [
    "Siân's worker and she went through each area of her plan; she is proud of her progress.",
    "She said the Storybook Dads recording helped her feel close to the children again.",
    "Counselling with Women in Prison continues; she asked for help with a letter to Gwen.",
    "She's started a Level 2 food hygiene course and wants kitchen work on release.",
    "Contact has moved from letters to video calls; the social worker's feedback was positive.",
]
REVIEWED_SHARE = 0.6


def _social_workers(
    world: DemoWorld, mother: Row, directory: dict[tuple[str, str], Row], links: list[Row]
) -> list[uuid.UUID]:
    """Her children's social workers, as directory entries (one per worker and authority,
    shared between families), each linked to the child: their ids, once each."""
    found: list[uuid.UUID] = []
    for child in world.children_of(mother):
        name, authority = child["social_worker_name"], child["local_authority_code"]
        if not name:
            continue
        key = (name, authority)
        if key not in directory:
            directory[key] = {
                "id": uuid.uuid4(),
                "role": "la_social_worker",
                "name": name,
                "organisation": f"Children's services ({authority})",
                "email": child["social_worker_email"],
                "phone": child["social_worker_phone"],
                "local_authority_code": authority,
                **world.stamp,
            }
        worker_id = directory[key]["id"]
        links.append(
            {
                "id": uuid.uuid4(),
                "practitioner_id": worker_id,
                "mother_id": mother["id"],
                "child_id": child["id"],
                **world.stamp,
            }
        )
        if worker_id not in found:
            found.append(worker_id)
    return found


def _reviews(world: DemoWorld, mother: Row, workers: list[uuid.UUID]) -> list[list[Row]]:
    """Her milestone reviews held so far: [reviews, ratings, relationships]."""
    rng, today = world.rng, world.today
    engaged_on: date = mother["supported_from"]
    closed_on: date | None = mother.get("closed_on")
    reviews: list[Row] = []
    ratings: list[Row] = []
    relationships: list[Row] = []
    start = {area: rng.randint(2, 5) for area in SUPPORT_AREA_LABELS}
    standing = {worker: rng.randint(0, 2) for worker in workers}
    for step, (milestone, months) in enumerate(MILESTONE_MONTHS.items(), start=1):
        held_on = add_months(engaged_on, months) + timedelta(days=rng.randrange(0, 10))
        if held_on > today or (closed_on is not None and held_on > closed_on):
            break
        review_id = uuid.uuid4()
        # Things get better, more often than not, as her support goes on.
        chance = 0.2 + 0.2 * step
        reviews.append(
            {
                "id": review_id,
                "mother_id": mother["id"],
                "held_on": held_on,
                "milestone": milestone,
                **{
                    outcome: rng.choices(["yes", "no", "not_known"], [chance, 1 - chance, 0.15])[0]
                    for outcome in OUTCOMES
                },
                "summary": rng.choice(SUMMARIES),
                **world.stamp,
            }
        )
        for area, first in start.items():
            rating = max(1, min(10, first + step + rng.randint(-1, 1)))
            ratings.append(
                {
                    "id": uuid.uuid4(),
                    "review_id": review_id,
                    "area": area,
                    "rating": rating,
                    **world.stamp,
                }
            )
        for worker in workers:
            if step > 1 and rng.random() < 0.75:
                standing[worker] = min(len(MENDING) - 1, standing[worker] + 1)
            relationships.append(
                {
                    "id": uuid.uuid4(),
                    "review_id": review_id,
                    "practitioner_id": worker,
                    "status": MENDING[standing[worker]],
                    **world.stamp,
                }
            )
    return [reviews, ratings, relationships]


def _pregnancies(world: DemoWorld) -> tuple[list[Row], list[Row]]:
    """A baby born while she was supported and kept with her under a child in need plan (the
    baby's own record, when she has a baby that young), and one pregnancy still going on."""
    today, pregnancies, births = world.today, [], []
    babies = [
        child
        for child in world.children
        if child["date_of_birth"] is not None
        and (today - child["date_of_birth"]).days < 300
        and child["lives_with"] == "mother"
    ]
    if babies:
        baby = babies[0]
        born_on: date = baby["date_of_birth"]
        pregnancy_id = uuid.uuid4()
        pregnancies.append(
            {
                "id": pregnancy_id,
                "mother_id": baby["mother_id"],
                "known_on": born_on - timedelta(days=200),
                "at_referral": True,
                "due_on": born_on + timedelta(days=6),
                "outcome": "born",
                "ended_on": born_on,
                **world.stamp,
            }
        )
        births.append(
            {
                "id": uuid.uuid4(),
                "pregnancy_id": pregnancy_id,
                "born_on": born_on,
                "baby_went": "with_her_child_in_need",
                "child_id": baby["id"],
                **world.stamp,
            }
        )
    others = [m for m in world.mothers if m["status"] == "active"]
    taken = {row["mother_id"] for row in pregnancies}
    expecting = next((m for m in others if m["id"] not in taken), None)
    if expecting is not None:
        known_on = max(expecting["supported_from"], today - timedelta(days=60))
        pregnancies.append(
            {
                "id": uuid.uuid4(),
                "mother_id": expecting["id"],
                "known_on": known_on,
                "at_referral": False,
                "due_on": known_on + timedelta(days=210),
                "outcome": "ongoing",
                "ended_on": None,
                **world.stamp,
            }
        )
    return pregnancies, births


def demo_rows(world: DemoWorld) -> DemoRows:
    directory: dict[tuple[str, str], Row] = {}
    links: list[Row] = []
    made: list[list[Row]] = [[], [], []]
    for mother in world.mothers:
        engaged_on: date = mother["supported_from"]
        if add_months(engaged_on, 3) > world.today or world.rng.random() > REVIEWED_SHARE:
            continue
        workers = _social_workers(world, mother, directory, links)
        for rows, more in zip(made, _reviews(world, mother, workers), strict=True):
            rows.extend(more)
    pregnancies, births = _pregnancies(world)
    tables: list[tuple[Any, list[Row]]] = [
        (Practitioner, list(directory.values())),
        (PractitionerLink, links),
        (Review, made[0]),
        (ReviewRating, made[1]),
        (ReviewRelationship, made[2]),
        (Pregnancy, pregnancies),
        (Birth, births),
    ]
    return tables
