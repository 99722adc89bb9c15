import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.groups import service
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
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IF_MATCH_PROBLEMS, IfMatchHeader
from tac_api.resources import get_visible
from tac_api.routing import (
    answer_changed,
    answer_created,
    answer_erased,
    page_shown,
    show_visible,
)
from tac_api.schemas import IsoDate, PrisonCode
from tac_api.session import SessionDep
from tac_api.tasks.service import record_erased

router = APIRouter(tags=["Groups"], responses=COMMON_PROBLEMS)
SESSIONS = "/v1/group-sessions"
ATTENDANCES = "/v1/group-attendances"
SessionPrisonQuery = Annotated[
    PrisonCode | None, Query(description="Sessions held in this prison.")
]
HeldFromQuery = Annotated[
    IsoDate | None, Query(alias="from", description="Held on or after this day.")
]
HeldBeforeQuery = Annotated[
    IsoDate | None, Query(alias="to", description="Held before this day (exclusive).")
]


@router.post(
    SESSIONS,
    status_code=status.HTTP_201_CREATED,
    summary="Record a group session that was held",
    description="A prison social worker records her own prison's sessions; an admin, any "
    "prison's. Not in the future: a session is recorded once held, as its register is taken "
    "at it (a planned session that did not happen would count as held).",
    responses=WRITE_PROBLEMS,
)
async def create_group_session(
    body: GroupSessionCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> GroupSessionPublic:
    group = await service.create_session(session, caller, body, date.today())
    answer_created(session, response, service.SESSIONS, group)
    return await service.session_shown(session, group)


@router.get(SESSIONS, summary="Group sessions visible to you, oldest first")
async def list_group_sessions(
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    prison_code: SessionPrisonQuery = None,
    start: HeldFromQuery = None,
    end: HeldBeforeQuery = None,
) -> Page[GroupSessionPublic]:
    statement = service.search_sessions(caller, prison_code=prison_code, start=start, end=end)
    groups, cursor = await page_shown(session, service.SESSIONS, statement, paging)
    items = await service.sessions_shown(session, groups)
    return Page[GroupSessionPublic](items=items, next_cursor=cursor)


@router.get(f"{SESSIONS}/{{group_session_id}}", summary="One group session")
async def get_group_session(
    group_session_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> GroupSessionPublic:
    group = await show_visible(session, caller, service.SESSIONS, group_session_id, response)
    return await service.session_shown(session, group)


@router.patch(
    f"{SESSIONS}/{{group_session_id}}",
    summary="Change a group session",
    description="`facilitator_ids`, when sent, replaces them. Moved to another day, the "
    "women on its register must have been held in its prison that day, and the follow-ups "
    "it owes move to the new week's Sunday.",
    responses=WRITE_PROBLEMS,
)
async def update_group_session(
    group_session_id: uuid.UUID,
    body: GroupSessionUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> GroupSessionPublic:
    group, changed = await service.update_session(
        session, caller, group_session_id, body, if_match, date.today()
    )
    answer_changed(session, response, service.SESSIONS, group, changed)
    return await service.session_shown(session, group)


@router.get(
    f"{SESSIONS}/{{group_session_id}}/register",
    summary="A session and its whole register",
    description="The prison side's only: other women attended it too.",
)
async def get_group_register(
    group_session_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> Register:
    group = await show_visible(session, caller, service.SESSIONS, group_session_id, response)
    return await service.register(session, caller, group)


@router.post(
    f"{SESSIONS}/{{group_session_id}}/attendance",
    status_code=status.HTTP_201_CREATED,
    summary="Add a woman's row to a session's register",
    description="A woman whose case you may see, held in the session's prison on its day; "
    "one row per woman per session (409). Checking out lower than she checked in owes her a "
    "one-to-one follow-up by the Sunday of the session's week (`follow_up_due_on`).",
    responses=WRITE_PROBLEMS,
)
async def record_group_attendance(
    group_session_id: uuid.UUID,
    body: AttendanceCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> AttendancePublic:
    _, row = await service.add_attendance(session, caller, group_session_id, body)
    answer_created(session, response, service.ATTENDANCE, row)
    return await service.one_shown(session, caller, row)  # type: ignore[return-value]


@router.get(
    f"{ATTENDANCES}/{{group_attendance_id}}",
    summary="One woman's row of a register",
    description="A local authority reads it only while she consents to share her group "
    "attendance with it, and without who followed her up and the note.",
)
async def get_group_attendance(
    group_attendance_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> AttendancePublic | AttendanceShared:
    row = await show_visible(session, caller, service.ATTENDANCE, group_attendance_id, response)
    return await service.one_shown(session, caller, row)


@router.patch(
    f"{ATTENDANCES}/{{group_attendance_id}}",
    summary="Change her row: her check-out, or her one-to-one follow-up",
    description="The follow-up owed is worked out again from her check-in and check-out; "
    "`follow_up_done_on` not before the session nor in the future, only where one is owed. "
    "Only the prison that held the session (and an admin) changes its register: a worker "
    "who reads the row because the woman is now held in her prison gets 403.",
    responses=WRITE_PROBLEMS,
)
async def update_group_attendance(
    group_attendance_id: uuid.UUID,
    body: AttendanceUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> AttendancePublic:
    row, changed = await service.update_attendance(
        session, caller, group_attendance_id, body, if_match, date.today()
    )
    answer_changed(session, response, service.ATTENDANCE, row, changed)
    return await service.one_shown(session, caller, row)  # type: ignore[return-value]


@router.delete(
    f"{ATTENDANCES}/{{group_attendance_id}}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a row entered in error off the register",
    description="Only the prison that held the session (and an admin) changes its register: "
    "a worker who reads the row because the woman is now held in her prison gets 403.",
    responses=IF_MATCH_PROBLEMS,
)
async def delete_group_attendance(
    group_attendance_id: uuid.UUID,
    caller: PrisonSide,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> None:
    row = await service.remove_attendance(session, caller, group_attendance_id, if_match)
    answer_erased(session, service.ATTENDANCE, row)
    await record_erased(session, caller, (service.ATTENDANCE.kind, row.id))


@router.get(
    "/v1/mothers/{mother_id}/group-attendance",
    summary="Her rows of group sessions' registers, in the order they were added",
    description="The prison side reads them as her case. A local authority reads them while "
    "she consents to share her group attendance with it (never another woman's row); "
    "without her consent, the list is empty.",
)
async def list_her_group_attendance(
    mother_id: uuid.UUID, caller: CaseReader, session: SessionDep, paging: PagingQuery
) -> Page[AttendancePublic] | Page[AttendanceShared]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.her_attendance(caller, mother_id)
    rows, cursor = await page_shown(session, service.ATTENDANCE, statement, paging)
    items = await service.attendance_shown(session, caller, rows)
    if caller.is_local_authority:
        return Page[AttendanceShared](items=items, next_cursor=cursor)  # type: ignore[arg-type]
    return Page[AttendancePublic](items=items, next_cursor=cursor)  # type: ignore[arg-type]


@router.get(
    "/v1/group-follow-ups",
    summary="One-to-one follow-ups owed after a group, soonest due first",
    description="Rows of registers where she checked out lower than she checked in. "
    "`owed=true`: not yet done; `owed=false`: done; `overdue=true`: not done and due before "
    "today. `prison_code`: sessions held in this prison.",
)
async def list_group_follow_ups(
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    prison_code: SessionPrisonQuery = None,
    owed: bool | None = None,
    overdue: bool | None = None,
) -> Page[FollowUp]:
    today = date.today()
    statement = service.follow_ups(
        caller, prison_code=prison_code, owed=owed, overdue_on=today if overdue else None
    )
    rows, cursor = await page_shown(session, service.FOLLOW_UPS, statement, paging)
    items = await service.follow_ups_shown(session, rows, today)
    return Page[FollowUp](items=items, next_cursor=cursor)
