import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlagsForReview
from tac_api.schemas import Changes, Input, IsoDate, LongName, RecordPublic, UtcDatetime

EvidenceCategory = Literal[
    "course",
    "counselling",
    "therapy",
    "education",
    "training",
    "qualification",
    "employment",
    "substance_misuse_programme",
    "parenting_programme",
    "behaviour",
    "other",
]
# In the order a bundle lists its totals, with the words a court reads.
CATEGORY_LABELS: dict[str, str] = {
    "course": "Course",
    "counselling": "Counselling",
    "therapy": "Therapy",
    "education": "Education",
    "training": "Training",
    "qualification": "Qualification",
    "employment": "Employment",
    "substance_misuse_programme": "Substance misuse programme",
    "parenting_programme": "Parenting programme",
    "behaviour": "Behaviour",
    "other": "Other",
}
PREPARED_BY = "Together a Chance"
MOST_HOURS = 10_000


def _a_number(value: object) -> object:
    # Pydantic would take "12.5" as a decimal too: hours are a number, as the contract says.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("give hours as a number")
    return value


Hours = Annotated[
    Decimal,
    BeforeValidator(_a_number),
    Field(ge=0, le=MOST_HOURS, max_digits=7, decimal_places=2),
    WithJsonSchema(
        {
            "type": "number",
            "minimum": 0,
            "maximum": MOST_HOURS,
            "description": "Hours, whole or with up to two decimal places.",
        }
    ),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Provider = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Verifier(Input):
    """Who confirmed it (a tutor, a programme facilitator, the prison's education manager)."""

    name: LongName
    role: LongName = Field(description="In what capacity, e.g. 'Education manager, HMP Send'.")


class EvidenceCreate(Input):
    category: EvidenceCategory
    title: Title = Field(description="What it was, e.g. 'Level 2 Certificate in Food Hygiene'.")
    provider: Provider | None = Field(default=None, description="Who ran or awarded it.")
    started_on: IsoDate = Field(
        description="When it started; for a one-off (an award, a behaviour record), its date."
    )
    completed_on: IsoDate | None = Field(
        default=None, description="Null while it is still going on."
    )
    hours: Hours | None = None
    verified_by: Verifier | None = Field(
        default=None, description="Null until someone has confirmed it."
    )
    verified_on: IsoDate | None = Field(default=None, description="Given with verified_by.")


class EvidenceUpdate(Changes):
    """Only the fields sent change; send `verified_by: null` and `verified_on: null` together to
    withdraw a verification."""

    not_nullable = frozenset({"category", "title", "started_on"})

    category: EvidenceCategory | SkipJsonSchema[None] = None
    title: Title | SkipJsonSchema[None] = None
    provider: Provider | None = None
    started_on: IsoDate | SkipJsonSchema[None] = None
    completed_on: IsoDate | None = None
    hours: Hours | None = None
    verified_by: Verifier | None = None
    verified_on: IsoDate | None = None


class VerifierPublic(BaseModel):
    name: str
    role: str


class EvidencePublic(RecordPublic):
    mother_id: uuid.UUID
    category: EvidenceCategory
    title: str
    provider: str | None
    started_on: date
    completed_on: date | None
    hours: float | None
    verified_by: VerifierPublic | None
    verified_on: date | None
    flags_for_review: FlagsForReview


HOURS_NOT_RECORDED = (
    "How many of these items have no hours recorded (their hours are unknown, not 0)."
)


class CategoryTotal(BaseModel):
    category: EvidenceCategory
    count: int
    hours: float = Field(description="Sum of the hours recorded (items without hours add none).")
    hours_not_recorded: int = Field(description=HOURS_NOT_RECORDED)


class BundleTotal(BaseModel):
    count: int
    hours: float = Field(description="Sum of the hours recorded (items without hours add none).")
    hours_not_recorded: int = Field(description=HOURS_NOT_RECORDED)


class BundleMother(BaseModel):
    """Who the bundle is about, as a court or local authority reading it needs to know."""

    id: uuid.UUID
    first_name: str
    last_name: str
    date_of_birth: date | None = Field(
        description="Null for a local authority, which knows of her only her name, prison, "
        "status and release date."
    )
    prison_number: str | None = Field(description="Null for a local authority, as date_of_birth.")
    prison_code: str
    prison_name: str


class EvidenceBundle(BaseModel):
    """Her evidence of rehabilitation, in date order, with totals: what a court or local
    authority is given to read."""

    mother: BundleMother
    case_numbers: list[str] = Field(
        description="The court's case numbers of her proceedings you may see, oldest first "
        "(none recorded: empty)."
    )
    items: list[EvidencePublic]
    totals: list[CategoryTotal] = Field(description="Per category she has evidence in.")
    total: BundleTotal
    generated_at: UtcDatetime
    prepared_by: Literal["Together a Chance"] = PREPARED_BY
