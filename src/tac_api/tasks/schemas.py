import uuid
from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlaggableKind
from tac_api.history import HistoryEntryPublic
from tac_api.schemas import ONE_LINE, Changes, Input, IsoDate, RecordPublic

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=ONE_LINE)
]
Detail = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
OWNER = (
    "Who is to do it: a member of the service's staff in the directory of the prison she is "
    "held in, who has not left. Null: her prison's, nobody's yet."
)
RECORD = (
    "The record it is about, if any: one of her records you may see, by its kind (with "
    "`resource_id`; both or neither)."
)


class TaskCreate(Input):
    mother_id: uuid.UUID = Field(description="The mother whose case it is on: one you may see.")
    title: Title = Field(description="What is to be done, in a line.")
    detail: Detail | None = None
    owner_id: uuid.UUID | None = Field(default=None, description=OWNER)
    due_on: IsoDate = Field(description="When it is due.")
    resource_type: FlaggableKind | None = Field(default=None, description=RECORD)
    resource_id: uuid.UUID | None = Field(default=None, description=RECORD)


class TaskUpdate(Changes):
    """Only the fields sent change. `done_on`: when it was done (not in the future, not before
    it was made); null opens it again."""

    not_nullable = frozenset({"title", "due_on"})

    title: Title | SkipJsonSchema[None] = None
    detail: Detail | None = None
    owner_id: uuid.UUID | None = Field(default=None, description=OWNER)
    due_on: IsoDate | SkipJsonSchema[None] = None
    done_on: IsoDate | None = Field(
        default=None, description="When it was done: not in the future, not before it was made."
    )


class TaskPublic(RecordPublic, HistoryEntryPublic):
    """A task on her case. `changed_at` and `changed_by`: who made it, and when (a person, or
    the person whose change to a record made it: see `made_by_record`)."""

    mother_id: uuid.UUID
    title: str
    detail: str | None
    owner_id: uuid.UUID | None = Field(
        description="A member of the service's staff; null: nobody's yet."
    )
    due_on: date
    done_on: date | None
    done: bool
    resource_type: str | None
    resource_id: uuid.UUID | None
    made_by_record: str | None = Field(
        description="What made it, when a record did (`group_follow_up`, `transfer_handover`): "
        "kept in step with that record. Null: a person made it."
    )
