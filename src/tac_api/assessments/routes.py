import uuid

from fastapi import APIRouter, Response, status

from tac_api.assessments import service
from tac_api.assessments.schemas import (
    ParentingAssessmentCreate,
    ParentingAssessmentPublic,
    ParentingAssessmentUpdate,
)
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IF_MATCH_PROBLEMS, IfMatchHeader
from tac_api.routing import (
    answer_changed,
    answer_created,
    answer_erased,
    page_shown,
    show_visible,
)
from tac_api.schemas import PrisonCode
from tac_api.session import SessionDep
from tac_api.tasks.service import record_erased

router = APIRouter(
    prefix="/v1/parenting-assessments", tags=["Parenting assessments"], responses=COMMON_PROBLEMS
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Record a parenting assessment of a mother",
    responses=WRITE_PROBLEMS,
)
async def create_parenting_assessment(
    body: ParentingAssessmentCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ParentingAssessmentPublic:
    assessment = await service.create_assessment(session, caller, body)
    answer_created(session, response, service.ASSESSMENTS, assessment)
    return (await service.public_page(session, caller, [assessment]))[0]


@router.get(
    "",
    summary="Parenting assessments visible to you, in the order they were requested",
)
async def list_parenting_assessments(
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
    mother_id: uuid.UUID | None = None,
    child_id: uuid.UUID | None = None,
    prison_code: PrisonCode | None = None,
) -> Page[ParentingAssessmentPublic]:
    statement = service.search(
        caller, mother_id=mother_id, child_id=child_id, prison_code=prison_code
    )
    found, cursor = await page_shown(session, service.ASSESSMENTS, statement, paging)
    return Page[ParentingAssessmentPublic](
        items=await service.public_page(session, caller, found), next_cursor=cursor
    )


@router.get("/{parenting_assessment_id}", summary="One parenting assessment")
async def get_parenting_assessment(
    parenting_assessment_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    response: Response,
) -> ParentingAssessmentPublic:
    assessment = await show_visible(
        session, caller, service.ASSESSMENTS, parenting_assessment_id, response
    )
    return (await service.public_page(session, caller, [assessment]))[0]


@router.patch(
    "/{parenting_assessment_id}",
    summary="Change a parenting assessment: dates, outcome, who the report went to",
    responses=WRITE_PROBLEMS,
)
async def update_parenting_assessment(
    parenting_assessment_id: uuid.UUID,
    body: ParentingAssessmentUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ParentingAssessmentPublic:
    assessment, changed = await service.update_assessment(
        session, caller, parenting_assessment_id, body, if_match
    )
    answer_changed(session, response, service.ASSESSMENTS, assessment, changed)
    return (await service.public_page(session, caller, [assessment]))[0]


@router.delete(
    "/{parenting_assessment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a parenting assessment recorded in error",
    responses=IF_MATCH_PROBLEMS,
)
async def delete_parenting_assessment(
    parenting_assessment_id: uuid.UUID,
    caller: PrisonSide,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> None:
    assessment = await service.delete_assessment(session, caller, parenting_assessment_id, if_match)
    answer_erased(session, service.ASSESSMENTS, assessment)
    await record_erased(session, caller, (service.ASSESSMENTS.kind, assessment.id))
