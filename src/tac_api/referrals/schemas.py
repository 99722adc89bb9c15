import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.mothers.schemas import DOMESTIC_ABUSE, EthnicityCode
from tac_api.schemas import (
    ONE_LINE,
    Changes,
    Input,
    IsoDate,
    Name,
    PrisonCode,
    PrisonNumber,
    RecordPublic,
    Text,
)

ReferralSource = Literal[
    "self",
    "offender_management_unit",
    "local_authority",
    "health",
    "probation",
    "court",
    "another_service",
]
ReferralStatus = Literal["received", "accepted", "declined", "not_eligible"]
DecisionMade = Literal["accepted", "declined", "not_eligible"]
SupportClosedReason = Literal["disengaged", "moved_out", "completed", "other"]
# Why she was referred, in a sentence: one line, as a list shows it.
ReferralReason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=ONE_LINE)
]

REFERRED_BY = "A practitioner in the directory who referred her; null when no one did (self)."
FIRST_CONTACT = "When the service first spoke with her about the referral (accepted referrals)."
ENGAGED = "Her first working session with the service: her support opens on it."


class ReferralCreate(Input):
    received_on: IsoDate = Field(description="When the referral reached the service.")
    prison_code: PrisonCode = Field(description="The prison she was referred in.")
    source: ReferralSource
    referred_by_id: uuid.UUID | None = Field(default=None, description=REFERRED_BY)
    prison_number: PrisonNumber = Field(description="NOMIS prisoner number, e.g. A1234BC")
    first_name: Name
    last_name: Name
    reason: ReferralReason = Field(description="Why she was referred, in one sentence.")
    pregnant: bool | None = Field(
        default=None, description="Pregnant when referred: true, false, or null if not known."
    )


class ReferralUpdate(Changes):
    """Only the fields sent change. `first_contact_on` and `engaged_on` only on an accepted
    referral; setting `engaged_on` opens her support (one open at a time)."""

    not_nullable = frozenset({"source", "reason", "first_name", "last_name"})

    source: ReferralSource | SkipJsonSchema[None] = None
    referred_by_id: uuid.UUID | None = Field(default=None, description=REFERRED_BY)
    reason: ReferralReason | SkipJsonSchema[None] = None
    pregnant: bool | None = None
    first_name: Name | SkipJsonSchema[None] = None
    last_name: Name | SkipJsonSchema[None] = None
    first_contact_on: IsoDate | None = Field(default=None, description=FIRST_CONTACT)
    engaged_on: IsoDate | None = Field(default=None, description=ENGAGED)


class HerRecord(Input):
    """What her record needs beyond the referral (her name, prison number and prison come from
    it): given with an accepted decision when she has no record yet."""

    date_of_birth: IsoDate
    reception_date: IsoDate
    earliest_release_date: IsoDate | None = None
    domestic_abuse_history: bool | None = Field(default=None, description=DOMESTIC_ABUSE)
    ethnicity: str | None = EthnicityCode
    supported_from: IsoDate | None = Field(
        default=None,
        description="When the service began supporting her: the decision's day when left out.",
    )


class ReferralDecision(Input):
    decision: DecisionMade
    decided_on: IsoDate
    reason: Text | None = Field(default=None, description="Required when declined or not eligible.")
    mother: HerRecord | None = Field(
        default=None,
        description="Accepted, with no record of hers yet (no mother has this prison number): "
        "what her record is made from. Not used when her record exists (it is linked).",
    )


class SupportClosure(Input):
    closed_on: IsoDate
    reason: SupportClosedReason = Field(
        description="disengaged; moved_out (of the service's prisons); completed; other (say "
        "what in `note`)."
    )
    note: Text | None = Field(default=None, description="Required when the reason is other.")


class ReferralPublic(RecordPublic):
    prison_code: str
    received_on: date
    source: ReferralSource
    referred_by_id: uuid.UUID | None
    prison_number: str
    first_name: str
    last_name: str
    reason: str
    pregnant: bool | None
    status: ReferralStatus
    decided_on: date | None
    decision_reason: str | None
    mother_id: uuid.UUID | None = Field(description="Her record, once accepted.")
    first_contact_on: date | None
    engaged_on: date | None
    support_closed_on: date | None
    support_closed_reason: SupportClosedReason | None
    support_closed_note: str | None


class FunnelMilestone(BaseModel):
    months: int
    reached: int = Field(
        description="Engaged at least this many months before `as_of`: long enough to count."
    )
    still_engaged: int = Field(
        description="Of those reached, support not closed before engaged_on plus these months."
    )


class ReferralFunnel(BaseModel):
    """Figures only: referral to engagement for the referrals received in the window."""

    prison_code: str | None = Field(description="Null: every prison.")
    received_from: date | None
    received_before: date | None
    as_of: date
    referred: int
    awaiting_decision: int
    accepted: int
    declined: int
    not_eligible: int
    engaged: int
    milestones: list[FunnelMilestone]
