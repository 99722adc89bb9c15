"""Synthetic consents: some mothers consent to share their plan (and some their reviews) with
their children's local authorities; one consent in five is withdrawn (at least one is)."""

import uuid
from datetime import UTC, datetime, time, timedelta

from tac_api.consents.models import Consent
from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.history import BY_DEMO_DATA

RECORDED_BY = "Eleri Bowen"  # who recorded the withdrawals


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, stamp = world.rng, world.today, world.stamp
    rows = []
    for mother in world.mothers:
        days_in = (today - mother["reception_date"]).days
        authorities = sorted({child["local_authority_code"] for child in world.children_of(mother)})
        if mother["status"] != "active" or days_in < 14 or not authorities:
            continue
        for authority in authorities:
            if rng.random() < 0.6:
                continue
            given_on = mother["reception_date"] + timedelta(days=rng.randrange(7, days_in))
            covers_plan = rng.random() < 0.8
            withdrawn = rng.random() < 0.2 or not rows  # the first one made, so there is one
            withdrawn_on = (
                given_on + timedelta(days=rng.randrange(0, (today - given_on).days + 1))
                if withdrawn
                else None
            )
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "mother_id": mother["id"],
                    "local_authority_code": authority,
                    "covers_plan": covers_plan,
                    "covers_reviews": not covers_plan or rng.random() < 0.6,
                    "covers_groups": rng.random() < 0.5,
                    "given_on": given_on,
                    "withdrawn_on": withdrawn_on,
                    "withdrawn_at": None
                    if withdrawn_on is None
                    else datetime.combine(withdrawn_on, time(15), tzinfo=UTC),
                    "withdrawn_by_name": RECORDED_BY if withdrawn else None,
                    **stamp,
                    "version": 2 if withdrawn else 1,
                    **BY_DEMO_DATA,
                    "changed_at": datetime.combine(given_on, time(11), tzinfo=UTC),
                }
            )
    return [(Consent, rows)]
