import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.schemas import Changes, Input, IsoDate, Rating, RecordPublic, SupportArea

# -- Reviews ----------------------------------------------------------------------------------

Milestone = Literal["three_months", "six_months", "twelve_months", "other"]
# The milestones a review falls due at, and how many months after she engaged.
MILESTONE_MONTHS: dict[str, int] = {"three_months": 3, "six_months": 6, "twelve_months": 12}
Outcome = Literal["yes", "no", "not_known"]
# Step Together's seven outcomes, in the order the programme reports them.
OUTCOMES = (
    "mental_health_support",
    "employment_or_learning",
    "children_with_her",
    "positive_social_worker_feedback",
    "stable_housing_or_finances",
    "family_relationships_improved",
    "contact_with_child",
)
RelationshipStatus = Literal["none", "antagonistic", "fractured", "improving", "working"]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
OUTCOME_HELP = "yes, no or not_known (not_known when not sent)."


class AreaRating(Input):
    area: SupportArea
    rating: Rating = Field(description="Her rating of this area of her plan, 1 to 10.")


class Relationship(Input):
    practitioner_id: uuid.UUID = Field(
        description="A local authority social worker linked to her case (a practitioner link)."
    )
    status: RelationshipStatus


class ReviewCreate(Input):
    held_on: IsoDate = Field(description="When the review was held: not in the future.")
    milestone: Milestone = Field(
        description="The 3, 6 or 12-month review of her support (once each per period of "
        "support), or `other` for a review held at another time."
    )
    mental_health_support: Outcome = Field(
        default="not_known",
        description="Engaging with counselling or mental health support. " + OUTCOME_HELP,
    )
    employment_or_learning: Outcome = Field(
        default="not_known",
        description="In employment, volunteering, education or training. " + OUTCOME_HELP,
    )
    children_with_her: Outcome = Field(
        default="not_known",
        description="Children returned to her care, or her baby kept. " + OUTCOME_HELP,
    )
    positive_social_worker_feedback: Outcome = Field(
        default="not_known",
        description="Positive feedback from a child's social worker. " + OUTCOME_HELP,
    )
    stable_housing_or_finances: Outcome = Field(
        default="not_known", description="More stable housing or finances. " + OUTCOME_HELP
    )
    family_relationships_improved: Outcome = Field(
        default="not_known", description="Improved family relationships. " + OUTCOME_HELP
    )
    contact_with_child: Outcome = Field(
        default="not_known", description="Contact with her child. " + OUTCOME_HELP
    )
    ratings: list[AreaRating] = Field(
        default_factory=list, max_length=8, description="Each area of her plan at most once."
    )
    relationships: list[Relationship] = Field(
        default_factory=list,
        max_length=50,
        description="How the relationship with each local authority social worker stands: "
        "the prison side's judgement, never shown to an authority. Each social worker once.",
    )
    summary: Summary | None = None


class ReviewUpdate(Changes):
    """Only the fields sent change; `ratings` and `relationships`, when sent, replace the lists
    whole."""

    not_nullable = frozenset({"held_on", "milestone", "ratings", "relationships", *OUTCOMES})

    held_on: IsoDate | SkipJsonSchema[None] = None
    milestone: Milestone | SkipJsonSchema[None] = None
    mental_health_support: Outcome | SkipJsonSchema[None] = None
    employment_or_learning: Outcome | SkipJsonSchema[None] = None
    children_with_her: Outcome | SkipJsonSchema[None] = None
    positive_social_worker_feedback: Outcome | SkipJsonSchema[None] = None
    stable_housing_or_finances: Outcome | SkipJsonSchema[None] = None
    family_relationships_improved: Outcome | SkipJsonSchema[None] = None
    contact_with_child: Outcome | SkipJsonSchema[None] = None
    ratings: list[AreaRating] | SkipJsonSchema[None] = Field(default=None, max_length=8)
    relationships: list[Relationship] | SkipJsonSchema[None] = Field(default=None, max_length=50)
    summary: Summary | None = None


