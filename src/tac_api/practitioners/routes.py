import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from tac_api.audit import service as audit
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.http import set_etag
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PageQuery, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.practitioners import service
from tac_api.practitioners.schemas import (
    PractitionerCreate,
    PractitionerLinkCreate,
    PractitionerLinkPublic,
    PractitionerPublic,
    PractitionerRole,
    PractitionerUpdate,
)
from tac_api.preconditions import IF_MATCH_PROBLEMS, IfMatchHeader
from tac_api.resources import get_visible, page_of
from tac_api.routing import (
    answer_changed,
    answer_created,
    answer_erased,
    page_shown,
    show_visible,
)
from tac_api.session import SessionDep
from tac_api.tasks.service import record_erased

router = APIRouter(tags=["Practitioners"], responses=COMMON_PROBLEMS)


@router.post(
    "/v1/practitioners",
    status_code=status.HTTP_201_CREATED,
    summary="Add a practitioner",
    responses=WRITE_PROBLEMS,
)
async def create_practitioner(
    body: PractitionerCreate,
    _: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> PractitionerPublic:
    practitioner = await service.create_practitioner(session, body)
    answer_created(session, response, service.PRACTITIONERS, practitioner)
    return service.PRACTITIONERS.to_public(practitioner)


@router.get("/v1/practitioners", summary="Find practitioners by name or organisation")
async def list_practitioners(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    role: PractitionerRole | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> Page[PractitionerPublic]:
    statement = service.search(caller, role, q)
    found, cursor = await page_shown(session, service.PRACTITIONERS, statement, paging)
    return Page[PractitionerPublic](
        items=[service.PRACTITIONERS.to_public(p) for p in found], next_cursor=cursor
    )


@router.get("/v1/practitioners/{practitioner_id}", summary="One practitioner")
async def get_practitioner(
    practitioner_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> PractitionerPublic:
    practitioner = await show_visible(
        session, caller, service.PRACTITIONERS, practitioner_id, response
    )
    return service.PRACTITIONERS.to_public(practitioner)


@router.patch(
    "/v1/practitioners/{practitioner_id}",
    summary="Change a practitioner's details",
    responses=WRITE_PROBLEMS,
)
async def update_practitioner(
    practitioner_id: uuid.UUID,
    body: PractitionerUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> PractitionerPublic:
    practitioner, changed = await service.update_practitioner(
        session, caller, practitioner_id, body, if_match
    )
    answer_changed(session, response, service.PRACTITIONERS, practitioner, changed)
    return service.PRACTITIONERS.to_public(practitioner)


@router.post(
    "/v1/mothers/{mother_id}/practitioners",
    status_code=status.HTTP_201_CREATED,
    summary="Link a practitioner to her, or to one of her children",
    responses=WRITE_PROBLEMS,
)
async def link_practitioner(
    mother_id: uuid.UUID,
    body: PractitionerLinkCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> PractitionerLinkPublic:
    link, practitioner = await service.link(session, caller, mother_id, body)
    # A link is read through her list, not at an address of its own: no Location.
    audit.collected(session, service.PRACTITIONER_LINKS, link)
    set_etag(response, link.version)
    return service.to_public(link, practitioner)


@router.get("/v1/mothers/{mother_id}/practitioners", summary="Who works with her and her children")
async def list_practitioner_links(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
) -> Page[PractitionerLinkPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    links = service.PRACTITIONER_LINKS
    statement = service.links_of(caller, mother_id)
    rows, cursor = await page_of(
        session, links, statement, page, request, response, id_of=service.link_of
    )
    audit.consulted(session, links, (link for link, _ in rows))
    return Page[PractitionerLinkPublic](
        items=[service.to_public(link, practitioner) for link, practitioner in rows],
        next_cursor=cursor,
    )


@router.delete(
    "/v1/practitioner-links/{link_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a practitioner from her circle",
    description='A link never changes: its ETag is the one its creation answered (`"1"`), '
    "and `If-Match: *` will do.",
    responses=IF_MATCH_PROBLEMS,
)
async def unlink_practitioner(
    link_id: uuid.UUID, caller: PrisonSide, session: SessionDep, if_match: IfMatchHeader = None
) -> None:
    link = await service.unlink(session, caller, link_id, if_match)
    answer_erased(session, service.PRACTITIONER_LINKS, link)
    await record_erased(session, caller, (service.PRACTITIONER_LINKS.kind, link.id))
