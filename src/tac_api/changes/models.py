import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel

from tac_api.db import utcnow


class ChangeEvent(SQLModel, table=True):
    """The outbox: one row per change, per local authority whose children it concerns.

    Written in the same transaction as the change it reports, so the change feed and the
    webhooks neither lose a change nor report one that was rolled back. `position` is the
    feed's order; one authority's feed is an index seek from its cursor.
    """

    __tablename__ = "change_event"
    __table_args__ = (
        Index("ix_change_event_feed", "local_authority_code", "position"),
        # Without AUTOINCREMENT, SQLite gives a new row the highest rowid + 1, so once the
        # latest events are erased (retention) their positions are handed out again, and a
        # reader whose cursor stands there would skip the new events. PostgreSQL's sequence
        # never goes back.
        {"sqlite_autoincrement": True},
    )

    # SQLite only numbers an INTEGER primary key by itself; PostgreSQL gets a BIGSERIAL.
    position: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    # The same for every authority told of one change, so a consumer can tell them apart.
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    local_authority_code: str = Field(foreign_key="local_authority.dfe_number", max_length=3)
    event_type: str = Field(max_length=48)  # court-hearing.updated, mother.transferred...
    occurred_at: datetime = Field(default_factory=utcnow)
    # None for an event about no mother the authority may know: its link request declined or
    # expired (what it named stays unsaid, whoever it was).
    mother_id: uuid.UUID | None = Field(
        default=None, foreign_key="mother.id", index=True, ondelete="CASCADE"
    )
    resource_type: str = Field(max_length=40)
    resource_id: uuid.UUID
    # Only this authority's own children among those the change concerns.
    child_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
