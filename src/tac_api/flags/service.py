"""Flags for review on any record of her case: the reason, who raised it and when, who cleared it
and when. Raised by hand through the API, or by the service itself (`raise_flag`: prison events,
later). The prison side's: no local authority sees one (`scope.review_flag_visible`)."""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller
from tac_api.flags.models import ReviewFlag
from tac_api.resources import Resource

FLAGS = Resource(
    kind="review_flag",
    model=ReviewFlag,
    label="flag for review",
    order=(ReviewFlag.raised_at, ReviewFlag.id),
    when=ReviewFlag.raised_at,
    path="/v1/flags",
)


async def raise_flag(
    session: AsyncSession,
    caller: Caller,
    *,
    mother_id: uuid.UUID,
    record: tuple[str, uuid.UUID],
    reason: str,
    source: str = "person",
) -> ReviewFlag:
    """A flag on one of her records (`record`: its kind in the audit trail and its id), in the
    caller's transaction, audited as collected. The caller has checked that the record is hers."""
    resource_type, resource_id = record
    values: dict[str, Any] = {
        "mother_id": mother_id,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "reason": reason,
        "raised_by_source": source,
        "raised_by_client_id": caller.client_id,
        "raised_by_name": caller.name,
        "raised_by_role": caller.role.value,
    }
    flag = ReviewFlag(**values)
    session.add(flag)
    await session.flush()
    audit.collected(session, FLAGS, flag)
    return flag
