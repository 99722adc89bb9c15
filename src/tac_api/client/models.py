"""Answers the client reads that are not (yet) the service's own schemas on this branch.

The change feed's page and the webhooks' records are being built alongside this client; these
mirror their contract (`GET /v1/sync/changes`, `/v1/sync/webhooks`). Once those land, import
`ChangeFeed` from `tac_api.changes.schemas` and the webhook models from
`tac_api.webhooks.schemas` instead, and delete these.
"""

import uuid
from typing import Literal

from pydantic import BaseModel

from tac_api.changes.schemas import ChangeFeed
from tac_api.schemas import RecordPublic, UtcDatetime

__all__ = [
    "ChangeFeed",
    "DeliveryStatus",
    "WebhookDeliveryPublic",
    "WebhookPublic",
    "WebhookWithSecret",
]

DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookPublic(RecordPublic):
    local_authority_code: str
    url: str
    description: str | None
    event_types: list[str] | None
    active: bool
    cursor: str


class WebhookWithSecret(WebhookPublic):
    """The one answer that carries the shared secret."""

    secret: str


class WebhookDeliveryPublic(BaseModel):
    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: DeliveryStatus
    attempts: int
    created_at: UtcDatetime
    last_attempt_at: UtcDatetime | None
    next_attempt_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    response_status: int | None
    error: str | None
