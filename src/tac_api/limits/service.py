"""Per-client rate limits, kept in the database so that every API process enforces one limit.

The generic cell rate algorithm (GCRA): each client has a theoretical arrival time (TAT), pushed
forward by one emission interval per request; a request is refused when the TAT would run more
than the burst ahead of now. One upsert per request decides and records it, atomically, however
many processes share the client.
"""

import math
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.db import driver_connection
from tac_api.errors import TooManyRequests

WINDOW_SECONDS = 60.0


def _take(
    greatest: str, key: str, now: str, interval: str, tolerance: str, source: str = ""
) -> str:
    """The upsert that counts one request: it returns the new TAT, or no row when refused.
    `source`: a FROM clause naming the client's row (`taken_for`); none: VALUES."""
    pushed = f"{greatest}(rate_limit_state.theoretical_arrival, {now}) + {interval}"
    rows = (
        f"SELECT {key}, {now} + {interval} {source}"
        if source
        else f"VALUES ({key}, {now} + {interval})"
    )
    return (
        "INSERT INTO rate_limit_state (client_key, theoretical_arrival) "
        f"{rows} "
        f"ON CONFLICT (client_key) DO UPDATE SET theoretical_arrival = {pushed} "
        f"WHERE {pushed} - {now} <= {tolerance} "
        "RETURNING theoretical_arrival"
    )


def taken_for(key: str, source: str, first: int) -> str:
    """The PostgreSQL upsert counting one request of the client whose key `key` (an expression
    over `source`, a FROM clause) gives, for a data-modifying CTE of a statement that finds the
    caller too (see `tac_api.auth.service.admit`): no row in `source`, nothing counted. Its
    parameters, `$first` on: now, the interval and the tolerance (`allowance`)."""
    now, interval, tolerance = (f"${n}::float8" for n in range(first, first + 3))
    return _take("GREATEST", key, now, interval, tolerance, source)


def allowance(per_minute: int) -> tuple[float, float, float]:
    """Now, the emission interval and the tolerance: the upsert's parameters."""
    # A full minute's allowance may come at once; after that, one request per interval.
    return time.time(), WINDOW_SECONDS / per_minute, WINDOW_SECONDS


def refused(current: float, now: float, interval: float, tolerance: float) -> TooManyRequests:
    """The 429 for a request the upsert refused, with when the next one will pass."""
    retry_after = current + interval - tolerance - now
    return TooManyRequests(max(1, math.ceil(retry_after)))


# The driver's own placeholders for PostgreSQL (the hot path), SQLAlchemy's for the rest.
_TAKE_POSTGRES = _take("GREATEST", "$1", "$2::float8", "$3::float8", "$4::float8")
_TAKE = {
    "postgresql": text(
        _take(
            "GREATEST",
            ":key",
            "CAST(:now AS FLOAT8)",
            "CAST(:interval AS FLOAT8)",
            "CAST(:tolerance AS FLOAT8)",
        )
    ),
    "sqlite": text(_take("max", ":key", ":now", ":interval", ":tolerance")),
}
CURRENT_POSTGRES = "SELECT theoretical_arrival FROM rate_limit_state WHERE client_key = $1"
_CURRENT = text("SELECT theoretical_arrival FROM rate_limit_state WHERE client_key = :key")


def client_key(caller: Caller) -> str:
    return str(caller.client_id)


async def enforce(session: AsyncSession, caller: Caller, per_minute: int) -> None:
    """Count this request against the caller's limit, or refuse it with 429 and Retry-After.

    `session` must be an autocommit (read) session: the count is outside any request's
    transaction, so that a refused or failed request still counts and no request holds the
    client's row while it works.
    """
    if per_minute == 0:
        return
    now, interval, tolerance = allowance(per_minute)
    key = client_key(caller)
    driver = await driver_connection(session)
    if driver is not None:  # a PostgreSQL read runs in autocommit: use its connection
        allowed = await driver.fetchval(_TAKE_POSTGRES, key, now, interval, tolerance)
        if allowed is not None:
            return
        current = await driver.fetchval(CURRENT_POSTGRES, key)
    else:
        params: dict[str, Any] = {
            "key": key,
            "now": now,
            "interval": interval,
            "tolerance": tolerance,
        }
        connection = await session.connection()  # autocommit: the upsert commits by itself
        result = await connection.execute(_TAKE[connection.dialect.name], params)
        if result.first() is not None:
            return
        current = (await connection.execute(_CURRENT, {"key": key})).scalar_one()
    raise refused(current, now, interval, tolerance)
