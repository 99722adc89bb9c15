"""Meetings about her children: the one scoped statement, and the rules of a meeting's record."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.db import touch, utcnow
from tac_api.errors import InvalidInput
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.meetings.schemas import (
    ATTENDANCE_FIELDS,
    PRISON_JOINS,
    MeetingCreate,
    MeetingPublic,
    MeetingUpdate,
)
from tac_api.mothers.models import Mother
from tac_api.preconditions import check_if_match
from tac_api.resources import (
    ChildLinks,
    Resource,
    check_children,
    children_of,
    get_visible,
    set_children,
)
from tac_api.scope import concerning_child, held_in, meeting_visible, mother_visible

# Clocks differ by a little: "now" from a caller's machine may be just ahead of ours.
CLOCK_LEEWAY = timedelta(minutes=5)
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


def notice_days(starts_at: datetime, notified_at: datetime) -> int:
    """Whole days of notice, counted towards zero: a day and a half's notice is one day, and
    hearing of it a day and a half after it began is minus one."""
    return int((starts_at - notified_at) / timedelta(days=1))


def to_public(meeting: Meeting, child_ids: list[uuid.UUID]) -> MeetingPublic:
    return MeetingPublic.model_validate(
        {
            **meeting.model_dump(),
            "child_ids": child_ids,
            "notice_days": notice_days(meeting.starts_at, meeting.notified_at),
        }
    )


async def public(session: AsyncSession, caller: Caller, meeting: Meeting) -> MeetingPublic:
    children = await children_of(session, caller, MEETINGS, [meeting.id])
    return to_public(meeting, children[meeting.id])


def search(
    caller: Caller,
    prison_code: str | None,
    starts_from: datetime | None,
    starts_to: datetime | None,
    mother_id: uuid.UUID | None,
    child_id: uuid.UUID | None,
) -> Select[Any]:
    statement = select(Meeting).where(meeting_visible(caller))
    if prison_code:
        statement = statement.where(held_in(Meeting.mother_id, prison_code))
    if starts_from is not None:
        statement = statement.where(Meeting.starts_at >= starts_from)
    if starts_to is not None:
        statement = statement.where(Meeting.starts_at < starts_to)
    if mother_id is not None:
        statement = statement.where(Meeting.mother_id == mother_id)
    if child_id is not None:
        statement = statement.where(
            concerning_child(
                caller, Meeting.id, MeetingChild.meeting_id, MeetingChild.child_id, child_id
            )
        )
    return statement


MEETINGS = Resource(
    kind="meeting",
    model=Meeting,
    label="meeting",
    order=(Meeting.starts_at, Meeting.id),
    children=ChildLinks(MeetingChild.meeting_id, MeetingChild.child_id),
    when=Meeting.starts_at,
)


def _rules(values: dict[str, Any], now: datetime) -> list[tuple[str, str]]:
    problems = []
    if values["notified_at"] > now + CLOCK_LEEWAY:
        problems.append(("notified_at", "cannot be in the future"))
    attended, barrier = values.get("attended"), values.get("barrier")
    if attended is not None and values["starts_at"] > now:
        problems.append(("attended", "cannot be known before the meeting starts"))
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
    if "notified_at" in sent and not notified_at_from_authority:
        problems.append(
            (
                "notified_at",
                "set by the service to when you record the meeting; the prison side records "
                "when her side learnt of it otherwise",
            )
        )
    return problems


async def create_meeting(
    session: AsyncSession,
    caller: Caller,
    data: MeetingCreate,
    *,
    notified_at_from_authority: bool = False,
) -> Meeting:
    mother = await session.scalar(
        select(Mother.id).where(Mother.id == data.mother_id, mother_visible(caller))
    )
    if mother is None:
        raise InvalidInput("mother_id", "no mother with this id is visible to you")
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
    session.add(meeting)
    await session.flush()
    await set_children(session, MEETINGS, meeting.id, data.child_ids)
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
) -> Meeting:
    meeting = await get_visible(session, caller, MEETINGS, meeting_id, for_update=True)
    check_if_match(if_match, meeting.version)
    fed_before = snapshot(meeting, FEED_FIELDS)
    changes = data.changes()
    InvalidInput.raise_any(
        _privileged(caller, changes, notified_at_from_authority=notified_at_from_authority)
    )
    if caller.is_local_authority:
        # Changing a meeting that also concerns another authority's child would change that
        # authority's record unseen: the prison side keeps those.
        others = await session.scalar(
            select(MeetingChild.child_id)
            .join(Child, Child.id == MeetingChild.child_id)
            .where(
                MeetingChild.meeting_id == meeting.id,
                Child.local_authority_code != caller.local_authority_code,
            )
            .limit(1)
        )
        if others is not None:
            raise InvalidInput(
                "child_ids",
                "this meeting also concerns another authority's child: the prison social "
                "worker keeps it",
            )
    if "platform" in changes and "prison_can_join" not in changes:
        changes["prison_can_join"] = changes["platform"] in PRISON_JOINS
    InvalidInput.raise_any(_rules({**meeting.model_dump(), **changes}, utcnow()))
    child_ids = changes.pop("child_ids", None)
    if child_ids is not None:
        await check_children(session, caller, meeting.mother_id, child_ids)
        await set_children(session, MEETINGS, meeting.id, child_ids)
    for field, value in changes.items():
        setattr(meeting, field, value)
    touch(meeting)
    await session.flush()
    if child_ids is None:
        child_ids = list(
            await session.scalars(
                select(MeetingChild.child_id).where(MeetingChild.meeting_id == meeting.id)
            )
        )
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
    return meeting
