"""The service's own models for what the client reads from the change feed and webhooks."""

from tac_api.changes.schemas import ChangeFeed
from tac_api.webhooks.schemas import (
    DeliveryStatus,
    WebhookDeliveryPublic,
    WebhookPublic,
    WebhookWithSecret,
)

__all__ = [
    "ChangeFeed",
    "DeliveryStatus",
    "WebhookDeliveryPublic",
    "WebhookPublic",
    "WebhookWithSecret",
]
