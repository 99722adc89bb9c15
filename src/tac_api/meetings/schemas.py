import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlagsForReview
from tac_api.going_ahead import REASON, STATUS_DESCRIPTION, GoingAhead, NotGoingAhead
from tac_api.schemas import Changes, Input, IsoDatetime, RecordPublic, Text, UtcDatetime

MeetingType = Literal[
    "child_protection_conference",
    "core_group",
    "looked_after_child_review",
    "pre_proceedings_meeting",
    "strategy",
    "professionals_meeting",
    "other",
]
Platform = Literal[
    "microsoft_teams",
    "zoom",
    "cloud_video_platform",
    "prison_video_link",
    "phone",
    "in_person",
]
# What the prison's own kit can join: the evaluation found mothers missing meetings held on the
# local authorities' platforms (Teams, Zoom), which the prison cannot join.
PRISON_JOINS = frozenset({"cloud_video_platform", "prison_video_link", "phone", "in_person"})
Barrier = Literal[
    "platform_incompatible",
    "late_notice",
    "no_video_link_slot",
    "mother_declined",
    "unwell",
    "not_invited",
    "other",
]
# Who decided a meeting would not go ahead: its chair (a conference's independent chair, a
# review's independent reviewing officer), the local authority, the prison (no room or video
# slot, a lockdown), the family, or another.
MeetingDecidedBy = Literal["chair", "local_authority", "prison", "family", "other"]
SupportedBy = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

# The prison side arranges how she attends and records whether she did; a local authority
# records the invitation.
ATTENDANCE_FIELDS = ("prison_can_join", "attended", "barrier", "barrier_detail", "supported_by")

CHILD_IDS = "The children the meeting concerns: hers, at least one."
PRISON_CAN_JOIN = (
    "Whether the prison can join on that platform. Left out, it follows the platform: yes for "
    "cloud_video_platform, prison_video_link, phone and in_person; no for Teams and Zoom."
)
ATTENDED = "Null until known; known only once the meeting has started."
BARRIER = "Why she did not attend: required when attended is false, refused otherwise."
BARRIER_DETAIL = "More about the barrier; required when the barrier is other."
SUPPORTED_BY = "Who from the service attends (attended) with her: name and role."


class MeetingCreate(Input):
    mother_id: uuid.UUID
    child_ids: list[uuid.UUID] = Field(min_length=1, max_length=20, description=CHILD_IDS)
    meeting_type: MeetingType
    starts_at: IsoDatetime
    notified_at: IsoDatetime | None = Field(
        default=None,
        description="When her side learnt of the meeting; now if left out. Set by the service "
        "for a local authority (422 if it sends it): it decides the notice she had.",
    )
    platform: Platform
    prison_can_join: bool | None = Field(default=None, description=PRISON_CAN_JOIN)
    invited: bool = Field(default=True, description="Whether she was invited.")
    attended: bool | None = Field(default=None, description=ATTENDED)
    barrier: Barrier | None = Field(default=None, description=BARRIER)
    barrier_detail: Text | None = Field(default=None, description=BARRIER_DETAIL)
    supported_by: SupportedBy | None = Field(default=None, description=SUPPORTED_BY)


class MeetingUpdate(Changes):
    """Only the fields sent change. A new platform without `prison_can_join` sets it from the
    platform again."""

    not_nullable = frozenset(
        {
            "child_ids",
            "meeting_type",
            "starts_at",
            "notified_at",
            "platform",
            "prison_can_join",
            "invited",
        }
    )

    child_ids: list[uuid.UUID] | SkipJsonSchema[None] = Field(
        default=None, min_length=1, max_length=20, description=CHILD_IDS
    )
    meeting_type: MeetingType | SkipJsonSchema[None] = None
    starts_at: IsoDatetime | SkipJsonSchema[None] = None
    notified_at: IsoDatetime | SkipJsonSchema[None] = Field(
        default=None, description="The prison side's to change: a local authority gets 422."
    )
    platform: Platform | SkipJsonSchema[None] = None
    prison_can_join: bool | SkipJsonSchema[None] = None
    invited: bool | SkipJsonSchema[None] = None
    attended: bool | None = Field(default=None, description=ATTENDED)
    barrier: Barrier | None = Field(default=None, description=BARRIER)
    barrier_detail: Text | None = Field(default=None, description=BARRIER_DETAIL)
    supported_by: SupportedBy | None = Field(default=None, description=SUPPORTED_BY)


class MeetingPublic(RecordPublic):
    mother_id: uuid.UUID
    flags_for_review: FlagsForReview
    child_ids: list[uuid.UUID] = Field(
        description="The children it concerns (a local authority sees its own children only)."
    )
    meeting_type: MeetingType
    starts_at: UtcDatetime
    notified_at: UtcDatetime
    notice_days: int = Field(
        description="Whole days between notified_at and starts_at (0 if learnt on the day or "
        "only afterwards), counted as for a court hearing."
    )
    late_notice: bool = Field(
        description="notice_days under the late notice threshold (TAC_LATE_NOTICE_DAYS, 7 "
        "unless set), the same as for a court hearing."
    )
    platform: Platform
    prison_can_join: bool
    invited: bool
    attended: bool | None
    barrier: Barrier | None
    barrier_detail: str | None
    supported_by: str | None
    status: GoingAhead = Field(description=STATUS_DESCRIPTION)
    status_decided_by: MeetingDecidedBy | None = Field(
        description="Who decided it would not go ahead; null while scheduled."
    )
    status_reason: str | None = Field(description="Why; null while scheduled.")
    status_changed_at: UtcDatetime | None = Field(description="Null while scheduled.")
    adjourned_to_id: uuid.UUID | None = Field(
        description="Adjourned: the new meeting it was adjourned to."
    )
    adjourned_from_id: uuid.UUID | None = Field(
        description="The meeting this one was adjourned from, if it was."
    )


class AdjournedMeeting(Input):
    """The new meeting an adjourned one goes to: the same mother and children and (unless given
    here) type, platform and invitation; its own notice, counted from its own notified_at."""

    starts_at: IsoDatetime
    notified_at: IsoDatetime | None = Field(
        default=None,
        description="When her side learnt of the new date; now, if left out. A local authority "
        "may not send it (422), as for a new meeting.",
    )
    meeting_type: MeetingType | None = Field(default=None, description="The same, if left out.")
    platform: Platform | None = Field(default=None, description="The same, if left out.")
    prison_can_join: bool | None = Field(
        default=None,
        description="Left out: the same for the same platform, else as the platform says. "
        "The prison side's to set: a local authority sending it gets 422.",
    )
    invited: bool | None = Field(default=None, description="The same, if left out.")


class MeetingStatusChange(Input):
    """A meeting that will not go ahead as arranged."""

    status: NotGoingAhead = Field(
        description="adjourned (to a new meeting, given in adjourned_to), vacated or cancelled. "
        "Only a scheduled meeting changes status (409 otherwise)."
    )
    decided_by: MeetingDecidedBy = Field(
        description="Who decided: chair, local_authority, prison, family, other."
    )
    reason: Text = Field(description=REASON)
    adjourned_to: AdjournedMeeting | None = Field(
        default=None, description="Required for adjourned, refused otherwise: the new date."
    )
