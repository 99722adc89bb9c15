import uuid
from datetime import date

from fastapi import APIRouter, Response, status

from tac_api.consents import service
from tac_api.consents.schemas import ConsentCreate, ConsentPublic, Withdrawal
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import IdempotencyClaim, PrisonSide
from tac_api.resources import get_visible
from tac_api.routing import answer_changed, answer_created, page_shown, show_visible
from tac_api.session import SessionDep

# The prison side's record: a local authority never sees consent records (403), only what a
# consent opens to it.
router = APIRouter(tags=["Consent"], responses=COMMON_PROBLEMS)


@router.post(
    "/v1/mothers/{mother_id}/consents",
    status_code=status.HTTP_201_CREATED,
    summary="Record her consent to share her plan, reviews or group attendance with one of her "
    "children's authorities",
    description="At least one of `covers_plan`, `covers_reviews` and `covers_groups`. The "
    "authority has at least one child of hers (422 otherwise). One consent in force per "
    "authority: 409 while one is (record its withdrawal first).",
    responses=WRITE_PROBLEMS,
)
async def create_consent(
    mother_id: uuid.UUID,
    body: ConsentCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ConsentPublic:
    consent = await service.give(session, caller, mother_id, body, date.today())
    answer_created(session, response, service.CONSENTS, consent)
    return service.to_public(consent)


@router.get("/v1/mothers/{mother_id}/consents", summary="Her consents, oldest given first")
async def list_consents(
    mother_id: uuid.UUID, caller: PrisonSide, session: SessionDep, paging: PagingQuery
) -> Page[ConsentPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    consents, cursor = await page_shown(
        session, service.CONSENTS, service.search(caller, mother_id), paging
    )
    return Page[ConsentPublic](
        items=[service.to_public(consent) for consent in consents], next_cursor=cursor
    )


@router.get("/v1/consents/{consent_id}", summary="One consent of hers")
async def get_consent(
    consent_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> ConsentPublic:
    consent = await show_visible(session, caller, service.CONSENTS, consent_id, response)
    return service.to_public(consent)


@router.post(
    "/v1/consents/{consent_id}/withdrawal",
    summary="Record that she withdrew her consent",
    description="Once (409 after). What it opened is closed from the next request on.",
    responses=WRITE_PROBLEMS,
)
async def record_consent_withdrawal(
    consent_id: uuid.UUID,
    body: Withdrawal,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ConsentPublic:
    consent = await service.withdraw(session, caller, consent_id, body, date.today())
    answer_changed(session, response, service.CONSENTS, consent, changed=True)
    return service.to_public(consent)
