import uuid
from datetime import date

from fastapi import APIRouter, Response, status

from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import get_visible
from tac_api.reviews import service
from tac_api.reviews.schemas import (
    PregnancyCreate,
    PregnancyPublic,
    PregnancyUpdate,
    ReviewCreate,
    ReviewPublic,
    ReviewSchedule,
    ReviewShared,
    ReviewUpdate,
)
from tac_api.routing import answer_changed, answer_created, page_shown, show_visible
from tac_api.session import SessionDep

router = APIRouter(tags=["Reviews and pregnancies"], responses=COMMON_PROBLEMS)


@router.post(
    "/v1/mothers/{mother_id}/reviews",
    status_code=status.HTTP_201_CREATED,
    summary="Record a review of her support",
    responses=WRITE_PROBLEMS,
)
async def create_review(
    mother_id: uuid.UUID,
    body: ReviewCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ReviewPublic:
    review = await service.create_review(session, caller, mother_id, body)
    answer_created(session, response, service.REVIEWS, review)
    return await service.one_shown(session, caller, review)  # type: ignore[return-value]


@router.get(
    "/v1/mothers/{mother_id}/reviews",
    summary="Her reviews, in date order",
    description="The prison side reads her reviews as her case. A local authority reads those "
    "she consents to share with it, without the social workers' relationships with her (the "
    "prison side's judgement); without her consent, the list is empty.",
)
async def list_reviews(
    mother_id: uuid.UUID, caller: CaseReader, session: SessionDep, paging: PagingQuery
) -> Page[ReviewPublic] | Page[ReviewShared]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.search(caller, mother_id)
    reviews, cursor = await page_shown(session, service.REVIEWS, statement, paging)
    items = await service.shown(session, caller, reviews)
    if caller.is_local_authority:
        return Page[ReviewShared](items=items, next_cursor=cursor)  # type: ignore[arg-type]
    return Page[ReviewPublic](items=items, next_cursor=cursor)  # type: ignore[arg-type]


@router.get(
    "/v1/reviews/{review_id}",
    summary="One review",
    description="A local authority reads it only while she consents to share her reviews with "
    "it, and without the social workers' relationships with her.",
)
async def get_review(
    review_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> ReviewPublic | ReviewShared:
    review = await show_visible(session, caller, service.REVIEWS, review_id, response)
    return await service.one_shown(session, caller, review)


@router.patch("/v1/reviews/{review_id}", summary="Change a review", responses=WRITE_PROBLEMS)
async def update_review(
    review_id: uuid.UUID,
    body: ReviewUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ReviewPublic:
    review, changed = await service.update_review(session, caller, review_id, body, if_match)
    answer_changed(session, response, service.REVIEWS, review, changed)
    return await service.one_shown(session, caller, review)  # type: ignore[return-value]


@router.get(
    "/v1/mothers/{mother_id}/review-schedule",
    summary="Her 3, 6 and 12-month reviews: when each is due, and which was held",
)
async def get_review_schedule(
    mother_id: uuid.UUID, caller: PrisonSide, session: SessionDep
) -> ReviewSchedule:
    return await service.schedule(session, caller, mother_id, date.today())


@router.post(
    "/v1/mothers/{mother_id}/pregnancies",
    status_code=status.HTTP_201_CREATED,
    summary="Record a pregnancy",
    responses=WRITE_PROBLEMS,
)
async def create_pregnancy(
    mother_id: uuid.UUID,
    body: PregnancyCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> PregnancyPublic:
    pregnancy = await service.create_pregnancy(session, caller, mother_id, body)
    answer_created(session, response, service.PREGNANCIES, pregnancy)
    return await service.pregnancy_shown(session, pregnancy)


@router.get(
    "/v1/mothers/{mother_id}/pregnancies",
    summary="Her pregnancies, in the order they became known",
    description="The prison side's record: never a local authority's.",
)
async def list_pregnancies(
    mother_id: uuid.UUID, caller: PrisonSide, session: SessionDep, paging: PagingQuery
) -> Page[PregnancyPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.pregnancies_of(caller, mother_id)
    pregnancies, cursor = await page_shown(session, service.PREGNANCIES, statement, paging)
    items = await service.pregnancies_shown(session, pregnancies)
    return Page[PregnancyPublic](items=items, next_cursor=cursor)


@router.get("/v1/pregnancies/{pregnancy_id}", summary="One pregnancy")
async def get_pregnancy(
    pregnancy_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> PregnancyPublic:
    pregnancy = await show_visible(session, caller, service.PREGNANCIES, pregnancy_id, response)
    return await service.pregnancy_shown(session, pregnancy)


@router.patch(
    "/v1/pregnancies/{pregnancy_id}", summary="Change a pregnancy", responses=WRITE_PROBLEMS
)
async def update_pregnancy(
    pregnancy_id: uuid.UUID,
    body: PregnancyUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> PregnancyPublic:
    pregnancy, changed = await service.update_pregnancy(
        session, caller, pregnancy_id, body, if_match
    )
    answer_changed(session, response, service.PREGNANCIES, pregnancy, changed)
    return await service.pregnancy_shown(session, pregnancy)
