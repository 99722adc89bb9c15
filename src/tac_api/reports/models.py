from datetime import date, datetime

from sqlmodel import Field, SQLModel

from tac_api.db import utcnow


class PublishedFigure(SQLModel, table=True):
    """A report's figure for a quarter, as first published once the quarter had ended.

    Read back, never drawn again: a figure that moved when a record changed afterwards (a
    woman's history corrected, a hearing recorded late) would tell whoever read it before and
    after which group the change was in. Figures, not people: no personal data, kept for good.
    """

    __tablename__ = "published_figure"

    # A prison's code, or `programme` (both prisons, a woman once).
    population: str = Field(primary_key=True, max_length=16)
    quarter: date = Field(primary_key=True)  # its first day
    figure_key: str = Field(primary_key=True, max_length=200)
    value: float | None = None
    suppressed: bool
    available: bool = True  # False: `x`, it could not be worked out
    published_at: datetime = Field(default_factory=utcnow)
