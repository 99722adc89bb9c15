"""Meetings about her children: their description, their public shape, and the rules of a
meeting's record."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import True_

from tac_api import going_ahead
from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.db import utcnow
from tac_api.errors import InvalidInput
from tac_api.flags.service import with_flags
from tac_api.going_ahead import SCHEDULED, adjourned_input, not_scheduled, under
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.meetings.schemas import (
    ATTENDANCE_FIELDS,
    PRISON_JOINS,
    MeetingCreate,
    MeetingPublic,
    MeetingStatusChange,
    MeetingUpdate,
)
from tac_api.notice import CLOCK_SKEW, late_notice, notice_days, notified_at_refused
from tac_api.plausible import plausible_time
from tac_api.resources import (
    ChildLinks,
    Resource,
    add_with_children,
    apply_changes,
    check_children,
    check_only_own_children,
    every_child_of,
    get_for_change,
    list_visible,
    mother_for_writing,
    replace_children,
)
from tac_api.scope import shown_with_their_mother

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


def to_public(
    meeting: Meeting,
    child_ids: list[uuid.UUID],
    late_notice_days: int,
    adjourned_from_id: uuid.UUID | None = None,
) -> MeetingPublic:
    """`late_notice_days`: the threshold hearings use too (`TAC_LATE_NOTICE_DAYS`)."""
    return MeetingPublic.model_validate(
        {
            **meeting.model_dump(),
            "child_ids": child_ids,
            "notice_days": notice_days(meeting.notified_at, meeting.starts_at),
            "late_notice": late_notice(meeting.notified_at, meeting.starts_at, late_notice_days),
            "adjourned_from_id": adjourned_from_id,
        }
    )


async def _children_and_earlier(
    session: AsyncSession, caller: Caller, meeting_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], dict[uuid.UUID, uuid.UUID]]:
    """Each meeting's children shown to the caller (`scope.shown_with_their_mother`: a local
    authority, its own), and the meeting each was adjourned from (by the index on adjourned_to_id):
    one statement for the page."""
    children: dict[uuid.UUID, list[uuid.UUID]] = {meeting_id: [] for meeting_id in meeting_ids}
    earlier_of: dict[uuid.UUID, uuid.UUID] = {}
    if not meeting_ids:
        return children, earlier_of
    shown_meeting = Meeting.__table__.alias("shown_meeting")
    earlier = Meeting.__table__.alias("adjourned_from")
    link: Any = MeetingChild.__table__.alias("shown_link")
    which_children = shown_with_their_mother(caller)
    shown: Any = link
    if not isinstance(which_children, True_):  # every child shown: no need to read theirs
        shown = link.join(Child, and_(Child.id == link.c.child_id, which_children))
    statement = (
        select(shown_meeting.c.id, link.c.child_id, earlier.c.id.label("earlier_id"))
        .select_from(
            shown_meeting.outerjoin(shown, link.c.meeting_id == shown_meeting.c.id).outerjoin(
                earlier, earlier.c.adjourned_to_id == shown_meeting.c.id
            )
        )
        .where(shown_meeting.c.id.in_(meeting_ids))
        .order_by(shown_meeting.c.id, link.c.child_id)
    )
    for meeting_id, child_id, earlier_id in await session.execute(statement):
        if child_id is not None and child_id not in children[meeting_id]:
            children[meeting_id].append(child_id)
        if earlier_id is not None:
            earlier_of[meeting_id] = earlier_id
    return children, earlier_of


async def public_page(
    session: AsyncSession, caller: Caller, meetings: list[Meeting], *, late_notice_days: int
) -> list[MeetingPublic]:
    """With their children (a local authority: its own), the meeting each was adjourned from,
    and, for the prison side, their open flags for review: a statement each, however many."""
    children, earlier = await _children_and_earlier(session, caller, [m.id for m in meetings])
    shown = [to_public(m, children[m.id], late_notice_days, earlier.get(m.id)) for m in meetings]
    await with_flags(session, caller, MEETINGS.kind, shown)
    return shown


def search(caller: Caller, *, prison_can_join: bool | None = None, **filters: Any) -> Select[Any]:
    """The meetings this caller may see, with the lists' common filters (`list_visible`), and
    those on a platform the prison can (or cannot) join."""
    statement = list_visible(caller, MEETINGS, **filters)
    if prison_can_join is not None:
        statement = statement.where(Meeting.prison_can_join.is_(prison_can_join))
    return statement


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
    problems = plausible_time("starts_at", values["starts_at"], now, "meeting")
    InvalidInput.raise_any(problems + _rules(values, now))
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
    if meeting.status != SCHEDULED:
        # Neither a new date (an adjourned meeting's is a meeting of its own) nor attendance:
        # a meeting that did not go ahead was not attended, and is not revived.
        for field, wanted in (("starts_at", "be given a new date"), ("attended", "be attended")):
            if changes.get(field) is not None:
                raise not_scheduled(meeting, "meeting", wanted)
    InvalidInput.raise_any(
        _privileged(caller, changes, notified_at_from_authority=notified_at_from_authority)
    )
    await check_only_own_children(session, caller, MEETINGS, meeting.id)
    # Only a new platform: the same one sent again keeps the prison side's override.
    new_platform = changes.get("platform", meeting.platform) != meeting.platform
    if new_platform and "prison_can_join" not in changes:
        changes["prison_can_join"] = changes["platform"] in PRISON_JOINS
    now = utcnow()
    # A new time sent is plausible; one kept is not checked again (not every meeting may move).
    problems = plausible_time("starts_at", changes.get("starts_at"), now, "meeting")
    InvalidInput.raise_any(problems + _rules({**meeting.model_dump(), **changes}, now))
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


async def change_status(
    session: AsyncSession,
    caller: Caller,
    meeting_id: uuid.UUID,
    data: MeetingStatusChange,
    if_match: str | None,
    *,
    adjourned_to: Meeting | None = None,
) -> tuple[Meeting, Meeting | None]:
    """`going_ahead.change_status` for a meeting: the meeting and its new meeting (made with the
    same mother and children). Only one whose attendance is not recorded."""
    meeting, _, new = await going_ahead.change_status(
        DECIDED, session, caller, meeting_id, data, if_match, adjourned_to=adjourned_to
    )
    return meeting, new


async def _adjourned_meeting(
    session: AsyncSession,
    caller: Caller,
    meeting: Meeting,
    child_ids: list[uuid.UUID],
    data: MeetingStatusChange,
) -> Meeting:
    """The new meeting an adjourned one goes to, made as any new meeting is (its rules, its
    `meeting.created` event), its problems named under `adjourned_to`."""
    assert data.adjourned_to is not None
    kept: dict[str, Any] = {
        "mother_id": meeting.mother_id,
        "child_ids": child_ids,
        "meeting_type": meeting.meeting_type,
        "platform": meeting.platform,
        "invited": meeting.invited,
    }
    # The prison side's choice for the same platform holds; a new platform decides it anew.
    new_platform = data.adjourned_to.platform
    if not caller.is_local_authority and new_platform in (None, meeting.platform):
        kept["prison_can_join"] = meeting.prison_can_join
    with under("adjourned_to"):
        new = adjourned_input(MeetingCreate, kept, data.adjourned_to, "meeting")
        return await create_meeting(session, caller, new)


DECIDED = going_ahead.Decided(
    resource=MEETINGS,
    noun="meeting",
    event="meeting",
    described_by=("meeting_type", "starts_at"),
    took_place=lambda meeting: meeting.attended is not None,
    recorded="Whether she attended this meeting is recorded",
    correct="the attendance",
    adjourn=_adjourned_meeting,
)
