import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields


class Communication(RecordFields, table=True):
    """Something the prison social worker relayed between a mother and the people around her
    children, or a contribution to a child's life story work."""

    __tablename__ = "communication"
    __table_args__ = (Index("ix_communication_mother_order", "mother_id", "occurred_at", "id"),)

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    kind: str = Field(max_length=32)
    from_party: str = Field(max_length=32)
    from_name: str | None = Field(default=None, max_length=120)
    to_party: str = Field(max_length=32)
    to_name: str | None = Field(default=None, max_length=120)
    channel: str = Field(max_length=16)
    occurred_at: datetime
    summary: str = Field(max_length=2000)
    # A life story contribution's item: a letter, a photo, a memory book page...
    item_description: str | None = Field(default=None, max_length=2000)


class CommunicationChild(SQLModel, table=True):
    """The children a communication concerns."""

    __tablename__ = "communication_child"

    communication_id: uuid.UUID = Field(
        foreign_key="communication.id", primary_key=True, ondelete="CASCADE"
    )
    child_id: uuid.UUID = Field(
        foreign_key="child.id", primary_key=True, index=True, ondelete="CASCADE"
    )
