import uuid
from datetime import date
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from tac_api.flags.schemas import FlagsForReview
from tac_api.schemas import (
    Changes,
    Email,
    Input,
    IsoDate,
    LocalAuthorityCode,
    LongName,
    Phone,
    RecordPublic,
    Text,
)

AccommodationStatus = Literal[
    "settled", "temporary", "approved_premises", "no_fixed_abode", "unknown"
]
# Accommodation a release can be planned on: a home, or probation's approved premises.
ACCOMMODATION_READY = ("settled", "approved_premises")
PathwayStatus = Literal["not_started", "in_progress", "complete", "not_needed"]
PATHWAY_DONE = ("complete", "not_needed")
# The HMPPS resettlement pathways, in their usual order.
Pathway = Literal[
    "accommodation",
    "attitudes_thinking_behaviour",
    "children_families_community",
    "drugs_alcohol",
    "education_skills_work",
    "finance_id",
    "health",
]
PATHWAYS: tuple[str, ...] = get_args(Pathway)
MOST_ACTIONS = 100
MOST_CONTACTS = 30
MOST_ONWARD_REFERRALS = 30
# The pathway whose onward referrals carry her support on past the gate.
COMMUNITY = "children_families_community"

COMPLETE = (
    "True when every pathway is complete or not needed (the children, families and community "
    "pathway complete only with an onward referral accepted), accommodation is settled or "
    "approved premises, and no action is open; `missing` says what stands in the way. A local "
    "authority not shown her onward referrals (no consent covering her plan) is told both "
    "without the onward referral rule, so that they do not say whether a service accepted her."
)


class ProbationContact(Input):
    """Her probation practitioner in the community."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: LongName
    email: Email | None = None
    phone: Phone | None = None


class PathwayInput(Input):
    status: PathwayStatus = "not_started"
    note: Text | None = None


class OnwardReferralInput(Input):
    """An onward referral to a service in the community that will go on supporting her after
    release."""

    id: uuid.UUID | None = Field(
        default=None,
        description="To keep a referral already in the plan, its id; none for a new referral.",
    )
    organisation_id: uuid.UUID = Field(
        description="The service, from /v1/organisations: not closed on `made_on`."
    )
    made_on: IsoDate = Field(description="When the referral was made: not in the future.")
    accepted_on: IsoDate | None = Field(
        default=None,
        description="When the service accepted her: not before `made_on`, not in the future.",
    )
    declined_on: IsoDate | None = Field(
        default=None,
        description="When the service declined her: not before `made_on`, not in the future, "
        "and never with `accepted_on`.",
    )
    first_contact_on: IsoDate | None = Field(
        default=None,
        description="Her first contact with the service after release: only once it accepted "
        "her, not before `accepted_on`, and on or after her release (her status `released` or "
        "`closed`, on or after the plan's expected release date, or else her earliest release "
        "date); not in the future.",
    )
    note: Text | None = None


ONWARD_REFERRALS = (
    "Onward referrals to services in the community. When sent, the list replaces the one "
    "held: give a referral's id to keep it (and change it), leave one out to remove it."
)


class CommunityPathwayInput(PathwayInput):
    """The children, families and community pathway, with her onward referrals."""

    onward_referrals: list[OnwardReferralInput] = Field(
        default_factory=list, max_length=MOST_ONWARD_REFERRALS, description=ONWARD_REFERRALS
    )


class PathwaysInput(Input):
    """Each pathway's status and note; a pathway left out is not started."""

    accommodation: PathwayInput = Field(default_factory=PathwayInput)
    attitudes_thinking_behaviour: PathwayInput = Field(default_factory=PathwayInput)
    children_families_community: CommunityPathwayInput = Field(
        default_factory=CommunityPathwayInput
    )
    drugs_alcohol: PathwayInput = Field(default_factory=PathwayInput)
    education_skills_work: PathwayInput = Field(default_factory=PathwayInput)
    finance_id: PathwayInput = Field(default_factory=PathwayInput)
    health: PathwayInput = Field(default_factory=PathwayInput)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def keep(**field: Any) -> Any:
    """A field a change may leave out but not clear (with `not_nullable`).

    Typed without `| None`, so that a bad value is reported at its own path
    (`pathways.health.status`) rather than once per member of a union; the None default (left
    out) is never validated, and the contract shows no null.
    """
    return Field(default=None, json_schema_extra=_no_default, **field)


class PathwayChange(Changes):
    """Only the fields sent change."""

    not_nullable = frozenset({"status"})

    status: PathwayStatus = keep()
    note: Text | None = None


class CommunityPathwayChange(PathwayChange):
    """Only the fields sent change; `onward_referrals`, when sent, replaces the list held."""

    not_nullable = frozenset({"status", "onward_referrals"})

    onward_referrals: list[OnwardReferralInput] = keep(
        max_length=MOST_ONWARD_REFERRALS, description=ONWARD_REFERRALS
    )


class PathwaysChange(Changes):
    """Only the pathways sent change; the others keep their status and note."""

    not_nullable = frozenset(PATHWAYS)

    accommodation: PathwayChange = keep()
    attitudes_thinking_behaviour: PathwayChange = keep()
    children_families_community: CommunityPathwayChange = keep()
    drugs_alcohol: PathwayChange = keep()
    education_skills_work: PathwayChange = keep()
    finance_id: PathwayChange = keep()
    health: PathwayChange = keep()


