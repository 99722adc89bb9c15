import uuid
from datetime import date
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class ReleasePlan(RecordFields, table=True):
    """Her plan for release: one per mother. Its pathways, actions and contact after release are
    rows of their own (below), changed only together with the plan, whose version covers them."""

    __tablename__ = "release_plan"

    mother_id: uuid.UUID = Field(foreign_key="mother.id", unique=True, ondelete="CASCADE")
    # Indexed: the releases due list reads a window of it.
    expected_release_date: date | None = Field(default=None, index=True)
    # Where she will live: the authority whose services (housing, social care) take her on.
    release_local_authority_code: str | None = Field(
        default=None, foreign_key="local_authority.dfe_number", max_length=3
    )
    accommodation_status: str = Field(max_length=24)
    probation_name: str | None = Field(default=None, max_length=120)
    probation_email: str | None = Field(default=None, max_length=254)
    probation_phone: str | None = Field(default=None, max_length=32)


class ReleasePlanPathway(SQLModel, table=True):
    """One of the seven HMPPS resettlement pathways of a plan: every plan has all seven rows."""

    __tablename__ = "release_plan_pathway"

    release_plan_id: uuid.UUID = Field(
        foreign_key="release_plan.id", primary_key=True, ondelete="CASCADE"
    )
    pathway: str = Field(max_length=40, primary_key=True)
    status: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=2000)


class ReleasePlanAction(SQLModel, table=True):
    """Something to be done before (or on) release, by whom and when; open until done_on."""

    __tablename__ = "release_plan_action"
    __table_args__ = (
        Index("ix_release_plan_action_plan_order", "release_plan_id", "due_on", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    release_plan_id: uuid.UUID = Field(foreign_key="release_plan.id", ondelete="CASCADE")
    description: str = Field(max_length=2000)
    owner: str = Field(max_length=120)
    due_on: date
    done_on: date | None = None


class ReleasePlanContact(SQLModel, table=True):
    """How contact with one of her children is planned to work once she is out."""

    __tablename__ = "release_plan_contact"

    release_plan_id: uuid.UUID = Field(
        foreign_key="release_plan.id", primary_key=True, ondelete="CASCADE"
    )
    child_id: uuid.UUID = Field(
        foreign_key="child.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    arrangement: str = Field(max_length=2000)


class OnwardReferral(SQLModel, table=True):
    """An onward referral, in the plan's "children, families and community" pathway, to a
    service in the community that will go on supporting her after release: made on, accepted
    on, first contact after release. Changed only with the plan, like its actions."""

    __tablename__ = "onward_referral"
    __table_args__ = (Index("ix_onward_referral_plan_order", "release_plan_id", "made_on", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    release_plan_id: uuid.UUID = Field(foreign_key="release_plan.id", ondelete="CASCADE")
    organisation_id: uuid.UUID = Field(foreign_key="organisation.id", index=True)
    made_on: date
    accepted_on: date | None = None
    declined_on: date | None = None
    first_contact_on: date | None = None
    note: str | None = Field(default=None, max_length=2000)


class ReleasePlanHistoryEntry(HistoryFields, table=True):
    """One change to a release plan (its pathways, actions, contact after release and onward
    referrals included): who made it, when, in which request, and each field's value before and
    after, as the API names and shows them (`release.history`), `complete` among them.

    Written with the change itself and never altered: the reports count a plan complete or not
    as it stood at a period's end from it."""

    __tablename__ = "release_plan_history"
    __table_args__ = (
        Index("ix_release_plan_history_order", "release_plan_id", "changed_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    release_plan_id: uuid.UUID = Field(foreign_key="release_plan.id", ondelete="CASCADE")
    request_id: str | None = Field(default=None, max_length=64)  # None: made by a command
    # [{"field": ..., "old": ..., "new": ...}], values as the API shows them.
    changes: list[dict[str, Any]] = Field(sa_type=JSON)
