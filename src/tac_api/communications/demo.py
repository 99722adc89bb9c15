"""Synthetic communications: what was relayed for each mother, and life story contributions for
her children with whom contact is not appropriate."""

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tac_api.communications.models import Communication, CommunicationChild
from tac_api.demo_world import DemoRows, DemoWorld

# (from, to, channel, summary): about her children unless the child is a party.
RELAYS = [
    ("la_social_worker", "mother", "phone", "Update after the looked-after child review."),
    ("mother", "la_social_worker", "email", "Her questions for the child protection conference."),
    ("court", "mother", "letter", "Notice of the next case management hearing."),
    ("solicitor", "mother", "video_call", "Advice before the issues resolution hearing."),
    ("carer", "mother", "letter", "School report and photographs from the carer."),
    ("mother", "carer", "letter", "A birthday card, passed on through the carer."),
    ("mother", "child", "letter", "A letter for the child's birthday."),
    ("prison_social_worker", "la_social_worker", "email", "Visit dates available next month."),
]
ITEMS = [
    "Letter about the day the child was born.",
    "Photograph of her as a child, with a note on the back.",
    "Memory book page: her family, and where the child's name comes from.",
    "Recording of a bedtime story, for the child's life story work.",
]
NAMES = {"la_social_worker": "Gwen Llewellyn", "solicitor": "Máire O'Donnell", "carer": None}


def _when(rng: random.Random, reception: date, today: date) -> datetime:
    day = reception + timedelta(days=rng.randrange(max(1, (today - reception).days)))
    return datetime.combine(day, time(rng.randrange(9, 17), rng.choice([0, 15, 30, 45])), UTC)


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, stamp = world.rng, world.today, world.stamp

    communications, concerned = [], []

    def add(mother: dict[str, Any], child_ids: list[uuid.UUID], **fields: Any) -> None:
        communication_id = uuid.uuid4()
        communications.append(
            {
                "id": communication_id,
                "mother_id": mother["id"],
                "occurred_at": _when(rng, mother["reception_date"], today),
                "item_description": None,
                **fields,
                **stamp,
            }
        )
        concerned.extend({"communication_id": communication_id, "child_id": c} for c in child_ids)

    for mother in world.mothers:
        hers = world.children_of(mother)
        reachable = [c for c in hers if c["contact_arrangement"] != "none"]
        for _ in range(rng.randrange(0, 4)):
            from_party, to_party, channel, summary = rng.choice(RELAYS)
            if "child" in (from_party, to_party):
                if not reachable:
                    continue
                about = [rng.choice(reachable)["id"]]
            else:
                about = [c["id"] for c in rng.sample(hers, min(len(hers), rng.randrange(0, 3)))]
            add(
                mother,
                about,
                kind="relay",
                from_party=from_party,
                from_name=NAMES.get(from_party),
                to_party=to_party,
                to_name=NAMES.get(to_party),
                channel=channel,
                summary=summary,
            )
        for child in hers:
            if child["contact_arrangement"] == "none" and rng.random() < 0.6:
                add(
                    mother,
                    [child["id"]],
                    kind="life_story_contribution",
                    from_party="mother",
                    from_name=None,
                    to_party="la_social_worker",
                    to_name=NAMES["la_social_worker"],
                    channel="letter",
                    summary="For the child's life story work, through the social worker.",
                    item_description=rng.choice(ITEMS),
                )
    return [(Communication, communications), (CommunicationChild, concerned)]
