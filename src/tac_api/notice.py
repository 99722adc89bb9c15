"""How much notice her side had of a hearing or a meeting: one rule for both.

Late notice is a barrier the evaluation measures the local authorities by, so hearings and
meetings must count it alike, and the governor report counts it in SQL the same way
(`tac_api.reports.counting`).
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement, Integer, case, cast, extract, func, literal_column

# Clocks differ by a little: "just now" from a client a minute ahead of ours is not the future.
CLOCK_SKEW = timedelta(minutes=5)
DAY = timedelta(days=1)


def utc(value: datetime) -> datetime:
    """A naive time is UTC (SQLite hands them back so): everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def notice_days(notified_at: datetime, starts_at: datetime) -> int:
    """Whole days from when her side learnt of it to when it starts, rounded down, and never
    below 0: six days and twenty hours is 6; learning of it on the day, or only after it began,
    is 0 (no notice at all, not "minus" notice)."""
    return max(0, (utc(starts_at) - utc(notified_at)) // DAY)


def late_notice(notified_at: datetime, starts_at: datetime, threshold_days: int) -> bool:
    """Notice of fewer whole days than the threshold (`TAC_LATE_NOTICE_DAYS`) is late."""
    return notice_days(notified_at, starts_at) < threshold_days


# Written into the statement, not bound: a statement run on the driver (`db.fetch_rows`) is sent
# only the parameters its caller names.
NONE = literal_column("0", Integer)
A_DAY = literal_column("86400", Integer)


def notice_days_sql(dialect: str, notified_at: Any, starts_at: Any) -> ColumnElement[int]:
    """`notice_days` in SQL, for the reports and the worklist: whole days from `notified_at`
    to `starts_at`, rounded down, never below 0. Counted in seconds first, so that a week is
    never 6.9999 days."""
    if dialect == "postgresql":
        seconds = extract("epoch", starts_at - notified_at)
        return func.greatest(NONE, cast(func.floor(seconds / A_DAY), Integer))
    seconds = cast(
        func.round((func.julianday(starts_at) - func.julianday(notified_at)) * A_DAY), Integer
    )
    return func.max(NONE, case((seconds < NONE, literal_column("-1")), else_=seconds // A_DAY))


def late_notice_days(request: Request) -> int:
    """The threshold this app was started with (`TAC_LATE_NOTICE_DAYS`), for hearings and
    meetings alike."""
    days: int = request.app.state.settings.late_notice_days
    return days


def notified_at_refused(
    sent: Iterable[str], noun: str, *, from_authority: bool = False
) -> list[tuple[str, str]]:
    """What a local authority is told when it says when her side learnt of a hearing or a
    meeting: that decides her notice, so it is when the authority recorded it, unless its
    system syncs its own record of when it told her side (`from_authority`)."""
    if "notified_at" not in sent or from_authority:
        return []
    return [
        (
            "notified_at",
            f"set by the service to when you record the {noun}; the prison side records "
            "when her side learnt of it otherwise",
        )
    ]
