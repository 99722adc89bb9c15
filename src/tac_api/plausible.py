"""When a hearing, a meeting or a contact visit can plausibly be: one rule for all three, and
for the new hearing or meeting an adjournment makes (made as any new one is).

Times outside it are typing mistakes (a year of 2062 for 2026, or of 0001), not dates a court,
a meeting or a visit is listed for; and they would be printed on the papers a court reads.
"""

from datetime import UTC, datetime, timedelta

from tac_api.notice import utc

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AHEAD = timedelta(days=2 * 365)


def plausible_time(
    field: str, value: datetime | None, now: datetime, noun: str
) -> list[tuple[str, str]]:
    """The problem with a listed time, if any: before 2000, or more than two years ahead.
    None (not given) is no problem."""
    if value is None:
        return []
    if utc(value) < EARLIEST:
        return [(field, f"is not a plausible {noun} date")]
    if utc(value) > now + AHEAD:
        return [(field, "is more than two years ahead")]
    return []
