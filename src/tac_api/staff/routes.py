import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.routing import Route

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS, problem_response
from tac_api.http import set_etag
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import AdminOnly, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import get_visible
from tac_api.routing import answer_changed, answer_created, page_shown, show_visible
from tac_api.schemas import PrisonCode
from tac_api.session import SessionDep
from tac_api.staff import service
from tac_api.staff.models import StaffMember
from tac_api.staff.schemas import (
    AllocationEnd,
    AllocationPublic,
    AllocationPut,
    Caseloads,
    StaffMemberCreate,
    StaffMemberPublic,
    StaffMemberUpdate,
    StaffRole,
)

router = APIRouter(tags=["Staff and caseloads"], responses=COMMON_PROBLEMS)
ALLOCATION = "/v1/mothers/{mother_id}/allocation"
ME = "/v1/staff/me"


# How a member of staff signs in is hers and the admins' to know, not her colleagues'.
SIGN_IN_LINKS = ("identity_subject", "api_client_id", "signs_in_as")


def public(entry: StaffMember, caller: Caller) -> StaffMemberPublic:
    """An entry as this caller is shown it: her sign-in links to an admin and to herself only
    (null to anyone else)."""
    shown = StaffMemberPublic.model_validate(entry)
    if caller.is_admin or (entry.signs_in_as is not None and entry.signs_in_as == caller.client_id):
        return shown
    return shown.model_copy(update=dict.fromkeys(SIGN_IN_LINKS))


@router.post(
    "/v1/staff",
    status_code=status.HTTP_201_CREATED,
    summary="Enter one of the service's staff in her prison's directory (admin)",
    responses=WRITE_PROBLEMS,
)
async def create_staff_member(
    body: StaffMemberCreate,
    caller: AdminOnly,  # a sign-in linked to an entry makes that person's work hers
    claim: IdempotencyClaim,
    session: SessionDep,
    request: Request,
    response: Response,
) -> StaffMemberPublic:
    entry = await service.create_staff_member(session, request.app.state.settings, body)
    answer_created(session, response, service.STAFF, entry)
    return public(entry, caller)


@router.get("/v1/staff", summary="The staff directory, by prison and name")
async def list_staff(
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    prison_code: Annotated[PrisonCode | None, Query(description="One prison's staff.")] = None,
    role: Annotated[StaffRole | None, Query(description="Staff in this role.")] = None,
    current: Annotated[
        bool | None,
        Query(description="true: staff who have not left; false: those who have."),
    ] = None,
) -> Page[StaffMemberPublic]:
    statement = service.search(caller, prison_code, role, current)
    entries, cursor = await page_shown(session, service.STAFF, statement, paging)
    return Page[StaffMemberPublic](items=[public(e, caller) for e in entries], next_cursor=cursor)


# Before `/v1/staff/{staff_member_id}`, which would take "me" for an id.
@router.get(
    ME,
    summary="Your own entry in the staff directory",
    description="The entry linked to how you signed in (an API client or the identity "
    "provider), found by the caller id either gives you; 404 when none is.",
)
async def get_my_entry(
    caller: PrisonSide, session: SessionDep, response: Response
) -> StaffMemberPublic:
    entry = await service.me(session, caller)
    audit.consulted(session, service.STAFF, [entry])
    set_etag(response, entry.version)
    return public(entry, caller)


async def _me_is_read_only(request: Request) -> Response:
    """ "me" is no entry's id: without this, PATCH /v1/staff/me would reach the PATCH of
    `/v1/staff/{staff_member_id}` and answer 422 for the id, where 405 is the truth. Not an
    operation of the API (no schema, no caller step): only the answer a wrong method gets."""
    return problem_response(
        405,
        "Method Not Allowed",
        headers={"Allow": "GET"},
        instance=request.url.path,
    )


# Every method but GET (and the HEAD Starlette answers with it), for one honest Allow header:
# the shared 405 would list the methods of `/v1/staff/{staff_member_id}` too.
OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
router.routes.append(Route(ME, _me_is_read_only, methods=OTHER_METHODS, include_in_schema=False))


