"""Types and base models every domain's schemas share."""

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import core_schema


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

# No one types a control character (C0, and DEL): one in a request is a client's bug or an
# attack, and PostgreSQL cannot store NUL at all. Free text keeps its tabs and line breaks.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")
NO_CONTROL_CHARACTER_BUT_TAB_CR_LF = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
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

# The eight areas of a support plan (Believe's), as her plan and her reviews' ratings name them,
# with the words she and her worker read.
SupportArea = Literal[
    "managing_mental_health",
    "voluntary_work_and_employment",
    "addictive_behaviours",
    "healthy_relationships",
    "healthy_lifestyle",
    "daily_living_skills",
    "social_networks",
    "self_care",
]
SUPPORT_AREA_LABELS: dict[str, str] = {
    "managing_mental_health": "Managing mental health",
    "voluntary_work_and_employment": "Voluntary work and employment",
    "addictive_behaviours": "Addictive behaviours",
    "healthy_relationships": "Healthy relationships",
    "healthy_lifestyle": "Healthy lifestyle",
    "daily_living_skills": "Daily living skills",
    "social_networks": "Social networks",
    "self_care": "Self-care",
}
# The order a plan lists its areas in, and a review its ratings (Believe's order).
AREA_ORDER = {area: n for n, area in enumerate(SUPPORT_AREA_LABELS)}


def past_date_problems(
    field: str, value: date | None, today: date, earliest: date = EARLIEST_PLAUSIBLE_DATE
) -> list[tuple[str, str]]:
    """A day that has been: not in the future, and not before `earliest` (a plausible date).
    None (not given) is no problem."""
    if value is None:
        return []
    if value > today:
        return [(field, "cannot be in the future")]
    if value < earliest:
        return [(field, "is not a plausible date")]
    return []


# A rating she gives an area of her plan, at the start and at each review.
Rating = Annotated[int, Field(strict=True, ge=1, le=10)]


# Checked after a string's own rules (its type, length and trimming), so those keep their
# messages; chained in Rust, it costs a batch of a thousand children next to nothing.
_NO_CONTROL_CHARACTER = core_schema.custom_error_schema(
    core_schema.str_schema(pattern=NO_CONTROL_CHARACTER_BUT_TAB_CR_LF),
    custom_error_type="control_character",
    custom_error_message=HAS_CONTROL_CHARACTER,
)
# Values and callables a schema carries, not schemas of what the caller sends.
_NOT_INPUT = frozenset({"metadata", "serialization", "default", "ref"})


def _plain_values(schema: Any) -> Any:
    """A copy of a body model's core schema in which every string also refuses control
    characters and every boolean is strict (JSON's true or false)."""
    if isinstance(schema, list):
        return [_plain_values(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "bool":
        return {**schema, "strict": True}
    if kind == "str":
        return core_schema.chain_schema([schema, _NO_CONTROL_CHARACTER])
    if kind == "chain" and schema["steps"][-1] is _NO_CONTROL_CHARACTER:
        return schema  # a nested body model's, already done
    if kind == "union":
        # Unlabelled, a failed member is named in the error's place (`first_name.constrained-str`
        # for a PATCH's `Name | SkipJsonSchema[None]`); an empty label, dropped there, is not.
        choices = [
            choice[0] if isinstance(choice, tuple) else choice for choice in schema["choices"]
        ]
        return {**schema, "choices": [(_plain_values(choice), "") for choice in choices]}
    return {
        key: value if key in _NOT_INPUT else _plain_values(value) for key, value in schema.items()
    }


class Input(BaseModel):
    """Request bodies: unknown fields are refused, never silently dropped; no string holds a
    control character (tabs and line breaks apart); a boolean is JSON's true or false.

    Pydantic would take 0, 1, "yes", "on" or "false" for a boolean: a client's bug recorded as
    a fact. Both rules are written into every body model's schema here, once, rather than into
    each field's declaration: a field added later has them too.
    """

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return _plain_values(handler(source))


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
