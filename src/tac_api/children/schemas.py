import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlagsForReview
from tac_api.history import HistoryEntryPublic
from tac_api.schemas import (
    Changes,
    Email,
    Input,
    IsoDate,
    LocalAuthorityCode,
    LongName,
    Name,
    Phone,
    RecordPublic,
    Text,
)

Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

Sex = Literal["female", "male", "unknown"]
LivesWith = Literal["foster_carer", "kinship_carer", "father", "adopters", "residential", "mother"]
ContactArrangement = Literal["direct", "supervised", "indirect_only", "none"]
CodeField = Field(default=None, max_length=4)


class SocialWorker(Input):
    """The child's local authority social worker: who the mother's side needs to reach."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: LongName
    email: Email | None = None
    phone: Phone | None = None


class Carer(Input):
    """Who the child lives with and where. For a confidential placement, only the child's own
    local authority ever sees this."""

    name: LongName
    phone: Phone | None = None
    address: Address | None = None


PLACEMENT_FIELDS = frozenset({"lives_with", "placement_type", "carer"})
WITHHELD = (
    "Placement details (lives_with, placement_type, carer) are withheld: the placement is "
    "confidential, and only the child's own local authority sees them."
)


class ChildDetails(Input):
    """What a child's record says, whoever sends it (the prison side, or the child's own
    authority's system through sync, where the authority is the caller's own)."""

    first_name: Name
    last_name: Name
    date_of_birth: IsoDate | None = Field(default=None, description="Null while she is expecting.")
    expected_date: IsoDate | None = Field(
        default=None, description="Due date of a child not yet born."
    )
    sex: Sex = "unknown"
    legal_status: str | None = Field(default=None, max_length=4, description="SSDA903 legal status")
    placement_type: str | None = Field(default=None, max_length=4, description="SSDA903 placement")
    lives_with: LivesWith
    placement_confidential: bool = False
    carer: Carer | None = None
    social_worker: SocialWorker | None = None
    contact_arrangement: ContactArrangement = "direct"
    contact_arrangement_reason: Text | None = Field(
        default=None, description="Required unless contact is direct."
    )


class ChildCreate(ChildDetails):
    local_authority_code: LocalAuthorityCode = Field(
        description="DfE number of the child's authority"
    )


class ChildUpdate(Changes):
    """Only the fields sent change; send `social_worker: null` to clear the contact."""

    not_nullable = frozenset(
        {
            "contact_arrangement",
            "first_name",
            "last_name",
            "lives_with",
            "local_authority_code",
            "placement_confidential",
            "sex",
        }
    )

    first_name: Name | SkipJsonSchema[None] = None
    last_name: Name | SkipJsonSchema[None] = None
    date_of_birth: IsoDate | None = None
    expected_date: IsoDate | None = None
    sex: Sex | SkipJsonSchema[None] = None
    local_authority_code: LocalAuthorityCode | SkipJsonSchema[None] = None
    legal_status: str | None = CodeField
    placement_type: str | None = CodeField
    lives_with: LivesWith | SkipJsonSchema[None] = None
    placement_confidential: bool | SkipJsonSchema[None] = None
    carer: Carer | None = None
    social_worker: SocialWorker | None = None
    contact_arrangement: ContactArrangement | SkipJsonSchema[None] = None
    contact_arrangement_reason: Text | None = None


class SocialWorkerPublic(BaseModel):
    name: str
    email: str | None
    phone: str | None


class CarerPublic(BaseModel):
    name: str
    phone: str | None
    address: str | None


class ChildPublic(RecordPublic):
    mother_id: uuid.UUID
    external_id: str | None = Field(
        default=None,
        description="The child's id in the local authority's own system: shown to that "
        "authority only.",
    )
    first_name: str
    last_name: str
    date_of_birth: date | None
    expected_date: date | None
    age: int | None = Field(description="Whole years; null for a child not yet born.")
    sex: Sex
    local_authority_code: str
    legal_status: str | None
    placement_type: str | None
    lives_with: LivesWith | None = Field(
        description=f"Null when withheld, or not recorded since a confidentially placed child "
        f"moved to another authority. {WITHHELD}"
    )
    placement_confidential: bool
    placement_withheld: bool = Field(
        description="True when this placement's details are withheld from you."
    )
    carer: CarerPublic | None
    social_worker: SocialWorkerPublic | None
    contact_arrangement: ContactArrangement
    contact_arrangement_reason: str | None
    flags_for_review: FlagsForReview


class SiblingForCoordination(BaseModel):
    """Another authority's child, as much as a local authority needs to coordinate with it."""

    id: uuid.UUID
    first_name: str
    age: int | None
    local_authority_code: str
    social_worker: SocialWorkerPublic | None


class Household(BaseModel):
    """Children living in the same arrangement in the same authority."""

    lives_with: LivesWith | None = Field(
        description="Withheld (null) from other authorities, and from everyone but the "
        "children's own authority when a placement is confidential."
    )
    local_authority_code: str
    child_ids: list[uuid.UUID]


class AuthorityInvolved(BaseModel):
    dfe_number: str
    name: str
    child_ids: list[uuid.UUID]


class SocialWorkerInvolved(SocialWorkerPublic):
    local_authority_code: str
    child_ids: list[uuid.UUID]


class FamilyView(BaseModel):
    mother_id: uuid.UUID
    children: list[ChildPublic | SiblingForCoordination]
    unborn: list[ChildPublic | SiblingForCoordination]
    households: list[Household]
    separated: bool = Field(
        description="True when her children do not all live together: they are in different "
        "authorities, or in arrangements you may see that differ (a confidential placement in "
        "the same authority counts for neither)."
    )
    local_authorities: list[AuthorityInvolved]
    social_workers: list[SocialWorkerInvolved]


Source = Literal["prison_side", "local_authority"]


class ChildFieldChange(BaseModel):
    field: str = Field(
        description="A field of the child's record; the carer's and social worker's as "
        "`carer.name`, `social_worker.email`..."
    )
    old: JsonValue
    new: JsonValue
    withheld: bool = Field(
        description="True when old and new are withheld from you (null), as the record withholds "
        "them: a confidential placement's lives_with, placement_type and carer (also where they "
        "were recorded while it was confidential, unless they were your authority's), from an "
        "authority the placement of another authority (before the child moved to it), and an "
        "authority's external_id from all but that authority."
    )


class ChildHistoryEntryPublic(HistoryEntryPublic):
    """One change to a child's record: who made it, when, from which side, each field's value
    before and after."""

    id: uuid.UUID
    child_id: uuid.UUID
    source: Source = Field(
        description="prison_side (the prison social worker, or an admin) or local_authority "
        "(the child's authority: its practitioners, or its system through sync)."
    )
    request_id: str | None = Field(
        description="The request that made it (its X-Request-ID, as in the audit trail)."
    )
    changes: list[ChildFieldChange]
