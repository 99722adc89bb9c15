import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.schemas import Changes, Input, LocalAuthorityCode, RecordPublic, UtcDatetime

WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EventType = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$", max_length=48)
]
DeliveryStatus = Literal["pending", "delivered", "failed"]

URL = (
    "Where to POST each event: https on port 443 or 8443, to a host whose every address is on "
    "the internet (looked up again before each delivery), with no user name or password in it "
    "(the shared secret signs every delivery instead)."
)
EVENT_TYPES = (
    "Only these types of event (e.g. `court-hearing.updated`); null or left out: every type."
)


class WebhookCreate(Input):
    url: WebhookUrl = Field(description=URL, examples=["https://sync.example.gov.uk/tac/events"])
    description: Description | None = None
    event_types: list[EventType] | None = Field(
        default=None, min_length=1, max_length=50, description=EVENT_TYPES
    )
    local_authority_code: LocalAuthorityCode | None = Field(
        default=None,
        description="The authority whose changes it receives: an admin names it; a local "
        "authority's own is taken from its credentials (another one is refused).",
    )


class WebhookUpdate(Changes):
    """Only the fields sent change. Paused (`active: false`), a webhook keeps its place: turned
    on again, it delivers what happened meanwhile, in order."""

    not_nullable = frozenset({"url", "active"})

    url: WebhookUrl | SkipJsonSchema[None] = Field(default=None, description=URL)
    description: Description | None = None
    active: bool | SkipJsonSchema[None] = None
    event_types: list[EventType] | None = Field(
        default=None, min_length=1, max_length=50, description=EVENT_TYPES
    )


class WebhookPublic(RecordPublic):
    local_authority_code: str
    url: str
    description: str | None
    event_types: list[str] | None = Field(description="Null: every type of event.")
    active: bool
    cursor: str = Field(
        description="The change feed's cursor of the last event dealt with (delivered, given "
        "up or not of its types): `GET /v1/sync/changes?after=<cursor>` lists what follows."
    )


class WebhookWithSecret(WebhookPublic):
    """The answer that carries the shared secret: given once, never shown again."""

    secret: str = Field(
        description="Signs every delivery (HMAC-SHA256, see `TAC-Signature`). Shown this once: "
        "keep it; a new one can be made with `POST /v1/sync/webhooks/{id}/secret`."
    )


class WebhookDeliveryPublic(BaseModel):
    """One event sent to the webhook, with its attempts. The event by id only: the feed has it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="Sent as `TAC-Delivery-ID`, the same on every attempt.")
    webhook_id: uuid.UUID
    event_id: uuid.UUID = Field(description="Sent as `TAC-Event-ID`: the change feed's `id`.")
    event_type: str
    status: DeliveryStatus = Field(
        description="pending (being tried, or waiting to retry), delivered (a 2xx answer), "
        "failed (given up after the last attempt allowed)"
    )
    attempts: int
    created_at: UtcDatetime
    last_attempt_at: UtcDatetime | None
    next_attempt_at: UtcDatetime | None = Field(description="When a pending one is tried next.")
    finished_at: UtcDatetime | None = Field(description="When it was delivered or given up.")
    response_status: int | None = Field(
        description="The HTTP status of the last attempt's answer (its body is never kept)."
    )
    error: str | None = Field(
        description="Why the last attempt failed: the status, a timeout, no connection..."
    )
