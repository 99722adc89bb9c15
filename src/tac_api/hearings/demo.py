"""Demo court work: proceedings for most mothers with children in care, hearings past (with
outcomes, some missed for the barriers the evaluation found) and to come, a few moved dates."""

import uuid
from datetime import UTC, date, datetime, time, timedelta

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.hearings.models import (
    CourtHearing,
    CourtHearingAmendment,
    CourtHearingChild,
    Proceedings,
    ProceedingsChild,
    ProceedingsExtension,
)
from tac_api.history import BY_DEMO_DATA

COURTS = [
    ("Bristol Civil and Family Justice Centre", "BRS"),
    ("Gloucester Family Court", "GLO"),
    ("Guildford Family Court", "GFD"),
    ("Swindon Combined Court", None),
    ("Cardiff Civil and Family Justice Centre", "CDF"),
    ("Central Family Court", "CFC"),
]
SEQUENCE = ["interim_care_order", "case_management", "further_case_management", "issues_resolution"]
BARRIERS = ["late_notice", "platform_incompatible", "no_video_link_slot", "no_escort_or_transport"]
EXTENSION_REASONS = [
    "Parenting assessment in custody not yet complete.",
    "Further assessment of the paternal grandmother as a kinship carer.",
    "Expert psychological report delayed.",
]


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _weekday(day: date) -> date:
    """Courts sit Monday to Friday: a weekend date moves to the Monday."""
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, now, stamp = world.rng, world.today, world.now, world.stamp
    proceedings, proceedings_children, extensions = [], [], []
    hearings, hearing_children, amendments = [], [], []
    for mother in world.mothers:
        children = [c for c in world.children_of(mother) if c["lives_with"] != "mother"]
        if not children or mother["status"] == "closed" or rng.random() < 0.3:
            continue
        # One authority's proceedings concern its own children: those of the first child's.
        authority = children[0]["local_authority_code"]
        concerned = [c["id"] for c in children if c["local_authority_code"] == authority]
        court, code = rng.choice(COURTS)
        issued_on = today - timedelta(days=rng.randrange(20, 300))
        proceedings_id = uuid.uuid4()
        proceedings.append(
            {
                "id": proceedings_id,
                "mother_id": mother["id"],
                "court_name": court,
                "court_code": code,
                "case_number": f"{code or 'ZW'}{issued_on:%y}C{rng.randrange(10_000):05d}",
                "issued_on": issued_on,
                **stamp,
            }
        )
        proceedings_children += [
            {"proceedings_id": proceedings_id, "child_id": c} for c in concerned
        ]
        if (today - issued_on).days > 24 * 7 and rng.random() < 0.5:
            extensions.append(
                {
                    "id": uuid.uuid4(),
                    "proceedings_id": proceedings_id,
                    "weeks": rng.choice([4, 6, 8]),
                    "reason": rng.choice(EXTENSION_REASONS),
                    "granted_on": issued_on + timedelta(weeks=24),
                    **stamp,
                }
            )
        day = issued_on + timedelta(days=rng.randrange(3, 10))
        for hearing_type in SEQUENCE[: rng.randrange(1, len(SEQUENCE) + 1)]:
            day = _weekday(day)
            starts_at = _at(day, rng.choice([10, 11, 14]))
            if starts_at > now + timedelta(days=60):
                break
            # Courts often tell the prison late: the barrier this work exists to remove.
            notified_at = starts_at - timedelta(days=rng.choice([1, 2, 3, 5, 9, 14, 21]), hours=3)
            notified_at = min(notified_at, now)
            past = starts_at < now
            attended = past and rng.random() < 0.6
            mode = rng.choice(["prison_video_link", "prison_video_link", "remote_platform"])
            hearing_id = uuid.uuid4()
            late = (starts_at - notified_at).days < 7
            barrier = None
            if past and not attended:
                barrier = "late_notice" if late else rng.choice(BARRIERS)
            hearings.append(
                {
                    "id": hearing_id,
                    "mother_id": mother["id"],
                    "proceedings_id": proceedings_id,
                    "court_name": court,
                    "court_code": code,
                    "hearing_type": hearing_type,
                    "starts_at": starts_at,
                    "notified_at": notified_at,
                    "attendance_mode": mode,
                    "social_worker_attends": rng.random() < 0.4,
                    "outcome_recorded_at": starts_at + timedelta(days=1) if past else None,
                    "attended": attended if past else None,
                    "attended_how": mode if attended else None,
                    "barrier": barrier,
                    "barrier_detail": None,
                    "order_made": (
                        "interim_care_order"
                        if past and hearing_type == "interim_care_order"
                        else None
                    ),
                    "order_detail": None,
                    **stamp,
                }
            )
            hearing_children += [{"court_hearing_id": hearing_id, "child_id": c} for c in concerned]
            if not past and rng.random() < 0.2:
                moved_from = starts_at - timedelta(days=rng.choice([2, 7, 14]))
                amendments.append(
                    {
                        "id": uuid.uuid4(),
                        "court_hearing_id": hearing_id,
                        "changed_at": min(now, notified_at + timedelta(days=1)),
                        **BY_DEMO_DATA,
                        "changes": [
                            {
                                "field": "starts_at",
                                "old": moved_from.isoformat().replace("+00:00", "Z"),
                                "new": starts_at.isoformat().replace("+00:00", "Z"),
                            }
                        ],
                    }
                )
            day += timedelta(days=rng.randrange(21, 56))
    return [
        (Proceedings, proceedings),
        (ProceedingsChild, proceedings_children),
        (ProceedingsExtension, extensions),
        (CourtHearing, hearings),
        (CourtHearingChild, hearing_children),
        (CourtHearingAmendment, amendments),
    ]
