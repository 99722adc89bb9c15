"""Local authority sync: an authority's system writes its own records, keyed by its own ids.

Children, pushed one or a thousand at a time, are `sync.children`; this module is the court
hearings and meetings an authority pushes one at a time, each an upsert by its own id.
"""

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    PreconditionFailed,
)
from tac_api.going_ahead import SCHEDULED
from tac_api.hearings import service as hearings
from tac_api.hearings.models import CourtHearing
from tac_api.hearings.schemas import (
    CourtHearingCreate,
    CourtHearingUpdate,
    HearingStatusChange,
)
from tac_api.http import etag_for
from tac_api.meetings import service as meetings
from tac_api.meetings.models import Meeting
from tac_api.meetings.schemas import MeetingCreate, MeetingStatusChange, MeetingUpdate
from tac_api.mothers.models import Mother
from tac_api.mothers.service import mother_named
from tac_api.preconditions import check_if_match, if_none_match_holds, sent
from tac_api.resources import children_of
from tac_api.scope import mother_visible
from tac_api.sync.schemas import SyncCourtHearing, SyncMeeting


def authority_of(caller: Caller) -> str:
    """Sync is an authority's system writing its own records: the authority is the caller's."""
    if not caller.is_local_authority or caller.local_authority_code is None:
        raise Forbidden(
            "Sync writes a local authority's own records: use that authority's la_system client."
        )
    return caller.local_authority_code


def check_conditions(
    existing: Mapping[str, Any] | None,
    if_match: str | None,
    if_none_match: str | None,
    noun: str = "child",
) -> None:
    """If-Match: change only the version you read. If-None-Match: *: create only. Both optional:
    a push is an upsert. `noun`: what was pushed, as the answer names it."""
    version = existing["version"] if existing is not None else None
    if sent(if_none_match) and not if_none_match_holds(if_none_match, version):
        raise PreconditionFailed(f"This {noun} is already recorded: leave out If-None-Match.")
    if not sent(if_match):
        return
    if existing is None:
        raise PreconditionFailed(f"No {noun} with this id is recorded yet: leave out If-Match.")
    check_if_match(if_match, existing["version"])


