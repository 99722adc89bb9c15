"""HMPPS domain events as the estate publishes them (`ministryofjustice/hmpps-domain-events`):
an SNS notification whose `Message` is the event's JSON, and the event itself.

Parsing is strict about what the service acts on (the type, when it happened, whose number) and
lenient about the rest: the estate adds fields over time, and a new field must not send every
event to the dead-letter queue."""

import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from tac_api.auth.schemas import Caller, Role
from tac_api.schemas import PrisonNumber

RECEIVED = "prisoner-offender-search.prisoner.received"
RELEASED = "prisoner-offender-search.prisoner.released"
UPDATED = "prisoner-offender-search.prisoner.updated"
MERGED = "prison-offender-events.prisoner.merged"
CONSUMED = frozenset({RECEIVED, RELEASED, UPDATED, MERGED})

# Who changed her case, in the audit trail and on a flag: the estate's events, not a person.
EVENT_SOURCE = Caller(
    client_id=uuid.UUID("5c0a3e2e-7f4b-5d1c-9a63-0e3f6b1d2c47"),
    name="HMPPS domain events",
    role=Role.admin,
)


class MalformedEvent(ValueError):
    """A message that is not an HMPPS domain event this service can read. Said in the
    service's own words: nothing of the message is echoed (it may hold personal values)."""


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Identifier(_Lenient):
    type: str
    value: str


class PersonReference(_Lenient):
    identifiers: list[Identifier] = Field(default_factory=list)

    def noms(self) -> str | None:
        return next((i.value for i in self.identifiers if i.type == "NOMS"), None)


class AdditionalInformation(_Lenient):
    noms_number: PrisonNumber | None = Field(default=None, alias="nomsNumber")
    prison_id: Annotated[str, Field(pattern=r"^[A-Z0-9]{2,8}$")] | None = Field(
        default=None, alias="prisonId"
    )
    reason: str | None = Field(default=None, max_length=100)
    removed_noms_number: PrisonNumber | None = Field(default=None, alias="removedNomsNumber")
    categories_changed: list[str] = Field(default_factory=list, alias="categoriesChanged")


class DomainEvent(_Lenient):
    event_type: str = Field(alias="eventType", max_length=100)
    version: int = 1
    description: str | None = None
    detail_url: str | None = Field(default=None, alias="detailUrl")
    # With an offset and up to nanoseconds (`2024-06-14T09:06:16.22603998+01:00`): kept to the
    # microsecond, in UTC.
    occurred_at: AwareDatetime = Field(alias="occurredAt")
    additional_information: AdditionalInformation = Field(
        default_factory=AdditionalInformation, alias="additionalInformation"
    )
    person_reference: PersonReference | None = Field(default=None, alias="personReference")

    @property
    def occurred_at_utc(self) -> datetime:
        return self.occurred_at.astimezone(UTC)

    @property
    def noms_number(self) -> str | None:
        """Whose event it is: additionalInformation's nomsNumber, else personReference's."""
        if self.additional_information.noms_number:
            return self.additional_information.noms_number
        return self.person_reference.noms() if self.person_reference else None


class Delivered(BaseModel):
    """One message from the queue: the event, and which SNS notification brought it."""

    event: DomainEvent
    message_id: str | None
    # sha256 of the event's type, occurredAt, additionalInformation as published and whose it
    # is: the same event delivered twice (or published twice, in two notifications) has the
    # same one.
    fingerprint: str


def parse_message(body: str) -> Delivered:
    """An SQS message's body: the SNS notification envelope (raw delivery off, as the estate's
    queues are), or the event's JSON itself (raw delivery on). MalformedEvent otherwise."""
    try:
        outer = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedEvent("The message is not JSON.") from None
    if not isinstance(outer, dict):
        raise MalformedEvent("The message is not a JSON object.")
    message_id = outer.get("MessageId") if isinstance(outer.get("MessageId"), str) else None
    raw = outer
    if outer.get("Type") == "Notification":
        if not isinstance(outer.get("Message"), str):
            raise MalformedEvent("The SNS notification carries no Message.")
        try:
            raw = json.loads(outer["Message"])
        except (ValueError, RecursionError):
            raise MalformedEvent("The notification's Message is not JSON.") from None
        if not isinstance(raw, dict):
            raise MalformedEvent("The notification's Message is not a JSON object.")
    try:
        event = DomainEvent.model_validate(raw)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})
        raise MalformedEvent(f"Not an HMPPS domain event: check {', '.join(fields)}.") from None
    # Whose event it is too: an event naming her only in personReference would otherwise share
    # its fingerprint with another woman's of the same type at the same moment.
    canonical = json.dumps(
        [
            raw.get("eventType"),
            raw.get("occurredAt"),
            raw.get("additionalInformation"),
            event.noms_number,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
    return Delivered(event=event, message_id=message_id, fingerprint=fingerprint)


def details(event: DomainEvent) -> dict[str, Any]:
    """What the inbox keeps of an event: its additionalInformation's codes, not free text."""
    info = event.additional_information
    kept = {
        "nomsNumber": info.noms_number,
        "prisonId": info.prison_id,
        "reason": info.reason,
        "removedNomsNumber": info.removed_noms_number,
        "categoriesChanged": info.categories_changed or None,
    }
    return {key: value for key, value in kept.items() if value is not None}
