import uuid
from typing import Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from tac_api.schemas import (
    Changes,
    Email,
    Input,
    LocalAuthorityCode,
    LongName,
    Phone,
    RecordPublic,
)

PractitionerRole = Literal[
    "la_social_worker",
    "solicitor",
    "childrens_guardian",
    "probation_officer",
    "health_visitor",
    "carer",
]
Organisation = Field(default=None, min_length=1, max_length=200)


class PractitionerCreate(Input):
    role: PractitionerRole
    name: LongName
    organisation: str | None = Organisation
    email: Email | None = None
    phone: Phone | None = None
    local_authority_code: LocalAuthorityCode | None = Field(
        default=None, description="For local authority staff: their authority's DfE number."
    )


class PractitionerUpdate(Changes):
    not_nullable = frozenset({"name", "role"})
    role: PractitionerRole | SkipJsonSchema[None] = None
    name: LongName | SkipJsonSchema[None] = None
    organisation: str | None = Organisation
    email: Email | None = None
    phone: Phone | None = None
    local_authority_code: LocalAuthorityCode | None = None


class PractitionerPublic(RecordPublic):
    role: PractitionerRole
    name: str
    organisation: str | None
    email: str | None
    phone: str | None
    local_authority_code: str | None


class PractitionerLinkCreate(Input):
    practitioner_id: uuid.UUID
    child_id: uuid.UUID | None = Field(
        default=None, description="The child this practitioner works with; none for the mother."
    )


class PractitionerLinkPublic(RecordPublic):
    mother_id: uuid.UUID
    child_id: uuid.UUID | None
    practitioner: PractitionerPublic
