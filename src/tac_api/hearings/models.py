import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, text
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class Proceedings(RecordFields, table=True):
    """One set of care proceedings: the 26 weeks count from the day they were issued."""

    __tablename__ = "proceedings"
    __table_args__ = (Index("ix_proceedings_order", "issued_on", "id"),)

    mother_id: uuid.UUID = Field(foreign_key="mother.id", index=True, ondelete="CASCADE")
    court_name: str = Field(max_length=120)
    court_code: str | None = Field(default=None, max_length=16)
    case_number: str | None = Field(default=None, max_length=40)
    issued_on: date


class ProceedingsChild(SQLModel, table=True):
    __tablename__ = "proceedings_child"

    proceedings_id: uuid.UUID = Field(
        foreign_key="proceedings.id", primary_key=True, ondelete="CASCADE"
    )
    child_id: uuid.UUID = Field(
        foreign_key="child.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class ProceedingsExtension(RecordFields, table=True):
    """Weeks the court added to the 26, and why."""

    __tablename__ = "proceedings_extension"

    proceedings_id: uuid.UUID = Field(foreign_key="proceedings.id", index=True, ondelete="CASCADE")
    weeks: int
    reason: str = Field(max_length=2000)
    granted_on: date


class CourtHearing(RecordFields, table=True):
    __tablename__ = "court_hearing"
    __table_args__ = (
        # The week-ahead view is ordered by time: every page an index seek.
        Index("ix_court_hearing_order", "starts_at", "id"),
        Index("ix_court_hearing_mother_order", "mother_id", "starts_at", "id"),
        Index(
            "uq_court_hearing_external_id", "external_authority_code", "external_id", unique=True
        ),
        # The worklist: hearings whose outcome is not recorded (few, in a long history).
        Index(
            "ix_court_hearing_awaiting_outcome",
            "starts_at",
            sqlite_where=text("outcome_recorded_at IS NULL"),
            postgresql_where=text("outcome_recorded_at IS NULL"),
        ),
        # An adjourned hearing's new date is the new date of no other (two adjourned to the
        # same new one at the same moment: the second refused), and the new one finds the
        # hearing it was adjourned from by this index.
        Index(
            "uq_court_hearing_adjourned_to_id",
            "adjourned_to_id",
            unique=True,
            sqlite_where=text("adjourned_to_id IS NOT NULL"),
            postgresql_where=text("adjourned_to_id IS NOT NULL"),
        ),
    )

    # Indexed by ix_court_hearing_mother_order, which leads with it.
    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    # Pushed by a local authority's system: its own id for the record, unique within it.
    external_authority_code: str | None = Field(
        default=None, foreign_key="local_authority.dfe_number", max_length=3
    )
    external_id: str | None = Field(default=None, max_length=64)
    proceedings_id: uuid.UUID | None = Field(
        default=None, foreign_key="proceedings.id", index=True, ondelete="SET NULL"
    )
    court_name: str = Field(max_length=120)
    court_code: str | None = Field(default=None, max_length=16)
    hearing_type: str = Field(max_length=40)
    starts_at: datetime
    # When the mother's side (she or the prison social worker) learnt the date.
    notified_at: datetime
    attendance_mode: str | None = Field(default=None, max_length=32)  # None: not yet arranged
    social_worker_attends: bool = False
    # The outcome, once the hearing has taken place (all None until then).
    outcome_recorded_at: datetime | None = None
    attended: bool | None = None
    attended_how: str | None = Field(default=None, max_length=32)
    barrier: str | None = Field(default=None, max_length=32)
    barrier_detail: str | None = Field(default=None, max_length=2000)
    order_made: str | None = Field(default=None, max_length=40)
    order_detail: str | None = Field(default=None, max_length=2000)
    # A hearing that does not go ahead: `adjourned` (to a new hearing, `adjourned_to_id`),
    # `vacated` or `cancelled`, with who decided and why. Reports count these apart: a vacated
    # hearing was never "listed and missed".
    status: str = Field(default="scheduled", max_length=16)
    status_decided_by: str | None = Field(default=None, max_length=32)
    status_reason: str | None = Field(default=None, max_length=2000)
    status_changed_at: datetime | None = None
    # Indexed by uq_court_hearing_adjourned_to_id (where set).
    adjourned_to_id: uuid.UUID | None = Field(
        default=None, foreign_key="court_hearing.id", ondelete="SET NULL"
    )


class CourtHearingChild(SQLModel, table=True):
    __tablename__ = "court_hearing_child"

    court_hearing_id: uuid.UUID = Field(
        foreign_key="court_hearing.id", primary_key=True, ondelete="CASCADE"
    )
    child_id: uuid.UUID = Field(
        foreign_key="child.id", primary_key=True, index=True, ondelete="CASCADE"
    )


class CourtHearingAmendment(HistoryFields, table=True):
    """One change to a hearing: who made it, when, and each field's value before and after.

    Written with the change itself and never altered: a moved date is a fact a report needs.
    """

    __tablename__ = "court_hearing_amendment"
    __table_args__ = (
        Index("ix_court_hearing_amendment_order", "court_hearing_id", "changed_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    court_hearing_id: uuid.UUID = Field(foreign_key="court_hearing.id", ondelete="CASCADE")
    # [{"field": ..., "old": ..., "new": ...}], values as the API shows them.
    changes: list[dict[str, Any]] = Field(sa_type=JSON)
