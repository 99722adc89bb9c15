"""Tasks on her case: something to do, by whom, by when. Made by a person through the API, or
by a record (`make_for_record`: a group check-out lower than check-in, a transfer's handover).
Scoped as her case on the prison side (`scope.task_visible`)."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller
from tac_api.errors import Conflict, InvalidInput
from tac_api.flags.models import ReviewFlag
from tac_api.flags.service import FLAGS, mark_cleared
from tac_api.history import made_by
from tac_api.mothers.models import Mother
from tac_api.resources import (
    Resource,
    apply_changes,
    get_for_change,
    list_visible,
    lock_her,
    mother_for_writing,
)
from tac_api.schemas import past_date_problems
from tac_api.scope import mother_of_record
from tac_api.staff.models import StaffMember
from tac_api.staff.service import entry_signed_in_as
from tac_api.tasks.models import Task
from tac_api.tasks.schemas import TaskCreate, TaskPublic, TaskUpdate

TASKS = Resource(
    kind="task",
    model=Task,
    label="task",
    order=(Task.due_on, Task.id),
    when=Task.due_on,
    path="/v1/tasks",
)

# What made a task, when a record did.
GROUP_FOLLOW_UP = "group_follow_up"
TRANSFER_HANDOVER = "transfer_handover"
ME = "me"
# What a task a record keeps in step with it takes from that record: changed there, never on
# the task (a group follow-up's due and done days are its register row's). A transfer's
# handover task is made once and then the receiving prison's to do: nothing keeps it in step.
KEPT_IN_STEP = frozenset({"title", "due_on", "done_on"})
KEPT_IN_STEP_BY = frozenset({GROUP_FOLLOW_UP})


async def make_for_record(
    session: AsyncSession,
    caller: Caller,
    *,
    purpose: str,
    mother_id: uuid.UUID,
    record: tuple[str, uuid.UUID],
    title: str,
    due_on: date,
    owner_id: uuid.UUID | None = None,
    detail: str | None = None,
) -> Task:
    """The task a record makes for this purpose, made once: a second call for the same record
    and purpose answers the one already made (changed to say what the record says now, and open
    again if it was done). Written in the caller's transaction and audited as collected; the
    caller is who made the change that made it."""
    resource_type, resource_id = record
    task = await made_by_record(session, purpose, record)
    values: dict[str, Any] = {
        "title": title,
        "due_on": due_on,
        "owner_id": owner_id,
        "detail": detail,
        "done_on": None,
    }
    if task is None:
        task = Task(
            mother_id=mother_id,
            resource_type=resource_type,
            resource_id=resource_id,
            made_by_record=purpose,
            **values,
            **made_by(caller),
        )
        session.add(task)
        await session.flush()
        audit.collected(session, TASKS, task)
        return task
    if apply_changes(task, values):
        audit.altered(session, TASKS, task, values)
    return task


async def made_by_record(
    session: AsyncSession, purpose: str, record: tuple[str, uuid.UUID]
) -> Task | None:
    """The task this record made for this purpose, if it made one, locked until the request
    commits."""
    resource_type, resource_id = record
    return await session.scalar(
        select(Task)
        .where(
            Task.made_by_record == purpose,
            Task.resource_type == resource_type,
            Task.resource_id == resource_id,
        )
        .with_for_update()
    )


async def keep_in_step(
    session: AsyncSession,
    purpose: str,
    record: tuple[str, uuid.UUID],
    **values: Any,
) -> Task | None:
    """The task a record made, changed to say what the record says now (its due date, done on);
    audited as altered when anything changed. None when the record made none."""
    task = await made_by_record(session, purpose, record)
    if task is not None and apply_changes(task, values):
        audit.altered(session, TASKS, task, values)
    return task


async def remove_made_by(
    session: AsyncSession, purpose: str, record: tuple[str, uuid.UUID]
) -> None:
    """The task a record made, removed with what made it (the record taken away, or no longer
    owing it): audited as erased."""
    task = await made_by_record(session, purpose, record)
    if task is not None:
        await session.delete(task)
        await session.flush()
        audit.erased(session, TASKS, task)


ERASED_NOTE = "The record was erased."


async def record_erased(
    session: AsyncSession, caller: Caller, record: tuple[str, uuid.UUID]
) -> None:
    """What follows a record of her case erased, in the erasure's transaction (every route that
    erases one calls it): the open flags on it cleared by the caller (noted "The record was
    erased."); the tasks it made removed with it; the tasks a person made about it kept (the
    work may still be owed) but naming it no more. Each audited (altered, erased)."""
    resource_type, resource_id = record
    flags = await session.scalars(
        select(ReviewFlag)
        .where(
            ReviewFlag.resource_type == resource_type,
            ReviewFlag.resource_id == resource_id,
            ReviewFlag.cleared_at.is_(None),
        )
        .with_for_update()
    )
    for flag in flags:
        mark_cleared(flag, caller, ERASED_NOTE)
        audit.altered(session, FLAGS, flag)
    about = await session.scalars(
        select(Task)
        .where(Task.resource_type == resource_type, Task.resource_id == resource_id)
        .with_for_update()
    )
    for task in about:
        if task.made_by_record is not None:
            await session.delete(task)
            audit.erased(session, TASKS, task)
        else:
            apply_changes(task, {"resource_type": None, "resource_id": None})
            audit.altered(session, TASKS, task)
    await session.flush()


def to_public(task: Task) -> TaskPublic:
    return TaskPublic.model_validate({**task.model_dump(), "done": task.done_on is not None})


async def _owner_problems(
    session: AsyncSession, mother_id: uuid.UUID, owner_id: uuid.UUID | None
) -> list[tuple[str, str]]:
    """An owner is one of the service's staff in the directory of the prison she is held in,
    who has not left."""
    if owner_id is None:
        return []
    found = await session.scalar(
        select(StaffMember.id).where(
            StaffMember.id == owner_id,
            StaffMember.left_on.is_(None),
            StaffMember.prison_code
            == select(Mother.prison_code).where(Mother.id == mother_id).scalar_subquery(),
        )
    )
    if found is None:
        return [("owner_id", "no current member of her prison's staff has this id")]
    return []


async def create(session: AsyncSession, caller: Caller, data: TaskCreate) -> Task:
    """A task a person makes: on a mother the caller may see, owned by her prison's staff (or
    nobody yet), about one of her records the caller may see, if about one."""
    # Her row locked first: a transfer moving her at the same moment (which locks it too) is
    # waited for, and the prison she is held in, the owner's, read as it then stands.
    await lock_her(session, data.mother_id)
    mother = await mother_for_writing(session, caller, data.mother_id)
    problems = await _owner_problems(session, mother.id, data.owner_id)
    if (data.resource_type is None) != (data.resource_id is None):
        field = "resource_id" if data.resource_id is None else "resource_type"
        problems.append((field, "name the record by its kind and its id, both or neither"))
    elif data.resource_type is not None and data.resource_id is not None:
        hers = await mother_of_record(session, caller, data.resource_type, data.resource_id)
        if hers != mother.id:
            problems.append(
                ("resource_id", f"no {data.resource_type} of hers with this id is visible to you")
            )
    InvalidInput.raise_any(problems)
    task = Task(**data.model_dump(), **made_by(caller))
    session.add(task)
    await session.flush()
    return task


async def owner_of(session: AsyncSession, caller: Caller, owner: str) -> uuid.UUID:
    """A list's `owner`: a staff member's id, or `me` (the entry the caller signs in as)."""
    if owner == ME:
        entry = await entry_signed_in_as(session, caller)
        if entry is None:
            raise InvalidInput(
                "owner", "you sign in as no one in the staff directory", location="query"
            )
        return entry.id
    try:
        return uuid.UUID(owner)
    except ValueError:
        raise InvalidInput(
            "owner", "give a member of staff's id, or `me`", location="query"
        ) from None


def search(
    caller: Caller,
    *,
    owner_id: uuid.UUID | None = None,
    due_before: date | None = None,
    done: bool | None = None,
    mother_id: uuid.UUID | None = None,
    prison_code: str | None = None,
) -> Select[Any]:
    """The tasks this caller may see, soonest due first (an index on (due_on, id))."""
    statement = list_visible(
        caller, TASKS, prison_code=prison_code, end=due_before, mother_id=mother_id
    )
    if owner_id is not None:
        statement = statement.where(Task.owner_id == owner_id)
    if done is True:
        statement = statement.where(Task.done_on.is_not(None))
    elif done is False:
        statement = statement.where(Task.done_on.is_(None))
    return statement


async def update(
    session: AsyncSession,
    caller: Caller,
    task_id: uuid.UUID,
    data: TaskUpdate,
    if_match: str | None,
    today: date,
) -> tuple[Task, dict[str, Any]]:
    task = await get_for_change(session, caller, TASKS, task_id, if_match)
    changes = data.changes()
    kept = sorted(field for field in KEPT_IN_STEP if field in changes)
    if task.made_by_record in KEPT_IN_STEP_BY and kept:
        raise Conflict(
            f"This task is kept in step with the {task.resource_type} {task.resource_id} that "
            f"made it ({task.made_by_record}): change {', '.join(kept)} there, not here. Its "
            "owner and detail may change here."
        )
    problems = []
    if "owner_id" in changes and changes["owner_id"] != task.owner_id:
        problems += await _owner_problems(session, task.mother_id, changes["owner_id"])
    done_on = changes.get("done_on")
    problems += past_date_problems("done_on", done_on, today)
    made_on = task.changed_at.date()
    if not problems and done_on is not None and done_on < made_on:
        problems.append(("done_on", f"cannot be before it was made ({made_on})"))
    InvalidInput.raise_any(problems)
    changed = apply_changes(task, changes)
    if changed:
        await session.flush()
    return task, changed
