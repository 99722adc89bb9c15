"""Group sessions (Mum's Supportive's fortnightly peer group): the session and who facilitated,
its register of the women who attended with their check-in and check-out, and the one-to-one
follow-up owed to a woman who left feeling worse than she came.

A session is its prison's (other women attend it): no local authority sees one. Her row of a
register is hers: an authority she consents to share her group attendance with reads her row,
never another woman's (`scope.group_attendance_visible`). No change event is sent: the change
feed goes to every authority with a child of hers, and her attendance reaches one only under
her consent, read on every request.

Reading her row follows her case (the prison holding her now reads it), but a register is
changed only by the prison side that may see its session: her row is part of that prison's
register and of its group figures (`_register_to_change`).
"""

import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller, Role
from tac_api.db import touch
from tac_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from tac_api.groups.models import GroupAttendance, GroupFacilitator, GroupSession
from tac_api.groups.schemas import (
    AttendanceCreate,
    AttendancePublic,
    AttendanceShared,
    AttendanceUpdate,
    FollowUp,
    GroupSessionCreate,
    GroupSessionPublic,
    GroupSessionUpdate,
    Register,
)
from tac_api.mothers.service import held_there_on
from tac_api.preconditions import check_if_match
from tac_api.reference.models import Prison
from tac_api.reference.service import require_code
from tac_api.resources import (
    Resource,
    apply_changes,
    get_for_change,
    get_visible,
    list_visible,
    mother_for_writing,
    rows_by,
)
from tac_api.schemas import past_date_problems
from tac_api.staff.caseload import current_worker
from tac_api.staff.models import StaffMember
from tac_api.tasks import service as tasks

SESSIONS = Resource(
    kind="group_session",
    model=GroupSession,
    label="group session",
    order=(GroupSession.held_on, GroupSession.id),
    subject=None,  # the prison's record: about no one woman
    when=GroupSession.held_on,
    path="/v1/group-sessions",
)
ATTENDANCE = Resource(
    kind="group_attendance",
    model=GroupAttendance,
    label="group attendance",
    # As they were added: a register is taken at its session, so in date order but for rows
    # added later in correction.
    order=(GroupAttendance.created_at, GroupAttendance.id),
    path="/v1/group-attendances",
)
# The same rows, as the follow-ups they owe: the soonest due first.
FOLLOW_UPS = Resource(
    kind="group_attendance",
    model=GroupAttendance,
    label="group attendance",
    order=(GroupAttendance.follow_up_due_on, GroupAttendance.id),
    path="/v1/group-attendances",
)
ONE_ROW = "She is on this session's register already: change her row instead."


def follow_up_due(held_on: date) -> date:
    """A one-to-one follow-up the same week: by the Sunday of the session's ISO week."""
    return held_on + timedelta(days=6 - held_on.weekday())


def _due_now(row: Any, held_on: date) -> date | None:
    """What a row owes, from its check-in and check-out: a follow-up while she checked out lower
    than she checked in; none once a correction removes the drop, unless one was done already
    (then it stays on record as done)."""
    if row["check_out"] is not None and row["check_out"] < row["check_in"]:
        return follow_up_due(held_on)
    if row["follow_up_done_on"] is not None:
        return row["follow_up_due_on"]
    return None


# -- Sessions ---------------------------------------------------------------------------------


