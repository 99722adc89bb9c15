"""Types and base models every domain's schemas share."""

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC time: 422, not 500
        raise ValueError("is outside the times this service records") from None


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_only(value: object) -> object:
    # Pydantic would also take 0 or "1700000000" as a date (Unix time): a typo, not a date.
    if isinstance(value, date) or (isinstance(value, str) and ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("give a date as YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def _iso_datetime_only(value: object) -> object:
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_DATE.match(value)):
        return value
    raise ValueError("give a time as YYYY-MM-DDTHH:MM:SSZ")


# A time given to the API: ISO 8601 only (not Unix seconds), read as UTC when no offset is given.
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime_only), AfterValidator(_as_utc)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
LongName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>]{1,64}@[^@\s<>]+\.[^@\s<>]+$"
    ),
]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=32, pattern=r"^\+?[0-9 ()\-]{6,31}$")
]
PrisonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3,8}$")]
LocalAuthorityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]
PrisonNumber = Annotated[str, StringConstraints(pattern=r"^[A-Z][0-9]{4}[A-Z]{2}$")]
EARLIEST_PLAUSIBLE_DATE = date(1900, 1, 1)


class Input(BaseModel):
    """Request bodies: unknown fields are refused, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Changes(Input):
    """A PATCH body: only the fields sent change. Fields named in `not_nullable` may be changed
    but not cleared; declare them `T | SkipJsonSchema[None] = None` so the contract shows them
    as never null."""

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _not_cleared(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name in cls.not_nullable:
            raise ValueError("cannot be null; leave the field out to keep it")
        return value

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class RecordPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: UtcDatetime
    updated_at: UtcDatetime
    version: int


def age_on(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
