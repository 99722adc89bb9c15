import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.flags.service import flagged, with_flags
from tac_api.http import set_etag
from tac_api.mothers import service
from tac_api.mothers.schemas import (
    MotherCreate,
    MotherMinimal,
    MotherPublic,
    MotherStatus,
    MotherUpdate,
    MotherWithChildren,
    PrisonStayPublic,
)
from tac_api.pagination import Page, PageQuery, PagingQuery, fetch_page
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import get_visible
from tac_api.routing import answer_changed, answer_created, page_shown, show_visible
from tac_api.schemas import PrisonCode, PrisonNumber
from tac_api.session import SessionDep

router = APIRouter(prefix="/v1/mothers", tags=["Mothers"], responses=COMMON_PROBLEMS)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a mother in custody",
    responses=WRITE_PROBLEMS,
)
async def create_mother(
    body: MotherCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> MotherPublic:
    mother = await service.create_mother(session, caller, body)
    answer_created(session, response, service.MOTHERS, mother)
    return await flagged(session, caller, "mother", MotherPublic.model_validate(mother), new=True)


@router.get("", summary="Mothers visible to you, by name")
async def list_mothers(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    prison_code: PrisonCode | None = None,
    status: MotherStatus | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of a name")
    ] = None,
    prison_number: Annotated[
        PrisonNumber | None,
        Query(description="Her prison number, or one NOMIS merged into it: the mother it names."),
    ] = None,
) -> Page[MotherPublic] | Page[MotherMinimal]:
    statement = service.search(caller, prison_code, status, q, prison_number)
    mothers, cursor = await page_shown(session, service.MOTHERS, statement, paging)
    shape = Page[MotherMinimal] if caller.is_local_authority else Page[MotherPublic]
    items = [service.to_public(caller, m) for m in mothers]
    await with_flags(session, caller, "mother", items)
    return shape(items=items, next_cursor=cursor)


@router.get("/{mother_id}", summary="Her record, with a summary of her children")
async def get_mother(
    mother_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> MotherWithChildren | MotherMinimal:
    if caller.is_local_authority:
        mother = await show_visible(session, caller, service.MOTHERS, mother_id, response)
        return service.to_public(caller, mother)
    record = await service.show_mother_with_children(session, caller, mother_id)
    set_etag(response, record.version)
    return await flagged(session, caller, "mother", record)


@router.patch(
    "/{mother_id}",
    summary="Change her record; a new prison_code records a transfer",
    description="A transfer, in the same transaction: her stay in the sending prison closes and "
    "one in the receiving prison opens; the sending prison keeps a read-only summary of her "
    "case as it stood (`/v1/transfer-summaries`) for TAC_TRANSFER_SUMMARY_DAYS; her open "
    "allocation to a worker of the sending prison ends that day; the receiving prison gets a "
    "handover task listing what is open; her children's authorities are told "
    "(`mother.transferred`).",
    responses=WRITE_PROBLEMS,
)
async def update_mother(
    mother_id: uuid.UUID,
    body: MotherUpdate,
    caller: PrisonSide,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> MotherPublic:
    mother, changed = await service.update_mother(
        session,
        caller,
        mother_id,
        body,
        if_match,
        transfer_summary_days=request.app.state.settings.transfer_summary_days,
    )
    answer_changed(session, response, service.MOTHERS, mother, changed)
    return await flagged(session, caller, "mother", MotherPublic.model_validate(mother))


@router.get("/{mother_id}/prison-stays", summary="Where she has been held, transfers included")
async def list_prison_stays(
    mother_id: uuid.UUID,
    caller: PrisonSide,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
) -> Page[PrisonStayPublic]:
    await get_visible(session, caller, service.MOTHERS, mother_id)
    stays, cursor = await fetch_page(
        session, service.prison_stays(mother_id), service.STAY_ORDER, page, request, response
    )
    audit.record_many(session, Action.consult, "prison_stay", ((s.id, mother_id) for s in stays))
    return Page[PrisonStayPublic](
        items=[PrisonStayPublic.model_validate(s) for s in stays], next_cursor=cursor
    )
