from sqlalchemy import Column, Float
from sqlmodel import Field, SQLModel


class RateLimitState(SQLModel, table=True):
    """Where a client stands against its rate limit, shared by every API process.

    One row per client, holding its theoretical arrival time (GCRA): the moment by which its
    requests so far would have been spread out at the allowed rate. No windows to expire.
    """

    __tablename__ = "rate_limit_state"

    client_key: str = Field(primary_key=True, max_length=80)
    # Seconds since the epoch: plain arithmetic in SQL on both databases.
    theoretical_arrival: float = Field(sa_column=Column(Float(precision=53), nullable=False))
