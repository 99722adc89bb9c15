"""Types and base models every domain's schemas share."""

import re
import types
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

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

# No one types a control character: one in a request is a client's bug or an attack, and
# PostgreSQL cannot store NUL at all. Free text keeps its tabs and line breaks (\t \n \r).
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTER_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
HAS_CONTROL_CHARACTER = "must not contain a control character"
# A name is one line: no tab or line break inside it either (around it, they are stripped).
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=ONE_LINE)
]
LongName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=ONE_LINE)
]
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


def _takes_booleans(annotation: Any) -> bool:
    """`bool`, `bool | None`, `Annotated[bool, ...]`: a field whose value is true or false."""
    if annotation is bool:
        return True
    if get_origin(annotation) in (Union, types.UnionType, Annotated):
        return any(_takes_booleans(argument) for argument in get_args(annotation))
    return False


def _has_control_character(value: object) -> bool:
    if isinstance(value, str):
        return CONTROL_CHARACTER_IN_TEXT.search(value) is not None
    # A list of strings (ids, codes); a list of objects is checked by their own models.
    return isinstance(value, list) and any(_has_control_character(item) for item in value)


class Input(BaseModel):
    """Request bodies: unknown fields are refused, never silently dropped; no string holds a
    control character (tabs and line breaks apart); a boolean is JSON's true or false.

    Pydantic would take 0, 1, "yes", "on" or "false" for a boolean: a client's bug recorded as
    a fact. Refused here for every body model's boolean fields, found once per model, rather
    than left to each field's declaration.
    """

    model_config = ConfigDict(extra="forbid")
    _booleans: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._booleans = frozenset(
            name for name, field in cls.model_fields.items() if _takes_booleans(field.annotation)
        )

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, bool) or value is None:
            return value
        if info.field_name in cls._booleans:
            raise ValueError("must be true or false")
        if _has_control_character(value):
            raise ValueError(HAS_CONTROL_CHARACTER)
        return value


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