class AreaRatingPublic(BaseModel):
    area: SupportArea
    rating: int


class RelationshipPublic(BaseModel):
    practitioner_id: uuid.UUID
    status: RelationshipStatus


class ReviewShared(RecordPublic):
    """A review as a local authority she consents to share her reviews with reads it: without
    the prison side's judgement of its social workers' relationships with her."""

    mother_id: uuid.UUID
    held_on: date
    milestone: Milestone
    mental_health_support: Outcome
    employment_or_learning: Outcome
    children_with_her: Outcome
    positive_social_worker_feedback: Outcome
    stable_housing_or_finances: Outcome
    family_relationships_improved: Outcome
    contact_with_child: Outcome
    ratings: list[AreaRatingPublic] = Field(description="In the order of her plan's areas.")
    summary: str | None


class ReviewPublic(ReviewShared):
    """A review as the prison side reads it."""

    relationships: list[RelationshipPublic]


# -- The review schedule ----------------------------------------------------------------------

MilestoneState = Literal["upcoming", "due", "overdue", "held", "not_due"]


class MilestoneDue(BaseModel):
    milestone: Literal["three_months", "six_months", "twelve_months"]
    due_on: date = Field(description="engaged_on plus 3, 6 or 12 months (end of month clamped).")
    state: MilestoneState = Field(
        description="held: a review of this milestone was held in this period of support; "
        "overdue: due_on has passed without one; due: due today or within the next 14 days; "
        "upcoming: later; not_due: falls after her support closed."
    )
    review_id: uuid.UUID | None = Field(description="The review that met it, once held.")
    held_on: date | None


class ReviewSchedule(BaseModel):
    mother_id: uuid.UUID
    engaged_on: date | None = Field(
        description="When her latest period of support began; null when she has not engaged "
        "(then there are no milestones)."
    )
    support_closed_on: date | None
    milestones: list[MilestoneDue]


# -- Pregnancies --------------------------------------------------------------------------------

PregnancyOutcome = Literal["ongoing", "born", "ended"]
BabyWent = Literal[
    "with_her_child_in_need",
    "with_her_child_protection",
    "with_family",
    "removed",
    "not_decided",
]


class BirthInput(Input):
    born_on: IsoDate
    baby_went: BabyWent = Field(
        default="not_decided",
        description="With her under a child in need plan, with her under a child protection "
        "plan, with family, removed, or not decided yet.",
    )
    child_id: uuid.UUID | None = Field(
        default=None, description="The baby's own record, once there is one: a child of hers."
    )


class PregnancyCreate(Input):
    known_on: IsoDate = Field(description="When the pregnancy became known: not in the future.")
    at_referral: bool = Field(
        description="true: pregnant when referred; false: became pregnant while engaged."
    )
    due_on: IsoDate | None = None
    outcome: PregnancyOutcome = Field(
        default="ongoing", description="born (with at least one birth), ended, or ongoing."
    )
    ended_on: IsoDate | None = Field(
        default=None, description="Required once born or ended; null while ongoing."
    )
    births: list[BirthInput] = Field(
        default_factory=list, max_length=8, description="Only with outcome born."
    )


class PregnancyUpdate(Changes):
    """Only the fields sent change; `births`, when sent, replaces the list whole."""

    not_nullable = frozenset({"known_on", "at_referral", "outcome", "births"})

    known_on: IsoDate | SkipJsonSchema[None] = None
    at_referral: bool | SkipJsonSchema[None] = None
    due_on: IsoDate | None = None
    outcome: PregnancyOutcome | SkipJsonSchema[None] = None
    ended_on: IsoDate | None = None
    births: list[BirthInput] | SkipJsonSchema[None] = Field(default=None, max_length=8)


class BirthPublic(BaseModel):
    born_on: date
    baby_went: BabyWent
    child_id: uuid.UUID | None


class PregnancyPublic(RecordPublic):
    mother_id: uuid.UUID
    known_on: date
    at_referral: bool
    due_on: date | None
    outcome: PregnancyOutcome
    ended_on: date | None
    births: list[BirthPublic]
