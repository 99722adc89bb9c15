import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.flags.service import flagged, with_flags
from tac_api.hearings import amendments, service
from tac_api.hearings import proceedings as proceedings_service
from tac_api.hearings.models import CourtHearing, Proceedings
from tac_api.hearings.proceedings import PROCEEDINGS
from tac_api.hearings.schemas import (
    CourtHearingAmendmentPublic,
    CourtHearingCreate,
    CourtHearingPublic,
    CourtHearingUpdate,
    ExtensionCreate,
    HearingOutcome,
    HearingStatusChange,
    ProceedingsCreate,
    ProceedingsPublic,
    ProceedingsUpdate,
)
from tac_api.hearings.service import HEARINGS
from tac_api.http import set_etag
from tac_api.notice import late_notice_days
from tac_api.pagination import Page, PageQuery, PagingQuery, fetch_page
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide, requires
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import get_visible
from tac_api.routing import (
    StartsBeforeQuery,
    StartsFromQuery,
    answer_changed,
    answer_created,
    page_shown,
    show_visible,
)
from tac_api.schemas import PrisonCode
from tac_api.session import SessionDep

router = APIRouter(tags=["Court"], responses=COMMON_PROBLEMS)

# The prison side, and a local authority for its own children: the service holds it to those.
CourtRecordKeeper = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]


async def _hearing_answer(
    session: SessionDep,
    caller: Caller,
    request: Request,
    hearing: CourtHearing,
    child_ids: list[uuid.UUID],
    *,
    new: bool = False,
) -> CourtHearingPublic:
    """As shown to this caller: with the hearing it was adjourned from and, for the prison side,
    its open flags. `new`: just made, so adjourned from nothing and flagged by no one (no need
    to look)."""
    earlier = None if new else await service.adjourned_from(session, hearing.id)
    shown = service.to_public(hearing, child_ids, late_notice_days(request), earlier)
    return await flagged(session, caller, HEARINGS.kind, shown, new=new)


@router.post(
    "/v1/court-hearings",
    status_code=status.HTTP_201_CREATED,
    summary="Record a court hearing about her children",
    description="By the prison side, or by a local authority for its own children (every "
    "child named must be its own). How she attends is the prison side's to arrange: a local "
    "authority sending `attendance_mode` or `social_worker_attends` gets 422. A local "
    "authority's hearing is notified when it records it: sending `notified_at` gets 422.",
    responses=WRITE_PROBLEMS,
)
async def create_court_hearing(
    body: CourtHearingCreate,
    caller: CourtRecordKeeper,
    claim: IdempotencyClaim,
    session: SessionDep,
    request: Request,
    response: Response,
) -> CourtHearingPublic:
    hearing, child_ids = await service.create_hearing(session, caller, body)
    answer_created(session, response, HEARINGS, hearing)
    return await _hearing_answer(session, caller, request, hearing, child_ids, new=True)


@router.get("/v1/court-hearings", summary="Hearings visible to you, soonest first")
async def list_court_hearings(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    request: Request,
    prison_code: Annotated[
        PrisonCode | None, Query(description="Of mothers held in this prison.")
    ] = None,
    start: StartsFromQuery = None,
    end: StartsBeforeQuery = None,
    mother_id: uuid.UUID | None = None,
    child_id: Annotated[uuid.UUID | None, Query(description="Concerning this child.")] = None,
) -> Page[CourtHearingPublic]:
    hearings, cursor = await service.week_page(
        session,
        caller,
        paging,
        late_notice_days(request),
        prison_code=prison_code,
        start=start,
        end=end,
        mother_id=mother_id,
        child_id=child_id,
    )
    await with_flags(session, caller, HEARINGS.kind, hearings)
    return Page[CourtHearingPublic](items=hearings, next_cursor=cursor)


@router.get("/v1/court-hearings/{court_hearing_id}", summary="One court hearing")
async def get_court_hearing(
    court_hearing_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    request: Request,
    response: Response,
) -> CourtHearingPublic:
    hearing, version = await service.show_hearing(
        session, caller, court_hearing_id, late_notice_days(request)
    )
    set_etag(response, version)
    return await flagged(session, caller, HEARINGS.kind, hearing)


