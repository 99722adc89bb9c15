from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from tac_api.errors import COMMON_PROBLEMS
from tac_api.pipeline import PrisonSide
from tac_api.schemas import PrisonCode
from tac_api.session import SessionDep
from tac_api.worklist import service
from tac_api.worklist.schemas import Worklist

router = APIRouter(tags=["Worklist"], responses=COMMON_PROBLEMS)


@router.get(
    "/v1/worklist",
    summary="What needs action in the prison, soonest first",
    description="One ordered list of what needs the prison side's action: hearings and "
    "meetings in the window notified late or with no attendance arranged (and meetings the "
    "prison cannot join or she is not invited to), hearings whose outcome is not recorded a "
    "day after they started, contact visits awaiting approval, final contacts in the window, "
    "visits held with no outcome, parenting assessments not started in time "
    "(TAC_ASSESSMENT_START_DAYS), releases due with no plan or an incomplete one, reviews "
    "due or overdue, group follow-ups owed, link requests awaiting confirmation, open tasks "
    "due in the window or overdue, and open flags for review. A prison social worker sees "
    "her prison's (another prison: 404); an admin names the prison. `mine=true`: only the "
    "women allocated now to the staff entry the caller signs in as. At most `limit` items, "
    "the soonest; `counts` and `total` count every item.",
)
async def get_worklist(
    caller: PrisonSide,
    session: SessionDep,
    request: Request,
    prison_code: Annotated[
        PrisonCode | None,
        Query(description="The prison (an admin must name it; a worker's is hers)."),
    ] = None,
    within_days: Annotated[
        int,
        Query(
            ge=0,
            le=service.MAX_WITHIN_DAYS,
            description="How far ahead the window runs, in days from today (inclusive).",
        ),
    ] = 14,
    mine: Annotated[
        bool,
        Query(description="Only the women allocated now to the caller's staff entry."),
    ] = False,
    limit: Annotated[
        int,
        Query(ge=1, le=service.MAX_LIMIT, description="At most this many items, the soonest."),
    ] = service.DEFAULT_LIMIT,
) -> Worklist:
    return await service.worklist(
        session,
        request.app.state.settings,
        caller,
        prison_code=prison_code,
        within_days=within_days,
        mine=mine,
        limit=limit,
        now=datetime.now(UTC),
    )