class ContactAfterRelease(Input):
    child_id: uuid.UUID = Field(description="One of her children.")
    arrangement: Text = Field(
        description="How contact is planned to work once she is released, "
        "e.g. 'supervised at the family centre, fortnightly'."
    )


class ActionInput(Input):
    id: uuid.UUID | None = Field(
        default=None,
        description="To keep an action already in the plan, its id; none for a new action.",
    )
    description: Text
    owner: LongName = Field(description="Who will do it: a person, or a role or service.")
    due_on: IsoDate
    done_on: IsoDate | None = Field(default=None, description="Open until set.")


ACTIONS = (
    "The plan's actions. When sent, the list replaces the one held: give an action's id to "
    "keep it (and change it), leave one out to remove it."
)
CONTACTS = (
    "Planned contact after release, per child (each child at most once). When sent, the list "
    "replaces the one held."
)


class ReleasePlanInput(Input):
    """The whole plan: creates it, or replaces it (a field left out takes its default)."""

    expected_release_date: IsoDate | None = None
    release_local_authority_code: LocalAuthorityCode | None = Field(
        default=None, description="DfE number of the authority she is released to."
    )
    accommodation_status: AccommodationStatus = "unknown"
    probation_contact: ProbationContact | None = None
    pathways: PathwaysInput = Field(default_factory=PathwaysInput)
    contact_after_release: list[ContactAfterRelease] = Field(
        default_factory=list, max_length=MOST_CONTACTS, description=CONTACTS
    )
    actions: list[ActionInput] = Field(
        default_factory=list, max_length=MOST_ACTIONS, description=ACTIONS
    )


class ReleasePlanUpdate(Changes):
    """Only the fields sent change; `pathways` changes only the pathways sent."""

    not_nullable = frozenset(
        {"accommodation_status", "pathways", "contact_after_release", "actions"}
    )

    expected_release_date: IsoDate | None = None
    release_local_authority_code: LocalAuthorityCode | None = None
    accommodation_status: AccommodationStatus = keep()
    probation_contact: ProbationContact | None = None
    pathways: PathwaysChange = keep()
    contact_after_release: list[ContactAfterRelease] = keep(
        max_length=MOST_CONTACTS, description=CONTACTS
    )
    actions: list[ActionInput] = keep(max_length=MOST_ACTIONS, description=ACTIONS)


class ProbationContactPublic(BaseModel):
    name: str
    email: str | None
    phone: str | None


class PathwayPublic(BaseModel):
    status: PathwayStatus
    note: str | None


class OnwardReferralPublic(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    made_on: date
    accepted_on: date | None
    declined_on: date | None
    first_contact_on: date | None
    note: str | None


class CommunityPathwayPublic(PathwayPublic):
    onward_referrals: list[OnwardReferralPublic] = Field(
        description="By the day made. A local authority sees them only while she consents to "
        "share her plan with it (`covers_plan`); otherwise none."
    )


class PathwaysPublic(BaseModel):
    accommodation: PathwayPublic
    attitudes_thinking_behaviour: PathwayPublic
    children_families_community: CommunityPathwayPublic
    drugs_alcohol: PathwayPublic
    education_skills_work: PathwayPublic
    finance_id: PathwayPublic
    health: PathwayPublic


class ContactAfterReleasePublic(BaseModel):
    child_id: uuid.UUID
    arrangement: str


class ActionPublic(BaseModel):
    id: uuid.UUID
    description: str
    owner: str
    due_on: date
    done_on: date | None


class Missing(BaseModel):
    """One thing standing between the plan and complete."""

    field: str = Field(description="`accommodation_status`, `pathways.<pathway>` or `actions.<id>`")
    message: str


class ReleasePlanPublic(RecordPublic):
    mother_id: uuid.UUID
    expected_release_date: date | None
    release_local_authority_code: str | None
    accommodation_status: AccommodationStatus
    probation_contact: ProbationContactPublic | None
    pathways: PathwaysPublic
    contact_after_release: list[ContactAfterReleasePublic] = Field(
        description="A local authority sees its own children's only."
    )
    actions: list[ActionPublic] = Field(description="By due date.")
    complete: bool = Field(description=COMPLETE)
    missing: list[Missing]
    flags_for_review: FlagsForReview


ReleaseDateSource = Literal["release_plan", "earliest_release_date"]


class ReleaseDue(BaseModel):
    """A mother due for release whose plan is missing or not complete."""

    mother_id: uuid.UUID
    prison_number: str
    first_name: str
    last_name: str
    prison_code: str
    release_date: date
    release_date_from: ReleaseDateSource = Field(
        description="The plan's expected release date, or else her earliest release date."
    )
    days_to_release: int
    release_plan_id: uuid.UUID | None = Field(description="Null: she has no plan yet.")
    accommodation_status: AccommodationStatus | None
    pathways_outstanding: int = Field(
        description="Pathways neither complete nor not needed, and the children, families and "
        "community pathway complete without an onward referral accepted."
    )
    open_actions: int
