import uuid
from datetime import date

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields


class GroupSession(RecordFields, table=True):
    """A peer group session in a prison (Mum's Supportive runs a fortnightly two-hour group):
    when, the activity and whether the members chose it, who facilitated (`GroupFacilitator`)
    and its register (`GroupAttendance`). The prison's record: other women attend it too."""

    __tablename__ = "group_session"
    __table_args__ = (Index("ix_group_session_prison_order", "prison_code", "held_on", "id"),)

    prison_code: str = Field(foreign_key="prison.code", max_length=8)
    held_on: date
    duration_minutes: int = Field(default=120)
    activity: str = Field(max_length=200)
    # Co-production: whether the members chose the activity, rather than assumed to.
    activity_chosen_by_members: bool = False


class GroupFacilitator(SQLModel, table=True):
    """A member of the service's staff who facilitated a session."""

    __tablename__ = "group_facilitator"

    group_session_id: uuid.UUID = Field(
        foreign_key="group_session.id", primary_key=True, ondelete="CASCADE"
    )
    staff_member_id: uuid.UUID = Field(foreign_key="staff_member.id", primary_key=True, index=True)


class GroupAttendance(RecordFields, table=True):
    """One woman's row of a session's register: that she attended, how she checked in and out
    (1 to 5, and a word of her own if she gives one). Checking out lower than she checked in
    owes her a one-to-one follow-up the same week (`follow_up_due_on`, the Sunday of the
    session's week), until one is recorded (`follow_up_done_on`)."""

    __tablename__ = "group_attendance"
    __table_args__ = (
        Index("uq_group_attendance", "group_session_id", "mother_id", unique=True),
        Index("ix_group_attendance_mother", "mother_id"),
        # The follow-ups owed, by when: an index seek however long the registers grow.
        Index("ix_group_attendance_follow_up", "follow_up_due_on", "follow_up_done_on"),
    )

    group_session_id: uuid.UUID = Field(foreign_key="group_session.id", ondelete="CASCADE")
    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    check_in: int | None = None
    check_in_word: str | None = Field(default=None, max_length=40)
    check_out: int | None = None
    check_out_word: str | None = Field(default=None, max_length=40)
    follow_up_due_on: date | None = None
    follow_up_done_on: date | None = None
    # Who followed her up: one of the service's staff.
    follow_up_by_id: uuid.UUID | None = Field(default=None, foreign_key="staff_member.id")
    follow_up_note: str | None = Field(default=None, max_length=2000)
