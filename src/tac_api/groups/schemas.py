import uuid
from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.schemas import ONE_LINE, Changes, Input, IsoDate, PrisonCode, RecordPublic, Text

# What the group did, in a line (as a list shows it).
Activity = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=ONE_LINE)
]
# Her word for how she feels, if she gives one: a word or two of her own.
FeelingWord = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=ONE_LINE)
]
# How she feels, 1 (low) to 5 (good).
Feeling = Annotated[int, Field(strict=True, ge=1, le=5)]
# A session runs from a quarter of an hour to a day.
Minutes = Annotated[int, Field(strict=True, ge=15, le=480)]
MAX_FACILITATORS = 10

HELD_ON = (
    "When it was held: not in the future (a register is taken at the session; a planned "
    "session is recorded once held)."
)
FACILITATORS = (
    "Who facilitated: members of the service's staff in the directory of the session's prison "
    "who had not left by the day it was held; at least one, each once."
)
CHECK_IN = "How she felt as she arrived, 1 (low) to 5 (good)."
CHECK_OUT = (
    "How she felt as she left, 1 to 5. Lower than her check-in: a one-to-one follow-up is owed "
    "by the Sunday of the session's week."
)


class GroupSessionCreate(Input):
    prison_code: PrisonCode = Field(
        description="The prison it was held in: a prison social worker records her own prison's."
    )
    held_on: IsoDate = Field(description=HELD_ON)
    duration_minutes: Minutes = Field(default=120, description="15 to 480; the usual is 120.")
    activity: Activity = Field(description="What the group did.")
    activity_chosen_by_members: bool = Field(
        default=False, description="The members chose the activity (co-production), not staff."
    )
    facilitator_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=MAX_FACILITATORS, description=FACILITATORS
    )


class GroupSessionUpdate(Changes):
    """Only the fields sent change; `facilitator_ids`, when sent, replaces them whole. Its
    prison does not change. A new `held_on` moves the follow-ups its register owes."""

    not_nullable = frozenset(
        {"held_on", "duration_minutes", "activity", "activity_chosen_by_members", "facilitator_ids"}
    )

    held_on: IsoDate | SkipJsonSchema[None] = Field(default=None, description=HELD_ON)
    duration_minutes: Minutes | SkipJsonSchema[None] = None
    activity: Activity | SkipJsonSchema[None] = None
    activity_chosen_by_members: bool | SkipJsonSchema[None] = None
    facilitator_ids: list[uuid.UUID] | SkipJsonSchema[None] = Field(
        default=None, min_length=1, max_length=MAX_FACILITATORS, description=FACILITATORS
    )


class GroupSessionPublic(RecordPublic):
    prison_code: str
    held_on: date
    duration_minutes: int
    activity: str
    activity_chosen_by_members: bool
    facilitator_ids: list[uuid.UUID] = Field(description="Members of the service's staff.")


class AttendanceCreate(Input):
    mother_id: uuid.UUID = Field(
        description="A woman whose case you may see, held in the session's prison on the day "
        "it was held; once per session."
    )
    check_in: Feeling = Field(description=CHECK_IN)
    check_in_word: FeelingWord | None = None
    check_out: Feeling | None = Field(default=None, description=CHECK_OUT)
    check_out_word: FeelingWord | None = None


class AttendanceUpdate(Changes):
    """Only the fields sent change. The follow-up owed is worked out again from her check-in and
    check-out: owed while she checked out lower, and kept once done."""

    not_nullable = frozenset({"check_in"})

    check_in: Feeling | SkipJsonSchema[None] = Field(default=None, description=CHECK_IN)
    check_in_word: FeelingWord | None = None
    check_out: Feeling | None = Field(default=None, description=CHECK_OUT)
    check_out_word: FeelingWord | None = None
    follow_up_done_on: IsoDate | None = Field(
        default=None,
        description="When she was followed up one to one: not before the session, nor in the "
        "future; only when a follow-up is owed or was done.",
    )
    follow_up_by_id: uuid.UUID | None = Field(
        default=None,
        description="Who followed her up: a member of the service's staff in the directory of "
        "the session's prison.",
    )
    follow_up_note: Text | None = None


class AttendanceShared(RecordPublic):
    """Her row of a register as a local authority she consents to share her group attendance
    with reads it: that she attended, when and what the group did, and how she checked in and
    out. Not the session itself (other women attended it), nor who followed her up and the
    worker's note (the prison side's)."""

    mother_id: uuid.UUID
    held_on: date
    prison_code: str
    activity: str
    check_in: int | None
    check_in_word: str | None
    check_out: int | None
    check_out_word: str | None
    follow_up_due_on: date | None = Field(
        description="She checked out lower than she checked in: a one-to-one follow-up is due "
        "by this day (the Sunday of the session's week)."
    )
    follow_up_done_on: date | None


class AttendancePublic(AttendanceShared):
    """Her row of a register as the prison side reads it."""

    group_session_id: uuid.UUID
    follow_up_by_id: uuid.UUID | None
    follow_up_note: str | None


class Register(BaseModel):
    """A session and its whole register: the prison side's only."""

    session: GroupSessionPublic
    attendance: list[AttendancePublic] = Field(description="In the order the rows were added.")


class FollowUp(AttendancePublic):
    """A row of a register that owes (or owed) her a one-to-one follow-up."""

    overdue: bool = Field(description="Not done, and its due date has passed.")