@router.get("/v1/staff/{staff_member_id}", summary="One entry of the staff directory")
async def get_staff_member(
    staff_member_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> StaffMemberPublic:
    entry = await show_visible(session, caller, service.STAFF, staff_member_id, response)
    return public(entry, caller)


@router.patch(
    "/v1/staff/{staff_member_id}",
    summary="Change an entry of the staff directory (admin)",
    responses=WRITE_PROBLEMS,
)
async def update_staff_member(
    staff_member_id: uuid.UUID,
    body: StaffMemberUpdate,
    caller: AdminOnly,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> StaffMemberPublic:
    entry, changed = await service.update_staff_member(
        session, request.app.state.settings, caller, staff_member_id, body, if_match
    )
    answer_changed(session, response, service.STAFF, entry, changed)
    return public(entry, caller)


@router.put(
    ALLOCATION,
    summary="Allocate her to a worker from a date",
    description="Her current allocation ends on `allocated_on` and the new one begins, "
    "together. The worker must be in her prison's directory and not have left. The same "
    "worker again changes nothing. 409 if she was allocated by someone else at that moment.",
    responses=WRITE_PROBLEMS,
)
async def put_allocation(
    mother_id: uuid.UUID,
    body: AllocationPut,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
) -> AllocationPublic:
    allocated = await service.allocate(session, caller, mother_id, body)
    allocation = allocated.allocation
    if allocated.ended is not None:
        audit.altered(session, service.ALLOCATIONS, allocated.ended)
    if allocated.made:
        audit.collected(session, service.ALLOCATIONS, allocation)
    else:  # the same worker again: her current allocation, shown as it is
        audit.consulted(session, service.ALLOCATIONS, [allocation])
    set_etag(response, allocation.version)
    workers = await service.workers_of(session, [allocation])
    return service.allocation_public(allocation, workers[allocation.staff_member_id])


@router.post(
    f"{ALLOCATION}/end",
    summary="End her current allocation, with no one after it",
    responses=WRITE_PROBLEMS,
)
async def end_allocation(
    mother_id: uuid.UUID,
    body: AllocationEnd,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> AllocationPublic:
    allocation = await service.end_allocation(session, caller, mother_id, body)
    answer_changed(session, response, service.ALLOCATIONS, allocation, True)
    workers = await service.workers_of(session, [allocation])
    return service.allocation_public(allocation, workers[allocation.staff_member_id])


@router.get(
    "/v1/mothers/{mother_id}/allocations",
    summary="Her allocations, oldest first: to whom, from when to when, and who made each",
)
async def list_allocations(
    mother_id: uuid.UUID, caller: PrisonSide, session: SessionDep, paging: PagingQuery
) -> Page[AllocationPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.history(caller, mother_id)
    allocations, cursor = await page_shown(session, service.ALLOCATIONS, statement, paging)
    workers = await service.workers_of(session, allocations)
    return Page[AllocationPublic](
        items=[service.allocation_public(a, workers[a.staff_member_id]) for a in allocations],
        next_cursor=cursor,
    )


@router.get(
    "/v1/caseloads",
    summary="Each worker's active women against the caseload guide, and who is unallocated",
    description="Per prison: each of its staff who has not left, with her active women "
    "(allocated to her, case not closed), their count against the guide "
    "(TAC_CASELOAD_GUIDE_LOWER to TAC_CASELOAD_GUIDE_UPPER) and whether she is over or under "
    "it; and the prison's active women allocated to none of its staff. A prison social worker "
    "sees her own prison's; an admin names a prison or gets every prison's.",
)
async def get_caseloads(
    caller: PrisonSide,
    session: SessionDep,
    request: Request,
    prison_code: Annotated[PrisonCode | None, Query(description="One prison's caseloads.")] = None,
) -> Caseloads:
    return await service.caseloads(session, request.app.state.settings, caller, prison_code)
