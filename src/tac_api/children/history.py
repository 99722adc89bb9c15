"""A child's history: every change to the record, who made it, from which side and in which
request, each field before and after; and what of it a caller may read.

Written with the change itself (one insert for a whole sync batch), never altered. The values of a
confidential placement stay withheld in it exactly as in the record: from everyone but the
child's own authority, and from that authority too when they were another authority's (a child
moved while placed confidentially).
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children import service as children
from tac_api.children.models import Child, ChildHistoryEntry
from tac_api.children.schemas import ChildHistoryEntryPublic
from tac_api.db import REQUEST_ID, bulk_insert
from tac_api.history import made_by, oldest_first

HISTORY_TABLE = ChildHistoryEntry.__table__
# Each field of the history, as the API names it, and the column that holds it.
HISTORY_FIELDS = {
    "external_id": "external_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "date_of_birth": "date_of_birth",
    "expected_date": "expected_date",
    "sex": "sex",
    "local_authority_code": "local_authority_code",
    "legal_status": "legal_status",
    "placement_type": "placement_type",
    "lives_with": "lives_with",
    "placement_confidential": "placement_confidential",
    "carer.name": "carer_name",
    "carer.phone": "carer_phone",
    "carer.address": "carer_address",
    "social_worker.name": "social_worker_name",
    "social_worker.email": "social_worker_email",
    "social_worker.phone": "social_worker_phone",
    "contact_arrangement": "contact_arrangement",
    "contact_arrangement_reason": "contact_arrangement_reason",
}
# Withheld as the record withholds lives_with, placement_type and carer (children.schemas).
PLACEMENT_HISTORY_FIELDS = frozenset(
    {"lives_with", "placement_type", "carer.name", "carer.phone", "carer.address"}
)
# Shown, as in the record, to the authority whose id it is only.
AUTHORITYS_OWN_FIELDS = frozenset({"external_id"})
HISTORY_ORDER = oldest_first(ChildHistoryEntry)


_COLUMNS = tuple(HISTORY_FIELDS.items())
# The columns whose values the API shows otherwise than Python holds them.
_DATES = frozenset({"date_of_birth", "expected_date"})


def _shown(value: Any) -> Any:
    """A value as the API shows it, for the history's JSON."""
    return value.isoformat() if isinstance(value, date) else value


def changes_between(
    before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Each field whose value differs (from nothing, for a new record), old and new.

    Run for every child of a sync batch, so it compares the values as held and converts only
    the dates, and only where they changed."""
    if before is None:
        return [
            {"field": field, "old": None, "new": _shown(new) if column in _DATES else new}
            for field, column in _COLUMNS
            if (new := after[column]) is not None
        ]
    changes = []
    for field, column in _COLUMNS:
        old, new = before[column], after[column]
        if old != new:
            if column in _DATES:
                old, new = _shown(old), _shown(new)
            changes.append({"field": field, "old": old, "new": new})
    return changes


def source_of(caller: Caller) -> str:
    return "local_authority" if caller.is_local_authority else "prison_side"


def entry(
    child_id: uuid.UUID, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The history row for one change to one child (a row or a model's dump, before and after),
    but for who made it and when, which `write` adds; None when no field changed."""
    changes = changes_between(before, after)
    if not changes:
        return None
    held = before if before is not None else after
    return {
        "id": uuid.uuid4(),
        "child_id": child_id,
        "local_authority_code": held["local_authority_code"],
        "placement_confidential": bool(held["placement_confidential"])
        or bool(after["placement_confidential"]),
        "changes": changes,
    }


async def write(
    session: AsyncSession,
    caller: Caller,
    entries: Iterable[dict[str, Any] | None],
    changed_at: datetime | None = None,
) -> None:
    """Every entry in one statement, however many (a sync batch's as one child's), made by
    this caller in this request at one moment."""
    made = {
        **made_by(caller, changed_at),
        "source": source_of(caller),
        "request_id": session.info.get(REQUEST_ID),
    }
    await bulk_insert(
        session, HISTORY_TABLE, [row for row in entries if row is not None], same=made
    )


async def record(
    session: AsyncSession,
    caller: Caller,
    child: Child,
    before: Mapping[str, Any] | None,
) -> None:
    """Write the history of one change to this child (flushed), from `before` (None: created)."""
    await write(session, caller, [entry(child.id, before, child.model_dump())])


def history_of(child_id: uuid.UUID) -> Select[Any]:
    return select(ChildHistoryEntry).where(ChildHistoryEntry.child_id == child_id)


def _withheld(caller: Caller, child: Child, row: ChildHistoryEntry) -> frozenset[str]:
    """The fields of this entry whose values this caller may not read.

    A placement's: while it is withheld from the caller in the record; wherever they were
    recorded while it was confidential, unless the caller is the authority whose placement it
    was; and from an authority, wherever they were another authority's placement (a child moved
    to it leaves its carer behind: the history must not give back what the move cleared). An
    authority's own id: from all but that authority.
    """
    whose = caller.is_local_authority and caller.local_authority_code == row.local_authority_code
    withheld = frozenset() if whose else AUTHORITYS_OWN_FIELDS
    another_authoritys = caller.is_local_authority and not whose
    placement_hidden = (
        not children.sees_placement(caller, child.model_dump())
        or (row.placement_confidential and not whose)
        or another_authoritys
    )
    return withheld | PLACEMENT_HISTORY_FIELDS if placement_hidden else withheld


def history_public(
    caller: Caller, child: Child, rows: Iterable[ChildHistoryEntry]
) -> list[ChildHistoryEntryPublic]:
    shown = []
    for row in rows:
        withheld = _withheld(caller, child, row)
        changes = [
            {"field": change["field"], "old": None, "new": None, "withheld": True}
            if change["field"] in withheld
            else {**change, "withheld": False}
            for change in row.changes
        ]
        shown.append(
            ChildHistoryEntryPublic.model_validate({**row.model_dump(), "changes": changes})
        )
    return shown
