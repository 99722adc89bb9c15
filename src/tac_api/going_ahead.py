"""Hearings and meetings that do not go ahead: adjourned (to a new hearing or meeting, linked),
vacated or cancelled, with who decided and why.

What the two kinds share: the statuses, the rule that only a scheduled one changes status, the
flow of a status change (`change_status`, each kind described by a `Decided`), and the reverse
lookup of the record a new one was adjourned from (`adjourned_to_id` is kept on the old one only,
under a unique index where set, so the new one finds where it came from by that index, and is the
new date of one record at most).
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.db import touch, utcnow
from tac_api.errors import Conflict, InvalidInput
from tac_api.resources import Resource, check_only_own_children, every_child_of, get_for_change

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


Input = TypeVar("Input", bound=BaseModel)


def adjourned_input(schema: type[Input], kept: dict[str, Any], sent: BaseModel, noun: str) -> Input:
    """The new record's input (`schema`, a new record's): what it keeps of the old one (`kept`),
    with what was sent for it (`sent`, the body's `adjourned_to`) over that. Call it `under`
    `adjourned_to`. A kept value that today's rules refuse (recorded before them, or left so by
    an erasure: no child) is a 422 naming the field, not a 500: the caller sends the new one's
    (where `sent` takes it), or corrects the old record first."""
    given = {k: v for k, v in sent.model_dump(exclude_unset=True).items() if v is not None}
    try:
        return schema(**{**kept, **given})
    except ValidationError as error:
        problems = []
        for item in error.errors():
            field = ".".join(str(part) for part in item["loc"])
            message = item["msg"]
            top = str(item["loc"][0]) if item["loc"] else ""
            if top in kept and top not in given:
                remedy = (
                    f"send the new {noun}'s {top}"
                    if top in type(sent).model_fields
                    else f"correct this {noun} first"
                )
                message = f"kept from this {noun}, it breaks today's rules ({message}): {remedy}"
            problems.append((field, message))
        InvalidInput.raise_any(problems)
        raise  # not reached: raise_any raised


@dataclass(frozen=True)
class Decided:
    """What `change_status` needs to know of a kind (hearings, meetings): the flow is the same."""

    resource: Resource[Any]
    noun: str  # "hearing", as answers name it
    event: str  # its events' prefix: "court-hearing" (`court-hearing.adjourned`...)
    # What its status events say of it besides the decision: its type and date.
    described_by: tuple[str, ...]
    # Took place (an outcome, an attendance recorded): it no longer changes status.
    took_place: Callable[[Any], bool]
    recorded: str  # what says so, as the answer puts it: "This hearing has an outcome recorded"
    correct: str  # what to correct instead: "the outcome"
    # (session, caller, the old record, every child of it, the change): the new record, made
    # from the change's `adjourned_to` as any new one is (its rules, its `.created` event).
    adjourn: Callable[[AsyncSession, Caller, Any, list[uuid.UUID], Any], Awaitable[Any]]
    # Kept in its amendments (hearings): (session, caller, record, before, after).
    amend: Callable[[AsyncSession, Caller, Any, dict[str, Any], dict[str, Any]], Any] | None = None


def check_new_date(noun: str, record: Any, new: Any) -> None:
    """An adjournment's new record, recorded already (a local authority's system pushes it
    first): scheduled (409 otherwise: a record that did not go ahead is no one's new date), and
    not one this record is the new date of (409: the two would point at each other). A scheduled
    record points nowhere, so no longer circle can form either."""
    if new.adjourned_to_id == record.id:
        raise Conflict(
            f"That {noun} was adjourned to this one: this {noun} cannot be adjourned back to it."
        )
    if new.status != SCHEDULED:
        raise Conflict(
            f"That {noun} is {new.status}: only a scheduled {noun} can be the new date of another."
        )


def already_the_new_date(noun: str) -> Conflict:
    return Conflict(
        f"That {noun} is already the new date of another {noun}: a {noun} is the new date of "
        "one at most."
    )


async def change_status(
    kind: Decided,
    session: AsyncSession,
    caller: Caller,
    record_id: uuid.UUID,
    data: Any,
    if_match: str | None,
    *,
    adjourned_to: Any | None = None,
) -> tuple[Any, list[uuid.UUID], Any | None]:
    """A scheduled record adjourned, vacated or cancelled (409 otherwise): the record, every
    child of it, and the new record an adjournment made or named. `adjourned_to`: the new record
    already recorded (`check_new_date`); otherwise it is made from `data.adjourned_to`
    (`kind.adjourn`). A local authority does this only while every child is its own, as it
    changes the record. Two records adjourned to the same new one at the same moment: the
    unique index on adjourned_to_id refuses the second (409)."""
    noun = kind.noun
    record = await get_for_change(session, caller, kind.resource, record_id, if_match)
    if record.status != SCHEDULED:
        raise not_scheduled(record, noun, f"become {data.status}")
    if kind.took_place(record):
        raise Conflict(
            f"{kind.recorded}, so it took place: it cannot become {data.status}. Correct "
            f"{kind.correct} instead."
        )
    await check_only_own_children(session, caller, kind.resource, record.id)
    adjourning = data.status == "adjourned"
    if adjourning and data.adjourned_to is None and adjourned_to is None:
        raise InvalidInput("adjourned_to", f"give the new date of an adjourned {noun}")
    if not adjourning and (data.adjourned_to is not None or adjourned_to is not None):
        raise InvalidInput("adjourned_to", f"only for an adjourned {noun}, not {data.status}")
    if adjourned_to is not None:
        check_new_date(noun, record, adjourned_to)
    child_ids = await every_child_of(session, kind.resource, record.id)
    new = adjourned_to
    if adjourning and new is None:
        new = await kind.adjourn(session, caller, record, child_ids, data)
    before = {field: getattr(record, field) for field in STATUS_FIELDS}
    fed_before = snapshot(record, FEED_STATUS_FIELDS)
    after = status_values(
        data.status, data.decided_by, data.reason, utcnow(), new.id if new is not None else None
    )
    if kind.amend is not None:
        kind.amend(session, caller, record, before, after)
    for field, value in after.items():
        setattr(record, field, value)
    touch(record)
    try:
        await session.flush()
    except IntegrityError as exc:  # adjourned to it by another request at the same moment
        raise already_the_new_date(noun) from exc
    emit(
        session,
        event_type(kind.event, data.status),
        kind.resource.kind,
        record.id,
        record.mother_id,
        child_ids,
        {
            **snapshot(record, kind.described_by),
            **changes_between(fed_before, snapshot(record, FEED_STATUS_FIELDS)),
            "adjourned_to_starts_at": new.starts_at if new is not None else None,
        },
    )
    return record, child_ids, new
