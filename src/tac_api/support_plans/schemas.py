import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from tac_api.history import HistoryEntryPublic
from tac_api.schemas import Input, IsoDate, Rating, RecordPublic, SupportArea

# Who wrote a part of her plan: she did, she and her worker together, or her worker.
WrittenBy = Literal["her", "together", "worker"]
PlanStatus = Literal["draft", "agreed"]

Goal = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Steps = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
WhoHelps = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]

# The parts of an area a version compares, in the order its changes list them.
AREA_FIELDS = (
    "chosen_by_her",
    "goal",
    "goal_written_by",
    "steps",
    "steps_written_by",
    "who_helps",
    "rating_at_start",
)


class PlanAreaInput(Input):
    """One area she works on."""

    area: SupportArea
    chosen_by_her: bool = Field(
        description="She chose to work on this area (not suggested to her)."
    )
    goal: Goal = Field(description="Her goal, in her own words.")
    goal_written_by: WrittenBy
    steps: Steps | None = Field(default=None, description="The steps towards her goal.")
    steps_written_by: WrittenBy | None = Field(
        default=None, description="Who wrote the steps: required with them, and only with them."
    )
    who_helps: WhoHelps | None = None
    rating_at_start: Rating | None = Field(
        default=None, description="Where she puts herself in this area, 1 to 10, at the start."
    )


class SupportPlanInput(Input):
    """Her whole plan: the areas she works on, each once (at most the eight)."""

    areas: list[PlanAreaInput] = Field(min_length=1, max_length=8)


class Agreement(Input):
    """She agreed this version of her plan, on this day."""

    version: int = Field(
        strict=True, ge=1, le=1_000_000, description="The plan's `content_version` she agreed."
    )
    agreed_on: IsoDate


class PlanAreaPublic(BaseModel):
    area: SupportArea
    label: str = Field(description="The area as she and her worker read it.")
    chosen_by_her: bool
    goal: str
    goal_written_by: WrittenBy
    steps: str | None
    steps_written_by: WrittenBy | None
    who_helps: str | None
    rating_at_start: int | None


class SupportPlanPublic(RecordPublic):
    mother_id: uuid.UUID
    status: PlanStatus = Field(
        description="agreed: she agreed the plan as it stands; draft: not agreed yet, or changed "
        "since she agreed it."
    )
    content_version: int = Field(description="Which version of what the plan says this is.")
    agreed_version: int | None = Field(description="The last version she agreed, if any.")
    agreed_on: date | None = Field(description="When she agreed it.")
    areas: list[PlanAreaPublic]


class AreaChange(BaseModel):
    """One part of one area, before and after (null: not there)."""

    area: SupportArea
    field: str
    before: str | int | bool | None
    after: str | int | bool | None


class SupportPlanVersionPublic(HistoryEntryPublic):
    """A version of her plan as it stood, who made it and when, what changed from the one
    before (the first: from nothing), and when she agreed it (null: she did not)."""

    number: int
    areas: list[PlanAreaPublic]
    changes: list[AreaChange]
    agreed_on: date | None


class SupportPlanHistory(BaseModel):
    mother_id: uuid.UUID
    support_plan_id: uuid.UUID
    versions: list[SupportPlanVersionPublic] = Field(description="Every version, oldest first.")
