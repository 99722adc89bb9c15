import uuid
from datetime import date
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class SupportPlan(RecordFields, table=True):
    """Her one live support plan, over the eight areas Believe uses (its areas: one row each
    she chose to work on). Co-produced, and recorded so rather than assumed: a plan she has not
    agreed, or changed since she agreed it, is a draft. `content_version` counts versions of
    what the plan says (each one kept in `support_plan_version`); `agreed_version` is the one she
    agreed, `agreed_on` when."""

    __tablename__ = "support_plan"

    mother_id: uuid.UUID = Field(foreign_key="mother.id", unique=True, ondelete="CASCADE")
    content_version: int = Field(default=1)
    agreed_version: int | None = None
    agreed_on: date | None = None


class SupportPlanArea(RecordFields, table=True):
    """One area of her plan she chose to work on: her goal in her own words, the steps, who
    helps, her rating from 1 to 10 at the start, and who wrote each part."""

    __tablename__ = "support_plan_area"
    __table_args__ = (Index("uq_support_plan_area", "support_plan_id", "area", unique=True),)

    support_plan_id: uuid.UUID = Field(foreign_key="support_plan.id", ondelete="CASCADE")
    # managing_mental_health, voluntary_work_and_employment, addictive_behaviours,
    # healthy_relationships, healthy_lifestyle, daily_living_skills, social_networks, self_care
    area: str = Field(max_length=40)
    chosen_by_her: bool = True
    goal: str = Field(max_length=1000)
    goal_written_by: str = Field(max_length=16)  # her, together, worker
    steps: str | None = Field(default=None, max_length=4000)
    steps_written_by: str | None = Field(default=None, max_length=16)
    who_helps: str | None = Field(default=None, max_length=1000)
    rating_at_start: int | None = None  # 1 to 10


class SupportPlanVersion(RecordFields, HistoryFields, table=True):
    """Every version of her plan as it stood, who made it and when, and whether (and when) she
    agreed it: the plan's history."""

    __tablename__ = "support_plan_version"
    __table_args__ = (Index("uq_support_plan_version", "support_plan_id", "number", unique=True),)

    support_plan_id: uuid.UUID = Field(foreign_key="support_plan.id", ondelete="CASCADE")
    number: int
    # The plan's areas as they stood in this version, and what changed from the one before.
    areas: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)  # type: ignore[call-overload]
    agreed_on: date | None = None
