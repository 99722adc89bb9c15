from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.schemas import (
    ONE_LINE,
    Changes,
    Email,
    Input,
    IsoDate,
    LocalAuthorityCode,
    Phone,
    RecordPublic,
)

# What a service in the community does for her, as the sister services and the resettlement
# pathways name it.
ServiceType = Literal[
    "birth_mothers",
    "domestic_abuse",
    "housing",
    "substance_misuse",
    "mental_health",
    "womens_centre",
    "employment",
    "other",
]
OrganisationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=ONE_LINE)
]
Area = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=ONE_LINE)
]
Website = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://[^\s<>]+$")
]
AREA = "Where it works, in words: 'Sefton', 'South West England'."
AUTHORITY = "The DfE number of the local authority it works in, if one."
CLOSED_ON = (
    "When it stopped taking referrals: not in the future. It stays in the directory (past "
    "referrals name it) but takes no new one made on or after that day."
)


class OrganisationCreate(Input):
    name: OrganisationName
    service_type: ServiceType
    area: Area | None = Field(default=None, description=AREA)
    local_authority_code: LocalAuthorityCode | None = Field(default=None, description=AUTHORITY)
    email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None


class OrganisationUpdate(Changes):
    """Only the fields sent change."""

    not_nullable = frozenset({"name", "service_type"})

    name: OrganisationName | SkipJsonSchema[None] = None
    service_type: ServiceType | SkipJsonSchema[None] = None
    area: Area | None = Field(default=None, description=AREA)
    local_authority_code: LocalAuthorityCode | None = Field(default=None, description=AUTHORITY)
    email: Email | None = None
    phone: Phone | None = None
    website: Website | None = None
    closed_on: IsoDate | None = Field(default=None, description=CLOSED_ON)


class OrganisationPublic(RecordPublic):
    name: str
    service_type: ServiceType
    area: str | None
    local_authority_code: str | None
    email: str | None
    phone: str | None
    website: str | None
    closed_on: date | None = Field(description="Null while it takes referrals.")
