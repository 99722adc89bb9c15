"""Synthetic meetings for the demo data: a few per mother, past ones with whether she attended
and, when she did not, what stopped her (mostly the platform and late notice, as the evaluation
found)."""

import uuid
from datetime import UTC, datetime, time, timedelta

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.meetings.schemas import PRISON_JOINS

MEETING_TYPES = [
    "child_protection_conference",
    "core_group",
    "core_group",
    "looked_after_child_review",
    "looked_after_child_review",
    "pre_proceedings_meeting",
    "strategy",
    "professionals_meeting",
    "other",
]
# Local authorities mostly meet on Teams: the barrier the project exists to remove.
PLATFORMS = [
    "microsoft_teams",
    "microsoft_teams",
    "microsoft_teams",
    "zoom",
    "cloud_video_platform",
    "cloud_video_platform",
    "prison_video_link",
    "phone",
    "in_person",
]
SUPPORTERS = ["Ceri Jones, prison social worker", "Mared ap Huw, prison social worker"]


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, now, stamp = world.rng, world.today, world.now, world.stamp
    meetings, concerned = [], []
    for mother in world.mothers:
        hers = world.children_of(mother)
        for _ in range(rng.choice([0, 1, 1, 2, 3]) if hers else 0):
            day = today + timedelta(days=rng.randrange(-120, 30))
            starts_at = datetime.combine(day, time(rng.randrange(9, 16), rng.choice([0, 30])), UTC)
            notice = rng.choice([0, 1, 2, 3, 5, 7, 10, 14, 21])
            notified_at = min(starts_at - timedelta(days=notice, hours=rng.randrange(0, 8)), now)
            platform = rng.choice(PLATFORMS)
            can_join = platform in PRISON_JOINS
            invited = rng.random() < 0.9
            attended, barrier, detail, supported_by = None, None, None, None
            if starts_at < now:
                if not invited:
                    attended, barrier = False, "not_invited"
                elif not can_join and rng.random() < 0.7:
                    attended, barrier = False, "platform_incompatible"
                elif notice < 3 and rng.random() < 0.6:
                    attended, barrier = False, "late_notice"
                elif rng.random() < 0.85:
                    attended = True
                else:
                    attended = False
                    barrier = rng.choice(
                        ["no_video_link_slot", "mother_declined", "unwell", "other"]
                    )
                    if barrier == "other":
                        detail = "Moved to another wing the same morning."
                if attended and rng.random() < 0.6:
                    supported_by = rng.choice(SUPPORTERS)
            meeting_id = uuid.uuid4()
            meetings.append(
                {
                    "id": meeting_id,
                    "mother_id": mother["id"],
                    "meeting_type": rng.choice(MEETING_TYPES),
                    "starts_at": starts_at,
                    "notified_at": notified_at,
                    "platform": platform,
                    "prison_can_join": can_join,
                    "invited": invited,
                    "attended": attended,
                    "barrier": barrier,
                    "barrier_detail": detail,
                    "supported_by": supported_by,
                    **stamp,
                }
            )
            for child in rng.sample(hers, k=min(len(hers), rng.choice([1, 1, 2]))):
                concerned.append({"meeting_id": meeting_id, "child_id": child["id"]})
    return [(Meeting, meetings), (MeetingChild, concerned)]
