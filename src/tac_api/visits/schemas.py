import uuid
from typing import Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlagsForReview
from tac_api.history import HistoryEntryPublic
from tac_api.schemas import (
    Changes,
    Input,
    IsoDatetime,
    LongName,
    Name,
    RecordPublic,
    Text,
    UtcDatetime,
)

VisitType = Literal[
    "in_person_social_visit",
    "family_day",
    "video_call",
    "phone_call",
    "letter_or_card",
    "final_contact_before_adoption",
]
FINAL_CONTACT = "final_contact_before_adoption"
INDIRECT = "letter_or_card"
# The child has to be brought to the prison: someone escorts them.
IN_PERSON = frozenset({"in_person_social_visit", "family_day", FINAL_CONTACT})

VisitStatus = Literal["requested", "approved", "scheduled", "held", "cancelled", "refused"]
# A visit neither held nor called off: still to happen (the worklist's final contacts ahead, a
# transfer's open visits).
OPEN_VISIT_STATUSES = ("requested", "approved", "scheduled")
# The lifecycle: requested -> approved -> scheduled -> held, and out to cancelled or refused
# at any step before it is held. Held, cancelled and refused are final.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "requested": ("approved", "cancelled", "refused"),
    "approved": ("scheduled", "cancelled", "refused"),
    "scheduled": ("held", "cancelled", "refused"),
    "held": (),
    "cancelled": (),
    "refused": (),
}
NEEDS_REASON = frozenset({"cancelled", "refused"})
# Why a visit was called off, as a code reports can count (the reason itself stays free text).
ReasonCode = Literal[
    "child_unwell",
    "mother_unwell",
    "carer_unavailable",
    "escort_unavailable",
    "transport",
    "prison_regime",
    "security",
    "local_authority_decision",
    "court_direction",
    "mother_declined",
    "child_declined",
    "other",
]
# No longer going ahead: it does not count as the child's final contact.
CALLED_OFF = NEEDS_REASON

VisitOutcome = Literal[
    "went_ahead_as_planned", "child_did_not_arrive", "mother_refused", "visit_cut_short"
]
EscortRole = Literal["carer", "social_worker", "other"]

CHILD_IDS = "The children the contact is with: hers, at least one."
SUPERVISOR = (
    "Who supervises the contact; required when any child's contact arrangement is supervised "
    "(except for a letter or card)."
)
SCHEDULED_AT = "When it takes place; required from scheduled on."
OUTCOME = "How it went: only once the visit is held."


class Escort(Input):
    """The carer or social worker who brings the children."""

    name: LongName
    role: EscortRole


class Supervisor(Input):
    name: LongName
    role: Name | None = Field(default=None, description="e.g. contact supervisor, Bristol")


class ContactVisitCreate(Input):
    """A new visit starts as requested; its status then moves through `.../status`."""

    mother_id: uuid.UUID
    child_ids: list[uuid.UUID] = Field(min_length=1, max_length=20, description=CHILD_IDS)
    visit_type: VisitType
    escort: Escort | None = None
    supervisor: Supervisor | None = Field(default=None, description=SUPERVISOR)
    scheduled_at: IsoDatetime | None = Field(default=None, description=SCHEDULED_AT)


class ContactVisitUpdate(Changes):
    """Only the fields sent change. The children and the type are what was approved: they change
    only while the visit is requested. Nothing changes once it is cancelled or refused."""

    not_nullable = frozenset({"child_ids", "visit_type"})

    child_ids: list[uuid.UUID] | SkipJsonSchema[None] = Field(
        default=None, min_length=1, max_length=20, description=CHILD_IDS
    )
    visit_type: VisitType | SkipJsonSchema[None] = None
    escort: Escort | None = None
    supervisor: Supervisor | None = Field(default=None, description=SUPERVISOR)
    scheduled_at: IsoDatetime | None = Field(default=None, description=SCHEDULED_AT)
    outcome: VisitOutcome | None = Field(default=None, description=OUTCOME)
    outcome_notes: Text | None = Field(default=None, description=OUTCOME)


# What scheduling a visit may set in the same request as its status.
SCHEDULING_FIELDS = ("scheduled_at", "escort")


class StatusChange(Input):
    """Scheduling is one request: `scheduled` with the visit's time and escort (those already
    on the visit are kept when left out). `scheduled_at` and `escort` go with `scheduled` only
    (422 with any other status)."""

    status: Literal["approved", "scheduled", "held", "cancelled", "refused"]
    reason: Text | None = Field(default=None, description="Required for cancelled and refused.")
    reason_code: ReasonCode | None = Field(
        default=None,
        description="For cancelled and refused only: the reason as a code, which the governors' "
        "reports count (`not_recorded` there when left out).",
    )
    scheduled_at: IsoDatetime | None = Field(
        default=None,
        description="With `scheduled` only: when it takes place (needed then, here or already "
        "on the visit).",
    )
    escort: Escort | None = Field(
        default=None,
        description="With `scheduled` only: who brings the children (needed then for a visit in "
        "person, here or already on the visit).",
    )


class EscortPublic(BaseModel):
    name: str | None = Field(
        description="Null when withheld: a carer escorting a child whose placement is "
        "confidential is named to the child's own local authority only."
    )
    role: EscortRole


class SupervisorPublic(BaseModel):
    name: str
    role: str | None


class StatusChangePublic(HistoryEntryPublic):
    from_status: VisitStatus | None = Field(description="Null for the request itself.")
    to_status: VisitStatus
    reason: str | None
    reason_code: ReasonCode | None


class ContactVisitPublic(RecordPublic):
    mother_id: uuid.UUID
    child_ids: list[uuid.UUID] = Field(
        description="The children it is with (a local authority sees its own children only)."
    )
    visit_type: VisitType
    escort: EscortPublic | None
    supervisor: SupervisorPublic | None
    scheduled_at: UtcDatetime | None
    status: VisitStatus
    status_reason: str | None = Field(description="Why it reached its current status.")
    status_reason_code: ReasonCode | None = Field(
        description="Why it was cancelled or refused, as a code (when given)."
    )
    next_statuses: list[VisitStatus] = Field(description="Where its status can move from here.")
    outcome: VisitOutcome | None
    outcome_notes: str | None
    status_history: list[StatusChangePublic] = Field(description="Oldest first.")
    flags_for_review: FlagsForReview