@router.patch(
    "/v1/court-hearings/{court_hearing_id}",
    summary="Change a hearing (a moved date, how she attends...); kept in its amendments",
    description="A local authority changes only hearings whose children are all its own, "
    "and never how she attends nor when her side learnt of it (`notified_at`).",
    responses=WRITE_PROBLEMS,
)
async def update_court_hearing(
    court_hearing_id: uuid.UUID,
    body: CourtHearingUpdate,
    caller: CourtRecordKeeper,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CourtHearingPublic:
    hearing, child_ids, changed = await service.update_hearing(
        session, caller, court_hearing_id, body, if_match
    )
    answer_changed(session, response, HEARINGS, hearing, changed)
    return await _hearing_answer(session, caller, request, hearing, child_ids)


@router.put(
    "/v1/court-hearings/{court_hearing_id}/outcome",
    summary="Record what happened at the hearing (once it has started)",
    description="Whether and how she attended, or what stopped her, and the order made: the "
    "prison side's record, as it arranges how she attends. Sent again, it replaces the "
    "outcome; the change is kept in the amendments.",
    responses=WRITE_PROBLEMS,
)
async def record_hearing_outcome(
    court_hearing_id: uuid.UUID,
    body: HearingOutcome,
    caller: PrisonSide,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CourtHearingPublic:
    hearing, child_ids, changed = await service.record_outcome(
        session, caller, court_hearing_id, body, if_match
    )
    answer_changed(session, response, HEARINGS, hearing, changed)
    return await _hearing_answer(session, caller, request, hearing, child_ids)


@router.post(
    "/v1/court-hearings/{court_hearing_id}/status",
    summary="A hearing that will not go ahead: adjourned (to a new date), vacated or cancelled",
    description="Who decided (`decided_by`: court, local_authority, parties, prison, other) and "
    "why. `adjourned` makes the new hearing from `adjourned_to` (the same mother, children and "
    "proceedings; the same court and type unless given; its own notice, from its own "
    "`notified_at`) and links the two: `adjourned_to_id` on this one, `adjourned_from_id` on "
    "the new one. Only a scheduled hearing without an outcome changes status (409 otherwise, "
    "naming its status). Kept in the amendments. A local authority does this only while every "
    "child is its own. Answers this hearing (the new one: GET it by `adjourned_to_id`). Needs "
    "If-Match and Idempotency-Key.",
    responses=WRITE_PROBLEMS,
)
async def change_court_hearing_status(
    court_hearing_id: uuid.UUID,
    body: HearingStatusChange,
    caller: CourtRecordKeeper,
    claim: IdempotencyClaim,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> CourtHearingPublic:
    hearing, child_ids, new = await service.change_status(
        session, caller, court_hearing_id, body, if_match
    )
    if new is not None:
        audit.collected(session, HEARINGS, new)
    answer_changed(session, response, HEARINGS, hearing, changed=True)
    return await _hearing_answer(session, caller, request, hearing, child_ids)


@router.get(
    "/v1/court-hearings/{court_hearing_id}/amendments",
    summary="Every change to the hearing: who, when, each field before and after",
)
async def list_hearing_amendments(
    court_hearing_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
) -> Page[CourtHearingAmendmentPublic]:
    hearing = await get_visible(session, caller, HEARINGS, court_hearing_id)
    found, cursor = await fetch_page(
        session,
        amendments.amendments_of(hearing.id),
        amendments.AMENDMENT_ORDER,
        page,
        request,
        response,
    )
    audit.consulted(session, HEARINGS, [hearing])
    # Amendments have no resource of their own: named by hand, with her as their subject.
    audit.record_many(
        session,
        Action.consult,
        "court_hearing_amendment",
        ((a.id, hearing.mother_id) for a in found),
    )
    return Page[CourtHearingAmendmentPublic](
        items=await amendments.public_page(session, caller, found), next_cursor=cursor
    )


async def _proceedings_answer(
    session: SessionDep, caller: Caller, proceedings: Proceedings
) -> ProceedingsPublic:
    [shown] = await proceedings_service.public_page(session, caller, [proceedings])
    return shown


@router.post(
    "/v1/proceedings",
    status_code=status.HTTP_201_CREATED,
    summary="Record a set of care proceedings about her children",
    description="By the prison side, or by a local authority for its own children.",
    responses=WRITE_PROBLEMS,
)
async def create_proceedings(
    body: ProceedingsCreate,
    caller: CourtRecordKeeper,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ProceedingsPublic:
    proceedings = await proceedings_service.create_proceedings(session, caller, body)
    answer_created(session, response, PROCEEDINGS, proceedings)
    return await _proceedings_answer(session, caller, proceedings)


@router.get("/v1/proceedings", summary="Proceedings visible to you, by date of issue")
async def list_proceedings(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    mother_id: uuid.UUID | None = None,
    child_id: Annotated[uuid.UUID | None, Query(description="Concerning this child.")] = None,
) -> Page[ProceedingsPublic]:
    statement = proceedings_service.search(caller, mother_id=mother_id, child_id=child_id)
    found, cursor = await page_shown(session, PROCEEDINGS, statement, paging)
    return Page[ProceedingsPublic](
        items=await proceedings_service.public_page(session, caller, found), next_cursor=cursor
    )


@router.get(
    "/v1/proceedings/{proceedings_id}",
    summary="One set of proceedings, with its 26-week date and extensions",
)
async def get_proceedings(
    proceedings_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> ProceedingsPublic:
    proceedings = await show_visible(session, caller, PROCEEDINGS, proceedings_id, response)
    return await _proceedings_answer(session, caller, proceedings)


@router.patch(
    "/v1/proceedings/{proceedings_id}",
    summary="Change a set of proceedings",
    responses=WRITE_PROBLEMS,
)
async def update_proceedings(
    proceedings_id: uuid.UUID,
    body: ProceedingsUpdate,
    caller: CourtRecordKeeper,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProceedingsPublic:
    proceedings, changed = await proceedings_service.update_proceedings(
        session, caller, proceedings_id, body, if_match
    )
    answer_changed(session, response, PROCEEDINGS, proceedings, changed)
    return await _proceedings_answer(session, caller, proceedings)


@router.post(
    "/v1/proceedings/{proceedings_id}/extensions",
    status_code=status.HTTP_201_CREATED,
    summary="Record an extension of the 26 weeks, with the court's reason",
    description="Answers the proceedings, with the 26-week date moved on.",
    responses=WRITE_PROBLEMS,
)
async def extend_proceedings(
    proceedings_id: uuid.UUID,
    body: ExtensionCreate,
    caller: CourtRecordKeeper,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProceedingsPublic:
    proceedings, extension = await proceedings_service.add_extension(
        session, caller, proceedings_id, body, if_match
    )
    # An extension has no resource of its own: named by hand, with her as its subject.
    audit.record(
        session, Action.collect, "proceedings_extension", extension.id, proceedings.mother_id
    )
    answer_changed(session, response, PROCEEDINGS, proceedings, changed=True)
    # Answered where the proceedings live: an extension is read only through them.
    response.headers["Location"] = PROCEEDINGS.location_of(proceedings)
    return await _proceedings_answer(session, caller, proceedings)
