import uuid
from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields


class Meeting(RecordFields, table=True):
    """A meeting about her children (a conference, a review...): whether she could join, and
    whether she did."""

    __tablename__ = "meeting"
    __table_args__ = (
        # Lists run in date order: the week ahead is an index seek.
        Index("ix_meeting_starts_order", "starts_at", "id"),
        Index("uq_meeting_external_id", "external_authority_code", "external_id", unique=True),
        # An adjourned meeting's new date is the new date of no other (two adjourned to the
        # same new one at the same moment: the second refused), and the new one finds the
        # meeting it was adjourned from by this index.
        Index(
            "uq_meeting_adjourned_to_id",
            "adjourned_to_id",
            unique=True,
            sqlite_where=text("adjourned_to_id IS NOT NULL"),
            postgresql_where=text("adjourned_to_id IS NOT NULL"),
        ),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", index=True, ondelete="CASCADE")
    # Pushed by a local authority's system: its own id for the record, unique within it.
    external_authority_code: str | None = Field(
        default=None, foreign_key="local_authority.dfe_number", max_length=3
    )
    external_id: str | None = Field(default=None, max_length=64)
    meeting_type: str = Field(max_length=32)
    starts_at: datetime
    notified_at: datetime  # when her side learnt of it
    platform: str = Field(max_length=32)
    prison_can_join: bool
    invited: bool
    attended: bool | None = None  # None: not known yet
    barrier: str | None = Field(default=None, max_length=32)
    barrier_detail: str | None = Field(default=None, max_length=2000)
    supported_by: str | None = Field(default=None, max_length=200)
    # A meeting that does not go ahead: `adjourned` (to a new meeting, `adjourned_to_id`),
    # `vacated` or `cancelled`, with who decided and why.
    status: str = Field(default="scheduled", max_length=16)
    status_decided_by: str | None = Field(default=None, max_length=32)
    status_reason: str | None = Field(default=None, max_length=2000)
    status_changed_at: datetime | None = None
    # Indexed by uq_meeting_adjourned_to_id (where set).
    adjourned_to_id: uuid.UUID | None = Field(
        default=None, foreign_key="meeting.id", ondelete="SET NULL"
    )


class MeetingChild(SQLModel, table=True):
    """The children a meeting concerns."""

    __tablename__ = "meeting_child"

    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", primary_key=True, ondelete="CASCADE")
    child_id: uuid.UUID = Field(
        foreign_key="child.id", primary_key=True, index=True, ondelete="CASCADE"
    )
