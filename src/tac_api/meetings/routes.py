import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tac_api.auth.schemas import Caller, Role
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.meetings import service
from tac_api.meetings.models import Meeting
from tac_api.meetings.schemas import MeetingCreate, MeetingPublic, MeetingUpdate
from tac_api.meetings.service import MEETINGS
from tac_api.notice import late_notice_days
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, requires
from tac_api.preconditions import IfMatchHeader
from tac_api.routing import (
    HeldInQuery,
    StartsBeforeQuery,
    StartsFromQuery,
    answer_changed,
    answer_created,
    page_shown,
    show_visible,
)
from tac_api.session import SessionDep

router = APIRouter(prefix="/v1/meetings", tags=["Meetings"], responses=COMMON_PROBLEMS)

# A local authority records invitations to meetings about its own children: that is how the
# prison side hears of them early. How she attends stays the prison side's to record.
MeetingRecorder = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]


async def _meeting_answer(
    session: SessionDep, caller: Caller, request: Request, meeting: Meeting
) -> MeetingPublic:
    [shown] = await service.public_page(
        session, caller, [meeting], late_notice_days=late_notice_days(request)
    )
    return shown


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a meeting about her children (a local authority: an invitation)",
    responses=WRITE_PROBLEMS,
)
async def create_meeting(
    body: MeetingCreate,
    caller: MeetingRecorder,
    claim: IdempotencyClaim,
    session: SessionDep,
    request: Request,
    response: Response,
) -> MeetingPublic:
    meeting = await service.create_meeting(session, caller, body)
    answer_created(session, response, MEETINGS, meeting)
    return await _meeting_answer(session, caller, request, meeting)


@router.get("", summary="Meetings visible to you, in date order: the week ahead and after")
async def list_meetings(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    request: Request,
    prison_code: HeldInQuery = None,
    start: StartsFromQuery = None,
    end: StartsBeforeQuery = None,
    mother_id: uuid.UUID | None = None,
    child_id: Annotated[
        uuid.UUID | None, Query(description="Meetings concerning this child.")
    ] = None,
) -> Page[MeetingPublic]:
    statement = service.search(
        caller,
        prison_code=prison_code,
        start=start,
        end=end,
        mother_id=mother_id,
        child_id=child_id,
    )
    meetings, cursor = await page_shown(session, MEETINGS, statement, paging)
    items = await service.public_page(
        session, caller, meetings, late_notice_days=late_notice_days(request)
    )
    return Page[MeetingPublic](items=items, next_cursor=cursor)


@router.get("/{meeting_id}", summary="One meeting")
async def get_meeting(
    meeting_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    request: Request,
    response: Response,
) -> MeetingPublic:
    meeting = await show_visible(session, caller, MEETINGS, meeting_id, response)
    return await _meeting_answer(session, caller, request, meeting)


@router.patch(
    "/{meeting_id}",
    summary="Change a meeting: moved, another platform, or whether she attended",
    responses=WRITE_PROBLEMS,
)
async def update_meeting(
    meeting_id: uuid.UUID,
    body: MeetingUpdate,
    caller: MeetingRecorder,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> MeetingPublic:
    meeting, changed = await service.update_meeting(session, caller, meeting_id, body, if_match)
    answer_changed(session, response, MEETINGS, meeting, changed)
    return await _meeting_answer(session, caller, request, meeting)
