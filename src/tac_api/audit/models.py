import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from tac_api.db import utcnow


class AuditEvent(SQLModel, table=True):
    """One act on personal data: who, when, what, on which record and whose, and how it ended.

    Ids only, never a personal value: the trail must be safe to show an auditor and must outlive
    the records it describes (erasure leaves it). No foreign keys, for the same reason. Rows are
    only ever inserted: the database refuses UPDATE and DELETE (see the migration's triggers).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_subject", "subject_id", "id"),
        Index("ix_audit_event_resource", "resource_id", "id"),
        Index("ix_audit_event_client", "client_id", "id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    # A sequence, not a UUID: it orders the trail for keyset pages and keeps the index small.
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    occurred_at: datetime = Field(default_factory=utcnow)
    request_id: str = Field(max_length=64)
    client_id: uuid.UUID | None = None
    client_name: str | None = Field(default=None, max_length=200)
    role: str = Field(max_length=32)
    action: str = Field(max_length=16)
    resource_type: str = Field(max_length=40)
    resource_id: uuid.UUID | None = None
    subject_id: uuid.UUID | None = None  # the mother whose case the record belongs to
    outcome: str = Field(max_length=16)
