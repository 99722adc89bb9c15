import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.referrals import service
from tac_api.referrals.schemas import (
    ReferralCreate,
    ReferralDecision,
    ReferralFunnel,
    ReferralPublic,
    ReferralStatus,
    ReferralUpdate,
    SupportClosure,
)
from tac_api.resources import get_visible
from tac_api.routing import answer_changed, answer_created, page_shown, show_visible
from tac_api.schemas import IsoDate, PrisonCode
from tac_api.session import SessionDep

router = APIRouter(tags=["Referrals"], responses=COMMON_PROBLEMS)
REFERRALS = "/v1/referrals"
ReferralPrisonQuery = Annotated[
    PrisonCode | None, Query(description="Referrals made to this prison.")
]
ReceivedFromQuery = Annotated[
    IsoDate | None, Query(alias="from", description="Received on or after this day.")
]
ReceivedBeforeQuery = Annotated[
    IsoDate | None, Query(alias="to", description="Received before this day (exclusive).")
]


@router.post(
    REFERRALS,
    status_code=status.HTTP_201_CREATED,
    summary="Record a referral to the service",
    description="She may have no record yet: the referral names her by prison number and "
    "name. A prison social worker records referrals to her own prison. Status starts "
    "`received`.",
    responses=WRITE_PROBLEMS,
)
async def create_referral(
    body: ReferralCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ReferralPublic:
    referral = await service.create_referral(session, caller, body)
    answer_created(session, response, service.REFERRALS, referral)
    return service.to_public(referral)


@router.get(REFERRALS, summary="Referrals visible to you, oldest received first")
async def list_referrals(
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    prison_code: ReferralPrisonQuery = None,
    status: ReferralStatus | None = None,
    start: ReceivedFromQuery = None,
    end: ReceivedBeforeQuery = None,
) -> Page[ReferralPublic]:
    statement = service.search(caller, prison_code=prison_code, status=status, start=start, end=end)
    referrals, cursor = await page_shown(session, service.REFERRALS, statement, paging)
    return Page[ReferralPublic](items=[service.to_public(r) for r in referrals], next_cursor=cursor)


# Not under /v1/referrals/: a path beside /v1/referrals/{referral_id} would be taken for a
# referral's id by that route's other methods (a PATCH of it answering 422, not 405).
@router.get(
    "/v1/referral-funnel",
    summary="Referral to engagement, in figures",
    description="For the referrals received in the window (`from` inclusive, `to` exclusive) "
    "to a prison (a prison social worker: hers; an admin: the one named, or every prison): "
    "how many were referred, await a decision, were accepted, declined or found not "
    "eligible, and engaged; and for 6 and 12 months, how many were engaged at least that long "
    "before `as_of` (today when left out) and how many of those were still engaged then "
    "(support not closed before engaged_on plus the months). Figures only, no person; "
    "reading them is on the audit trail.",
)
async def get_referral_funnel(
    caller: PrisonSide,
    session: SessionDep,
    prison_code: ReferralPrisonQuery = None,
    start: ReceivedFromQuery = None,
    end: ReceivedBeforeQuery = None,
    as_of: Annotated[
        IsoDate | None, Query(description="Count the 6 and 12 months up to this day.")
    ] = None,
) -> ReferralFunnel:
    figures = await service.funnel(session, caller, prison_code, start, end, as_of)
    # Counts of referrals the caller may read one by one: no one is revealed beyond what she
    # may see already, so not suppressed; but a small count can point at a woman, so who
    # read the figures is on the trail (one row, naming no one).
    audit.record(session, Action.consult, "referral_funnel", None)
    return figures


@router.get(f"{REFERRALS}/{{referral_id}}", summary="One referral")
async def get_referral(
    referral_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> ReferralPublic:
    referral = await show_visible(session, caller, service.REFERRALS, referral_id, response)
    return service.to_public(referral)


@router.patch(
    f"{REFERRALS}/{{referral_id}}",
    summary="Change a referral, or record her first contact and engagement",
    description="`first_contact_on` and `engaged_on` (her first working session: her support "
    "opens) only on an accepted referral, in order (received_on <= first_contact_on <= "
    "engaged_on), none in the future. She has one open support at a time (409).",
    responses=WRITE_PROBLEMS,
)
async def update_referral(
    referral_id: uuid.UUID,
    body: ReferralUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ReferralPublic:
    referral, changed = await service.update_referral(session, caller, referral_id, body, if_match)
    answer_changed(session, response, service.REFERRALS, referral, changed)
    return service.to_public(referral)


@router.post(
    f"{REFERRALS}/{{referral_id}}/decision",
    summary="Decide a referral: accepted (her record made or linked), declined, not eligible",
    description="Only a referral awaiting a decision (409 otherwise). Declined and not "
    "eligible need a reason. Accepted links her record when a mother with her prison number "
    "is visible to you; refuses (422) when that record is held where you cannot see it; "
    "otherwise makes her record from the referral and `mother` (422 without it), supported "
    "from the decision's day unless `mother.supported_from` says otherwise. Needs If-Match.",
    responses=WRITE_PROBLEMS,
)
async def record_referral_decision(
    referral_id: uuid.UUID,
    body: ReferralDecision,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ReferralPublic:
    referral, made = await service.decide(session, caller, referral_id, body, if_match)
    answer_changed(session, response, service.REFERRALS, referral, changed=True)
    if made is not None:
        audit.collected(session, MOTHERS, made)
    return service.to_public(referral)


@router.post(
    f"{REFERRALS}/{{referral_id}}/support-closure",
    summary="Close her support, with a reason",
    description="Only while her support is open (engaged, not closed; 409 otherwise); "
    "closed_on not before engaged_on nor in the future; `note` required for `other`. Her "
    "current allocation to a worker ends on the same day. A release does not close support: "
    "this does. Needs If-Match.",
    responses=WRITE_PROBLEMS,
)
async def record_support_closure(
    referral_id: uuid.UUID,
    body: SupportClosure,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ReferralPublic:
    referral = await service.close_support(session, caller, referral_id, body, if_match)
    answer_changed(session, response, service.REFERRALS, referral, changed=True)
    return service.to_public(referral)


@router.get("/v1/mothers/{mother_id}/referrals", summary="Her referrals, oldest received first")
async def list_her_referrals(
    mother_id: uuid.UUID, caller: PrisonSide, session: SessionDep, paging: PagingQuery
) -> Page[ReferralPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.search(caller, mother_id=mother_id)
    referrals, cursor = await page_shown(session, service.REFERRALS, statement, paging)
    return Page[ReferralPublic](items=[service.to_public(r) for r in referrals], next_cursor=cursor)
