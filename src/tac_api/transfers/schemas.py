"""A transfer summary: her case as it stood the day she left the sending prison.

What it holds is a copy, written once and never changed: later changes to her record, her
children's or her hearings do not alter it. Its values are kept as plain strings (a code list
may change later; the summary says what was recorded then)."""

import uuid
from datetime import date

from pydantic import BaseModel, Field

from tac_api.history import HistoryEntryPublic
from tac_api.schemas import RecordPublic, UtcDatetime


class WhoSheIs(BaseModel):
    first_name: str
    last_name: str
    prison_number: str
    date_of_birth: date | None


class Authority(BaseModel):
    code: str = Field(description="The DfE number.")
    name: str | None = Field(description="Its name in the reference data, then.")


class Code(BaseModel):
    code: str
    description: str | None


class ChildAsItStood(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    date_of_birth: date | None
    expected_date: date | None = Field(description="A child not yet born: when she expected.")
    local_authority: Authority
    legal_status: Code | None = Field(description="SSDA903 legal status, when recorded.")


class OpenHearing(BaseModel):
    """A hearing still scheduled whose outcome was not recorded."""

    id: uuid.UUID
    starts_at: UtcDatetime
    hearing_type: str
    court_name: str
    attendance_mode: str | None = Field(description="How she was to attend; null: not arranged.")
    child_ids: list[uuid.UUID]


class OpenVisit(BaseModel):
    """A contact visit not held, cancelled or refused: requested, approved or scheduled."""

    id: uuid.UUID
    visit_type: str
    status: str
    scheduled_at: UtcDatetime | None
    child_ids: list[uuid.UUID]


class OpenMeeting(BaseModel):
    """A meeting still scheduled whose attendance was not recorded."""

    id: uuid.UUID
    meeting_type: str
    starts_at: UtcDatetime
    platform: str
    prison_can_join: bool
    child_ids: list[uuid.UUID]


class Worker(BaseModel):
    """Her worker in the sending prison: her open allocation then (ended by the transfer)."""

    staff_member_id: uuid.UUID
    name: str
    role: str
    allocated_on: date


class CaseAsItStood(BaseModel):
    """Her case the day she left: who she is, her children and their authorities, what was
    open (hearings, contact visits, meetings), and her worker."""

    mother: WhoSheIs
    children: list[ChildAsItStood] = Field(description="Oldest first.")
    open_hearings: list[OpenHearing] = Field(description="Soonest first.")
    open_visits: list[OpenVisit] = Field(description="Oldest request first.")
    open_meetings: list[OpenMeeting] = Field(description="Soonest first.")
    worker: Worker | None = Field(description="Null: she was allocated to no one.")


class TransferSummaryPublic(RecordPublic, HistoryEntryPublic):
    """What the sending prison keeps of a case it transferred out, read-only, until
    `kept_until` (inclusive). `changed_at` and `changed_by`: who recorded the transfer, and
    when."""

    mother_id: uuid.UUID
    from_prison_code: str = Field(description="The sending prison: whose summary this is.")
    to_prison_code: str = Field(description="Where she went.")
    transferred_on: date
    kept_until: date = Field(
        description="The last day it is kept: `transferred_on` + TAC_TRANSFER_SUMMARY_DAYS. "
        "After it, the summary reads as not found, and `tac-api retention run --apply` erases it."
    )
    case: CaseAsItStood
