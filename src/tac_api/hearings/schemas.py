import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, JsonValue, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlagsForReview
from tac_api.going_ahead import REASON, STATUS_DESCRIPTION, GoingAhead, NotGoingAhead
from tac_api.history import HistoryEntryPublic
from tac_api.schemas import (
    Changes,
    Input,
    IsoDate,
    IsoDatetime,
    LongName,
    RecordPublic,
    Text,
    UtcDatetime,
)

# Public law outline hearings (and s34 contact), as the family court lists them.
HearingType = Literal[
    "emergency_protection_order",
    "interim_care_order",
    "case_management",
    "further_case_management",
    "fact_finding",
    "issues_resolution",
    "final",
    "placement_order",
    "discharge_of_care_order",
    "s34_contact",
    "other",
]
AttendanceMode = Literal[
    "in_person_with_escort", "prison_video_link", "remote_platform", "not_attending"
]
AttendedHow = Literal["in_person_with_escort", "prison_video_link", "remote_platform"]
Barrier = Literal[
    "late_notice",
    "platform_incompatible",
    "no_video_link_slot",
    "no_escort_or_transport",
    "mother_declined",
    "unwell",
    "other",
]
OrderMade = Literal[
    "care_order",
    "interim_care_order",
    "supervision_order",
    "placement_order",
    "child_arrangements_order",
    "special_guardianship_order",
    "s34_contact_order",
    "refusal_of_contact",
    "no_order",
    "other",
]
# Who decided a hearing would not go ahead: the court of its own motion, on the local
# authority's application, the parties by agreement (a consent order), the prison (no escort,
# a lockdown), or another.
HearingDecidedBy = Literal["court", "local_authority", "parties", "prison", "other"]
CourtCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
CaseNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


def _each_child_once(child_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(child_ids)) != len(child_ids):
        raise ValueError("name each child once")
    return child_ids


ChildIds = Annotated[
    list[uuid.UUID],
    Field(min_length=1, max_length=20, description="The children concerned: hers, at least one."),
    AfterValidator(_each_child_once),
]
ATTENDANCE_ARRANGED_BY_PRISON = (
    "Arranged by the prison side: a local authority sending it gets 422."
)


class CourtHearingCreate(Input):
    mother_id: uuid.UUID
    child_ids: ChildIds
    proceedings_id: uuid.UUID | None = Field(
        default=None, description="The set of her proceedings this hearing is part of."
    )
    court_name: LongName
    court_code: CourtCode | None = Field(default=None, description="The court's code, if known.")
    hearing_type: HearingType
    starts_at: IsoDatetime
    notified_at: IsoDatetime | None = Field(
        default=None,
        description="When her side (she or the prison social worker) learnt the date; "
        "now, if left out. Set by the service for a local authority (422 if it sends it): "
        "it decides late_notice.",
    )
    attendance_mode: AttendanceMode | None = Field(
        default=None,
        description="How she is to attend; null while not arranged. "
        + ATTENDANCE_ARRANGED_BY_PRISON,
    )
    social_worker_attends: bool = Field(
        default=False,
        description=f"Whether the prison social worker attends. {ATTENDANCE_ARRANGED_BY_PRISON}",
    )


class CourtHearingUpdate(Changes):
    """Only the fields sent change; every change is kept in the hearing's amendments."""

    not_nullable = frozenset(
        {
            "child_ids",
            "court_name",
            "hearing_type",
            "starts_at",
            "notified_at",
            "social_worker_attends",
        }
    )

    child_ids: ChildIds | SkipJsonSchema[None] = None
    proceedings_id: uuid.UUID | None = None
    court_name: LongName | SkipJsonSchema[None] = None
    court_code: CourtCode | None = None
    hearing_type: HearingType | SkipJsonSchema[None] = None
    starts_at: IsoDatetime | SkipJsonSchema[None] = None
    notified_at: IsoDatetime | SkipJsonSchema[None] = Field(
        default=None, description="The prison side's to change: a local authority gets 422."
    )
    attendance_mode: AttendanceMode | None = Field(
        default=None, description=ATTENDANCE_ARRANGED_BY_PRISON
    )
    social_worker_attends: bool | SkipJsonSchema[None] = Field(
        default=None, description=ATTENDANCE_ARRANGED_BY_PRISON
    )


class HearingOutcome(Input):
    """What happened at the hearing: whether and how she attended, or what stopped her, and
    the order made."""

    attended: bool
    attended_how: AttendedHow | None = Field(default=None, description="Required if attended.")
    barrier: Barrier | None = Field(
        default=None, description="What stopped her attending; required if she did not."
    )
    barrier_detail: Text | None = Field(default=None, description="Required for barrier other.")
    order_made: OrderMade | None = Field(default=None, description="Null: none recorded.")
    order_detail: Text | None = Field(default=None, description="Required for order_made other.")


