import uuid
from typing import Any

from pydantic import BaseModel, Field

from tac_api.changes.models import ChangeEvent
from tac_api.pagination import encode_cursor
from tac_api.schemas import UtcDatetime


class ChangeEventPublic(BaseModel):
    """One change, as the change feed lists it and a webhook delivers it."""

    id: uuid.UUID = Field(description="The event's id: the same in every authority's feed.")
    type: str = Field(examples=["court-hearing.updated"])
    occurred_at: UtcDatetime
    mother_id: uuid.UUID | None = Field(
        description="Null only for your link request declined or expired: it names no mother."
    )
    child_ids: list[uuid.UUID] = Field(
        description="Your authority's children among those the change concerns."
    )
    resource_type: str = Field(examples=["court_hearing"])
    resource_id: uuid.UUID
    data: dict[str, Any]
    cursor: str = Field(description="Resume the feed after this event: `?after=<cursor>`.")


def cursor_of(position: int) -> str:
    return encode_cursor((position,))


def to_public(event: ChangeEvent) -> ChangeEventPublic:
    assert event.position is not None
    return ChangeEventPublic(
        id=event.event_id,
        type=event.event_type,
        occurred_at=event.occurred_at,
        mother_id=event.mother_id,
        child_ids=[uuid.UUID(child_id) for child_id in event.child_ids],
        resource_type=event.resource_type,
        resource_id=event.resource_id,
        data=event.data,
        cursor=cursor_of(event.position),
    )


class ChangeFeed(BaseModel):
    """A page of your authority's change feed, oldest first."""

    items: list[ChangeEventPublic]
    next_cursor: str = Field(
        description="Where to poll from next (`?after=<next_cursor>`): the last event's cursor, "
        "or the cursor you sent when there is nothing new. Never goes back."
    )
