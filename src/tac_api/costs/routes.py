import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tac_api.costs import service
from tac_api.costs.schemas import CostedOutcome, UnitCostCreate, UnitCostPublic
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import AdminOnly, IdempotencyClaim
from tac_api.routing import answer_created, page_shown, show_visible
from tac_api.session import SessionDep

router = APIRouter(tags=["Unit costs"], responses=COMMON_PROBLEMS)
UNIT_COSTS = "/v1/unit-costs"


@router.post(
    UNIT_COSTS,
    status_code=status.HTTP_201_CREATED,
    summary="Set what one recorded outcome is estimated to save, from a date (admin)",
    description="Never changed in place: a new figure is a new one from its own date, and the "
    "programme report costs an outcome at the figure in force on the day it was recorded. "
    "409 when the outcome already has a figure from that date. None is set by default.",
    responses=WRITE_PROBLEMS,
)
async def create_unit_cost(
    body: UnitCostCreate,
    caller: AdminOnly,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> UnitCostPublic:
    cost = await service.create_unit_cost(session, caller, body)
    answer_created(session, response, service.UNIT_COSTS, cost)
    return UnitCostPublic.model_validate(cost)


@router.get(UNIT_COSTS, summary="The unit costs set, by outcome and date (admin)")
async def list_unit_costs(
    caller: AdminOnly,
    session: SessionDep,
    paging: PagingQuery,
    outcome: Annotated[CostedOutcome | None, Query(description="One outcome's figures.")] = None,
) -> Page[UnitCostPublic]:
    statement = service.search(caller, outcome)
    costs, cursor = await page_shown(session, service.UNIT_COSTS, statement, paging)
    return Page[UnitCostPublic](
        items=[UnitCostPublic.model_validate(c) for c in costs], next_cursor=cursor
    )


@router.get(f"{UNIT_COSTS}/{{unit_cost_id}}", summary="One unit cost (admin)")
async def get_unit_cost(
    unit_cost_id: uuid.UUID, caller: AdminOnly, session: SessionDep, response: Response
) -> UnitCostPublic:
    cost = await show_visible(session, caller, service.UNIT_COSTS, unit_cost_id, response)
    return UnitCostPublic.model_validate(cost)
