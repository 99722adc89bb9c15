import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.flags import service
from tac_api.flags.schemas import Clearance, FlagCreate, FlaggableKind, FlagPublic
from tac_api.http import set_etag
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.routing import HeldInQuery, answer_changed, page_shown, show_visible
from tac_api.session import SessionDep

# The prison side's working notes on her case: a local authority, a governor or an auditor
# never sees one (403).
router = APIRouter(tags=["Flags for review"], responses=COMMON_PROBLEMS)
FLAGS = "/v1/flags"


@router.post(
    FLAGS,
    status_code=status.HTTP_201_CREATED,
    summary="Flag a record of her case for review",
    description="Any record of her case you may see, by its kind (`mother` for her own record) "
    "and id: 422 naming `resource_id` for one you may not see or that is no record of a "
    "mother's case. Who raised it and when are recorded.",
    responses=WRITE_PROBLEMS,
)
async def create_flag(
    body: FlagCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> FlagPublic:
    flag = await service.raise_by_hand(session, caller, body)
    # Audited as collected by `raise_flag`: only where it lives, and its version, to answer.
    response.headers["Location"] = service.FLAGS.location_of(flag)
    set_etag(response, flag.version)
    return service.to_public(flag)


@router.get(
    FLAGS,
    summary="Flags for review visible to you, oldest raised first",
    description="`open=true`: not cleared yet; `open=false`: cleared.",
)
async def list_flags(
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    mother_id: uuid.UUID | None = None,
    resource_type: Annotated[
        FlaggableKind | None, Query(description="Flags on records of this kind.")
    ] = None,
    resource_id: Annotated[uuid.UUID | None, Query(description="Flags on this record.")] = None,
    open: bool | None = None,
    prison_code: HeldInQuery = None,
) -> Page[FlagPublic]:
    statement = service.search(
        caller,
        mother_id=mother_id,
        resource_type=resource_type,
        resource_id=resource_id,
        open_=open,
        prison_code=prison_code,
    )
    flags, cursor = await page_shown(session, service.FLAGS, statement, paging)
    return Page[FlagPublic](items=[service.to_public(f) for f in flags], next_cursor=cursor)


@router.get(f"{FLAGS}/{{flag_id}}", summary="One flag for review")
async def get_flag(
    flag_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> FlagPublic:
    flag = await show_visible(session, caller, service.FLAGS, flag_id, response)
    return service.to_public(flag)


@router.post(
    f"{FLAGS}/{{flag_id}}/clearance",
    summary="Clear a flag for review",
    description="Once (409 after), with what the review found if anything; who cleared it and "
    "when are recorded. If-Match: the flag's ETag.",
    responses=WRITE_PROBLEMS,
)
async def clear_flag(
    flag_id: uuid.UUID,
    body: Clearance,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> FlagPublic:
    flag = await service.clear(session, caller, flag_id, body, if_match)
    answer_changed(session, response, service.FLAGS, flag, changed=True)
    return service.to_public(flag)
