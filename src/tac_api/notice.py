"""How much notice her side had of a hearing or a meeting: one rule for both.

Late notice is a barrier the evaluation measures the local authorities by, so hearings and
meetings must count it alike, and the governor report counts it in SQL the same way
(`tac_api.reports.counting`).
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from fastapi import Request

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
