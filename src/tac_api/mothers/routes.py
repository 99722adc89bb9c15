import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
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
from tac_api.pagination import Page, PageQuery, fetch_page
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import get_visible
from tac_api.schemas import PrisonCode
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
    audit.record(session, Action.collect, "mother", mother.id, mother.id)
    response.headers["Location"] = f"/v1/mothers/{mother.id}"
    set_etag(response, mother.version)
    return MotherPublic.model_validate(mother)


@router.get("", summary="Mothers visible to you, by name")
async def list_mothers(
    caller: CaseReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    prison_code: PrisonCode | None = None,
    status: MotherStatus | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of a name")
    ] = None,
) -> Page[MotherPublic] | Page[MotherMinimal]:
    statement = service.search_mothers(caller, prison_code, status, q)
    mothers, cursor = await fetch_page(
        session, statement, service.MOTHERS.order, page, request, response
    )
    audit.record_many(session, Action.consult, "mother", ((m.id, m.id) for m in mothers))
    if caller.is_local_authority:
        return Page[MotherMinimal](
            items=[MotherMinimal.model_validate(m) for m in mothers], next_cursor=cursor
        )
    return Page[MotherPublic](
        items=[MotherPublic.model_validate(m) for m in mothers], next_cursor=cursor
    )


@router.get("/{mother_id}", summary="Her record, with a summary of her children")
async def get_mother(
    mother_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> MotherWithChildren | MotherMinimal:
    if caller.is_local_authority:
        mother = await get_visible(session, caller, service.MOTHERS, mother_id)
        audit.record(session, Action.consult, "mother", mother.id, mother.id)
        set_etag(response, mother.version)
        return MotherMinimal.model_validate(mother)
    record = await service.get_mother_with_children(session, caller, mother_id)
    audit.record(session, Action.consult, "mother", record.id, record.id)
    audit.record_many(
        session, Action.consult, "child", ((c.id, record.id) for c in record.children)
    )
    set_etag(response, record.version)
    return record


@router.patch(
    "/{mother_id}",
    summary="Change her record; a new prison_code records a transfer",
    responses=WRITE_PROBLEMS,
)
async def update_mother(
    mother_id: uuid.UUID,
    body: MotherUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> MotherPublic:
    mother = await service.update_mother(session, caller, mother_id, body, if_match)
    audit.record(session, Action.alter, "mother", mother.id, mother.id)
    set_etag(response, mother.version)
    return MotherPublic.model_validate(mother)


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
