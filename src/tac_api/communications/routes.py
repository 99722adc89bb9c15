import uuid

from fastapi import APIRouter, Response, status

from tac_api.communications import service
from tac_api.communications.schemas import CommunicationCreate, CommunicationPublic, Kind
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.resources import get_visible
from tac_api.routing import answer_created, page_shown, show_visible
from tac_api.session import SessionDep

router = APIRouter(tags=["Communications"], responses=COMMON_PROBLEMS)


@router.post(
    "/v1/mothers/{mother_id}/communications",
    status_code=status.HTTP_201_CREATED,
    summary="Record what was relayed, or a life story contribution",
    responses=WRITE_PROBLEMS,
)
async def create_communication(
    mother_id: uuid.UUID,
    body: CommunicationCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> CommunicationPublic:
    communication = await service.create_communication(session, caller, mother_id, body)
    answer_created(session, response, service.COMMUNICATIONS, communication)
    return communication


@router.get(
    "/v1/mothers/{mother_id}/communications",
    summary="What was relayed for her, oldest first (a local authority: about its children)",
)
async def list_communications(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    kind: Kind | None = None,
    child_id: uuid.UUID | None = None,
) -> Page[CommunicationPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.search(caller, mother_id, kind=kind, child_id=child_id)
    found, cursor = await page_shown(session, service.COMMUNICATIONS, statement, paging)
    items = await service.public_page(session, caller, found)
    return Page[CommunicationPublic](items=items, next_cursor=cursor)


@router.get("/v1/communications/{communication_id}", summary="One communication")
async def get_communication(
    communication_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> CommunicationPublic:
    communication = await show_visible(
        session, caller, service.COMMUNICATIONS, communication_id, response
    )
    return (await service.public_page(session, caller, [communication]))[0]
