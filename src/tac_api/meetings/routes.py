import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS, InvalidInput
from tac_api.http import set_etag
from tac_api.meetings import service
from tac_api.meetings.schemas import MeetingCreate, MeetingPublic, MeetingUpdate
from tac_api.pagination import Page, PageQuery, fetch_page
from tac_api.pipeline import CaseReader, IdempotencyClaim, requires
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import children_of, get_visible
from tac_api.schemas import IsoDatetime, PrisonCode
from tac_api.session import SessionDep

router = APIRouter(prefix="/v1/meetings", tags=["Meetings"], responses=COMMON_PROBLEMS)

# A local authority records invitations to meetings about its own children: that is how the
# prison side hears of them early. How she attends stays the prison side's to record.
MeetingRecorder = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]


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
    response: Response,
) -> MeetingPublic:
    meeting = await service.create_meeting(session, caller, body)
    audit.record(session, Action.collect, "meeting", meeting.id, meeting.mother_id)
    response.headers["Location"] = f"/v1/meetings/{meeting.id}"
    set_etag(response, meeting.version)
    return await service.public(session, caller, meeting)


@router.get("", summary="Meetings visible to you, in date order: the week ahead and after")
async def list_meetings(
    caller: CaseReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    prison_code: Annotated[
        PrisonCode | None, Query(description="Mothers held in this prison.")
    ] = None,
    starts_from: Annotated[
        IsoDatetime | None, Query(alias="from", description="Starting from this time (inclusive).")
    ] = None,
    starts_to: Annotated[
        IsoDatetime | None, Query(alias="to", description="Starting before this time (exclusive).")
    ] = None,
    mother_id: uuid.UUID | None = None,
    child_id: Annotated[
        uuid.UUID | None, Query(description="Meetings concerning this child.")
    ] = None,
) -> Page[MeetingPublic]:
    if starts_from and starts_to and starts_to <= starts_from:
        raise InvalidInput("to", "must be after from", location="query")
    statement = service.search(caller, prison_code, starts_from, starts_to, mother_id, child_id)
    meetings, cursor = await fetch_page(
        session, statement, service.MEETINGS.order, page, request, response
    )
    children = await children_of(session, caller, service.MEETINGS, (m.id for m in meetings))
    audit.record_many(session, Action.consult, "meeting", ((m.id, m.mother_id) for m in meetings))
    return Page[MeetingPublic](
        items=[service.to_public(m, children[m.id]) for m in meetings], next_cursor=cursor
    )


@router.get("/{meeting_id}", summary="One meeting")
async def get_meeting(
    meeting_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> MeetingPublic:
    meeting = await get_visible(session, caller, service.MEETINGS, meeting_id)
    audit.record(session, Action.consult, "meeting", meeting.id, meeting.mother_id)
    set_etag(response, meeting.version)
    return await service.public(session, caller, meeting)


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
    response: Response,
    if_match: IfMatchHeader = None,
) -> MeetingPublic:
    meeting = await service.update_meeting(session, caller, meeting_id, body, if_match)
    audit.record(session, Action.alter, "meeting", meeting.id, meeting.mother_id)
    set_etag(response, meeting.version)
    return await service.public(session, caller, meeting)
