import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields, utcnow


class Webhook(RecordFields, table=True):
    """A local authority's address for the changes that concern its children, pushed as they
    happen. Not case data: it names no one, and it outlives every case it reports on."""

    __tablename__ = "webhook"

    local_authority_code: str = Field(
        foreign_key="local_authority.dfe_number", max_length=3, index=True
    )
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    # None: every type of event.
    event_types: list[str] | None = Field(default=None, sa_type=JSON)
    active: bool = True
    # Kept as it was given out: signing needs it, so it cannot be hashed like an API token.
    secret: str = Field(max_length=100)
    # The change_event position it has dealt with: delivered, given up or filtered out.
    cursor_position: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Who registered it (an API client, or a person through the identity provider): no foreign
    # key, as people signed in through the provider have no row of their own.
    created_by_client_id: uuid.UUID | None = None
    # A dispatcher's claim on it, so that processes sharing the database never deliver to it at
    # once. A lease rather than a row lock: no transaction stays open across an HTTP call.
    lease_token: uuid.UUID | None = None
    lease_expires_at: datetime | None = None


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or being sent) to one webhook: how many attempts, and how they ended.

    The event is referred to by its id and position only, never copied: the payload is personal
    data and stays in change_event, erased with the case; this row holds none. No foreign key to
    it either, so erasing a case leaves the delivery history (ids only) intact.
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # One delivery per event per webhook: a second dispatcher racing the first cannot add one.
        Index("uq_webhook_delivery_event", "webhook_id", "event_position", unique=True),
        # The one pending delivery of a webhook, and the listing filtered by status.
        Index("ix_webhook_delivery_status", "webhook_id", "status", "event_position"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    webhook_id: uuid.UUID = Field(foreign_key="webhook.id", ondelete="CASCADE")
    event_position: int = Field(sa_column=Column(BigInteger, nullable=False))
    event_id: uuid.UUID
    event_type: str = Field(max_length=48)
    status: str = Field(default="pending", max_length=16)  # pending, delivered, failed
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    finished_at: datetime | None = None  # delivered, or given up
    response_status: int | None = None  # of the last attempt; its body is never kept
    error: str | None = Field(default=None, max_length=200)
