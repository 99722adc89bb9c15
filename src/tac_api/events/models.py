"""HMPPS domain events: the prison events applied to her case (the inbox), and the service's own
changes waiting to be published to the estate's topic (the outbox) with how far publishing got."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from tac_api.db import utcnow


class PrisonEvent(SQLModel, table=True):
    """A prison event about a mother the service knows, as it was applied to her case (or found
    older than what her case already reflects). Events about anyone else are not stored.

    `fingerprint` makes delivery at least once harmless: the same event delivered again (SQS
    redelivers; the publisher may publish twice) finds its row and changes nothing."""

    __tablename__ = "prison_event"
    __table_args__ = (Index("ix_prison_event_mother", "mother_id", "occurred_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # sha256 of the event's type, occurredAt and additionalInformation, as received.
    fingerprint: str = Field(max_length=64, unique=True)
    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    event_type: str = Field(max_length=100)
    # When it happened in the prison (the envelope's occurredAt, in UTC): what orders events.
    occurred_at: datetime
    received_at: datetime = Field(default_factory=utcnow)
    # The SNS notification's MessageId: which delivery it came in, for tracing.
    message_id: str | None = Field(default=None, max_length=100)
    # `applied`, or `superseded` (older than an event already applied to her case: not undone).
    outcome: str = Field(max_length=16)
    # additionalInformation's codes (nomsNumber, prisonId, reason, categoriesChanged...): the
    # event's own, never free text.
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ServiceEvent(SQLModel, table=True):
    """The service's outbox for the estate's topic: one row per change (whoever it concerns),
    written in the change's own transaction, in the change feed's order. `tac-api events
    publish` sends them as HMPPS domain events, from the position it last published."""

    __tablename__ = "service_event"
    # See ChangeEvent: SQLite must never hand out an erased row's position again.
    __table_args__ = ({"sqlite_autoincrement": True},)

    position: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    event_type: str = Field(max_length=48)  # court-hearing.updated, contact-visit.scheduled...
    occurred_at: datetime = Field(default_factory=utcnow)
    # Her prison number is read when it is published (a merge may have changed it since).
    mother_id: uuid.UUID | None = Field(
        default=None, foreign_key="mother.id", index=True, ondelete="CASCADE"
    )
    resource_type: str = Field(max_length=40)
    resource_id: uuid.UUID


class EventPublication(SQLModel, table=True):
    """How far publishing to a topic got: the last position sent. One row per topic; the
    publisher locks it, so two publishers never send the same events at once."""

    __tablename__ = "event_publication"

    topic_arn: str = Field(primary_key=True, max_length=400)
    last_position: int = Field(default=0, sa_column=Column(BigInteger(), nullable=False))
    published_at: datetime | None = None
