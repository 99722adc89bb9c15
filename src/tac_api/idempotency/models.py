import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary
from sqlmodel import Field, SQLModel


class IdempotencyKey(SQLModel, table=True):
    """A POST sent with an `Idempotency-Key`: whose key, which request, and, once its change is
    saved, the answer to send again when the client retries.

    Shared by every API process through the database. `completed_at` is set in the request's own
    transaction, so a saved change and a completed key stand or fall together; the answer is
    stored just after the commit. The answer holds personal data: a key lasts
    TAC_IDEMPOTENCY_KEY_HOURS, then it is purged.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_created_at", "created_at"),)

    # Keys are the client's own: another client's same key is another key.
    client_id: uuid.UUID = Field(primary_key=True)
    key: str = Field(primary_key=True, max_length=255)
    # SHA-256 (hex) of who asked (role and scope), method, path, query and body.
    request_hash: str = Field(max_length=64)
    # The attempt holding the key: only it may complete it; a stale one may be taken over.
    attempt_id: uuid.UUID
    created_at: datetime  # the key expires TAC_IDEMPOTENCY_KEY_HOURS after this
    claimed_at: datetime  # when the attempt holding it began
    completed_at: datetime | None = None
    response_status: int | None = None
    # Content-Type, Location and ETag: what a client reads from a created record's answer.
    response_headers: dict[str, str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )
    response_body: bytes | None = Field(default=None, sa_type=LargeBinary)
    # [resource type, resource id, subject id] of each record the first request's audit
    # events named: what a replay discloses again.
    disclosed: list[list[Any]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True))
    )
