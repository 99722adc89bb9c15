import uuid
from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field

from tac_api.db import RecordFields, utcnow


class Mother(RecordFields, table=True):
    __tablename__ = "mother"
    __table_args__ = (
        # Lists are ordered by name; these make every page an index seek, per prison or overall.
        Index("ix_mother_name_order", "last_name", "first_name", "id"),
        Index("ix_mother_prison_name_order", "prison_code", "last_name", "first_name", "id"),
    )

    prison_number: str = Field(max_length=7, unique=True)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    date_of_birth: date
    prison_code: str = Field(foreign_key="prison.code", max_length=8)
    reception_date: date
    # Indexed: the releases due list reads a window of it (for mothers whose plan has no date).
    earliest_release_date: date | None = Field(default=None, index=True)
    status: str = Field(max_length=16)
    domestic_abuse_history: bool | None = None  # None: not known
    ethnicity: str | None = Field(default=None, foreign_key="ethnicity.code", max_length=48)
    # When her case was closed: what the retention period counts from.
    closed_on: date | None = Field(default=None, index=True)
    # When she was released (the prison's release event's day): set with status `released`,
    # cleared when she is back in custody. Her planned date is `earliest_release_date`.
    released_on: date | None = None
    # When the service began supporting her: reports count women new to the service by it.
    supported_from: date = Field(index=True)


class PrisonStay(RecordFields, table=True):
    """Where she has been held: a transfer closes one stay and opens the next."""

    __tablename__ = "prison_stay"
    # Reports find the women held in a prison over a period: an index seek by prison and date.
    __table_args__ = (Index("ix_prison_stay_prison_order", "prison_code", "arrived_on"),)

    mother_id: uuid.UUID = Field(foreign_key="mother.id", index=True, ondelete="CASCADE")
    prison_code: str = Field(foreign_key="prison.code", max_length=8)
    arrived_on: date
    left_on: date | None = None


class PrisonNumberAlias(RecordFields, table=True):
    """A prison number she was known by before NOMIS merged it into the one her record holds
    (`prison-offender-events.prisoner.merged`): a search by it still finds her."""

    __tablename__ = "prison_number_alias"

    prison_number: str = Field(max_length=7, unique=True)
    mother_id: uuid.UUID = Field(foreign_key="mother.id", index=True, ondelete="CASCADE")
    merged_at: datetime = Field(default_factory=utcnow)
