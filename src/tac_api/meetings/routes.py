import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller, Role
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.meetings import service
from tac_api.meetings.models import Meeting
from tac_api.meetings.schemas import (
    MeetingCreate,
    MeetingPublic,
    MeetingStatusChange,
    MeetingUpdate,
)
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
    prison_can_join: Annotated[
        bool | None,
        Query(
            description="false: those on a platform the prison cannot join, for which another "
            "way must be arranged ahead; true: those it can."
        ),
    ] = None,
) -> Page[MeetingPublic]:
    statement = service.search(
        caller,
        prison_code=prison_code,
        start=start,
        end=end,
        mother_id=mother_id,
        child_id=child_id,
        prison_can_join=prison_can_join,
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


@router.post(
    "/{meeting_id}/status",
    summary="A meeting that will not go ahead: adjourned (to a new date), vacated or cancelled",
    description="Who decided (`decided_by`: chair, local_authority, prison, family, other) and "
    "why. `adjourned` makes the new meeting from `adjourned_to` (the same mother and children; "
    "the same type, platform and invitation unless given; its own notice, from its own "
    "`notified_at`) and links the two: `adjourned_to_id` on this one, `adjourned_from_id` on "
    "the new one. Only a scheduled meeting whose attendance is not recorded changes status "
    "(409 otherwise, naming its status). A local authority does this only while every child "
    "is its own. Answers this meeting. Needs If-Match and Idempotency-Key.",
    responses=WRITE_PROBLEMS,
)
async def change_meeting_status(
    meeting_id: uuid.UUID,
    body: MeetingStatusChange,
    caller: MeetingRecorder,
    claim: IdempotencyClaim,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> MeetingPublic:
    meeting, new = await service.change_status(session, caller, meeting_id, body, if_match)
    if new is not None:
        audit.collected(session, MEETINGS, new)
    answer_changed(session, response, MEETINGS, meeting, changed=True)
    return await _meeting_answer(session, caller, request, meeting)
