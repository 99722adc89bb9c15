import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.schemas import Input, RecordPublic, Text, UtcDatetime

# The kinds of record of her case a flag may be on: `tac_api.scope.HER_RECORDS`' keys.
FlaggableKind = Literal[
    "mother",
    "child",
    "court_hearing",
    "proceedings",
    "meeting",
    "contact_visit",
    "parenting_assessment",
    "evidence",
    "release_plan",
    "communication",
    "referral",
    "support_plan",
    "review",
    "pregnancy",
    "consent",
    "allocation",
    "group_attendance",
    "practitioner_link",
    "task",
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class FlagCreate(Input):
    resource_type: FlaggableKind = Field(
        description="The kind of record flagged: `mother` for her own record, or one of her "
        "records."
    )
    resource_id: uuid.UUID = Field(
        description="The record flagged: one of her case's records you may see."
    )
    reason: Reason = Field(description="Why it needs review.")


class Clearance(Input):
    note: Text | None = Field(default=None, description="What the review found, if anything.")


class PersonAt(BaseModel):
    name: str = Field(description="Who: a person, a team or a system.")
    role: str = Field(description="Their role then (`system` for the service itself).")


class FlagPublic(RecordPublic):
    """A flag for review on one record of her case: the prison side's working note."""

    mother_id: uuid.UUID
    resource_type: str
    resource_id: uuid.UUID
    reason: str
    raised_by_source: Literal["person", "event"] = Field(
        description="`person`: raised by hand; `event`: raised by the service (a prison event)."
    )
    raised_at: UtcDatetime
    raised_by: PersonAt
    open: bool = Field(description="Not cleared yet.")
    cleared_at: UtcDatetime | None
    cleared_by: PersonAt | None
    clearance_note: str | None


class FlagOnRecord(BaseModel):
    """An open flag on the record it is shown with."""

    id: uuid.UUID
    reason: str
    raised_at: UtcDatetime
    raised_by: str = Field(description="Who raised it (their name).")


# A record's open flags as the prison side reads it: absent from what a local authority gets.
FlagsForReview = Annotated[
    list[FlagOnRecord] | SkipJsonSchema[None],
    Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The prison side's only (absent for a local authority): the open flags "
        "for review on this record, oldest first.",
    ),
]
