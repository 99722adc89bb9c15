"""Demo staff directory and allocations: four of the service's staff per prison (one who has
left), most active women allocated, some reallocated once, a few waiting for a worker."""

import uuid
from datetime import date, timedelta
from typing import Any

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.history import BY_DEMO_DATA
from tac_api.staff.models import Allocation, StaffMember

# Per prison: name and role. The last has left: her women were reallocated before she went.
STAFF = {
    "EWI": [
        ("Siân O'Connor", "prison_social_worker"),
        ("Aoife Ní Bhriain", "advocate"),
        ("Bethan Ap Rhys", "facilitator"),
        ("Hélène D'Arcy", "advocate"),
    ],
    "SDI": [
        ("Máire O'Donnell", "prison_social_worker"),
        ("Ffion Llŷr", "advocate"),
        ("Precious Okafor", "facilitator"),
        ("Zoë D'Souza", "advocate"),
    ],
}
# How the current staff's caseloads are weighted: the first carries the most (with enough
# women in her prison, she is over the guide).
WEIGHTS = [4, 2, 1]
REASONS = [
    "Allocated at her first meeting with the service.",
    "Her advocate's caseload was full.",
    "She asked for a worker she already knew from the wing.",
]


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isascii() and ch.isalpha())


def demo_rows(world: DemoWorld) -> DemoRows:
    rng, today, stamp = world.rng, world.today, world.stamp
    staff_rows: list[dict[str, Any]] = []
    current: dict[str, list[dict[str, Any]]] = {}
    leavers: dict[str, dict[str, Any]] = {}
    for prison, people in STAFF.items():
        for n, (name, role) in enumerate(people):
            row = {
                "id": uuid.uuid4(),
                "prison_code": prison,
                "name": name,
                "role": role,
                "email": f"{_slug(name)}.{prison.lower()}@tac.example.org",
                "phone": f"0300 123 {rng.randrange(10_000):04d}",
                "identity_subject": None,
                "api_client_id": None,
                "signs_in_as": None,
                "left_on": today - timedelta(days=30) if n == len(people) - 1 else None,
                **stamp,
            }
            staff_rows.append(row)
            if row["left_on"] is None:
                current.setdefault(prison, []).append(row)
            else:
                leavers[prison] = row

    allocations: list[dict[str, Any]] = []

    def allocation(
        mother: dict[str, Any], worker: dict[str, Any], start: date, **more: Any
    ) -> None:
        allocations.append(
            {
                "id": uuid.uuid4(),
                "mother_id": mother["id"],
                "staff_member_id": worker["id"],
                "allocated_on": start,
                "ended_on": None,
                "reason": rng.choice(REASONS),
                "end_reason": None,
                **BY_DEMO_DATA,
                "changed_at": world.now,
                **stamp,
                **more,
            }
        )

    for mother in world.mothers:
        prison = mother["prison_code"]
        start: date = max(mother["supported_from"], mother["reception_date"])
        worker = rng.choices(current[prison], weights=WEIGHTS)[0]
        if mother["status"] == "closed":
            closed_on: date = mother["closed_on"]
            if start <= closed_on and rng.random() < 0.5:
                allocation(mother, worker, start, ended_on=closed_on, end_reason="Case closed.")
            continue
        if rng.random() < 0.12:
            continue  # waiting for a worker: unallocated
        days = (today - start).days
        if days > 60 and rng.random() < 0.3:
            # Reallocated once: from the worker who has since left, or from a colleague.
            first = leavers[prison] if rng.random() < 0.5 else rng.choice(current[prison])
            if first["id"] != worker["id"]:
                switched = start + timedelta(days=rng.randrange(1, min(days, 365 * 2)))
                switched = min(switched, first["left_on"] or today)
                if switched > start:
                    allocation(mother, first, start, ended_on=switched, end_reason="Reallocated.")
                    start = switched
        allocation(mother, worker, start)
    return [(StaffMember, staff_rows), (Allocation, allocations)]
