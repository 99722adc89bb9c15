import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Index, Numeric, func
from sqlmodel import Field

from tac_api.db import RecordFields


class Evidence(RecordFields, table=True):
    """Something she did that shows change: a course, counselling, a qualification, work..."""

    __tablename__ = "evidence"
    __table_args__ = (
        # Her evidence is read in date order: this makes every page and the bundle an index seek.
        Index("ix_evidence_mother_order", "mother_id", "started_on", "id"),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    category: str = Field(max_length=32)
    title: str = Field(max_length=200)
    provider: str | None = Field(default=None, max_length=200)
    started_on: date
    completed_on: date | None = None
    hours: Decimal | None = Field(default=None, sa_type=Numeric(7, 2))
    verified_by_name: str | None = Field(default=None, max_length=120)
    verified_by_role: str | None = Field(default=None, max_length=120)
    verified_on: date | None = None


# Reports count evidence by when it was completed, or begun while it goes on: an index on that
# date finds a period's items without reading everyone's.
Index("ix_evidence_dated", func.coalesce(Evidence.completed_on, Evidence.started_on))
