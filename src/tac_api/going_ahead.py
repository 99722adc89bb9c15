"""Hearings and meetings that do not go ahead: adjourned (to a new hearing or meeting, linked),
vacated or cancelled, with who decided and why.

What the two kinds share: the statuses, the rule that only a scheduled one changes status, and
the reverse lookup of the record a new one was adjourned from (`adjourned_to_id` is kept on the
old one only, and indexed, so the new one finds where it came from by that index).
"""

import uuid
from datetime import datetime
from typing import Any, Literal

from tac_api.errors import Conflict, InvalidInput

GoingAhead = Literal["scheduled", "adjourned", "vacated", "cancelled"]
NotGoingAhead = Literal["adjourned", "vacated", "cancelled"]
SCHEDULED = "scheduled"
# The fields a status change sets, as the record and its public shape name them.
STATUS_FIELDS = (
    "status",
    "status_decided_by",
    "status_reason",
    "status_changed_at",
    "adjourned_to_id",
)
# What the change feed and webhooks carry of a status change: codes and dates only, never the
# reason (free text, the record's to show).
FEED_STATUS_FIELDS = ("status", "status_decided_by", "status_changed_at", "adjourned_to_id")

STATUS_DESCRIPTION = (
    "scheduled until it is adjourned (to a new one: adjourned_to_id), vacated or cancelled "
    "(POST .../status)."
)
REASON = "Why (free text): shown on the record, never carried by the change feed or webhooks."


def not_scheduled(record: Any, noun: str, wanted: str) -> Conflict:
    """409: a record whose status is not scheduled takes no status change, outcome or new date.
    `wanted`: what was asked of it, as the answer says it."""
    where = ""
    if record.adjourned_to_id is not None:
        where = f" (its new date is {noun} {record.adjourned_to_id})"
    return Conflict(
        f"This {noun} is {record.status}{where}: only a scheduled {noun} can {wanted}.",
    )


def status_values(
    status: str, decided_by: str, reason: str, now: datetime, adjourned_to: uuid.UUID | None
) -> dict[str, Any]:
    return {
        "status": status,
        "status_decided_by": decided_by,
        "status_reason": reason,
        "status_changed_at": now,
        "adjourned_to_id": adjourned_to,
    }


def event_type(prefix: str, status: str) -> str:
    """`court-hearing.adjourned`, `meeting.vacated`..."""
    return f"{prefix}.{status}"


class under:
    """Within it, a rule broken by the new record's fields names them under `prefix`
    (`adjourned_to.starts_at`): the rules are the new record's own, the body's field nests."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if isinstance(error, InvalidInput) and error.errors:
            for item in error.errors:
                if item.get("location") == "body":
                    item["field"] = f"{self.prefix}.{item['field']}"
            error.detail = "; ".join(f"{e['field']}: {e['message']}" for e in error.errors)
