"""The governor report over a growing database: `GET /v1/reports/governor` for one quarter, timed
over real HTTP at 10,000 and then 100,000 mothers' worth of records on PostgreSQL.

One database (`tac_bench_reports`): migrated, reference data, a governor client for EWI, then
benchmarks/report_seed.py grows it to each size in turn (VACUUM ANALYZE and a checkpoint after
each). At each size a fresh tac-api server (one uvicorn worker) answers requests sent one after
another on one keep-alive connection, for the latest quarter that has ended and settled: what a
governor opening the report does, not a load test.

A quarter's figures are counted once, when it is first read, and kept (`published_figure`); every
later reading reads them back. So two readings are timed apart:
- the first reading: before each request (outside the timed span, over a connection of the
  bench's own) the quarter's published figures are deleted, so each request counts the four
  quarters, protects them and publishes the report's quarter, as the first governor to open it
  each quarter does. The target is this one's.
- the published reading: the figures read back, as every later reading of the quarter does.

With `--report-explain`, after the timed requests the database loads auto_explain for new
connections (ANALYZE and BUFFERS, statements over a threshold), a second server answers the same
report twice, as a first reading, and the plans of its slowest statements are read back from the
server log (`pg_read_file`, which needs a superuser; the bench database's URL is already one). The
timed figures are taken before any of that, without auto_explain's overhead.
"""

import asyncio
import contextlib
import http.client
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from benchmarks.report_seed import seed_report_data
from tac_api.config import Settings
from tac_api.reports.service import default_quarters, quarter_of, settled_by

# Its own database; TAC_BENCH_REPORT_DATABASE names another, so that two runs on one server
# (helpers, CI) do not drop each other's.
REPORT_DATABASE = os.environ.get("TAC_BENCH_REPORT_DATABASE", "tac_bench_reports")
CLIENT_NAME = "bench-ewi-governor"
PRISON = "EWI"
TARGET_MS = 1000.0  # median at 100,000 mothers on PostgreSQL, from the issue
EXPLAIN_MIN_MS = 20  # auto_explain's threshold: plans of statements slower than this are shown
EXPLAIN_SHOWN = 6  # the slowest this many plans are printed


@dataclass
class ReportTiming:
    mothers: int
    seed_seconds: float  # to grow the database to this size (VACUUM ANALYZE included)
    milliseconds: list[float]  # the first reading's: counted, protected and published
    response_bytes: int
    rows: dict[str, int]
    published: list[float] = field(default_factory=list)  # the figures read back
    plans: list[tuple[float, str]] = field(default_factory=list)  # (ms, auto_explain's text)

    def percentile(self, p: float, of: list[float] | None = None) -> float:
        ordered = sorted(self.milliseconds if of is None else of)
        if not ordered:
            return float("nan")
        rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]

    @property
    def median(self) -> float:
        return statistics.median(self.milliseconds) if self.milliseconds else float("nan")

    @property
    def published_median(self) -> float:
        return statistics.median(self.published) if self.published else float("nan")


def last_complete_quarter(today: date) -> tuple[date, date]:
    """The latest quarter that has ended and settled (as the API judges it, with the default
    TAC_REPORT_SETTLE_DAYS): the one a governor may have."""
    _, end = default_quarters(settled_by(today, Settings().report_settle_days))
    return quarter_of(end), end


def report_path(template: str, today: date) -> str:
    start, end = last_complete_quarter(today)
    return template.format(prison=PRISON, start=start.isoformat(), end=end.isoformat())


async def _client(url: str, role: str) -> str:
    from tac_api.auth.schemas import Role
    from tac_api.auth.service import create_client
    from tac_api.config import Settings
    from tac_api.db import make_engine, sessionmaker_for
    from tac_api.reference.service import load_reference_data

    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with sessionmaker_for(engine)() as session, session.begin():
            await load_reference_data(session)
            _, token = await create_client(
                session, name=CLIENT_NAME, role=Role(role), prison_code=PRISON
            )
    finally:
        await engine.dispose()
    return token


