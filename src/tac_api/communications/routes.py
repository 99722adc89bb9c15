import uuid

from fastapi import APIRouter, Request, Response, status

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.communications import service
from tac_api.communications.schemas import CommunicationCreate, CommunicationPublic, Kind
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.http import set_etag
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PageQuery, fetch_page
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.resources import get_visible
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
    audit.record(session, Action.collect, "communication", communication.id, mother_id)
    response.headers["Location"] = f"/v1/communications/{communication.id}"
    set_etag(response, communication.version)
    return communication


@router.get(
    "/v1/mothers/{mother_id}/communications",
    summary="What was relayed for her, oldest first (a local authority: about its children)",
)
async def list_communications(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    kind: Kind | None = None,
    child_id: uuid.UUID | None = None,
) -> Page[CommunicationPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    found, cursor = await fetch_page(
        session,
        service.search(caller, mother_id, kind, child_id),
        service.COMMUNICATIONS.order,
        page,
        request,
        response,
    )
    items = await service.public_page(session, caller, found)
    audit.record_many(session, Action.consult, "communication", ((c.id, mother_id) for c in found))
    return Page[CommunicationPublic](items=items, next_cursor=cursor)


@router.get("/v1/communications/{communication_id}", summary="One communication")
async def get_communication(
    communication_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> CommunicationPublic:
    communication = await service.get_communication(session, caller, communication_id)
    audit.record(
        session, Action.consult, "communication", communication.id, communication.mother_id
    )
    set_etag(response, communication.version)
    return communication
