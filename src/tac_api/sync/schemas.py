"""What a local authority's case-management system pushes, keyed by its own ids."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from tac_api.children.schemas import ChildDetails, ChildPublic
from tac_api.errors import ProblemDetails
from tac_api.going_ahead import REASON, GoingAhead
from tac_api.hearings.schemas import CourtCode, HearingDecidedBy, HearingType
from tac_api.meetings.schemas import MeetingDecidedBy, MeetingType, Platform
from tac_api.schemas import Input, IsoDatetime, LongName, PrisonNumber, Text

BATCH_LIMIT = 1000
BATCH_PATH = "/v1/sync/children:batch"
# Safe in a URL path segment as it is: a case-management system's keys are letters, digits and
# a little punctuation.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
ExternalId = Annotated[str, StringConstraints(pattern=EXTERNAL_ID_PATTERN)]
ExternalIds = Annotated[list[ExternalId], Field(min_length=1, max_length=20)]

MOTHER_PRISON_NUMBER = (
    "Her prison number (NOMIS), e.g. A1234BC. For a child: until your authority is linked to "
    "her (a child of hers confirmed by her prison's social worker), the child is held as your "
    "link request, as it is for a number no mother has. For a hearing or meeting: she must "
    "have children of your authority's already."
)


class SyncChild(ChildDetails):
    """The child as the authority's system holds it. A PUT replaces what the authority keeps:
    a field left out is cleared (or takes its default)."""

    mother_prison_number: PrisonNumber = Field(description=MOTHER_PRISON_NUMBER)


KEPT_FROM_PRISON_RECORD = (
    "Fields your system has never sent for this child (left out of every push so far) that "
    "keep the value the prison side recorded; once sent, a field is yours, and left out it is "
    "cleared. Empty when nothing was kept (and left out by servers older than the field)."
)


class SyncedChild(ChildPublic):
    """The child as recorded after the push."""

    kept_from_prison_record: list[str] = Field(
        default_factory=list, description=KEPT_FROM_PRISON_RECORD
    )


class SyncChildBatchItem(SyncChild):
    external_id: ExternalId = Field(description="The child's id in your system.")


class SyncChildBatch(Input):
    items: list[SyncChildBatchItem] = Field(min_length=1, max_length=BATCH_LIMIT)


ItemResultKind = Literal["created", "updated", "unchanged", "pending", "failed"]


class SyncItemResult(BaseModel):
    index: int = Field(description="The item's position in the batch, from 0.")
    external_id: str | None = Field(description="As sent (null when it was not a valid id).")
    result: ItemResultKind
    id: uuid.UUID | None = Field(
        description="The child's id in tac-api; null when it failed or is pending."
    )
    version: int | None = Field(description="The record's version (its ETag) after the sync.")
    link_request_id: uuid.UUID | None = Field(
        description="Pending: your link request holding the child until the prison side "
        "confirms it (`GET /v1/sync/link-requests/{id}`); null otherwise."
    )
    kept_from_prison_record: list[str] = Field(
        default_factory=list, description=KEPT_FROM_PRISON_RECORD
    )
    problem: ProblemDetails | None = Field(description="Why the item failed; null otherwise.")


class SyncBatchResult(BaseModel):
    """One result per item, in the order sent; one failed item does not stop the others."""

    created: int
    updated: int
    unchanged: int
    pending: int = Field(description="Held as your link requests, not failed.")
    failed: int
    results: list[SyncItemResult]


PUSHED_STATUS = (
    "Left out (or null): as recorded. adjourned, vacated or cancelled: the {noun} will not go "
    "ahead, with status_decided_by and status_reason (and, adjourned, "
    "adjourned_to_external_id). Only a scheduled {noun} changes status, and a status once "
    "decided is not revived nor decided again: scheduled, or another decision, for one that "
    "is not scheduled gets 409 (the same decision pushed again changes nothing)."
)
ADJOURNED_TO_EXTERNAL_ID = (
    "For adjourned only: your id of the new {noun} it was adjourned to. Push the new {noun} "
    "first (its own PUT, with its new date): 422 if it is not recorded yet, is for another "
    "mother, or is already the new date of another {noun}."
)


class SyncCourtHearing(Input):
    """A court date as the authority's system holds it. The prison side's fields (how she
    attends, the outcome) are not the authority's to send, and are kept as they are."""

    mother_prison_number: PrisonNumber = Field(description=MOTHER_PRISON_NUMBER)
    child_external_ids: ExternalIds = Field(
        description="Your ids of the children the hearing concerns: your children of hers."
    )
    court_name: LongName
    court_code: CourtCode | None = None
    hearing_type: HearingType
    starts_at: IsoDatetime
    notified_at: IsoDatetime | None = Field(
        default=None,
        description="When your authority told her side of the date, if your system records "
        "it; otherwise set by the service to when the hearing is first pushed (and kept "
        "after). It decides late_notice.",
    )
    status: GoingAhead | None = Field(
        default=None, description=PUSHED_STATUS.format(noun="hearing")
    )
    status_decided_by: HearingDecidedBy | None = Field(
        default=None, description="Who decided it would not go ahead (with status only)."
    )
    status_reason: Text | None = Field(default=None, description=REASON)
    adjourned_to_external_id: ExternalId | None = Field(
        default=None, description=ADJOURNED_TO_EXTERNAL_ID.format(noun="hearing")
    )


class SyncMeeting(Input):
    """A meeting invitation as the authority's system holds it. Whether she attended, and how
    the prison joins, are the prison side's to record, and are kept as they are."""

    mother_prison_number: PrisonNumber = Field(description=MOTHER_PRISON_NUMBER)
    child_external_ids: ExternalIds = Field(
        description="Your ids of the children the meeting concerns: your children of hers."
    )
    meeting_type: MeetingType
    starts_at: IsoDatetime
    platform: Platform
    invited: bool = Field(default=True, description="Whether she is invited.")
    notified_at: IsoDatetime | None = Field(
        default=None,
        description="When your authority told her side of the meeting, if your system records "
        "it; otherwise set by the service to when the meeting is first pushed (and kept after).",
    )
    status: GoingAhead | None = Field(
        default=None, description=PUSHED_STATUS.format(noun="meeting")
    )
    status_decided_by: MeetingDecidedBy | None = Field(
        default=None, description="Who decided it would not go ahead (with status only)."
    )
    status_reason: Text | None = Field(default=None, description=REASON)
    adjourned_to_external_id: ExternalId | None = Field(
        default=None, description=ADJOURNED_TO_EXTERNAL_ID.format(noun="meeting")
    )
