"""Flags for review on any record of her case: the reason, who raised it and when, who cleared it
and when. Raised by hand through the API, or by the service itself (`raise_flag`: prison events,
later). The prison side's: no local authority sees one (`scope.review_flag_visible`), nor the
`flags_for_review` a record shows to the prison side (`open_flags_on`)."""

import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from sqlalchemy import ARRAY, Select, String, Uuid, any_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.db import fetch_rows, touch, utcnow
from tac_api.errors import Conflict, InvalidInput
from tac_api.flags.models import ReviewFlag
from tac_api.flags.schemas import Clearance, FlagCreate, FlagOnRecord, FlagPublic
from tac_api.resources import Resource, get_for_change, list_visible
from tac_api.scope import HER_RECORDS, mother_of_record

FLAGS = Resource(
    kind="review_flag",
    model=ReviewFlag,
    label="flag for review",
    order=(ReviewFlag.raised_at, ReviewFlag.id),
    when=ReviewFlag.raised_at,
    path="/v1/flags",
)
Shown = TypeVar("Shown", bound=BaseModel)
BY_PERSON = "person"
BY_EVENT = "event"


async def raise_flag(
    session: AsyncSession,
    caller: Caller,
    *,
    mother_id: uuid.UUID,
    record: tuple[str, uuid.UUID],
    reason: str,
    source: str = BY_PERSON,
) -> ReviewFlag:
    """A flag on one of her records (`record`: its kind in the audit trail and its id), in the
    caller's transaction, audited as collected. The caller has checked that the record is hers.
    `source="event"`: the service raises it (a prison event; the caller is the service's own)."""
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


async def raise_by_event(
    session: AsyncSession,
    source: Caller,
    *,
    mother_id: uuid.UUID,
    record: tuple[str, uuid.UUID],
    reason: str,
    unless: Literal["open", "ever"] | None = None,
) -> ReviewFlag | None:
    """A flag the service raises on one of her records (a prison event; `source`, its caller),
    unless an event already raised one for the same reason on that record: one still open
    (`unless="open"`: asked again once a person has cleared it), or any, cleared or not
    (`unless="ever"`: a person who has decided is not asked again). None: not raised."""
    if unless is not None:
        resource_type, resource_id = record
        already = select(ReviewFlag.id).where(
            ReviewFlag.mother_id == mother_id,
            ReviewFlag.resource_type == resource_type,
            ReviewFlag.resource_id == resource_id,
            ReviewFlag.raised_by_source == BY_EVENT,
            ReviewFlag.reason == reason,
        )
        if unless == "open":
            already = already.where(ReviewFlag.cleared_at.is_(None))
        if await session.scalar(already.limit(1)) is not None:
            return None
    return await raise_flag(
        session, source, mother_id=mother_id, record=record, reason=reason, source=BY_EVENT
    )


async def raise_by_hand(session: AsyncSession, caller: Caller, data: FlagCreate) -> ReviewFlag:
    """A person's flag on a record of her case the caller may see (422 naming `resource_id`
    otherwise: the body is wrong, not the address)."""
    mother_id = await mother_of_record(session, caller, data.resource_type, data.resource_id)
    if mother_id is None:
        raise InvalidInput(
            "resource_id", f"no {data.resource_type} of a mother's case with this id is visible"
        )
    return await raise_flag(
        session,
        caller,
        mother_id=mother_id,
        record=(data.resource_type, data.resource_id),
        reason=data.reason,
    )


def search(
    caller: Caller,
    *,
    mother_id: uuid.UUID | None = None,
    resource_type: str | None = None,
    resource_id: uuid.UUID | None = None,
    open_: bool | None = None,
    prison_code: str | None = None,
) -> Select[Any]:
    """The flags this caller may see, oldest raised first, by her, by record, open or cleared,
    by the prison she is held in."""
    statement = list_visible(caller, FLAGS, prison_code=prison_code, mother_id=mother_id)
    if resource_type is not None:
        statement = statement.where(ReviewFlag.resource_type == resource_type)
    if resource_id is not None:
        statement = statement.where(ReviewFlag.resource_id == resource_id)
    if open_ is True:
        statement = statement.where(ReviewFlag.cleared_at.is_(None))
    elif open_ is False:
        statement = statement.where(ReviewFlag.cleared_at.is_not(None))
    return statement


async def clear(
    session: AsyncSession,
    caller: Caller,
    flag_id: uuid.UUID,
    data: Clearance,
    if_match: str | None,
) -> ReviewFlag:
    """Cleared once (409 after), recording who cleared it, when, and what the review found."""
    flag = await get_for_change(session, caller, FLAGS, flag_id, if_match)
    if flag.cleared_at is not None:
        raise Conflict(f"This flag was cleared at {flag.cleared_at.isoformat()} already.")
    mark_cleared(flag, caller, data.note)
    await session.flush()
    return flag


