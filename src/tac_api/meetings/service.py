"""Meetings about her children: their description, their public shape, and the rules of a
meeting's record."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.db import utcnow
from tac_api.errors import InvalidInput
from tac_api.flags.service import with_flags
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.meetings.schemas import (
    ATTENDANCE_FIELDS,
    PRISON_JOINS,
    MeetingCreate,
    MeetingPublic,
    MeetingUpdate,
)
from tac_api.notice import CLOCK_SKEW, late_notice, notice_days, notified_at_refused
from tac_api.resources import (
    ChildLinks,
    Resource,
    add_with_children,
    apply_changes,
    check_children,
    check_only_own_children,
    children_of,
    every_child_of,
    get_for_change,
    list_visible,
    mother_for_writing,
    replace_children,
)

# What a local authority's change feed is told of a meeting: when, on what, whether she could
# join and did, and why not as a code (the barrier's detail and who supported her stay here).
FEED_FIELDS = (
    "meeting_type",
    "starts_at",
    "notified_at",
    "platform",
    "prison_can_join",
    "invited",
    "attended",
    "barrier",
)


MEETINGS = Resource(
    kind="meeting",
    model=Meeting,
    label="meeting",
    order=(Meeting.starts_at, Meeting.id),
    children=ChildLinks(MeetingChild.meeting_id, MeetingChild.child_id),
    when=Meeting.starts_at,
    path="/v1/meetings",
)


def to_public(meeting: Meeting, child_ids: list[uuid.UUID], late_notice_days: int) -> MeetingPublic:
    """`late_notice_days`: the threshold hearings use too (`TAC_LATE_NOTICE_DAYS`)."""
    return MeetingPublic.model_validate(
        {
            **meeting.model_dump(),
            "child_ids": child_ids,
            "notice_days": notice_days(meeting.notified_at, meeting.starts_at),
            "late_notice": late_notice(meeting.notified_at, meeting.starts_at, late_notice_days),
        }
    )


async def public_page(
    session: AsyncSession, caller: Caller, meetings: list[Meeting], *, late_notice_days: int
) -> list[MeetingPublic]:
    """With their children (a local authority: its own) and, for the prison side, their open
    flags for review: one statement each, however many."""
    children = await children_of(session, caller, MEETINGS, [m.id for m in meetings])
    shown = [to_public(m, children[m.id], late_notice_days) for m in meetings]
    await with_flags(session, caller, MEETINGS.kind, shown)
    return shown


def search(caller: Caller, **filters: Any) -> Select[Any]:
    """The meetings this caller may see, with the lists' common filters (`list_visible`)."""
    return list_visible(caller, MEETINGS, **filters)


def _rules(values: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    problems = []
    if values["notified_at"] > now + CLOCK_SKEW:
        problems.append(("notified_at", "cannot be in the future"))
    attended, barrier = values.get("attended"), values.get("barrier")
    if attended is not None and values["starts_at"] > now:
        problems.append(("attended", "cannot be recorded before the meeting starts"))
    if attended is False and barrier is None:
        problems.append(("barrier", "say what stopped her attending"))
    if attended is not False and barrier is not None:
        problems.append(("barrier", "only when she did not attend (attended: false)"))
    if barrier == "other" and not values.get("barrier_detail"):
        problems.append(("barrier_detail", "describe the barrier"))
    if barrier is None and values.get("barrier_detail"):
        problems.append(("barrier_detail", "only with a barrier"))
    return problems


def _privileged(
    caller: Caller, sent: dict[str, Any], *, notified_at_from_authority: bool = False
) -> list[tuple[str, str]]:
    """A local authority records invitations; how she attends is the prison side's to arrange
    and record. Nor does it say when her side learnt of the meeting: that decides the notice
    she had (late notice is a barrier the evaluation measures the authorities by), so it is
    when the authority recorded it, unless its system syncs its own record of when it told
    her side (`notified_at_from_authority`)."""
    if not caller.is_local_authority:
        return []
    problems = [
        (field, "the prison side records how she attends; a local authority cannot set it")
        for field in ATTENDANCE_FIELDS
        if field in sent
    ]
    return problems + notified_at_refused(
        sent, "meeting", from_authority=notified_at_from_authority
    )


async def create_meeting(
    session: AsyncSession,
    caller: Caller,
    data: MeetingCreate,
    *,
    notified_at_from_authority: bool = False,
) -> Meeting:
    await mother_for_writing(session, caller, data.mother_id)
    sent = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    InvalidInput.raise_any(
        _privileged(caller, sent, notified_at_from_authority=notified_at_from_authority)
    )
    now = utcnow()
    values = data.model_dump(exclude={"child_ids"})
    if values["notified_at"] is None:
        values["notified_at"] = now
    if values["prison_can_join"] is None:
        values["prison_can_join"] = values["platform"] in PRISON_JOINS
    InvalidInput.raise_any(_rules(values, now))
    await check_children(session, caller, data.mother_id, data.child_ids)
    meeting = Meeting(**values)
    await add_with_children(session, MEETINGS, meeting, data.child_ids)
    emit(
        session,
        "meeting.created",
        "meeting",
        meeting.id,
        meeting.mother_id,
        data.child_ids,
        snapshot(meeting, FEED_FIELDS),
    )
    return meeting


async def update_meeting(
    session: AsyncSession,
    caller: Caller,
    meeting_id: uuid.UUID,
    data: MeetingUpdate,
    if_match: str | None,
    *,
    notified_at_from_authority: bool = False,
) -> tuple[Meeting, dict[str, Any]]:
    """The meeting, and what changed: nothing keeps its version and tells the change feed
    nothing."""
    meeting = await get_for_change(session, caller, MEETINGS, meeting_id, if_match)
    fed_before = snapshot(meeting, FEED_FIELDS)
    changes = data.changes()
    InvalidInput.raise_any(
        _privileged(caller, changes, notified_at_from_authority=notified_at_from_authority)
    )
    await check_only_own_children(session, caller, MEETINGS, meeting.id)
    # Only a new platform: the same one sent again keeps the prison side's override.
    new_platform = changes.get("platform", meeting.platform) != meeting.platform
    if new_platform and "prison_can_join" not in changes:
        changes["prison_can_join"] = changes["platform"] in PRISON_JOINS
    InvalidInput.raise_any(_rules({**meeting.model_dump(), **changes}, utcnow()))
    new_children = changes.pop("child_ids", None)
    if new_children is not None:
        await check_children(session, caller, meeting.mother_id, new_children)
    child_ids = await every_child_of(session, MEETINGS, meeting.id)
    changed = apply_changes(meeting, changes)
    child_ids = await replace_children(session, MEETINGS, meeting, new_children, child_ids, changed)
    if not changed:
        return meeting, changed
    await session.flush()
    # To the authorities of the children it concerns now; `changed` never names child_ids.
    emit(
        session,
        "meeting.updated",
        "meeting",
        meeting.id,
        meeting.mother_id,
        child_ids,
        changes_between(fed_before, snapshot(meeting, FEED_FIELDS)),
    )
    return meeting, changed