class AdjournedHearing(Input):
    """The new hearing an adjourned one goes to: the same mother, children, proceedings and
    (unless given here) court and type; its own notice, counted from its own notified_at."""

    starts_at: IsoDatetime
    notified_at: IsoDatetime | None = Field(
        default=None,
        description="When her side learnt the new date; now, if left out. A local authority "
        "may not send it (422), as for a new hearing.",
    )
    hearing_type: HearingType | None = Field(default=None, description="The same, if left out.")
    court_name: LongName | None = Field(default=None, description="The same, if left out.")
    court_code: CourtCode | None = Field(default=None, description="The same, if left out.")
    attendance_mode: AttendanceMode | None = Field(
        default=None,
        description="How she is to attend the new date; not arranged if left out. "
        + ATTENDANCE_ARRANGED_BY_PRISON,
    )
    social_worker_attends: bool = Field(
        default=False,
        description=f"Whether the prison social worker attends. {ATTENDANCE_ARRANGED_BY_PRISON}",
    )


class HearingStatusChange(Input):
    """A hearing that will not go ahead as listed."""

    status: NotGoingAhead = Field(
        description="adjourned (to a new hearing, given in adjourned_to), vacated or cancelled. "
        "Only a scheduled hearing changes status (409 otherwise)."
    )
    decided_by: HearingDecidedBy = Field(
        description="Who decided: court, local_authority, parties (by agreement), prison, other."
    )
    reason: Text = Field(description=REASON)
    adjourned_to: AdjournedHearing | None = Field(
        default=None, description="Required for adjourned, refused otherwise: the new date."
    )


class HearingOutcomePublic(BaseModel):
    attended: bool
    attended_how: AttendedHow | None
    barrier: Barrier | None
    barrier_detail: str | None
    order_made: OrderMade | None
    order_detail: str | None
    recorded_at: UtcDatetime


class CourtHearingPublic(RecordPublic):
    mother_id: uuid.UUID
    flags_for_review: FlagsForReview
    child_ids: list[uuid.UUID]
    proceedings_id: uuid.UUID | None
    court_name: str
    court_code: str | None
    hearing_type: HearingType
    starts_at: UtcDatetime
    notified_at: UtcDatetime
    notice_days: int = Field(
        description="Whole days between notified_at and starts_at (0 if learnt on the day or "
        "only afterwards)."
    )
    late_notice: bool = Field(
        description="notice_days under the late notice threshold (TAC_LATE_NOTICE_DAYS, 7 "
        "unless set)."
    )
    attendance_mode: AttendanceMode | None
    social_worker_attends: bool
    outcome: HearingOutcomePublic | None = Field(description="Null until recorded.")
    status: GoingAhead = Field(description=STATUS_DESCRIPTION)
    status_decided_by: HearingDecidedBy | None = Field(
        description="Who decided it would not go ahead; null while scheduled."
    )
    status_reason: str | None = Field(description="Why; null while scheduled.")
    status_changed_at: UtcDatetime | None = Field(description="Null while scheduled.")
    adjourned_to_id: uuid.UUID | None = Field(
        description="Adjourned: the new hearing it was adjourned to."
    )
    adjourned_from_id: uuid.UUID | None = Field(
        description="The hearing this one was adjourned from, if it was."
    )


class FieldChange(BaseModel):
    field: str = Field(description="A hearing field; outcome fields as `outcome.<field>`.")
    old: JsonValue
    new: JsonValue


class CourtHearingAmendmentPublic(HistoryEntryPublic):
    """One change to a hearing: who made it, when, each field's value before and after."""

    id: uuid.UUID
    court_hearing_id: uuid.UUID
    changes: list[FieldChange]


class ProceedingsCreate(Input):
    mother_id: uuid.UUID
    child_ids: ChildIds
    court_name: LongName
    court_code: CourtCode | None = None
    case_number: CaseNumber | None = None
    issued_on: IsoDate = Field(description="The day the proceedings were issued.")


class ProceedingsUpdate(Changes):
    not_nullable = frozenset({"child_ids", "court_name", "issued_on"})

    child_ids: ChildIds | SkipJsonSchema[None] = None
    court_name: LongName | SkipJsonSchema[None] = None
    court_code: CourtCode | None = None
    case_number: CaseNumber | None = None
    issued_on: IsoDate | SkipJsonSchema[None] = None


class ExtensionCreate(Input):
    # Children Act 1989 s32(8): each extension is of at most eight weeks.
    weeks: int = Field(ge=1, le=8, description="Weeks added (at most 8 at a time).")
    reason: Text
    granted_on: IsoDate | None = Field(default=None, description="Today, if left out.")


class ExtensionPublic(BaseModel):
    id: uuid.UUID
    created_at: UtcDatetime
    weeks: int
    reason: str
    granted_on: date


class ProceedingsPublic(RecordPublic):
    mother_id: uuid.UUID
    child_ids: list[uuid.UUID]
    court_name: str
    court_code: str | None
    case_number: str | None
    issued_on: date
    twenty_six_week_date: date = Field(
        description="issued_on + 26 weeks + the weeks of every extension."
    )
    extensions: list[ExtensionPublic] = Field(description="Oldest first.")
