import uuid
from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class Consent(RecordFields, HistoryFields, table=True):
    """Her consent to share her support plan, her reviews and/or her group attendance with one
    local authority: who recorded it (the history fields), what it covers, given on, withdrawn
    on. A local authority sees her plan, reviews or attendance only while a consent covering
    them is in force (given, not withdrawn): checked in SQL on every request, so a withdrawal
    holds on the next one."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_mother_authority", "mother_id", "local_authority_code"),)

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    local_authority_code: str = Field(foreign_key="local_authority.dfe_number", max_length=3)
    covers_plan: bool = False
    covers_reviews: bool = False
    # Her own row of a group session's register (that she attended, her check-in and out).
    covers_groups: bool = False
    given_on: date
    withdrawn_on: date | None = None
    # Who recorded the withdrawal, and when.
    withdrawn_at: datetime | None = None
    withdrawn_by_name: str | None = Field(default=None, max_length=200)
