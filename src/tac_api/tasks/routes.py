import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tac_api.db import utctoday
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import get_visible
from tac_api.routing import HeldInQuery, answer_changed, answer_created, page_shown, show_visible
from tac_api.schemas import IsoDate
from tac_api.session import SessionDep
from tac_api.tasks import service
from tac_api.tasks.schemas import TaskCreate, TaskPublic, TaskUpdate

# The prison side's work on her case: a local authority, a governor or an auditor never sees a
# task (403).
router = APIRouter(tags=["Tasks"], responses=COMMON_PROBLEMS)
TASKS = "/v1/tasks"
OwnerQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=36,
        description="A member of staff's id, or `me`: the entry you sign in as.",
    ),
]
DueBeforeQuery = Annotated[IsoDate | None, Query(description="Due before this day (exclusive).")]
DoneQuery = Annotated[bool | None, Query(description="`false`: open; `true`: done.")]


@router.post(
    TASKS,
    status_code=status.HTTP_201_CREATED,
    summary="Make a task on her case",
    description="On a mother you may see; owned by a member of staff of the prison she is held "
    "in who has not left (or nobody yet: `owner_id` null); about one of her records you may "
    "see, if about one (`resource_type` and `resource_id`). Who made it and when are its "
    "`changed_at` and `changed_by`.",
    responses=WRITE_PROBLEMS,
)
async def create_task(
    body: TaskCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> TaskPublic:
    task = await service.create(session, caller, body)
    answer_created(session, response, service.TASKS, task)
    return service.to_public(task)


@router.get(TASKS, summary="Tasks visible to you, soonest due first")
async def list_tasks(
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    owner: OwnerQuery = None,
    due_before: DueBeforeQuery = None,
    done: DoneQuery = None,
    mother_id: uuid.UUID | None = None,
    prison_code: HeldInQuery = None,
) -> Page[TaskPublic]:
    owner_id = None if owner is None else await service.owner_of(session, caller, owner)
    statement = service.search(
        caller,
        owner_id=owner_id,
        due_before=due_before,
        done=done,
        mother_id=mother_id,
        prison_code=prison_code,
    )
    tasks, cursor = await page_shown(session, service.TASKS, statement, paging)
    return Page[TaskPublic](items=[service.to_public(t) for t in tasks], next_cursor=cursor)


@router.get("/v1/mothers/{mother_id}/tasks", summary="Her tasks, soonest due first")
async def list_her_tasks(
    mother_id: uuid.UUID,
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    done: DoneQuery = None,
) -> Page[TaskPublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.search(caller, mother_id=mother_id, done=done)
    tasks, cursor = await page_shown(session, service.TASKS, statement, paging)
    return Page[TaskPublic](items=[service.to_public(t) for t in tasks], next_cursor=cursor)


@router.get(f"{TASKS}/{{task_id}}", summary="One task")
async def get_task(
    task_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> TaskPublic:
    task = await show_visible(session, caller, service.TASKS, task_id, response)
    return service.to_public(task)


@router.patch(
    f"{TASKS}/{{task_id}}",
    summary="Change a task, or record it done",
    description="Only the fields sent change. `done_on` not in the future nor before it was "
    "made; null opens it again. A new owner: a member of staff of the prison she is held in "
    "who has not left.",
    responses=WRITE_PROBLEMS,
)
async def update_task(
    task_id: uuid.UUID,
    body: TaskUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> TaskPublic:
    task, changed = await service.update(session, caller, task_id, body, if_match, utctoday())
    answer_changed(session, response, service.TASKS, task, changed)
    return service.to_public(task)
