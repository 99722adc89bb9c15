import uuid
from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class ContactVisit(RecordFields, table=True):
    """Contact between her and her children: a visit, a call, a letter, a final contact."""

    __tablename__ = "contact_visit"
    __table_args__ = (
        Index("ix_contact_visit_created_order", "created_at", "id"),
        # Reports count the visits held in a period.
        Index("ix_contact_visit_scheduled_at", "scheduled_at"),
        # The worklist: visits awaiting approval, and held with no outcome (few, in a long
        # history of visits whose outcome is recorded).
        Index(
            "ix_contact_visit_no_outcome",
            "status",
            sqlite_where=text("outcome IS NULL"),
            postgresql_where=text("outcome IS NULL"),
        ),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", index=True, ondelete="CASCADE")
    visit_type: str = Field(max_length=32)
    escort_name: str | None = Field(default=None, max_length=120)
    escort_role: str | None = Field(default=None, max_length=16)
    supervisor_name: str | None = Field(default=None, max_length=120)
    supervisor_role: str | None = Field(default=None, max_length=100)
    scheduled_at: datetime | None = None
    status: str = Field(max_length=16)
    # Why it reached its current status: required for cancelled and refused.
    status_reason: str | None = Field(default=None, max_length=2000)
    # The same reason as a code, so that reports can count visits cancelled by reason.
    status_reason_code: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, max_length=32)
    outcome_notes: str | None = Field(default=None, max_length=2000)


class ContactVisitChild(SQLModel, table=True):
    """The children a contact visit is with."""

    __tablename__ = "contact_visit_child"
    __table_args__ = (
        # A final contact before adoption happens once per child: the database refuses a second
        # one that still counts, even when two are recorded at the same moment.
        Index(
            "uq_contact_visit_child_final_contact",
            "child_id",
            unique=True,
            sqlite_where=text("final_contact"),
            postgresql_where=text("final_contact"),
        ),
    )

    contact_visit_id: uuid.UUID = Field(
        foreign_key="contact_visit.id", primary_key=True, ondelete="CASCADE"
    )
    child_id: uuid.UUID = Field(
        foreign_key="child.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    # True while the visit is a final contact that still counts (not cancelled or refused).
    final_contact: bool = False


class ContactVisitStatusChange(RecordFields, HistoryFields, table=True):
    """A visit's status history: who moved it, when, from what to what, and why."""

    __tablename__ = "contact_visit_status_change"
    # Reports count the visits cancelled or refused in a period.
    __table_args__ = (Index("ix_contact_visit_status_change_order", "to_status", "changed_at"),)

    contact_visit_id: uuid.UUID = Field(
        foreign_key="contact_visit.id", index=True, ondelete="CASCADE"
    )
    mother_id: uuid.UUID = Field(foreign_key="mother.id", index=True, ondelete="CASCADE")
    from_status: str | None = Field(default=None, max_length=16)  # None: when it was requested
    to_status: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=2000)
    reason_code: str | None = Field(default=None, max_length=32)
