import uuid
from datetime import date

from fastapi import APIRouter, Response, status

from tac_api.audit import service as audit
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.http import set_etag
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader, IfNoneMatchHeader
from tac_api.routing import answer_changed, answer_put
from tac_api.session import SessionDep
from tac_api.support_plans import service
from tac_api.support_plans.schemas import (
    Agreement,
    SupportPlanHistory,
    SupportPlanInput,
    SupportPlanPublic,
)

router = APIRouter(tags=["Support plans"], responses=COMMON_PROBLEMS)
PLAN = "/v1/mothers/{mother_id}/support-plan"
SHARED = (
    "The prison side sees it as her case; a local authority only while she consents to share "
    "her plan with that authority (404 otherwise, as for no plan)."
)


@router.get(
    PLAN,
    summary="Her support plan: the areas she works on, and whether she agreed it",
    description=SHARED,
)
async def get_support_plan(
    mother_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> SupportPlanPublic:
    plan = await service.read_plan(session, caller, mother_id)
    audit.consulted(session, service.SUPPORT_PLANS, [plan])
    set_etag(response, plan.version)
    return plan


@router.get(
    f"{PLAN}/history",
    summary="Every version of her support plan, oldest first: who changed what, and when",
    description=f"{SHARED} Each version says when she agreed it, if she did.",
)
async def get_support_plan_history(
    mother_id: uuid.UUID, caller: CaseReader, session: SessionDep
) -> SupportPlanHistory:
    plan, history = await service.read_history(session, caller, mother_id)
    audit.consulted(session, service.SUPPORT_PLANS, [plan])
    return history


@router.put(
    PLAN,
    summary="Write her support plan whole (If-Match to replace it)",
    description="Creating needs no condition, or `If-None-Match: *` (412 if she has a plan). "
    "Replacing needs `If-Match` with the plan's ETag (428 without it, 412 when stale). A plan "
    "that now says something new is a new version (`content_version`), kept in its history, "
    "and a draft until she agrees it; one that says the same keeps its version and ETag. "
    "201 when created, 200 otherwise.",
    responses={
        **WRITE_PROBLEMS,
        status.HTTP_201_CREATED: {"model": SupportPlanPublic, "description": "Created"},
    },
)
async def put_support_plan(
    mother_id: uuid.UUID,
    body: SupportPlanInput,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
    if_none_match: IfNoneMatchHeader = None,
) -> SupportPlanPublic:
    plan, created, changed = await service.put_plan(
        session, caller, mother_id, body, if_match, if_none_match
    )
    answer_put(
        session,
        response,
        service.SUPPORT_PLANS,
        plan,
        created=created,
        changed=changed,
        location=PLAN.format(mother_id=mother_id),
    )
    return plan


@router.post(
    f"{PLAN}/agreement",
    summary="Record that she agreed her plan as it stands",
    description="`version` is the `content_version` she agreed: 409 if the plan has moved on "
    "since (she agreed words it no longer holds), or if she agreed this version already. "
    "`agreed_on` is not in the future, nor before the version was made.",
    responses=WRITE_PROBLEMS,
)
async def record_support_plan_agreement(
    mother_id: uuid.UUID,
    body: Agreement,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> SupportPlanPublic:
    plan = await service.agree(session, caller, mother_id, body, date.today())
    answer_changed(session, response, service.SUPPORT_PLANS, plan, changed=True)
    return plan
