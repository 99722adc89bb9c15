import uuid
from datetime import date
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class TransferSummary(RecordFields, HistoryFields, table=True):
    """What the sending prison keeps when she moves to another prison: her case as it stood
    (who she is, her children's authorities, open hearings and visits, her worker), read-only,
    until `kept_until`. Who moved her, and when, are its history fields."""

    __tablename__ = "transfer_summary"
    __table_args__ = (
        Index("ix_transfer_summary_from_order", "from_prison_code", "transferred_on", "id"),
        Index("ix_transfer_summary_mother", "mother_id"),
        Index("ix_transfer_summary_kept_until", "kept_until"),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    from_prison_code: str = Field(foreign_key="prison.code", max_length=8)
    to_prison_code: str = Field(foreign_key="prison.code", max_length=8)
    transferred_on: date
    kept_until: date
    # Her case as it stood when she left: the shape `transfers.schemas.CaseAsItStood` holds.
    summary: dict[str, Any] = Field(sa_type=JSON)
