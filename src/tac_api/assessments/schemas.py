import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlagsForReview
from tac_api.schemas import Changes, Input, IsoDate, LocalAuthorityCode, LongName, RecordPublic

RequestedBy = Literal["local_authority", "court"]
AssessmentModel = Literal["pams", "parent_assess", "other"]
Outcome = Literal["positive", "negative", "inconclusive", "withdrawn"]
RecipientRole = Literal[
    "local_authority",
    "court",
    "mother",
    "solicitor",
    "childrens_guardian",
    "probation",
    "other",
]
Organisation = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
MOST_CHILDREN = 20
MOST_RECIPIENTS = 20


def _distinct(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(ids)) != len(ids):
        raise ValueError("name each child once")
    return ids


ChildIds = Annotated[
    list[uuid.UUID],
    Field(min_length=1, max_length=MOST_CHILDREN),
    AfterValidator(_distinct),
]


class Recipient(Input):
    role: RecipientRole
    name: Organisation | None = Field(
        default=None,
        description="Who exactly, e.g. 'Bristol Family Court' or the solicitor's name.",
    )


Recipients = Annotated[list[Recipient], Field(max_length=MOST_RECIPIENTS)]

CHILD_IDS = "The children it concerns: at least one, each one of hers."
REQUESTED_ON = "When the authority or court asked for it (an order's date, a letter's)."
REQUESTING = "DfE number of the authority that asked for it; required when an authority did."
MODEL_OTHER = "What model, when `model` is other; only then."
COMPLETED = "When it ended (for a withdrawn assessment, when it was withdrawn)."
OUTCOME = "Required once completed_on is given, and refused before."


class ParentingAssessmentCreate(Input):
    mother_id: uuid.UUID
    child_ids: ChildIds = Field(description=CHILD_IDS)
    requested_by: RequestedBy
    requested_on: IsoDate = Field(description=REQUESTED_ON)
    requesting_local_authority_code: LocalAuthorityCode | None = Field(
        default=None, description=REQUESTING
    )
    assessor_name: LongName
    assessor_organisation: Organisation | None = None
    model: AssessmentModel
    model_other: Organisation | None = Field(default=None, description=MODEL_OTHER)
    started_on: IsoDate | None = Field(default=None, description="Null until it has started.")
    completed_on: IsoDate | None = Field(default=None, description=COMPLETED)
    outcome: Outcome | None = Field(default=None, description=OUTCOME)
    report_shared_with: Recipients = Field(
        default_factory=list, description="Who the report has been shared with."
    )


class ParentingAssessmentUpdate(Changes):
    """Only the fields sent change; `child_ids` and `report_shared_with`, when sent, replace
    the lists."""

    not_nullable = frozenset(
        {
            "child_ids",
            "requested_by",
            "requested_on",
            "assessor_name",
            "model",
            "report_shared_with",
        }
    )

    child_ids: ChildIds | SkipJsonSchema[None] = Field(default=None, description=CHILD_IDS)
    requested_by: RequestedBy | SkipJsonSchema[None] = None
    requested_on: IsoDate | SkipJsonSchema[None] = Field(default=None, description=REQUESTED_ON)
    requesting_local_authority_code: LocalAuthorityCode | None = Field(
        default=None, description=REQUESTING
    )
    assessor_name: LongName | SkipJsonSchema[None] = None
    assessor_organisation: Organisation | None = None
    model: AssessmentModel | SkipJsonSchema[None] = None
    model_other: Organisation | None = Field(default=None, description=MODEL_OTHER)
    started_on: IsoDate | None = None
    completed_on: IsoDate | None = Field(default=None, description=COMPLETED)
    outcome: Outcome | None = Field(default=None, description=OUTCOME)
    report_shared_with: Recipients | SkipJsonSchema[None] = None


class RecipientPublic(BaseModel):
    role: RecipientRole
    name: str | None


class ParentingAssessmentPublic(RecordPublic):
    mother_id: uuid.UUID
    child_ids: list[uuid.UUID] = Field(
        description="The children it concerns that are visible to you (a local authority: its own)."
    )
    requested_by: RequestedBy
    requested_on: date
    requesting_local_authority_code: str | None
    assessor_name: str
    assessor_organisation: str | None
    model: AssessmentModel
    model_other: str | None
    started_on: date | None
    completed_on: date | None
    outcome: Outcome | None
    report_shared_with: list[RecipientPublic]
    flags_for_review: FlagsForReview
