"""Demo parenting assessments: for some mothers, one about one or two of her children."""

import uuid
from datetime import timedelta

from tac_api.assessments.models import (
    ParentingAssessment,
    ParentingAssessmentChild,
    ParentingAssessmentRecipient,
)
from tac_api.demo_world import DemoRows, DemoWorld

ASSESSORS = [
    ("Bethan Ap Rhys", "Cymru Independent Social Work"),
    ("Siobhán Nic Aodha", "Family Assessment Service"),
    ("Dolores Nuñez", None),
    ("Gráinne Fitzgerald", "Parenting Assessment Partnership"),
]
COURTS = [
    "Bristol Civil and Family Justice Centre",
    "Guildford Family Court",
    "Cardiff Family Court",
]
SOLICITORS = ["Máire O'Donnell", "Eleri Bowen"]


def demo_rows(world: DemoWorld) -> DemoRows:
    """About a quarter of mothers have an assessment, requested since her reception."""
    rng, today, stamp = world.rng, world.today, world.stamp
    assessments, concerns, recipients = [], [], []
    for mother in world.mothers:
        hers = world.children_of(mother)
        days_in = (today - mother["reception_date"]).days
        if not hers or days_in < 30 or rng.random() > 0.25:
            continue
        concerned = rng.sample(hers, k=min(len(hers), rng.choice([1, 1, 2])))
        by_court = rng.random() < 0.35
        requested = mother["reception_date"] + timedelta(days=rng.randrange(days_in - 20))
        model = rng.choice(["pams", "pams", "parent_assess", "other"])
        started = requested + timedelta(days=rng.randrange(5, 20))
        completed = started + timedelta(days=rng.randrange(30, 90))
        if completed > today:
            completed = None
        outcome = None
        if completed is not None:
            outcome = rng.choice(["positive", "negative", "inconclusive", "withdrawn"])
        assessor, organisation = rng.choice(ASSESSORS)
        assessment_id = uuid.uuid4()
        assessments.append(
            {
                "id": assessment_id,
                "mother_id": mother["id"],
                "requested_by": "court" if by_court else "local_authority",
                "requested_on": requested,
                "requesting_local_authority_code": None
                if by_court
                else concerned[0]["local_authority_code"],
                "assessor_name": assessor,
                "assessor_organisation": organisation,
                "model": model,
                "model_other": "Cognitive-behavioural parenting assessment"
                if model == "other"
                else None,
                "started_on": started,
                "completed_on": completed,
                "outcome": outcome,
                **stamp,
            }
        )
        concerns += [
            {"parenting_assessment_id": assessment_id, "child_id": child["id"]}
            for child in concerned
        ]
        if outcome is not None and outcome != "withdrawn":
            shared = [
                ("local_authority", None),
                ("mother", None),
                ("court", rng.choice(COURTS)),
                ("solicitor", rng.choice(SOLICITORS)),
            ][: rng.randrange(1, 5)]
            recipients += [
                {"parenting_assessment_id": assessment_id, "position": n, "role": r, "name": name}
                for n, (r, name) in enumerate(shared)
            ]
    return [
        (ParentingAssessment, assessments),
        (ParentingAssessmentChild, concerns),
        (ParentingAssessmentRecipient, recipients),
    ]
