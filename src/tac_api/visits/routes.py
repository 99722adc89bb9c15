import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.routing import (
    HeldInQuery,
    answer_changed,
    answer_created,
    page_shown,
    show_visible,
)
from tac_api.schemas import IsoDatetime
from tac_api.session import SessionDep
from tac_api.visits import service
from tac_api.visits.schemas import (
    ContactVisitCreate,
    ContactVisitPublic,
    ContactVisitUpdate,
    StatusChange,
    VisitStatus,
)

router = APIRouter(prefix="/v1/contact-visits", tags=["Contact visits"], responses=COMMON_PROBLEMS)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Request contact between her and her children",
    responses=WRITE_PROBLEMS,
)
async def create_contact_visit(
    body: ContactVisitCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ContactVisitPublic:
    visit = await service.create_visit(session, caller, body)
    answer_created(session, response, service.VISITS, visit)
    return (await service.public_page(session, caller, [visit]))[0]


@router.get("", summary="Contact visits visible to you, oldest request first")
async def list_contact_visits(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    prison_code: HeldInQuery = None,
    start: Annotated[
        IsoDatetime | None,
        Query(alias="from", description="Scheduled from this time (inclusive)."),
    ] = None,
    end: Annotated[
        IsoDatetime | None,
        Query(alias="to", description="Scheduled before this time (exclusive)."),
    ] = None,
    mother_id: uuid.UUID | None = None,
    child_id: Annotated[uuid.UUID | None, Query(description="Visits with this child.")] = None,
    status: VisitStatus | None = None,
) -> Page[ContactVisitPublic]:
    statement = service.search(
        caller,
        prison_code=prison_code,
        start=start,
        end=end,
        mother_id=mother_id,
        child_id=child_id,
        status=status,
    )
    visits, cursor = await page_shown(session, service.VISITS, statement, paging)
    items = await service.public_page(session, caller, visits)
    return Page[ContactVisitPublic](items=items, next_cursor=cursor)


@router.get("/{contact_visit_id}", summary="One contact visit, with its status history")
async def get_contact_visit(
    contact_visit_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> ContactVisitPublic:
    visit = await show_visible(session, caller, service.VISITS, contact_visit_id, response)
    return (await service.public_page(session, caller, [visit]))[0]


@router.patch(
    "/{contact_visit_id}",
    summary="Change a visit's arrangements, or record how a held visit went",
    responses=WRITE_PROBLEMS,
)
async def update_contact_visit(
    contact_visit_id: uuid.UUID,
    body: ContactVisitUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ContactVisitPublic:
    visit, changed = await service.update_visit(session, caller, contact_visit_id, body, if_match)
    answer_changed(session, response, service.VISITS, visit, changed)
    return (await service.public_page(session, caller, [visit]))[0]


@router.post(
    "/{contact_visit_id}/status",
    summary="Move a visit on: approved, scheduled, held, cancelled or refused",
    description="Only the lifecycle's transitions are allowed (409 otherwise, naming where it "
    "can go): requested -> approved -> scheduled -> held, or cancelled or refused (with a "
    "reason) before it is held. It needs If-Match, as every change does. Scheduling is one "
    'request: `{"status": "scheduled", "scheduled_at": ..., "escort": {...}}` sets its '
    "time and escort with its status (a PATCH first still works); `scheduled_at` and `escort` "
    "go with `scheduled` only (422 otherwise).",
    responses=WRITE_PROBLEMS,
)
async def change_contact_visit_status(
    contact_visit_id: uuid.UUID,
    body: StatusChange,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ContactVisitPublic:
    visit = await service.change_status(session, caller, contact_visit_id, body, if_match)
    answer_changed(session, response, service.VISITS, visit, changed=True)
    return (await service.public_page(session, caller, [visit]))[0]
