import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field

from tac_api.db import RecordFields, utcnow


class ReviewFlag(RecordFields, table=True):
    """A record of her case flagged for review: why, who raised it and when, and who cleared it
    and when. Raised by hand today; prison events will raise them too (`raised_by_source`).

    The prison side's working record: no local authority sees a flag."""

    __tablename__ = "review_flag"
    __table_args__ = (
        Index("ix_review_flag_record", "resource_type", "resource_id"),
        Index("ix_review_flag_mother", "mother_id", "raised_at"),
        # The open flags, oldest first: the worklist reads them by this.
        Index("ix_review_flag_open", "cleared_at", "raised_at", "id"),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    # The record flagged, by its kind in the audit trail (`mother` for her own record).
    resource_type: str = Field(max_length=32)
    resource_id: uuid.UUID
    reason: str = Field(max_length=2000)
    # `person` (by hand, through the API) or `event` (a prison event, later).
    raised_by_source: str = Field(default="person", max_length=16)
    raised_at: datetime = Field(default_factory=utcnow)
    raised_by_client_id: uuid.UUID | None = None
    raised_by_name: str = Field(max_length=200)
    raised_by_role: str = Field(max_length=32)
    cleared_at: datetime | None = None
    cleared_by_client_id: uuid.UUID | None = None
    cleared_by_name: str | None = Field(default=None, max_length=200)
    cleared_by_role: str | None = Field(default=None, max_length=32)
    clearance_note: str | None = Field(default=None, max_length=2000)
