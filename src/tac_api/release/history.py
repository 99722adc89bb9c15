"""A release plan's history: every change to the plan, who made it, when and in which request,
and each field before and after, as the API names and shows them: the plan's own fields, each
pathway's status and note, each action, each child's contact after release and each onward
referral (one field each, keyed by its id), and `complete` (by the whole rule, the continuity
rule included, as `due` and the reports judge it).

Written with the change itself, in its transaction, and never altered. The reports count a plan
complete or not as it stood at a period's end from `complete` (`reports.as_they_stood`).
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.db import REQUEST_ID
from tac_api.history import made_by
from tac_api.release.models import ReleasePlan, ReleasePlanHistoryEntry
from tac_api.release.schemas import COMMUNITY, PATHWAYS

COMPLETE = "complete"
PROBATION = ("name", "email", "phone")
ACTION_FIELDS = ("description", "owner", "due_on", "done_on")
ONWARD_FIELDS = (
    "organisation_id",
    "made_on",
    "accepted_on",
    "declined_on",
    "first_contact_on",
    "note",
)
ONWARD = f"pathways.{COMMUNITY}.onward_referrals"

# A plan as it stands, field by field (`state`): what `record` compares.
State = dict[str, Any]


def _shown(value: Any) -> Any:
    """A value as the API shows it, for the history's JSON."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def state(
    plan: ReleasePlan,
    pathways: Mapping[str, Mapping[str, Any]],
    actions: Iterable[Any],
    contacts: Iterable[Any],
    referrals: Iterable[Any],
    *,
    complete: bool,
) -> State:
    """The plan's fields as they stand: its parts as `service._parts` reads them (every one,
    not a caller's share), and whether it is complete by the whole rule."""
    fields: State = {
        "expected_release_date": _shown(plan.expected_release_date),
        "release_local_authority_code": plan.release_local_authority_code,
        "accommodation_status": plan.accommodation_status,
        **{f"probation_contact.{name}": getattr(plan, f"probation_{name}") for name in PROBATION},
    }
    for name in PATHWAYS:
        fields[f"pathways.{name}.status"] = pathways[name]["status"]
        fields[f"pathways.{name}.note"] = pathways[name].get("note")
    for action in actions:
        fields[f"actions.{action.id}"] = {
            name: _shown(getattr(action, name)) for name in ACTION_FIELDS
        }
    for contact in contacts:
        fields[f"contact_after_release.{contact.child_id}"] = contact.arrangement
    for referral in referrals:
        fields[f"{ONWARD}.{referral.id}"] = {
            name: _shown(getattr(referral, name)) for name in ONWARD_FIELDS
        }
    fields[COMPLETE] = complete
    return fields


def changes_between(before: State | None, after: State) -> list[dict[str, Any]]:
    """Each field whose value differs, old and new: from nothing for a new plan (`complete`
    from null: there was no plan), to nothing for an action, contact or referral taken out."""
    before = before or {}
    changes = [
        {"field": field, "old": before.get(field), "new": new}
        for field, new in after.items()
        if before.get(field) != new
    ]
    changes += [
        {"field": field, "old": old, "new": None}
        for field, old in before.items()
        if field not in after and old is not None
    ]
    return changes


def record(
    session: AsyncSession,
    caller: Caller,
    plan_id: uuid.UUID,
    before: State | None,
    after: State,
) -> None:
    """Write the history of one change to the plan (`before` None: made now), in the change's
    own transaction; nothing when no field changed."""
    changes = changes_between(before, after)
    if not changes:
        return
    session.add(
        ReleasePlanHistoryEntry(
            release_plan_id=plan_id,
            request_id=session.info.get(REQUEST_ID),
            changes=changes,
            **made_by(caller),
        )
    )