def mark_cleared(flag: ReviewFlag, caller: Caller, note: str) -> None:
    """Cleared now, by the caller, with what the review found (or why it ended)."""
    flag.cleared_at = utcnow()
    flag.cleared_by_client_id = caller.client_id
    flag.cleared_by_name = caller.name
    flag.cleared_by_role = caller.role.value
    flag.clearance_note = note
    touch(flag)


def to_public(flag: ReviewFlag) -> FlagPublic:
    cleared = flag.cleared_at is not None
    return FlagPublic.model_validate(
        {
            **flag.model_dump(),
            "raised_by": {"name": flag.raised_by_name, "role": flag.raised_by_role},
            "open": not cleared,
            "cleared_by": {"name": flag.cleared_by_name, "role": flag.cleared_by_role}
            if cleared
            else None,
        }
    )


# -- Flags shown on the record they are on ----------------------------------------------------


async def open_flags_on(
    session: AsyncSession, caller: Caller, resource_type: str, record_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[FlagOnRecord]] | None:
    """The open flags on each of a page of records of one kind, oldest first, in one statement
    (none for an empty page), each flag shown audited as consulted. None for a local authority:
    a flag is the prison side's, and no statement is run for one."""
    if caller.is_local_authority:
        return None
    assert resource_type in HER_RECORDS, f"{resource_type} is no record of her case"
    ids = list(dict.fromkeys(record_ids))
    found: dict[uuid.UUID, list[FlagOnRecord]] = {record_id: [] for record_id in ids}
    if not ids:
        return found
    # Built once per database and role, run on the driver (`db.fetch_rows`): shown with every
    # record the prison side reads, so building it per request would cost more than the read.
    statement = _open_flags(session.get_bind().dialect.name, caller.role)
    params = {"resource_type": resource_type, "record_ids": ids, **scope_params(caller)}
    rows = await fetch_rows(session, statement, params)
    by_text = {str(record_id): record_id for record_id in ids}
    for row in rows:
        found[by_text[str(row["resource_id"])]].append(
            FlagOnRecord(
                id=row["id"],
                reason=row["reason"],
                raised_at=row["raised_at"],
                raised_by=row["raised_by_name"],
            )
        )
    audit.record_many(
        session, Action.consult, FLAGS.kind, [(row["id"], row["mother_id"]) for row in rows]
    )
    return found


@cache
def _open_flags(dialect: str, role: Role) -> Select[Any]:
    """The open flags on some records of one kind, oldest first, under the flags' scope."""
    ids = (
        ReviewFlag.resource_id == any_(bindparam("record_ids", type_=ARRAY(Uuid())))
        if dialect == "postgresql"
        else ReviewFlag.resource_id.in_(bindparam("record_ids", expanding=True))
    )
    return (
        select(
            ReviewFlag.id,
            ReviewFlag.mother_id,
            ReviewFlag.resource_id,
            ReviewFlag.reason,
            ReviewFlag.raised_at,
            ReviewFlag.raised_by_name,
        )
        .where(
            ReviewFlag.resource_type == bindparam("resource_type", type_=String()),
            ids,
            ReviewFlag.cleared_at.is_(None),
            FLAGS.visible(role),
        )
        .order_by(*FLAGS.order)
    )


async def with_flags(
    session: AsyncSession,
    caller: Caller,
    resource_type: str,
    shown: Sequence[BaseModel],
    id_of: str = "id",
) -> None:
    """Records as shown (their public shapes, with a `flags_for_review` field), given their open
    flags for the prison side: one statement for the whole page. A local authority's are left
    without (the field is absent from what it gets)."""
    flags = await open_flags_on(
        session, caller, resource_type, [getattr(record, id_of) for record in shown]
    )
    if flags is not None:
        for record in shown:
            record.flags_for_review = flags[getattr(record, id_of)]  # type: ignore[attr-defined]


async def flagged(
    session: AsyncSession, caller: Caller, resource_type: str, shown: Shown, *, new: bool = False
) -> Shown:
    """One record as shown, with its open flags for the prison side (`with_flags`). `new`: a
    record just made, which no flag can be on yet: no statement."""
    if new:
        if not caller.is_local_authority:
            shown.flags_for_review = []  # type: ignore[attr-defined]
        return shown
    await with_flags(session, caller, resource_type, [shown])
    return shown
