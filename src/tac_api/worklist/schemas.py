"""The worklist's shape: what needs action, each item with its kind, the mother, the record, why
it is there and by when; and how many items there are of each kind and reason."""

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from tac_api.schemas import UtcDatetime

ItemKind = Literal[
    "court_hearing",
    "meeting",
    "contact_visit",
    "parenting_assessment",
    "release",
    "review",
    "group_follow_up",
    "link_request",
    "task",
    "review_flag",
]
Reason = Literal[
    "late_notice",
    "no_attendance_arranged",
    "outcome_not_recorded",
    "prison_cannot_join",
    "not_invited",
    "awaiting_approval",
    "final_contact_due",
    "not_started",
    "no_release_plan",
    "release_plan_incomplete",
    "review_due",
    "review_overdue",
    "follow_up_owed",
    "awaiting_confirmation",
    "task_due",
    "task_overdue",
    "flagged_for_review",
]


class WorklistMother(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    prison_number: str


class WorklistItem(BaseModel):
    kind: ItemKind = Field(description="What needs action.")
    reason: Reason = Field(description="Why it is on the list.")
    summary: str = Field(description="Why, in a short sentence.")
    mother: WorklistMother
    resource_type: str = Field(
        description="The record's kind, as the audit trail names it (`court_hearing`, `task`...)."
    )
    resource_id: uuid.UUID
    due_at: UtcDatetime | None = Field(description="When it is due, for what is due at a time.")
    due_on: date | None = Field(description="The day it is due (the day of `due_at` in UTC).")
    overdue: bool = Field(description="Its due time or day has passed.")
    waiting_since: UtcDatetime | None = Field(
        description="For what has nothing due (a flag, a visit awaiting approval with no time "
        "yet, a link request): since when it has waited. It takes its place in the list as "
        "if it were due then."
    )


class WorklistCount(BaseModel):
    kind: ItemKind
    reason: Reason
    count: int


class Worklist(BaseModel):
    prison_code: str
    within_days: int
    mine: bool
    as_of: UtcDatetime = Field(description="The moment the list was drawn up.")
    total: int = Field(description="Every item, shown or not.")
    truncated: bool = Field(description="More items than `limit`: the soonest are shown.")
    counts: list[WorklistCount] = Field(
        description="How many items of each kind and reason, shown or not."
    )
    items: list[WorklistItem] = Field(description="Soonest first, at most `limit`.")
