"""Synthetic contact visits for the demo data, keeping the rules a real one keeps: none for a
child with no contact, letters only where contact is indirect, a supervisor where it is
supervised, one final contact per child, and a status history that follows the lifecycle."""

import uuid
from datetime import UTC, datetime, time, timedelta

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.history import BY_DEMO_DATA
from tac_api.visits.models import ContactVisit, ContactVisitChild, ContactVisitStatusChange
from tac_api.visits.schemas import CALLED_OFF, FINAL_CONTACT, IN_PERSON, INDIRECT

DIRECT_TYPES = ["in_person_social_visit", "in_person_social_visit", "family_day", "video_call"]
DIRECT_TYPES += ["phone_call", INDIRECT]
# How far along each visit got: the path through the lifecycle.
PATHS = [
    ["requested"],
    ["requested", "approved"],
    ["requested", "approved", "scheduled"],
    ["requested", "approved", "scheduled", "held"],
    ["requested", "approved", "scheduled", "held"],
    ["requested", "approved", "scheduled", "held"],
    ["requested", "approved", "cancelled"],
    ["requested", "refused"],
]
# Why a visit was called off: the words, and the code reports count.
REASONS = {
    "cancelled": [
        ("The carer could not get the child to the prison.", "transport"),
        ("Lockdown on the wing.", "prison_regime"),
    ],
    "refused": [
        ("The child's social worker advised against it for now.", "local_authority_decision")
    ],
}
OUTCOMES = ["went_ahead_as_planned"] * 5 + [
    "child_did_not_arrive",
    "mother_refused",
    "visit_cut_short",
]
SUPERVISORS = ["Gwen Llewellyn", "Tomás Ó Briain", "Owain Pugh"]
WORKERS = ["Margaret D'Arcy", "Hélène Adeyemi"]


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, now, stamp = world.rng, world.today, world.now, world.stamp
    visits, with_children, changes = [], [], []
    for mother in world.mothers:
        hers = [c for c in world.children_of(mother) if c["contact_arrangement"] != "none"]
        had_final: set[uuid.UUID] = set()
        for _ in range(rng.choice([0, 1, 1, 2]) if hers else 0):
            child = rng.choice(hers)
            arrangement = child["contact_arrangement"]
            if arrangement == "indirect_only":
                visit_type = INDIRECT
            elif (
                child["lives_with"] == "adopters"
                and child["id"] not in had_final
                and rng.random() < 0.3
            ):
                visit_type = FINAL_CONTACT
            else:
                visit_type = rng.choice(DIRECT_TYPES)
            path = rng.choice(PATHS)
            status = path[-1]
            if visit_type == FINAL_CONTACT and status not in CALLED_OFF:
                had_final.add(child["id"])
            day = today + timedelta(days=rng.randrange(-90, -1) if "held" in path else 14)
            when = datetime.combine(day, time(rng.choice([10, 14])), UTC)
            scheduled_at = when if "scheduled" in path or rng.random() < 0.3 else None
            in_person = visit_type in IN_PERSON
            # A confidential placement's carer is not named on a visit: a worker brings the child.
            carer = None if child["placement_confidential"] else child["carer_name"]
            escort = carer or rng.choice(WORKERS)
            escort_role = "carer" if carer else "social_worker"
            supervised = arrangement == "supervised" and visit_type != INDIRECT
            reason, reason_code = rng.choice(REASONS[status]) if status in REASONS else (None, None)
            visit_id = uuid.uuid4()
            visits.append(
                {
                    "id": visit_id,
                    "mother_id": mother["id"],
                    "visit_type": visit_type,
                    "escort_name": escort if in_person else None,
                    "escort_role": escort_role if in_person else None,
                    "supervisor_name": rng.choice(SUPERVISORS) if supervised else None,
                    "supervisor_role": "contact supervisor" if supervised else None,
                    "scheduled_at": scheduled_at,
                    "status": status,
                    "status_reason": reason,
                    "status_reason_code": reason_code,
                    "outcome": rng.choice(OUTCOMES) if status == "held" else None,
                    "outcome_notes": None,
                    **stamp,
                    "version": len(path),
                }
            )
            with_children.append(
                {
                    "contact_visit_id": visit_id,
                    "child_id": child["id"],
                    "final_contact": visit_type == FINAL_CONTACT and status not in CALLED_OFF,
                }
            )
            # The history, a few days apart: held just after the visit, otherwise lately.
            if status == "held":
                last = when + timedelta(hours=2)
            else:
                last = now - timedelta(hours=rng.randrange(1, 48))
            for step, (before, after) in enumerate(zip([None, *path], path, strict=False)):
                changes.append(
                    {
                        "id": uuid.uuid4(),
                        "contact_visit_id": visit_id,
                        "mother_id": mother["id"],
                        "changed_at": last - timedelta(days=3 * (len(path) - 1 - step)),
                        "from_status": before,
                        "to_status": after,
                        "reason": reason if after == status else None,
                        "reason_code": reason_code if after == status else None,
                        **BY_DEMO_DATA,
                        **stamp,
                    }
                )
    return [
        (ContactVisit, visits),
        (ContactVisitChild, with_children),
        (ContactVisitStatusChange, changes),
    ]
