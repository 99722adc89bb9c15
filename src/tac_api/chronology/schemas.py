import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from tac_api.schemas import UtcDatetime

ChronologyKind = Literal[
    "custody",
    "proceedings",
    "court_hearing",
    "meeting",
    "contact_visit",
    "parenting_assessment",
    "evidence",
    "release",
    "communication",
    "life_story",
    "group_session",
    "task",
    "review_flag",
]


class ChronologyEvent(BaseModel):
    on: date
    at: UtcDatetime | None = Field(description="The time too, where the event has one.")
    kind: ChronologyKind
    summary: str
    resource_type: str
    resource_id: uuid.UUID
    child_ids: list[uuid.UUID] = Field(
        description="The children it concerns (a local authority: of its own children)."
    )


class Chronology(BaseModel):
    """Her dated events, oldest first: the social worker's standard chronology."""

    mother_id: uuid.UUID
    events: list[ChronologyEvent]
