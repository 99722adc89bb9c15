"""The one shape of a record's history: who made each change and when.

Every record with a lifecycle keeps its history in a table of its own (a hearing's amendments, a
visit's status changes, a child's history), and every such table says who and when the same way:
its model takes `HistoryFields`, its writer fills them with `made_by(caller)`, and its public
entry extends `HistoryEntryPublic`, so that an authority reads `changed_at` and `changed_by`
alike on every history the API shows. A new kind of record with a lifecycle copies nothing.
"""

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from tac_api.auth.schemas import Caller
from tac_api.db import utcnow
from tac_api.schemas import UtcDatetime


class HistoryFields(SQLModel):
    """Who made a change and when, as every history table holds it."""

    changed_at: datetime = Column(default_factory=utcnow)
    # None: made by the service itself (demo data), not by a client of the API.
    changed_by_client_id: uuid.UUID | None = None
    changed_by_name: str = Column(max_length=200)
    changed_by_role: str = Column(max_length=32)


def made_by(caller: Caller, at: datetime | None = None) -> dict[str, Any]:
    """The who and when of a change this caller makes now (or `at`, for a batch made at one
    moment), for a history row."""
    return {
        "changed_at": at or utcnow(),
        "changed_by_client_id": caller.client_id,
        "changed_by_name": caller.name,
        "changed_by_role": caller.role.value,
    }


# Who the demo data's changes say made them: no client, the service itself.
BY_DEMO_DATA: dict[str, Any] = {
    "changed_by_client_id": None,
    "changed_by_name": "demo data",
    "changed_by_role": "system",
}


def oldest_first(model: type[HistoryFields]) -> list[InstrumentedAttribute[Any]]:
    """A history's order: by when, then by id for changes made at the same moment."""
    return [model.changed_at, model.id]  # type: ignore[attr-defined, list-item]


class ChangedBy(BaseModel):
    client_id: uuid.UUID | None = Field(
        description="The API client that made the change (null: made by the service itself)."
    )
    name: str = Field(description="The client's name: a person, a team or a system.")
    role: str = Field(
        description="Its role when it made the change: prison_social_worker, la_practitioner..."
    )


class HistoryEntryPublic(BaseModel):
    """The who and when every entry of a history shows; built from a `HistoryFields` row (or its
    dump), whose flat columns become `changed_by`."""

    changed_at: UtcDatetime
    changed_by: ChangedBy

    @model_validator(mode="before")
    @classmethod
    def _who(cls, data: Any) -> Any:
        if isinstance(data, HistoryFields):
            data = data.model_dump()
        if isinstance(data, dict) and "changed_by" not in data and "changed_by_name" in data:
            data = {
                **data,
                "changed_by": {
                    "client_id": data["changed_by_client_id"],
                    "name": data["changed_by_name"],
                    "role": data["changed_by_role"],
                },
            }
        return data
