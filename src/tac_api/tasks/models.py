import uuid
from datetime import date

from sqlalchemy import Index, text
from sqlmodel import Field

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class Task(RecordFields, HistoryFields, table=True):
    """Something to be done on her case, by a member of staff, by a day: made by a person, or
    by a record (a group check-out lower than check-in makes a follow-up task; a transfer makes
    the receiving prison's handover task). Who made it, and when, are its history fields.

    `resource_type` and `resource_id` name the record it is about, if any (one of her records,
    by its kind in the audit trail). `made_by_record` says a record made it rather than a
    person: such a task is kept in step with its record, and made at most once per record and
    purpose (`uq_task_made_by_record`)."""

    __tablename__ = "task"
    __table_args__ = (
        # Open tasks by when they are due: the worklist and `due_before` are index seeks.
        Index("ix_task_due_order", "due_on", "id"),
        # The worklist: open tasks by when they are due (done ones pile up behind them).
        Index(
            "ix_task_open_due",
            "due_on",
            sqlite_where=text("done_on IS NULL"),
            postgresql_where=text("done_on IS NULL"),
        ),
        Index("ix_task_mother", "mother_id"),
        Index("ix_task_owner_open", "owner_id", "done_on"),
        Index("ix_task_record", "resource_type", "resource_id"),
        Index(
            "uq_task_made_by_record",
            "made_by_record",
            "resource_type",
            "resource_id",
            unique=True,
            sqlite_where=text("made_by_record IS NOT NULL"),
            postgresql_where=text("made_by_record IS NOT NULL"),
        ),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    resource_type: str | None = Field(default=None, max_length=32)
    resource_id: uuid.UUID | None = None
    title: str = Field(max_length=200)
    detail: str | None = Field(default=None, max_length=4000)
    # A member of the service's staff; None: her prison's, not yet anyone's.
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="staff_member.id")
    due_on: date
    done_on: date | None = None
    # What made it, when a record did: `group_follow_up`, `transfer_handover`; None: a person.
    made_by_record: str | None = Field(default=None, max_length=32)