def time_requests(
    port: int,
    path: str,
    token: str,
    warmup: int,
    requests: int,
    before: Callable[[], None] | None = None,
) -> tuple[list[float], int]:
    """Milliseconds per request, sent one after another on one keep-alive connection, and the
    size of the last answer's body; any answer but 200 raises. `before`: run before each
    request, outside the timed span."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    timings, size = [], 0
    try:
        for number in range(warmup + requests):
            if before is not None:
                before()
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(f"{path}: {response.status} {body[:400]!r}")
            if number == 0:
                json.loads(body)  # an answer, not just a 200
            if number >= warmup:
                timings.append(elapsed)
            size = len(body)
    finally:
        connection.close()
    return timings, size


class Unpublished:
    """Deletes a quarter's published figures (`published_figure`) over a connection of its own,
    so that the next request reads the quarter for the first time: counted, not read back."""

    def __init__(self, connect: dict[str, Any], start: date) -> None:
        self.connect, self.start = connect, start
        self.loop = asyncio.new_event_loop()
        self.connection: Any = None

    def __enter__(self) -> "Unpublished":
        import asyncpg

        self.connection = self.loop.run_until_complete(asyncpg.connect(**self.connect, timeout=10))
        return self

    def __call__(self) -> None:
        self.loop.run_until_complete(
            self.connection.execute(
                "DELETE FROM published_figure WHERE population = $1 AND quarter = $2",
                PRISON,
                self.start,
            )
        )

    def __exit__(self, *_: object) -> None:
        try:
            self.loop.run_until_complete(self.connection.close())
        finally:
            self.loop.close()


# auto_explain -----------------------------------------------------------------------------------

_EXPLAIN_SETTINGS = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": f"{EXPLAIN_MIN_MS}ms",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
    "auto_explain.log_nested_statements": "on",
}


async def _explain_on(execute: Any, database: str, on: bool) -> None:
    for name, value in _EXPLAIN_SETTINGS.items():
        if on:
            await execute(f"ALTER DATABASE \"{database}\" SET {name} = '{value}'")
        else:
            await execute(f'ALTER DATABASE "{database}" RESET {name}')


async def _log_position(fetchrow: Any) -> tuple[str, int] | None:
    """The server's log file and its size now, or None when the log cannot be read back."""
    row = await fetchrow(
        "SELECT coalesce(pg_current_logfile(), "
        "'/var/log/postgresql/postgresql-' || split_part(current_setting('server_version'), '.', 1)"
        " || '-main.log') AS path"
    )
    try:
        size = (await fetchrow("SELECT size FROM pg_stat_file($1)", row["path"]))["size"]
    except Exception:  # not there, or not ours to read: no plans, the figures stand
        return None
    return row["path"], size


_DURATION = re.compile(r"LOG:\s+duration: ([0-9.]+) ms\s+plan:")


def parse_plans(log: str, database: str) -> list[tuple[float, str]]:
    """auto_explain's entries for `database` in a slice of the server's log, slowest first."""
    plans: list[tuple[float, str]] = []
    current: list[str] | None = None
    duration = 0.0
    for line in log.splitlines():
        found = _DURATION.search(line)
        if found and f"@{database} " in line:
            if current is not None:
                plans.append((duration, "\n".join(current)))
            current, duration = [], float(found.group(1))
        elif current is not None and (line.startswith("\t") or line.startswith(" ")):
            current.append(line.rstrip())
        elif current is not None:
            plans.append((duration, "\n".join(current)))
            current = None
    if current is not None:
        plans.append((duration, "\n".join(current)))
    return sorted(plans, key=lambda plan: -plan[0])


async def read_log(connect: dict[str, Any], position: tuple[str, int]) -> str:
    import asyncpg

    connection = await asyncpg.connect(**connect, timeout=10)
    try:
        path, start = position
        size = (await connection.fetchrow("SELECT size FROM pg_stat_file($1)", path))["size"]
        if size <= start:
            return ""
        return await connection.fetchval(
            "SELECT pg_read_file($1, $2, $3)", path, start, size - start
        )
    finally:
        await connection.close()


async def set_explain(connect: dict[str, Any], database: str, on: bool) -> tuple[str, int] | None:
    import asyncpg

    connection = await asyncpg.connect(**connect, timeout=10)
    try:
        await _explain_on(connection.execute, database, on)
        return await _log_position(connection.fetchrow) if on else None
    finally:
        await connection.close()


# The run -----------------------------------------------------------------------------------------


