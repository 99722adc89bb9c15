from datetime import date

from sqlalchemy import Index
from sqlmodel import Field

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class UnitCost(RecordFields, HistoryFields, table=True):
    """What one recorded outcome is estimated to save, from a date (Step Together's evaluation
    estimated costs avoided this way). Set by an administrator; never changed in place: a new
    figure is a new row from its own date, so a past quarter is always costed as it was. The
    history fields say who set it and when."""

    __tablename__ = "unit_cost"
    __table_args__ = (Index("uq_unit_cost_outcome_from", "outcome", "valid_from", unique=True),)

    # child_with_her_at_twelve_months, baby_kept
    outcome: str = Field(max_length=40)
    valid_from: date
    amount_pence: int
    # Where the figure comes from (a published unit cost, an evaluation), in a sentence.
    source: str = Field(max_length=500)
