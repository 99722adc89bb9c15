import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.flags.service import flagged
from tac_api.http import set_etag
from tac_api.pagination import Page, PageQuery
from tac_api.pipeline import CaseReader, PrisonSide
from tac_api.preconditions import IfMatchHeader, IfNoneMatchHeader
from tac_api.release import due, service
from tac_api.release.schemas import (
    ReleaseDue,
    ReleasePlanInput,
    ReleasePlanPublic,
    ReleasePlanUpdate,
)
from tac_api.routing import answer_changed, answer_put
from tac_api.schemas import PrisonCode
from tac_api.session import SessionDep

router = APIRouter(tags=["Release plans"], responses=COMMON_PROBLEMS)
PLAN = "/v1/mothers/{mother_id}/release-plan"


@router.get(PLAN, summary="Her release plan: pathways, actions, and whether it is complete")
async def get_release_plan(
    mother_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> ReleasePlanPublic:
    plan = await service.show_plan(session, caller, mother_id)
    set_etag(response, plan.version)
    return await flagged(session, caller, service.RELEASE_PLANS.kind, plan)


@router.put(
    PLAN,
    summary="Create her release plan, or replace it whole (If-Match)",
    description="Creating needs no condition, or `If-None-Match: *` to be sure of not replacing "
    "one made meanwhile (412 if there is one). Replacing needs `If-Match` with the plan's ETag "
    "(428 without it, 412 when it is stale). 201 when created, 200 when replaced.",
    responses={
        **WRITE_PROBLEMS,
        status.HTTP_201_CREATED: {"model": ReleasePlanPublic, "description": "Created"},
    },
)
async def put_release_plan(
    mother_id: uuid.UUID,
    body: ReleasePlanInput,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
    if_none_match: IfNoneMatchHeader = None,
) -> ReleasePlanPublic:
    plan, created, changed = await service.put_plan(
        session, caller, mother_id, body, if_match, if_none_match
    )
    answer_put(
        session,
        response,
        service.RELEASE_PLANS,
        plan,
        created=created,
        changed=changed,
        location=f"/v1/mothers/{mother_id}/release-plan",
    )
    return await flagged(session, caller, service.RELEASE_PLANS.kind, plan, new=created)


@router.patch(PLAN, summary="Change her release plan", responses=WRITE_PROBLEMS)
async def update_release_plan(
    mother_id: uuid.UUID,
    body: ReleasePlanUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ReleasePlanPublic:
    plan, changed = await service.update_plan(session, caller, mother_id, body, if_match)
    answer_changed(session, response, service.RELEASE_PLANS, plan, changed)
    return await flagged(session, caller, service.RELEASE_PLANS.kind, plan)


@router.get(
    "/v1/release-plans/due",
    summary="Releases due without a complete plan, soonest first",
    description="Mothers still held (status `active`) whose release date (the plan's expected "
    "date, or else her earliest release date) falls between today and `within_days` from now, "
    "and who have no release plan or one that is not complete.",
)
async def list_due_release_plans(
    caller: PrisonSide,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    prison_code: PrisonCode | None = None,
    within_days: Annotated[
        int, Query(ge=0, le=730, description="How far ahead to look, in days.")
    ] = 84,
) -> Page[ReleaseDue]:
    items, cursor = await due.due_page(
        session, caller, page, request, response, prison_code, date.today(), within_days
    )
    return Page[ReleaseDue](items=items, next_cursor=cursor)
