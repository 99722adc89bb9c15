import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from tac_api.flags.schemas import FlagsForReview
from tac_api.schemas import (
    EARLIEST_PLAUSIBLE_DATE,
    Changes,
    Input,
    IsoDate,
    Name,
    PrisonCode,
    PrisonNumber,
    RecordPublic,
)

MotherStatus = Literal["active", "released", "transferred", "closed"]
EthnicityCode = Field(
    default=None, max_length=48, description="Code from /v1/reference/ethnicities"
)
DOMESTIC_ABUSE = "true or false when known; null when not known."
RELEASED_ON = (
    "When she was released (the day of the prison's release event that set her status to "
    "`released`; null otherwise, and cleared when she is back in custody). Set by the service."
)
SUPPORTED_FROM = (
    "When the service began supporting her (reports count new women by it); today when left out."
)


def check_mother_dates(
    date_of_birth: date | None,
    reception_date: date | None,
    earliest_release_date: date | None,
    today: date,
    supported_from: date | None = None,
    closed_on: date | None = None,
) -> list[tuple[str, str]]:
    """The date rules a mother's record must keep, as (field, message) pairs."""
    problems = []
    if date_of_birth is not None:
        if date_of_birth > today:
            problems.append(("date_of_birth", "cannot be in the future"))
        elif date_of_birth < EARLIEST_PLAUSIBLE_DATE:
            problems.append(("date_of_birth", "is not a plausible date of birth"))
    if reception_date is not None:
        if reception_date > today:
            problems.append(("reception_date", "cannot be in the future"))
        if date_of_birth is not None and reception_date <= date_of_birth:
            problems.append(("reception_date", "must be after her date of birth"))
    if (
        earliest_release_date is not None
        and reception_date is not None
        and earliest_release_date < reception_date
    ):
        problems.append(("earliest_release_date", "cannot be before the reception date"))
    if supported_from is not None:
        if supported_from > today:
            problems.append(("supported_from", "cannot be in the future"))
        elif supported_from < EARLIEST_PLAUSIBLE_DATE:
            problems.append(("supported_from", "is not a plausible date"))
        elif closed_on is not None and supported_from > closed_on:
            problems.append(("supported_from", "cannot be after her case was closed"))
    return problems


class MotherCreate(Input):
    prison_number: PrisonNumber = Field(description="NOMIS prisoner number, e.g. A1234BC")
    first_name: Name
    last_name: Name
    date_of_birth: IsoDate
    prison_code: PrisonCode
    reception_date: IsoDate
    earliest_release_date: IsoDate | None = None
    status: MotherStatus = "active"
    domestic_abuse_history: bool | None = Field(default=None, description=DOMESTIC_ABUSE)
    ethnicity: str | None = EthnicityCode
    supported_from: IsoDate | None = Field(default=None, description=SUPPORTED_FROM)


class MotherUpdate(Changes):
    """Only the fields sent change. `prison_code` to another prison records a transfer."""

    not_nullable = frozenset(
        {
            "date_of_birth",
            "first_name",
            "last_name",
            "prison_code",
            "reception_date",
            "status",
            "supported_from",
        }
    )

    first_name: Name | SkipJsonSchema[None] = None
    last_name: Name | SkipJsonSchema[None] = None
    date_of_birth: IsoDate | SkipJsonSchema[None] = None
    prison_code: PrisonCode | SkipJsonSchema[None] = None
    reception_date: IsoDate | SkipJsonSchema[None] = None
    earliest_release_date: IsoDate | None = None
    status: MotherStatus | SkipJsonSchema[None] = None
    domestic_abuse_history: bool | None = Field(default=None, description=DOMESTIC_ABUSE)
    ethnicity: str | None = EthnicityCode
    supported_from: IsoDate | SkipJsonSchema[None] = Field(
        default=None, description="When the service began supporting her."
    )


class ChildSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    first_name: str
    age: int | None = Field(description="Whole years; null for a child not yet born.")
    local_authority_code: str
    lives_with: str | None = Field(
        description="Null when the placement is confidential, or not recorded (a confidentially "
        "placed child moved to another authority, until it records it)."
    )
    placement_withheld: bool


class MotherPublic(RecordPublic):
    """Her full record, for the prison side."""

    prison_number: str
    first_name: str
    last_name: str
    date_of_birth: date
    prison_code: str
    reception_date: date
    earliest_release_date: date | None
    status: MotherStatus
    domestic_abuse_history: bool | None
    ethnicity: str | None
    closed_on: date | None = Field(
        description="When her case was closed (set by the service); retention counts from it."
    )
    supported_from: date = Field(description="When the service began supporting her.")
    released_on: date | None = Field(default=None, description=RELEASED_ON)
    flags_for_review: FlagsForReview


class MotherWithChildren(MotherPublic):
    children: list[ChildSummary]


class MotherMinimal(BaseModel):
    """What a local authority sees of the mother of one of its children: who and where she is."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    first_name: str
    last_name: str
    prison_code: str
    status: MotherStatus
    earliest_release_date: date | None
    # Its children's authorities are told of her release (`mother.released`): the day is part
    # of what they plan contact by, as her planned date is.
    released_on: date | None = Field(default=None, description=RELEASED_ON)


class PrisonStayPublic(RecordPublic):
    prison_code: str
    arrived_on: date
    left_on: date | None
