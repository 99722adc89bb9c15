import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.organisations import service
from tac_api.organisations.schemas import (
    OrganisationCreate,
    OrganisationPublic,
    OrganisationUpdate,
    ServiceType,
)
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.routing import answer_changed, answer_created, page_shown, show_visible
from tac_api.session import SessionDep

router = APIRouter(tags=["Organisations"], responses=COMMON_PROBLEMS)
ORGANISATIONS = "/v1/organisations"
ORGANISATION = f"{ORGANISATIONS}/{{organisation_id}}"


@router.post(
    ORGANISATIONS,
    status_code=status.HTTP_201_CREATED,
    summary="Add a service in the community to the directory",
    responses=WRITE_PROBLEMS,
)
async def create_organisation(
    body: OrganisationCreate,
    _: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> OrganisationPublic:
    organisation = await service.create_organisation(session, body)
    answer_created(session, response, service.ORGANISATIONS, organisation)
    return service.ORGANISATIONS.to_public(organisation)


@router.get(
    ORGANISATIONS,
    summary="Find services in the community, by name",
    description="Those still taking referrals, unless `include_closed`.",
)
async def list_organisations(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of its name.")
    ] = None,
    service_type: Annotated[ServiceType | None, Query(description="What it does.")] = None,
    include_closed: Annotated[
        bool, Query(description="true: those that no longer take referrals too.")
    ] = False,
) -> Page[OrganisationPublic]:
    statement = service.search(caller, q, service_type, include_closed)
    found, cursor = await page_shown(session, service.ORGANISATIONS, statement, paging)
    return Page[OrganisationPublic](
        items=[service.ORGANISATIONS.to_public(o) for o in found], next_cursor=cursor
    )


@router.get(ORGANISATION, summary="One service in the community")
async def get_organisation(
    organisation_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> OrganisationPublic:
    organisation = await show_visible(
        session, caller, service.ORGANISATIONS, organisation_id, response
    )
    return service.ORGANISATIONS.to_public(organisation)


@router.patch(
    ORGANISATION,
    summary="Change a service's details, or record that it closed (If-Match)",
    responses=WRITE_PROBLEMS,
)
async def update_organisation(
    organisation_id: uuid.UUID,
    body: OrganisationUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> OrganisationPublic:
    organisation, changed = await service.update_organisation(
        session, caller, organisation_id, body, if_match
    )
    answer_changed(session, response, service.ORGANISATIONS, organisation, changed)
    return service.ORGANISATIONS.to_public(organisation)