async def mother_and_children(
    session: AsyncSession, caller: Caller, prison_number: str, external_ids: Iterable[str]
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Her id and the authority's children of hers named by the authority's own ids."""
    authority = authority_of(caller)
    mother_id = await session.scalar(
        select(Mother.id).where(Mother.id == mother_named(prison_number), mother_visible(caller))
    )
    if mother_id is None:
        raise InvalidInput(
            "mother_prison_number",
            "no mother with this prison number has children of your authority's in the "
            "service: sync her children first",
        )
    wanted = list(dict.fromkeys(external_ids))
    found = dict(
        (
            await session.execute(
                select(Child.external_id, Child.id).where(
                    Child.local_authority_code == authority,
                    Child.mother_id == mother_id,
                    Child.external_id.in_(wanted),
                )
            )
        ).all()
    )
    InvalidInput.raise_any(
        [
            ("child_external_ids", f"{external_id!r} is not one of your children of hers")
            for external_id in wanted
            if external_id not in found
        ]
    )
    return mother_id, [found[external_id] for external_id in wanted]


async def _pushed(session: AsyncSession, model: Any, authority: str, external_id: str) -> Any:
    return await session.scalar(
        select(model)
        .where(model.external_authority_code == authority, model.external_id == external_id)
        .with_for_update()
    )


def _changed_fields(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in wanted.items() if current.get(name) != value}


@dataclass(frozen=True)
class PushedKind:
    """How a kind of record an authority pushes (a hearing, a meeting) is read and written:
    through its own service, so every rule of that service holds for a push too."""

    model: Any
    noun: str
    children_of: Callable[[AsyncSession, Caller, uuid.UUID], Awaitable[list[uuid.UUID]]]
    create: Callable[..., Awaitable[tuple[Any, list[uuid.UUID]]]]
    update: Callable[..., Awaitable[tuple[Any, list[uuid.UUID]]]]
    # (session, caller, record id, the change, If-Match, the record adjourned to): the record.
    change_status: Callable[..., Awaitable[Any]]
    status_change: type[HearingStatusChange] | type[MeetingStatusChange]


STATUS_PUSHED = ("status", "status_decided_by", "status_reason", "adjourned_to_external_id")


def _status_rules(data: SyncCourtHearing | SyncMeeting) -> None:
    """A decision pushed comes whole: who decided and why, and an adjournment's new record."""
    problems = []
    deciding = data.status not in (None, SCHEDULED)
    if deciding:
        for field in ("status_decided_by", "status_reason"):
            if getattr(data, field) is None:
                problems.append((field, f"say it with a status of {data.status}"))
    else:
        for field in ("status_decided_by", "status_reason"):
            if getattr(data, field) is not None:
                problems.append((field, "only with a status of adjourned, vacated or cancelled"))
    if data.status == "adjourned" and data.adjourned_to_external_id is None:
        problems.append(("adjourned_to_external_id", "name the new record it was adjourned to"))
    if data.status != "adjourned" and data.adjourned_to_external_id is not None:
        problems.append(("adjourned_to_external_id", "only with a status of adjourned"))
    InvalidInput.raise_any(problems)


async def _adjourned_to(
    kind: PushedKind,
    session: AsyncSession,
    authority: str,
    record: Any,
    external_id: str,
) -> Any:
    """The new record an adjourned one goes to, named by the authority's own id (422
    otherwise): recorded already, hers, and not the record itself. Locked, so that its status
    holds until the push commits; the kind's `change_status` refuses one that is not scheduled
    or that points back (`going_ahead.check_new_date`), and the unique index on
    adjourned_to_id one that is already the new date of another (409 both)."""
    field = "adjourned_to_external_id"
    target = await _pushed(session, kind.model, authority, external_id)
    if target is None:
        raise InvalidInput(
            field, f"no {kind.noun} of yours has this id yet: push the new {kind.noun} first"
        )
    if target.id == record.id:
        raise InvalidInput(field, f"a {kind.noun} is not adjourned to itself")
    if target.mother_id != record.mother_id:
        raise InvalidInput(field, f"that {kind.noun} is for another mother")
    return target


async def _push_status(
    kind: PushedKind,
    session: AsyncSession,
    caller: Caller,
    authority: str,
    record: Any,
    data: SyncCourtHearing | SyncMeeting,
    condition: str,
) -> Any | None:
    """The status pushed, applied through the kind's own service (its rules, amendments and
    events); None when it is the status recorded already (nothing to do)."""
    wanted = data.status
    if wanted is None:
        return None
    if record.status != SCHEDULED:
        target_id = None
        if data.adjourned_to_external_id is not None:
            target = await _pushed(session, kind.model, authority, data.adjourned_to_external_id)
            target_id = target.id if target is not None else None
        same = (wanted, data.status_decided_by, data.status_reason, target_id) == (
            record.status,
            record.status_decided_by,
            record.status_reason,
            record.adjourned_to_id,
        )
        if same:
            return None
        raise Conflict(
            f"This {kind.noun} is {record.status} already: a decision is recorded once, and "
            f"a {kind.noun} that did not go ahead is not scheduled again (push the new one "
            "under its own id)."
        )
    if wanted == SCHEDULED:
        return None
    target = None
    if wanted == "adjourned":
        assert data.adjourned_to_external_id is not None
        target = await _adjourned_to(
            kind, session, authority, record, data.adjourned_to_external_id
        )
    change = kind.status_change(
        status=wanted, decided_by=data.status_decided_by, reason=data.status_reason
    )
    return await kind.change_status(
        session, caller, record.id, change, condition, adjourned_to=target
    )


async def _put_pushed(
    kind: PushedKind,
    session: AsyncSession,
    caller: Caller,
    external_id: str,
    data: SyncCourtHearing | SyncMeeting,
    if_match: str | None,
) -> tuple[str, Any, list[uuid.UUID]]:
    """("created" | "updated" | "unchanged", the record, its children visible to the caller)."""
    authority = authority_of(caller)
    mother_id, child_ids = await mother_and_children(
        session, caller, data.mother_prison_number, data.child_external_ids
    )
    _status_rules(data)
    record = await _pushed(session, kind.model, authority, external_id)
    fields = data.model_dump(
        exclude={"mother_prison_number", "child_external_ids", "notified_at", *STATUS_PUSHED}
    )
    if data.notified_at is not None:  # left out: the service's time at the first push, kept
        fields["notified_at"] = data.notified_at
    if record is None:
        check_conditions(None, if_match, None, kind.noun)
        record, shown = await kind.create(session, caller, mother_id, child_ids, fields)
        record.external_authority_code, record.external_id = authority, external_id
        await session.flush()
        # Pushed first already decided (a system that syncs late): made, then decided.
        if await _push_status(
            kind, session, caller, authority, record, data, etag_for(record.version)
        ):
            shown = await kind.children_of(session, caller, record.id)
        return "created", record, shown
    if record.mother_id != mother_id:
        raise InvalidInput(
            "mother_prison_number", f"this {kind.noun} is recorded for another mother of yours"
        )
    current_children = await kind.children_of(session, caller, record.id)
    current = {**record.model_dump(), "child_ids": sorted(current_children)}
    changes = _changed_fields(current, {**fields, "child_ids": sorted(child_ids)})
    # Without If-Match, the version just read under lock: a push replaces what it finds.
    condition = if_match if sent(if_match) else etag_for(record.version)
    shown = current_children
    if changes:
        if "child_ids" in changes:
            changes["child_ids"] = child_ids
        record, shown = await kind.update(session, caller, record.id, changes, condition)
        condition = etag_for(record.version)  # checked once: the status follows the fields
    else:
        check_conditions({"version": record.version}, if_match, None, kind.noun)
    if await _push_status(kind, session, caller, authority, record, data, condition):
        return "updated", record, await kind.children_of(session, caller, record.id)
    return ("updated" if changes else "unchanged"), record, shown


async def _hearing_children(
    session: AsyncSession, caller: Caller, hearing_id: uuid.UUID
) -> list[uuid.UUID]:
    return (await children_of(session, caller, hearings.HEARINGS, [hearing_id]))[hearing_id]


async def _meeting_children(
    session: AsyncSession, caller: Caller, meeting_id: uuid.UUID
) -> list[uuid.UUID]:
    return (await children_of(session, caller, meetings.MEETINGS, [meeting_id]))[meeting_id]


async def _create_hearing(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    child_ids: list[uuid.UUID],
    fields: dict[str, Any],
) -> tuple[CourtHearing, list[uuid.UUID]]:
    return await hearings.create_hearing(
        session,
        caller,
        CourtHearingCreate(mother_id=mother_id, child_ids=child_ids, **fields),
        notified_at_from_authority=True,
    )


async def _update_hearing(
    session: AsyncSession,
    caller: Caller,
    hearing_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str,
) -> tuple[CourtHearing, list[uuid.UUID]]:
    hearing, child_ids, _ = await hearings.update_hearing(
        session,
        caller,
        hearing_id,
        CourtHearingUpdate(**changes),
        if_match,
        notified_at_from_authority=True,
    )
    return hearing, child_ids


async def _create_meeting(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    child_ids: list[uuid.UUID],
    fields: dict[str, Any],
) -> tuple[Meeting, list[uuid.UUID]]:
    meeting = await meetings.create_meeting(
        session,
        caller,
        MeetingCreate(mother_id=mother_id, child_ids=child_ids, **fields),
        notified_at_from_authority=True,
    )
    return meeting, child_ids


async def _update_meeting(
    session: AsyncSession,
    caller: Caller,
    meeting_id: uuid.UUID,
    changes: dict[str, Any],
    if_match: str,
) -> tuple[Meeting, list[uuid.UUID]]:
    meeting, _ = await meetings.update_meeting(
        session,
        caller,
        meeting_id,
        MeetingUpdate(**changes),
        if_match,
        notified_at_from_authority=True,
    )
    return meeting, await _meeting_children(session, caller, meeting_id)


HEARING = PushedKind(
    model=CourtHearing,
    noun="hearing",
    children_of=_hearing_children,
    create=_create_hearing,
    update=_update_hearing,
    change_status=hearings.change_status,
    status_change=HearingStatusChange,
)
MEETING = PushedKind(
    model=Meeting,
    noun="meeting",
    children_of=_meeting_children,
    create=_create_meeting,
    update=_update_meeting,
    change_status=meetings.change_status,
    status_change=MeetingStatusChange,
)


async def put_court_hearing(
    session: AsyncSession,
    caller: Caller,
    external_id: str,
    data: SyncCourtHearing,
    if_match: str | None,
) -> tuple[str, CourtHearing, list[uuid.UUID]]:
    return await _put_pushed(HEARING, session, caller, external_id, data, if_match)


async def put_meeting(
    session: AsyncSession,
    caller: Caller,
    external_id: str,
    data: SyncMeeting,
    if_match: str | None,
) -> tuple[str, Meeting]:
    result, meeting, _ = await _put_pushed(MEETING, session, caller, external_id, data, if_match)
    return result, meeting
