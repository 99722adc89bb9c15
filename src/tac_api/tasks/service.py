"""Tasks on her case: something to do, by whom, by when. Made by a person through the API, or
by a record (`make_for_record`: a group check-out lower than check-in, a transfer's handover).
Scoped as her case on the prison side (`scope.task_visible`)."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller
from tac_api.history import made_by
from tac_api.resources import Resource, apply_changes
from tac_api.tasks.models import Task

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
    task = await session.scalar(
        select(Task)
        .where(
            Task.made_by_record == purpose,
            Task.resource_type == resource_type,
            Task.resource_id == resource_id,
        )
        .with_for_update()
    )
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