def search_sessions(
    caller: Caller,
    *,
    prison_code: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Select[Any]:
    """The sessions this caller may see, oldest first; by prison (an index seek on
    (prison_code, held_on, id)) and when they were held."""
    statement = list_visible(caller, SESSIONS, start=start, end=end)
    if prison_code:
        statement = statement.where(GroupSession.prison_code == prison_code)
    return statement


async def facilitators_of(
    session: AsyncSession, session_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await rows_by(
        session,
        GroupFacilitator.group_session_id,
        session_ids,
        [GroupFacilitator.group_session_id, GroupFacilitator.staff_member_id],
    )
    return {key: [row.staff_member_id for row in found] for key, found in rows.items()}


async def sessions_shown(
    session: AsyncSession, sessions: list[GroupSession]
) -> list[GroupSessionPublic]:
    """Sessions with their facilitators, read for the whole page in one statement."""
    facilitators = await facilitators_of(session, [group.id for group in sessions])
    return [
        GroupSessionPublic.model_validate(
            {**group.model_dump(), "facilitator_ids": facilitators[group.id]}
        )
        for group in sessions
    ]


async def session_shown(session: AsyncSession, group: GroupSession) -> GroupSessionPublic:
    return (await sessions_shown(session, [group]))[0]


async def _facilitator_problems(
    session: AsyncSession, prison_code: str, held_on: date, ids: list[uuid.UUID]
) -> list[tuple[str, str]]:
    """Each is in the directory of the session's prison and had not left by the day it was
    held, named once. One statement, however many."""
    found = {
        entry.id: entry.left_on
        for entry in (
            await session.execute(
                select(StaffMember.id, StaffMember.left_on).where(
                    StaffMember.id.in_(ids), StaffMember.prison_code == prison_code
                )
            )
        ).all()
    }
    problems, seen = [], set()
    for n, staff_member_id in enumerate(ids):
        field = f"facilitator_ids.{n}"
        if staff_member_id in seen:
            problems.append((field, "is named twice: name each facilitator once"))
        elif staff_member_id not in found:
            problems.append((field, f"is not a member of staff in the directory of {prison_code}"))
        elif (left_on := found[staff_member_id]) is not None and left_on < held_on:
            problems.append((field, f"had left the service on {left_on}, before the session"))
        seen.add(staff_member_id)
    return problems


async def _set_facilitators(
    session: AsyncSession, group_session_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> None:
    await session.execute(
        delete(GroupFacilitator).where(GroupFacilitator.group_session_id == group_session_id)
    )
    rows = [{"group_session_id": group_session_id, "staff_member_id": i} for i in ids]
    if rows:
        await session.execute(insert(GroupFacilitator.__table__), rows)


async def create_session(
    session: AsyncSession, caller: Caller, data: GroupSessionCreate, today: date
) -> GroupSession:
    if caller.role is Role.prison_social_worker and data.prison_code != caller.prison_code:
        raise InvalidInput("prison_code", f"you can record sessions in {caller.prison_code} only")
    await require_code(session, Prison, "prison_code", data.prison_code)
    problems = past_date_problems("held_on", data.held_on, today)
    problems += await _facilitator_problems(
        session, data.prison_code, data.held_on, data.facilitator_ids
    )
    InvalidInput.raise_any(problems)
    values = data.model_dump()
    facilitator_ids = values.pop("facilitator_ids")
    group = GroupSession(**values)
    session.add(group)
    await session.flush()
    await _set_facilitators(session, group.id, facilitator_ids)
    return group


async def _register_problems(
    session: AsyncSession, group: GroupSession, held_on: date
) -> list[tuple[str, str]]:
    """A session moved to another day keeps its register true: every woman on it was held in
    its prison that day, and no follow-up of hers was done before it."""
    rows = (
        await session.execute(
            select(
                GroupAttendance.follow_up_done_on,
                held_there_on(GroupAttendance.mother_id, group.prison_code, held_on),
            ).where(GroupAttendance.group_session_id == group.id)
        )
    ).all()
    problems = []
    if any(not held for _, held in rows):
        problems.append(("held_on", f"a woman on its register was not held in {group.prison_code}"))
    if any(done is not None and done < held_on for done, _ in rows):
        problems.append(("held_on", "a follow-up on its register was done before this day"))
    return problems


async def update_session(
    session: AsyncSession,
    caller: Caller,
    group_session_id: uuid.UUID,
    data: GroupSessionUpdate,
    if_match: str | None,
    today: date,
) -> tuple[GroupSession, dict[str, Any]]:
    """The session and what changed (nothing: it keeps its version). Its facilitators, when
    sent, replace those recorded, and are part of what its ETag covers. Moved to another day:
    the follow-ups its register owes move with it (to the new week's Sunday)."""
    group = await get_for_change(session, caller, SESSIONS, group_session_id, if_match)
    changes = data.changes()
    new_ids = changes.pop("facilitator_ids", None)
    current_ids = (await facilitators_of(session, [group.id]))[group.id]
    held_on = changes.get("held_on", group.held_on)
    moved = held_on != group.held_on
    problems = past_date_problems("held_on", held_on, today)
    if new_ids is not None or moved:
        problems += await _facilitator_problems(
            session, group.prison_code, held_on, current_ids if new_ids is None else new_ids
        )
    if moved:
        problems += await _register_problems(session, group, held_on)
    InvalidInput.raise_any(problems)
    changed = apply_changes(group, changes)
    if new_ids is not None and sorted(new_ids) != sorted(current_ids):
        await _set_facilitators(session, group.id, new_ids)
        if not changed:
            touch(group)  # only the facilitators changed: the version moves with them
        changed["facilitator_ids"] = sorted(new_ids)
    if moved:
        await _move_follow_ups(session, group)
    if changed:
        await session.flush()
    return group, changed


async def _move_follow_ups(session: AsyncSession, group: GroupSession) -> None:
    """Each row's follow-up worked out again for the session's new day (a register is a few
    women: each row's own version moves with it)."""
    for row in await session.scalars(
        select(GroupAttendance).where(GroupAttendance.group_session_id == group.id)
    ):
        due = _due_now(row.model_dump(), group.held_on)
        if due != row.follow_up_due_on:
            row.follow_up_due_on = due
            touch(row)
            # Its follow-up task moves with it.
            await tasks.keep_in_step(
                session,
                tasks.GROUP_FOLLOW_UP,
                (ATTENDANCE.kind, row.id),
                due_on=due,
                title=_follow_up_title(group),
            )


# -- Her row of a register --------------------------------------------------------------------


def her_attendance(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    """Her rows this caller may see (a local authority: only under her consent; a route checks
    first that the caller may see her)."""
    return list_visible(caller, ATTENDANCE, mother_id=mother_id)


async def register(session: AsyncSession, caller: Caller, group: GroupSession) -> Register:
    """A session (one the caller may see: the route has read it) and every row of its register,
    in the order they were added, each row audited as consulted."""
    rows = list(
        await session.scalars(
            list_visible(caller, ATTENDANCE)
            .where(GroupAttendance.group_session_id == group.id)
            .order_by(*ATTENDANCE.order)
        )
    )
    audit.consulted(session, ATTENDANCE, rows)
    return Register(
        session=await session_shown(session, group),
        attendance=await attendance_shown(session, caller, rows),  # type: ignore[arg-type]
    )


def follow_ups(
    caller: Caller,
    *,
    prison_code: str | None = None,
    owed: bool | None = None,
    overdue_on: date | None = None,
) -> Select[Any]:
    """The rows of registers that owe (`owed` True), or owed and had (False), a one-to-one
    follow-up, soonest due first; by the prison the session was held in; `overdue_on`: only
    those owed whose due date is before that day. One statement, whatever the registers hold
    (an index on the due date): for the list here and for a worklist."""
    statement = list_visible(caller, FOLLOW_UPS).where(
        GroupAttendance.follow_up_due_on.is_not(None)
    )
    if prison_code:
        statement = statement.where(
            exists().where(
                GroupSession.id == GroupAttendance.group_session_id,
                GroupSession.prison_code == prison_code,
            )
        )
    if owed is True or overdue_on is not None:
        statement = statement.where(GroupAttendance.follow_up_done_on.is_(None))
    elif owed is False:
        statement = statement.where(GroupAttendance.follow_up_done_on.is_not(None))
    if overdue_on is not None:
        statement = statement.where(GroupAttendance.follow_up_due_on < overdue_on)
    return statement


async def _sessions_by_id(
    session: AsyncSession, rows: list[GroupAttendance]
) -> dict[uuid.UUID, GroupSession]:
    ids = sorted({row.group_session_id for row in rows})
    if not ids:
        return {}
    return {
        group.id: group
        for group in await session.scalars(select(GroupSession).where(GroupSession.id.in_(ids)))
    }


async def attendance_shown(
    session: AsyncSession, caller: Caller, rows: list[GroupAttendance]
) -> list[AttendancePublic | AttendanceShared]:
    """Rows as this caller reads them, with their sessions' day and activity read for the whole
    page in one statement. A local authority: her row without the session's id and without
    who followed her up and the note (the prison side's)."""
    sessions = await _sessions_by_id(session, rows)
    shape = AttendanceShared if caller.is_local_authority else AttendancePublic
    return [shape.model_validate(_values(row, sessions[row.group_session_id])) for row in rows]


def _values(row: GroupAttendance, group: GroupSession) -> dict[str, Any]:
    return {
        **row.model_dump(),
        "held_on": group.held_on,
        "prison_code": group.prison_code,
        "activity": group.activity,
    }


async def one_shown(
    session: AsyncSession, caller: Caller, row: GroupAttendance
) -> AttendancePublic | AttendanceShared:
    return (await attendance_shown(session, caller, [row]))[0]


async def follow_ups_shown(
    session: AsyncSession, rows: list[GroupAttendance], today: date
) -> list[FollowUp]:
    sessions = await _sessions_by_id(session, rows)
    return [
        FollowUp.model_validate(
            _values(row, sessions[row.group_session_id])
            | {
                "overdue": row.follow_up_done_on is None
                and row.follow_up_due_on is not None
                and row.follow_up_due_on < today
            }
        )
        for row in rows
    ]


async def add_attendance(
    session: AsyncSession,
    caller: Caller,
    group_session_id: uuid.UUID,
    data: AttendanceCreate,
) -> tuple[GroupSession, GroupAttendance]:
    """Her row of the register: a woman whose case the caller may see, held in the session's
    prison on its day, once per session (409)."""
    group = await get_visible(session, caller, SESSIONS, group_session_id)
    mother = await mother_for_writing(session, caller, data.mother_id)
    held = await session.scalar(select(held_there_on(mother.id, group.prison_code, group.held_on)))
    if not held:
        raise InvalidInput(
            "mother_id", f"she was not held in {group.prison_code} on {group.held_on}"
        )
    taken = await session.scalar(
        select(GroupAttendance.id).where(
            GroupAttendance.group_session_id == group.id, GroupAttendance.mother_id == mother.id
        )
    )
    if taken is not None:
        raise Conflict(ONE_ROW)
    values = data.model_dump()
    values["follow_up_due_on"] = _due_now(
        values | {"follow_up_done_on": None, "follow_up_due_on": None}, group.held_on
    )
    row = GroupAttendance(group_session_id=group.id, **values)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # her row added by a request sent at the same moment
        raise Conflict(ONE_ROW) from exc
    await _follow_up_task(session, caller, row, group)
    return group, row


async def _follow_up_problems(
    session: AsyncSession,
    merged: dict[str, Any],
    group: GroupSession,
    today: date,
) -> list[tuple[str, str]]:
    """A follow-up is recorded only where one is owed (or was done), on a day between the
    session and today, by a member of staff of the session's prison."""
    done_on, by_id = merged["follow_up_done_on"], merged["follow_up_by_id"]
    problems = past_date_problems("follow_up_done_on", done_on, today)
    if done_on is not None and done_on < group.held_on:
        problems.append(("follow_up_done_on", "cannot be before the session"))
    owed = merged["follow_up_due_on"] is not None
    for field in ("follow_up_done_on", "follow_up_by_id", "follow_up_note"):
        if merged[field] is not None and not owed:
            problems.append((field, "no follow-up is owed: she did not check out lower"))
    if by_id is not None and done_on is None:
        problems.append(("follow_up_by_id", "say when she was followed up (follow_up_done_on)"))
    if by_id is not None:
        found = await session.scalar(
            select(StaffMember.id).where(
                StaffMember.id == by_id, StaffMember.prison_code == group.prison_code
            )
        )
        if found is None:
            problems.append(
                (
                    "follow_up_by_id",
                    f"is not a member of staff in the directory of {group.prison_code}",
                )
            )
    return problems


async def _row_for_change(
    session: AsyncSession, caller: Caller, attendance_id: uuid.UUID, if_match: str | None
) -> tuple[GroupAttendance, GroupSession]:
    """The row a change is asked for and its session: the row visible to the caller (404
    otherwise) and locked until the request commits; its register the caller's to change (403
    otherwise, before any precondition: no ETag makes it hers to change); then still at the
    version the caller last saw (If-Match)."""
    row = await get_visible(session, caller, ATTENDANCE, attendance_id, for_update=True)
    group = await _register_to_change(session, caller, row)
    check_if_match(if_match, row.version)
    return row, group


async def _register_to_change(
    session: AsyncSession, caller: Caller, row: GroupAttendance
) -> GroupSession:
    """The session whose register holds this row, if the caller may change that register: the
    prison side that may see the session (its prison's worker; an admin, any). A worker who reads
    the row only because the woman's case is now her prison's may not change another prison's
    register (403: she reads the row, so it is no 404)."""
    try:
        return await get_visible(session, caller, SESSIONS, row.group_session_id)
    except NotFound:
        raise Forbidden(
            "This row is on the register of a session held in another prison: you may read it, "
            "as her case is now your prison's, but only the prison that held the session may "
            "change its register."
        ) from None


async def update_attendance(
    session: AsyncSession,
    caller: Caller,
    attendance_id: uuid.UUID,
    data: AttendanceUpdate,
    if_match: str | None,
    today: date,
) -> tuple[GroupAttendance, dict[str, Any]]:
    """Her row and what changed. The follow-up it owes is worked out again from the row as it
    will stand (`_due_now`), so a correction that removes the drop clears one not yet done."""
    row, group = await _row_for_change(session, caller, attendance_id, if_match)
    changes = data.changes()
    merged = {**row.model_dump(), **changes}
    merged["follow_up_due_on"] = _due_now(merged, group.held_on)
    changes["follow_up_due_on"] = merged["follow_up_due_on"]
    InvalidInput.raise_any(await _follow_up_problems(session, merged, group, today))
    changed = apply_changes(row, changes)
    if changed:
        await session.flush()
        await _follow_up_task(session, caller, row, group)
    return row, changed


async def remove_attendance(
    session: AsyncSession, caller: Caller, attendance_id: uuid.UUID, if_match: str | None
) -> GroupAttendance:
    """A row entered in error (the wrong woman, the wrong session) taken off the register."""
    row, _ = await _row_for_change(session, caller, attendance_id, if_match)
    # The follow-up task it made goes with it: a row entered in error owed no one anything.
    await tasks.remove_made_by(session, tasks.GROUP_FOLLOW_UP, (ATTENDANCE.kind, row.id))
    await session.delete(row)
    await session.flush()
    return row


# -- The follow-up task a row makes -----------------------------------------------------------


def _follow_up_title(group: GroupSession) -> str:
    return f"One-to-one follow-up after the group session of {group.held_on}"


async def _follow_up_task(
    session: AsyncSession, caller: Caller, row: GroupAttendance, group: GroupSession
) -> None:
    """Keep the task her row makes in step with it: made (owned by her current worker, if she
    has one) when a follow-up is owed; due when the row says; done when the row records the
    follow-up, open again when that is taken back; removed when a correction leaves no
    follow-up owed (it never was: the task goes, as the row's own due date does)."""
    record = (ATTENDANCE.kind, row.id)
    if row.follow_up_due_on is None:
        await tasks.remove_made_by(session, tasks.GROUP_FOLLOW_UP, record)
        return
    state = {"due_on": row.follow_up_due_on, "done_on": row.follow_up_done_on}
    if await tasks.keep_in_step(session, tasks.GROUP_FOLLOW_UP, record, **state) is not None:
        return
    await tasks.make_for_record(
        session,
        caller,
        purpose=tasks.GROUP_FOLLOW_UP,
        mother_id=row.mother_id,
        record=record,
        title=_follow_up_title(group),
        detail=f"She checked out lower than she checked in ({group.activity}).",
        due_on=row.follow_up_due_on,
        owner_id=await session.scalar(current_worker(row.mother_id)),
    )
    if row.follow_up_done_on is not None:
        await tasks.keep_in_step(session, tasks.GROUP_FOLLOW_UP, record, **state)