def run_report_bench(
    *,
    admin_url: str,
    sizes: list[int],
    path_template: str,
    warmup: int,
    requests: int,
    explain: bool,
    seed: int,
    role: str = "governor",
) -> list[ReportTiming]:
    from benchmarks.stack import (
        create_postgres,
        drop_postgres,
        postgres_execute,
        postgres_parts,
        start_api,
    )
    from tac_api.migrations import upgrade

    results = []
    url = create_postgres(admin_url, REPORT_DATABASE)
    try:
        connect = postgres_parts(url)
        upgrade(url)
        token = asyncio.run(_client(url, role))
        path = report_path(path_template, date.today())
        quarter, _ = last_complete_quarter(date.today())
        print(f"  {path} as a {role} of {PRISON}", flush=True)
        for mothers in sorted(sizes):
            started = time.perf_counter()
            seeded = asyncio.run(seed_report_data(connect, mothers, seed=seed))
            asyncio.run(postgres_execute(url, "VACUUM ANALYZE", "CHECKPOINT"))
            seconds = time.perf_counter() - started
            print(
                f"  grew to {seeded.mothers:,} mothers (+{seeded.added:,}) in {seconds:.1f} s: "
                + ", ".join(f"{table} {count:,}" for table, count in seeded.rows.items()),
                flush=True,
            )
            with contextlib.ExitStack() as stack:
                server = start_api(stack, f"reports-{mothers}", url)
                unpublished = stack.enter_context(Unpublished(connect, quarter))
                first, size = time_requests(
                    server.port, path, token, warmup, requests, before=unpublished
                )
                # The last first reading published the quarter: from now on it is read back.
                published, _ = time_requests(server.port, path, token, warmup, requests)
                server.stop()
            result = ReportTiming(mothers, seconds, first, size, seeded.rows, published)
            for name, timings in (("first reading", first), ("published", published)):
                print(
                    f"    {name}: {requests} requests after {warmup} warm-up: median "
                    f"{statistics.median(timings):.0f} ms, p95 "
                    f"{result.percentile(95, timings):.0f} ms, max {max(timings):.0f} ms",
                    flush=True,
                )
            print(f"    {size:,} bytes", flush=True)
            if explain:
                result.plans = explain_plans(url, connect, path, token, quarter, f"{mothers}")
            results.append(result)
    finally:
        drop_postgres(admin_url, REPORT_DATABASE)
    return results


def explain_plans(
    url: str, connect: dict[str, Any], path: str, token: str, quarter: date, label: str
) -> list[tuple[float, str]]:
    from benchmarks.stack import start_api

    position = asyncio.run(set_explain(connect, REPORT_DATABASE, True))
    try:
        if position is None:
            print("    (--report-explain: the server's log cannot be read back; no plans)")
            return []
        with contextlib.ExitStack() as stack:
            server = start_api(stack, f"reports-explain-{label}", url)
            unpublished = stack.enter_context(Unpublished(connect, quarter))
            time_requests(server.port, path, token, 1, 1, before=unpublished)
            server.stop()
        plans = parse_plans(asyncio.run(read_log(connect, position)), REPORT_DATABASE)
    finally:
        asyncio.run(set_explain(connect, REPORT_DATABASE, False))
    print(
        f"    auto_explain: {len(plans)} statements over {EXPLAIN_MIN_MS} ms in two requests"
        + (f", slowest {EXPLAIN_SHOWN} shown" if len(plans) > EXPLAIN_SHOWN else "")
    )
    for ms, plan in plans[:EXPLAIN_SHOWN]:
        print(f"    --- {ms:.0f} ms\n{plan}", flush=True)
    return plans


def markdown(
    results: list[ReportTiming], path: str, warmup: int, requests: int, role: str = "governor"
) -> str:
    lines = [
        f"Governor report on PostgreSQL: `{path}` as a {role} of {PRISON}, {requests} requests "
        f"of each reading one after another on one keep-alive connection after {warmup} "
        "warm-up, one uvicorn worker; the same database grown from one size to the next "
        "(benchmarks/report_seed.py). First reading: the quarter's published figures deleted "
        "before each request (untimed), so that it is counted, protected and published; "
        "published: read back.",
        "",
        "| mothers | first reading median ms | p95 ms | max ms | published median ms | p95 ms "
        "| max ms | response bytes | seeding s | target (first reading) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        verdict = "< 1,000 ms at 100,000" if result.mothers == 100_000 else ""
        if result.mothers == 100_000:
            verdict += " (met)" if result.median < TARGET_MS else " (NOT met)"
        published = result.published or [float("nan")]
        lines.append(
            f"| {result.mothers:,} | {result.median:.0f} | {result.percentile(95):.0f} "
            f"| {max(result.milliseconds):.0f} | {result.published_median:.0f} "
            f"| {result.percentile(95, result.published):.0f} | {max(published):.0f} "
            f"| {result.response_bytes:,} | {result.seed_seconds:.1f} | {verdict} |"
        )
    return "\n".join(lines)
