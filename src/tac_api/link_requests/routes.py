import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller, Role
from tac_api.children import service as children
from tac_api.children.schemas import ChildPublic
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.link_requests import service
from tac_api.link_requests.schemas import (
    LinkConfirmation,
    LinkRefusal,
    LinkRequestForAuthority,
    LinkRequestPublic,
    LinkRequestStatus,
    for_authority,
    for_prison_side,
)
from tac_api.pagination import Page, PageParams, PageQuery
from tac_api.pipeline import IdempotencyClaim, PrisonSide, requires
from tac_api.resources import page_of
from tac_api.session import SessionDep

# The prison side's routes and the authority's (under /v1/sync) are grouped apart: each its tag.
router = APIRouter(responses=COMMON_PROBLEMS)
# The asking authority's people and systems read its own requests; an admin reads them all
# through the prison side's list instead.
AuthorityReader = Annotated[
    Caller, Depends(requires(Role.la_practitioner, Role.la_system, admin=False))
]


async def _page_of(
    session: AsyncSession,
    caller: Caller,
    status: str | None,
    page: PageParams,
    request: Request,
    response: Response,
) -> tuple[list[Any], str | None]:
    """One page of the requests the caller sees (the prison side's or the authority's own):
    each row the request and the mother its prison number names, if any."""
    statement = service.search(caller, status)
    return await page_of(
        session, service.LINK_REQUESTS, statement, page, request, response, id_of=service.id_of
    )


@router.get(
    "/v1/link-requests",
    tags=["Link requests"],
    summary="Local authorities asking to be linked to a mother: the requests to decide",
    description="Children a local authority pushed for a mother it has no confirmed child of, "
    "held until her prison's social worker (or an admin) confirms or declines. A social worker "
    "sees the requests naming mothers held in her prison; an admin sees all, including those "
    "naming a prison number no mother has (`mother_id` null). Oldest first; `pending` unless "
    "`status` says otherwise.",
)
async def list_link_requests(
    caller: PrisonSide,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    status: LinkRequestStatus = "pending",
) -> Page[LinkRequestPublic]:
    rows, cursor = await _page_of(session, caller, status, page, request, response)
    shown = [for_prison_side(r[0].model_dump(), r[1]) for r in rows]
    audit.consulted(session, service.LINK_REQUESTS, shown)
    return Page[LinkRequestPublic](items=shown, next_cursor=cursor)


@router.get(
    "/v1/link-requests/{link_request_id}", tags=["Link requests"], summary="One link request"
)
async def get_link_request(
    link_request_id: uuid.UUID, caller: PrisonSide, session: SessionDep
) -> LinkRequestPublic:
    found, mother_id = await service.get_link_request(session, caller, link_request_id)
    shown = for_prison_side(found.model_dump(), mother_id)
    audit.consulted(session, service.LINK_REQUESTS, [shown])
    return shown


@router.post(
    "/v1/link-requests/{link_request_id}/confirm",
    tags=["Link requests"],
    summary="Confirm: link the authority to her, making its child's record",
    description="The child is recorded as the authority pushed it, exactly as a take-up by "
    "sync records it (every rule of a child's record applies: 422 if one is broken; decline "
    "instead). From then on the authority sees her, and further children it pushes for her "
    "link at once. The authority is told through its change feed (`link-request.confirmed`). "
    "409 if the request is already decided, or names a prison number no mother has yet.",
    responses=WRITE_PROBLEMS,
)
async def confirm_link_request(
    link_request_id: uuid.UUID,
    body: LinkConfirmation,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ChildPublic:
    found, mother_id, child = await service.confirm(session, caller, link_request_id, body.reason)
    audit.altered(session, service.LINK_REQUESTS, {"id": found.id, "mother_id": mother_id})
    audit.collected(session, children.CHILDREN, child)
    response.headers["Location"] = children.CHILDREN.location_of(child)
    return children.to_public(caller, child)


@router.post(
    "/v1/link-requests/{link_request_id}/decline",
    tags=["Link requests"],
    summary="Decline: the authority is not linked to her",
    description="What the authority pushed is erased; the reason is kept for the prison side. "
    "The authority is told through its change feed (`link-request.declined`), and nothing of "
    "her; pushing the child again naming the same prison number answers 409. 409 if the "
    "request is already decided.",
    responses=WRITE_PROBLEMS,
)
async def decline_link_request(
    link_request_id: uuid.UUID,
    body: LinkRefusal,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
) -> LinkRequestPublic:
    found, mother_id = await service.decline(session, caller, link_request_id, body.reason)
    shown = for_prison_side(found.model_dump(), mother_id)
    audit.altered(session, service.LINK_REQUESTS, shown)
    return shown


@router.get(
    "/v1/sync/link-requests",
    tags=["Sync"],
    summary="Your authority's link requests: children held until the prison side confirms",
    description="Each child you pushed for a mother your authority has no confirmed child of "
    "(or naming a prison number no mother has), with its status. Nothing of the mother: "
    "a request reads the same whether or not the service knows the number. Oldest first.",
)
async def list_own_link_requests(
    caller: AuthorityReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    status: LinkRequestStatus | None = None,
) -> Page[LinkRequestForAuthority]:
    rows, cursor = await _page_of(session, caller, status, page, request, response)
    # What the authority reads names no one it may know: no subject in the trail either.
    shown = [for_authority(r[0].model_dump()) for r in rows]
    audit.consulted(session, service.LINK_REQUESTS, shown)
    return Page[LinkRequestForAuthority](items=shown, next_cursor=cursor)


@router.get(
    "/v1/sync/link-requests/{link_request_id}",
    tags=["Sync"],
    summary="One of your authority's link requests",
)
async def get_own_link_request(
    link_request_id: uuid.UUID, caller: AuthorityReader, session: SessionDep
) -> LinkRequestForAuthority:
    found, _ = await service.get_link_request(session, caller, link_request_id)
    shown = for_authority(found.model_dump())
    audit.consulted(session, service.LINK_REQUESTS, [shown])
    return shown
