"""A hearing's amendments: every change to it, who made it, and each field before and after."""

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.hearings.models import CourtHearing, CourtHearingAmendment
from tac_api.hearings.schemas import CourtHearingAmendmentPublic
from tac_api.history import made_by, oldest_first
from tac_api.notice import utc

# Amendments are read only through their hearing: no resource of their own, so their own order.
AMENDMENT_ORDER = oldest_first(CourtHearingAmendment)


def amendments_of(hearing_id: uuid.UUID) -> Select[Any]:
    return select(CourtHearingAmendment).where(CourtHearingAmendment.court_hearing_id == hearing_id)


async def public_page(
    session: AsyncSession, caller: Caller, amendments: list[CourtHearingAmendment]
) -> list[CourtHearingAmendmentPublic]:
    """A page of amendments as the caller may read them: a local authority sees only its own
    children in a change of `child_ids`, as in the hearing itself (one statement a page)."""
    shown = [amendment.model_dump() for amendment in amendments]
    if caller.is_local_authority:
        named = {
            uuid.UUID(child_id)
            for amendment in shown
            for change in amendment["changes"]
            if change["field"] == "child_ids"
            for side in ("old", "new")
            for child_id in change[side] or ()
        }
        own = set()
        if named:
            own = {
                str(child_id)
                for child_id in await session.scalars(
                    select(Child.id).where(
                        Child.id.in_(named),
                        Child.local_authority_code == caller.local_authority_code,
                    )
                )
            }
        for amendment in shown:
            amendment["changes"] = [
                (
                    {
                        **change,
                        "old": [c for c in change["old"] or () if c in own],
                        "new": [c for c in change["new"] or () if c in own],
                    }
                    if change["field"] == "child_ids"
                    else change
                )
                for change in amendment["changes"]
            ]
    return [CourtHearingAmendmentPublic.model_validate(amendment) for amendment in shown]


def _shown(value: Any) -> Any:
    """A value as the API shows it, for an amendment's JSON."""
    if isinstance(value, datetime):
        return utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return sorted(_shown(item) for item in value)
    return value


def amend(
    session: AsyncSession,
    caller: Caller,
    hearing: CourtHearing,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    prefix: str = "",
) -> bool:
    """Write one amendment with every field that changes (none: nothing is written)."""
    changes = []
    for field, new in after.items():
        old_shown, new_shown = _shown(before.get(field)), _shown(new)
        if old_shown != new_shown:
            changes.append({"field": f"{prefix}{field}", "old": old_shown, "new": new_shown})
    if not changes:
        return False
    session.add(
        CourtHearingAmendment(court_hearing_id=hearing.id, changes=changes, **made_by(caller))
    )
    return True
