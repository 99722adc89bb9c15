"""Demo referrals: a dozen over both prisons in every state, some behind a demo mother's record
(accepted, engaged, support closed for each reason), some with no record (awaiting a decision,
declined, not eligible). Drawn without the demo's random numbers, so that the packages loaded
after this one make the same records whether or not it is loaded."""

import uuid
from datetime import date, timedelta
from typing import Any

from tac_api.demo_world import DemoRows, DemoWorld
from tac_api.referrals.models import Referral

SOURCES = ["offender_management_unit", "health", "probation", "local_authority", "self", "court"]
REASONS = [
    "Her children were placed with her sister after her remand and she has had no contact since.",
    "The offender management unit asked for help preparing her for a child protection conference.",
    "She is pregnant and wants support before the pre-birth assessment.",
    "Her son's social worker asked for help arranging letterbox contact.",
    "She asked for help to understand the care proceedings about her daughter.",
    "The court asked for a parenting assessment in custody to be supported.",
]
# Support closed, with each reason (and a note for `other`).
CLOSINGS: list[tuple[str, str | None]] = [
    ("disengaged", None),
    ("moved_out", None),
    ("completed", None),
    ("other", "She asked to pause the work while her appeal is heard."),
]
# Referrals with no record of hers behind them: (status, first name, last name, prison).
NO_RECORD = [
    ("received", "Aoife", "Ní Mhurchú", "EWI"),
    ("received", "Zoë", "D'Souza", "SDI"),
    ("declined", "Bronwen", "O'Callaghan", "EWI"),
    ("declined", "Chloé", "Ó Briain", "SDI"),
    ("not_eligible", "Siân", "Ap Gwilym", "EWI"),
]
DECISION_REASONS = {
    "declined": "She did not want the service's support at this time.",
    "not_eligible": "She has no children under 18 and is not pregnant.",
}


def _referral(world: DemoWorld, n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "source": SOURCES[n % len(SOURCES)],
        "referred_by_id": None,
        "reason": REASONS[n % len(REASONS)],
        "pregnant": [False, None, True][n % 3],
        "decided_on": None,
        "decision_reason": None,
        "mother_id": None,
        "first_contact_on": None,
        "engaged_on": None,
        "support_closed_on": None,
        "support_closed_reason": None,
        "support_closed_note": None,
        **world.stamp,
        **fields,
    }


def demo_rows(world: DemoWorld) -> DemoRows:
    today = world.today
    rows = []
    # Her record stands behind these: accepted a few days before her support began.
    supported = [
        mother
        for mother in world.mothers
        if mother["status"] == "active" and mother["supported_from"] <= today - timedelta(days=60)
    ]
    # Engaged and still open (one in each prison where it can), closed for each reason, and one
    # accepted and not yet engaged.
    kinds: list[tuple[str, str | None]] = [("open", None), ("open", None), *CLOSINGS]
    kinds.append(("accepted", None))
    for n, (mother, (kind, note)) in enumerate(zip(supported, kinds, strict=False)):
        # Her support began on her `supported_from`, as the demo's reviews take it to have.
        engaged: date = mother["supported_from"]
        decided = engaged - timedelta(days=4)
        fields: dict[str, Any] = {
            "prison_code": mother["prison_code"],
            "received_on": engaged - timedelta(days=12),
            "prison_number": mother["prison_number"],
            "first_name": mother["first_name"],
            "last_name": mother["last_name"],
            "status": "accepted",
            "decided_on": decided,
            "mother_id": mother["id"],
        }
        if kind != "accepted":
            fields |= {"first_contact_on": engaged - timedelta(days=2), "engaged_on": engaged}
        if kind not in ("open", "accepted"):
            fields |= {
                "support_closed_on": min(today, engaged + timedelta(days=30 + 7 * n)),
                "support_closed_reason": kind,
                "support_closed_note": note,
            }
        rows.append(_referral(world, n, **fields))
    taken = {mother["prison_number"] for mother in world.mothers}
    numbers = (f"T{n:04d}RF" for n in range(10_000) if f"T{n:04d}RF" not in taken)
    for n, (status, first_name, last_name, prison) in enumerate(NO_RECORD):
        received = today - timedelta(days=20 + 45 * n)
        refused = status in DECISION_REASONS
        rows.append(
            _referral(
                world,
                n + len(kinds),
                prison_code=prison,
                received_on=received,
                prison_number=next(numbers),
                first_name=first_name,
                last_name=last_name,
                status=status,
                decided_on=received + timedelta(days=9) if refused else None,
                decision_reason=DECISION_REASONS.get(status),
            )
        )
    return [(Referral, rows)]
