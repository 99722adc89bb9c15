import uuid
from datetime import date

from sqlalchemy import Index, text
from sqlmodel import Field

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class StaffMember(RecordFields, table=True):
    """One of the service's own staff (a prison social worker, an advocate, a facilitator), in
    her prison's directory. Linked to how she signs in, so that work is hers either way: her
    identity provider's subject, or an API client. `signs_in_as` is the caller id either gives
    her (the client's id, or the id derived from the identity provider's issuer and subject),
    indexed, so "me" is one lookup."""

    __tablename__ = "staff_member"
    __table_args__ = (Index("ix_staff_member_prison_order", "prison_code", "name", "id"),)

    prison_code: str = Field(foreign_key="prison.code", max_length=8)
    name: str = Field(max_length=120)
    role: str = Field(max_length=32)  # prison_social_worker, advocate, facilitator
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    identity_subject: str | None = Field(default=None, max_length=200)
    api_client_id: uuid.UUID | None = Field(default=None, foreign_key="api_client.id")
    signs_in_as: uuid.UUID | None = Field(default=None, unique=True)
    # Left the service: kept in the directory (her past allocations name her), allocated no one.
    left_on: date | None = None


class Allocation(RecordFields, HistoryFields, table=True):
    """Which worker a mother is allocated to, from when to when: her allocations are its history
    (who made each, and when, in the history fields). One open allocation at a time."""

    __tablename__ = "allocation"
    __table_args__ = (
        Index("ix_allocation_mother_order", "mother_id", "allocated_on", "id"),
        Index("ix_allocation_worker_open", "staff_member_id", "ended_on"),
        Index(
            "uq_allocation_one_open",
            "mother_id",
            unique=True,
            sqlite_where=text("ended_on IS NULL"),
            postgresql_where=text("ended_on IS NULL"),
        ),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    staff_member_id: uuid.UUID = Field(foreign_key="staff_member.id")
    allocated_on: date
    ended_on: date | None = None
    reason: str | None = Field(default=None, max_length=500)
    # Why it ended: the reason given for the change that ended it (a reallocation, or an end).
    end_reason: str | None = Field(default=None, max_length=500)
