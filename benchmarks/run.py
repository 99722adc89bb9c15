"""`make bench`: requests/s and latency of tac-api's two hottest reads, against a raw-driver floor.

For each database (SQLite in var/bench.db, PostgreSQL in a fresh database `tac_bench` on the server
named by TAC_BENCH_POSTGRES_URL): migrate, load reference data and N synthetic mothers with three
children each, create a prison social worker client for EWI, then serve the data twice, each by one
uvicorn worker in its own process: with `tac-api serve`, and with benchmarks/floor.py (the same two
URLs, the same JSON, FastAPI over the bare driver with no ORM). Both answer the same sample of
requests identically before any load is sent. Then each endpoint of each server gets the same
closed-loop load (benchmarks/load.py): a fixed number of keep-alive connections, random EWI mothers,
a warm-up, a measured duration. The ratio tac-api/floor is what the target is about; it is a
measurement, so this exits 0 whether or not the target is met, and 1 only when something failed
(a non-200 answer, a server that did not start, answers that differ, a database it could not use).

Then the newer reads (chronology, the week's court hearings, the evidence bundle, releases due) get
the same load on tac-api alone, for a shorter time (--extra-duration): they have no floor
counterpart, so their rows show a dash for the floor and the ratio; the target is not about them.

    make bench BENCH_ARGS="--duration 5 --only postgres"
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.load import LoadResult, run_load
from benchmarks.report_bench import ReportTiming, run_report_bench
from benchmarks.sync_batch import SyncResult, run_sync_batches

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
BIN = Path(sys.executable).parent
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "tac_bench"
CLIENT_NAME = "bench-ewi-social-worker"
PRISON = "EWI"
TARGET = 0.5  # tac-api/floor requests/s on PostgreSQL, from the issue
SYNC_TARGET_SECONDS = 2.0  # 10,000 children in batches of 1,000 on PostgreSQL, from issue 5
ENDPOINTS = {
    "GET /v1/mothers/{id}": "/v1/mothers/{}",
    "GET /v1/mothers/{id}/children": "/v1/mothers/{}/children",
}
# Measured on tac-api only (no floor counterpart). "{}": a random EWI mother per request; a path
# without it is the same URL every time. "{today}" / "{week}": today and today + 7 days.
EXTRA_ENDPOINTS = {
    "GET /v1/mothers/{id}/chronology": "/v1/mothers/{}/chronology",
    "GET /v1/court-hearings (EWI, next 7 days)": (
        "/v1/court-hearings?prison_code=EWI&from={today}&to={week}"
    ),
    "GET /v1/mothers/{id}/evidence-bundle": "/v1/mothers/{}/evidence-bundle",
    "GET /v1/release-plans/due (EWI, 84 days)": (
        "/v1/release-plans/due?prison_code=EWI&within_days=84"
    ),
}
# The governor report, timed over a growing database (benchmarks/report_bench.py).
REPORT_PATH = "/v1/reports/governor?prison_code={prison}&from={start}&to={end}"
SAME_ANSWER_SAMPLE = 20
NONE = "\N{EN DASH}"  # in the table, for a figure there is none of (no floor)
DISTURBED = 0.15  # of a core used by other processes during a run: its figures are suspect


class BenchError(Exception):
    """Something that makes the figures meaningless: reported, and the exit code is 1."""


@dataclass
class Seeded:
    url: str
    token: str
    ewi_ids: list[str]
    other_ids: list[str]  # mothers in another prison: must read as 404 to this client
    seconds: float


@dataclass
class Row:
    database: str
    endpoint: str
    api: LoadResult
    floor: LoadResult | None  # None: tac-api only, no floor counterpart

    @property
    def ratio(self) -> float:
        if self.floor is None or not self.floor.rate:
            return float("nan")
        return self.api.rate / self.floor.rate


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    disturbed: list[str] = field(default_factory=list)  # runs other processes competed with
    sync: SyncResult | None = None
    reports: list[ReportTiming] = field(default_factory=list)


# Databases ------------------------------------------------------------------------------------


def _postgres_parts(url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database or "postgres",
    }


async def _postgres_execute(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(**_postgres_parts(url), timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def create_postgres(admin_url: str, database: str = BENCH_DATABASE) -> str:
    """A fresh database (`tac_bench`) on the admin URL's server; returns its URL."""
    from sqlalchemy.engine import make_url

    asyncio.run(
        _postgres_execute(
            admin_url,
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            f'CREATE DATABASE "{database}"',
        )
    )
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, database: str = BENCH_DATABASE) -> None:
    asyncio.run(_postgres_execute(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    print(f"  dropped database {database}")


def create_sqlite() -> str:
    path = VAR / "bench.db"
    for stale in (path, path.with_name("bench.db-wal"), path.with_name("bench.db-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{path}"


async def _seed(url: str, mothers: int, seed: int) -> tuple[str, list[str], list[str]]:
    from sqlalchemy import select

    from tac_api.auth.schemas import Role
    from tac_api.auth.service import create_client
    from tac_api.config import Settings
    from tac_api.db import make_engine, sessionmaker_for
    from tac_api.demo import load_demo_data
    from tac_api.mothers.models import Mother
    from tac_api.reference.service import load_reference_data

    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        sessions = sessionmaker_for(engine)
        async with sessions() as session, session.begin():
            await load_reference_data(session)
            await load_demo_data(session, mothers=mothers, seed=seed, children_per_mother=3)
            _, token = await create_client(
                session, name=CLIENT_NAME, role=Role.prison_social_worker, prison_code=PRISON
            )
        async with sessions() as session:
            rows = (await session.execute(select(Mother.id, Mother.prison_code))).all()
    finally:
        await engine.dispose()
    ewi = sorted(str(row.id) for row in rows if row.prison_code == PRISON)
    other = sorted(str(row.id) for row in rows if row.prison_code != PRISON)
    return token, ewi, other


def seed_database(url: str, mothers: int, seed: int) -> Seeded:
    from tac_api.migrations import upgrade

    started = time.perf_counter()
    upgrade(url)
    token, ewi, other = asyncio.run(_seed(url, mothers, seed))
    # Steady state before measuring: planner statistics, and no checkpoint or autovacuum of the
    # bulk load landing inside a measured window.
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        asyncio.run(_postgres_execute(url, "VACUUM ANALYZE", "CHECKPOINT"))
    os.sync()  # the kernel's writeback of the load, too, must not land inside a measured window
    if not ewi:
        raise BenchError(f"no mother was seeded in {PRISON}")
    return Seeded(url, token, ewi, other, time.perf_counter() - started)


# Servers --------------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback interface now (all held open at once, so all different)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def get(port: int, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


class Server:
    """A server in its own process group, always stopped (SIGTERM, then SIGKILL) on the way out."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, log_path: Path
    ) -> None:
        self.name, self.argv, self.env, self.port, self.log_path = name, argv, env, port, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited ({self.process.returncode}):\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get(self.port, "/health/ready")[0] == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


RATE_LIMIT_PER_MINUTE = 100_000_000


def server_env(url: str) -> dict[str, str]:
    env = {**os.environ, "TAC_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    # Limits on, as in production (both servers pay for them), but far above the load's rate.
    env["TAC_RATE_LIMIT_PER_MINUTE"] = str(RATE_LIMIT_PER_MINUTE)
    env.pop("TAC_SQL_ECHO", None)
    return env


def tac_api_command() -> str:
    return shutil.which("tac-api", path=str(BIN)) or str(BIN / "tac-api")


def start_api(stack: contextlib.ExitStack, label: str, url: str) -> Server:
    """tac-api alone, one uvicorn worker, ready to answer; stopped on the way out of `stack`."""
    (port,) = free_ports(1)
    argv = [tac_api_command(), "serve", "--port", str(port)]
    server = Server("tac-api", argv, server_env(url), port, VAR / f"bench-{label}.log")
    stack.callback(server.stop)
    server.start()
    server.wait_ready()
    return server


def start_servers(stack: contextlib.ExitStack, database: str, url: str) -> tuple[Server, Server]:
    env = server_env(url)
    api_port, floor_port = free_ports(2)
    tac_api = tac_api_command()
    commands = {
        "tac-api": ([tac_api, "serve", "--port", str(api_port)], api_port),
        "floor": (
            [sys.executable, "-m", "benchmarks.floor", "--port", str(floor_port)],
            floor_port,
        ),
    }
    servers = []
    for name, (argv, port) in commands.items():
        server = Server(name, argv, env, port, VAR / f"bench-{database}-{name}.log")
        stack.callback(server.stop)
        server.start()
        servers.append(server)
    for server in servers:
        server.wait_ready()
    return servers[0], servers[1]


def check_same_answers(api: Server, floor: Server, seeded: Seeded) -> None:
    """The floor must do the same job: same status, same JSON, same ETag, for a sample of ids."""
    rng = random.Random(7)
    cases = [(path, 200) for path in ENDPOINTS.values() for _ in range(SAME_ANSWER_SAMPLE)]
    ids = {200: seeded.ewi_ids, 404: seeded.other_ids}
    cases += [(path, 404) for path in ENDPOINTS.values() for _ in range(3) if seeded.other_ids]
    for template, expected in cases:
        path = template.format(rng.choice(ids[expected]))
        answers = [get(server.port, path, seeded.token) for server in (api, floor)]
        (api_status, api_headers, api_body), (floor_status, floor_headers, floor_body) = answers
        if api_status != expected or floor_status != expected:
            raise BenchError(
                f"{path}: expected {expected}, tac-api said {api_status} {api_body[:300]!r}, "
                f"floor said {floor_status} {floor_body[:300]!r}"
            )
        if expected == 200 and json.loads(api_body) != json.loads(floor_body):
            raise BenchError(
                f"{path}: the floor's JSON differs from tac-api's\n  tac-api: {api_body[:600]!r}"
                f"\n  floor:   {floor_body[:600]!r}"
            )
        for header in ("etag", "content-type", "cache-control", "link", "x-frame-options"):
            if api_headers.get(header) != floor_headers.get(header):
                raise BenchError(
                    f"{path}: header {header}: tac-api {api_headers.get(header)!r}, "
                    f"floor {floor_headers.get(header)!r}"
                )
    print(f"  same answers from both servers for {len(cases)} sampled requests (200s and 404s)")


# Measuring and reporting ----------------------------------------------------------------------


def sessions_probe(url: str) -> Callable[[], Awaitable[float]] | None:
    """For PostgreSQL: how many connections were ever opened to the database (None on SQLite).

    Read after a pause, since statistics reach pg_stat_database with up to a second's delay; the
    probe's own connection is subtracted."""
    if not url.startswith("postgres"):
        return None

    calls = 0

    async def read() -> float:
        import asyncpg

        nonlocal calls
        await asyncio.sleep(1.1)
        connection = await asyncpg.connect(**_postgres_parts(url), timeout=10)
        try:
            opened = await connection.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
        finally:
            await connection.close()
        calls += 1
        return float(opened - calls)

    return read


def describe(name: str, result: LoadResult) -> str:
    errors = f"errors {result.errors}" if result.errors else "no errors"
    per_request = result.server_cpu / result.rate * 1000 if result.rate else float("nan")
    cpu = f"server {result.server_cpu:.0%} = {per_request:.2f} ms per request"
    if result.database_cpu >= 0.005:
        cpu += f", database {result.database_cpu:.0%}"
    cpu += f", client {result.client_cpu:.0%}, other {result.other_cpu:.0%}"
    line = (
        f"    {name:<8} {result.rate:>8,.0f} req/s   p50 {result.percentile(50):6.2f} ms   "
        f"p99 {result.percentile(99):6.2f} ms   {errors:<10}  (CPU, in % of one core: {cpu})"
    )
    if result.probed:  # the pool was filled in the warm-up: these are connections churned
        line += f"; about {result.probed:.0f} database connections opened meanwhile"
    if result.other_cpu > DISTURBED:
        line += "  DISTURBED: other processes were busy"
    return line


def measure(
    database: str,
    seeded: Seeded,
    api: Server,
    floor: Server,
    args: argparse.Namespace,
    report: Report,
) -> None:
    headers = {"Authorization": f"Bearer {seeded.token}", "Accept": "application/json"}
    servers = {server.name: server for server in (api, floor)}
    for endpoint, template in ENDPOINTS.items():
        paths = [template.format(mother_id) for mother_id in seeded.ewi_ids]
        print(f"  {endpoint}")
        # A-B-B-A, each half of the duration: a machine that drifts (this one shares its host)
        # shifts both servers' figures alike instead of the ratio. Each server is warmed up first.
        parts: dict[str, list[LoadResult]] = {name: [] for name in servers}
        for order, name in enumerate(["tac-api", "floor", "floor", "tac-api"]):
            server = servers[name]
            assert server.process is not None
            parts[name].append(
                run_load(
                    port=server.port,
                    paths=paths,
                    headers=headers,
                    connections=args.connections,
                    warmup=args.warmup if order < 2 else min(args.warmup, 0.5),  # reconnect
                    duration=args.duration / 2,
                    server_pid=server.process.pid,
                    window_probe=sessions_probe(seeded.url),
                    database=BENCH_DATABASE if database == "postgres" else None,
                )
            )
            if server.process.poll() is not None:
                raise BenchError(f"{server.name} died under load:\n{server.log_tail()}")
        results = {name: LoadResult.combine(runs) for name, runs in parts.items()}
        for name, result in results.items():
            print(describe(name, result), flush=True)
            if result.other_cpu > DISTURBED:
                report.disturbed.append(f"{database} {endpoint} {name}")
            if result.errors:
                report.problems.append(
                    f"{database} {endpoint} {name}: {result.errors} errors "
                    f"(statuses {dict(result.statuses)}, failures {result.failures}) "
                    f"{'; '.join(result.samples)}"
                )
        row = Row(database, endpoint, results["tac-api"], results["floor"])
        report.rows.append(row)
        print(f"    ratio tac-api/floor: {row.ratio:.2f}", flush=True)


def extra_paths(seeded: Seeded) -> dict[str, list[str]]:
    today = date.today()
    week = today + timedelta(days=7)
    paths = {}
    for endpoint, template in EXTRA_ENDPOINTS.items():
        if "{}" in template:
            paths[endpoint] = [template.format(mother_id) for mother_id in seeded.ewi_ids]
        else:
            paths[endpoint] = [template.format(today=today.isoformat(), week=week.isoformat())]
    return paths


def measure_extra(
    database: str, seeded: Seeded, api: Server, args: argparse.Namespace, report: Report
) -> None:
    """The newer reads, on tac-api alone: no floor implements them, so no ratio."""
    headers = {"Authorization": f"Bearer {seeded.token}", "Accept": "application/json"}
    rng = random.Random(11)
    for paths in extra_paths(seeded).values():
        for path in {rng.choice(paths) for _ in range(3)}:  # answered before any load is sent
            status, _, body = get(api.port, path, seeded.token)
            if status != 200:
                raise BenchError(f"{path}: expected 200, tac-api said {status} {body[:300]!r}")
            json.loads(body)
    print(f"  newer reads, tac-api only (no floor counterpart), {args.extra_duration:g} s each")
    for endpoint, paths in extra_paths(seeded).items():
        print(f"  {endpoint}")
        assert api.process is not None
        result = run_load(
            port=api.port,
            paths=paths,
            headers=headers,
            connections=args.connections,
            warmup=min(args.warmup, 1.0),
            duration=args.extra_duration,
            server_pid=api.process.pid,
            window_probe=sessions_probe(seeded.url),
            database=BENCH_DATABASE if database == "postgres" else None,
        )
        if api.process.poll() is not None:
            raise BenchError(f"{api.name} died under load:\n{api.log_tail()}")
        print(describe(api.name, result), flush=True)
        if result.other_cpu > DISTURBED:
            report.disturbed.append(f"{database} {endpoint} {api.name}")
        if result.errors:
            report.problems.append(
                f"{database} {endpoint} {api.name}: {result.errors} errors "
                f"(statuses {dict(result.statuses)}, failures {result.failures}) "
                f"{'; '.join(result.samples)}"
            )
        report.rows.append(Row(database, endpoint, result, None))


def bench_database(database: str, args: argparse.Namespace, report: Report) -> None:
    print(f"\n{database}", flush=True)
    with contextlib.ExitStack() as stack:
        if database == "postgres":
            admin_url = os.environ.get("TAC_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
            try:
                url = create_postgres(admin_url)
            except Exception as exc:  # unreachable, refused, no right to create: nothing to measure
                raise BenchError(
                    f"cannot create {BENCH_DATABASE} on {_shown(admin_url)}: {exc}"
                ) from exc
            stack.callback(drop_postgres, admin_url)
        else:
            url = create_sqlite()
        seeded = seed_database(url, args.mothers, args.seed)
        print(
            f"  seeded {args.mothers:,} mothers x 3 children in {seeded.seconds:.1f} s; "
            f"{len(seeded.ewi_ids):,} of them in {PRISON}",
            flush=True,
        )
        api, floor = start_servers(stack, database, url)
        check_same_answers(api, floor, seeded)
        measure(database, seeded, api, floor, args, report)
        if args.extra_duration > 0:
            floor.stop()  # idle, but out of the way of the tac-api-only runs
            measure_extra(database, seeded, api, args, report)
        if database == "postgres" and args.sync_children > 0:
            floor.stop()
            measure_sync(seeded, api, args, report)


def measure_sync(seeded: Seeded, api: Server, args: argparse.Namespace, report: Report) -> None:
    print(f"  POST /v1/sync/children:batch ({args.sync_children:,} children, batches of 1,000)")
    try:
        result = run_sync_batches(
            seeded.url, _postgres_parts(seeded.url), api.port, args.sync_children, 1000, args.seed
        )
    except Exception as exc:  # a failed batch makes the figures meaningless
        raise BenchError(f"sync batches: {exc}\n{api.log_tail()}") from exc
    report.sync = result
    print(f"    floor (asyncpg unnest insert): {result.floor_total:.2f} s", flush=True)
    for name in result.passes:
        print(f"    tac-api {name}: {result.total(name):.2f} s", flush=True)


def bench_reports(args: argparse.Namespace, report: Report) -> None:
    print("\nGovernor report (PostgreSQL)", flush=True)
    admin_url = os.environ.get("TAC_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        report.reports = run_report_bench(
            admin_url=admin_url,
            sizes=args.report_sizes,
            path_template=args.report_path,
            warmup=args.report_warmup,
            requests=args.report_requests,
            explain=args.report_explain,
            seed=args.seed,
            role=args.report_role,
        )
    except Exception as exc:  # a failed request, seed or server: the figures mean nothing
        report.problems.append(f"governor report: {exc}")
        print(f"  FAILED: {exc}", flush=True)


def report_markdown(results: list[ReportTiming], args: argparse.Namespace) -> str:
    from benchmarks.report_bench import markdown as report_table
    from benchmarks.report_bench import report_path

    path = report_path(args.report_path, date.today())
    return report_table(results, path, args.report_warmup, args.report_requests, args.report_role)


def report_target_line(results: list[ReportTiming]) -> str:
    from benchmarks.report_bench import TARGET_MS

    largest = max(results, key=lambda result: result.mothers)
    if largest.mothers < 100_000:
        return (
            f"Target (governor report under {TARGET_MS:,.0f} ms at 100,000 mothers): not measured."
        )
    verdict = "met" if largest.median < TARGET_MS else "NOT met"
    return (
        f"Target (governor report under {TARGET_MS:,.0f} ms at 100,000 mothers on PostgreSQL): "
        f"{verdict} (median {largest.median:.0f} ms at {largest.mothers:,})."
    )


def markdown(report: Report, args: argparse.Namespace) -> str:
    lines = [
        f"`make bench`: {args.mothers:,} mothers with 3 children each; {args.connections} "
        f"keep-alive connections; {args.duration:g} s measured per server and endpoint (in two "
        f"halves, A-B-B-A) after a {args.warmup:g} s warm-up; one uvicorn worker; "
        f"{os.cpu_count()} cores shared with the load generator. Floor: the same endpoints and "
        "JSON from FastAPI over the bare driver (asyncpg / aiosqlite), no ORM. The newer reads "
        f"(floor {NONE}) are tac-api only, {args.extra_duration:g} s measured each after a "
        f"{min(args.warmup, 1.0):g} s warm-up: the floor does not implement them.",
        "",
        "| Database | Endpoint | tac-api req/s | p50 ms | p99 ms | errors "
        "| floor req/s | p50 ms | p99 ms | tac-api/floor |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report.rows:
        if row.floor is None:
            floor = f"| {NONE} | {NONE} | {NONE} | {NONE} |"
        else:
            floor = (
                f"| {row.floor.rate:,.0f} | {row.floor.percentile(50):.1f} "
                f"| {row.floor.percentile(99):.1f} | {row.ratio:.2f} |"
            )
        lines.append(
            f"| {'PostgreSQL' if row.database == 'postgres' else 'SQLite'} | `{row.endpoint}` "
            f"| {row.api.rate:,.0f} | {row.api.percentile(50):.1f} | {row.api.percentile(99):.1f} "
            f"| {row.api.errors:,} {floor}"
        )
    return "\n".join(lines)


def sync_markdown(report: Report) -> str:
    result = report.sync
    if result is None:
        return ""
    lines = [
        f"Batch upserts on PostgreSQL: {result.children:,} children in batches of "
        f"{result.batch_size:,}, sent one after another over HTTP with an Idempotency-Key. "
        "Floor: the same rows inserted with asyncpg (`INSERT ... SELECT FROM unnest`, a "
        "transaction per batch).",
        "",
        "| Pass | total s | slowest batch ms | floor total s | tac-api/floor time |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, seconds in result.passes.items():
        lines.append(
            f"| {name} | {sum(seconds):.2f} | {max(seconds) * 1000:.0f} "
            f"| {result.floor_total:.2f} | {sum(seconds) / result.floor_total:.1f}x |"
        )
    return "\n".join(lines)


def target_line(report: Report) -> str:
    ratios = [
        row.ratio for row in report.rows if row.database == "postgres" and row.floor is not None
    ]
    if not ratios:
        return f"Target (tac-api/floor >= {TARGET} on PostgreSQL): not measured."
    met = all(ratio >= TARGET for ratio in ratios)
    figures = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    verdict = "met" if met else "NOT met"
    return f"Target (tac-api/floor >= {TARGET} on PostgreSQL): {verdict} ({figures})."


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make bench",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument(
        "--extra-duration",
        type=float,
        default=5.0,
        help="measured seconds per newer read (tac-api only, no floor); 0 skips them",
    )
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent keep-alive connections"
    )
    parser.add_argument(
        "--mothers", type=int, default=10_000, help="mothers seeded (3 children each)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the synthetic data")
    parser.add_argument(
        "--only",
        choices=["sqlite", "postgres", "reports"],
        help="one database only, or only the governor report (PostgreSQL)",
    )
    parser.add_argument(
        "--sync-children",
        type=int,
        default=10_000,
        help="children pushed through the sync batch endpoint (PostgreSQL); 0 skips it",
    )
    parser.add_argument(
        "--report-mothers",
        default="10000,100000",
        help="governor report: the sizes the database is grown to, in mothers; empty skips it",
    )
    parser.add_argument(
        "--report-requests", type=int, default=20, help="governor report: timed requests per size"
    )
    parser.add_argument(
        "--report-warmup", type=int, default=3, help="governor report: untimed requests first"
    )
    parser.add_argument(
        "--report-path",
        default=REPORT_PATH,
        help="governor report: the URL timed ({prison}, {start}, {end}: the last whole quarter)",
    )
    parser.add_argument(
        "--report-role",
        default="governor",
        choices=["governor", "prison_social_worker"],
        help="governor report: the client's role (scoped to EWI), for timing another prison read",
    )
    parser.add_argument(
        "--report-explain",
        action="store_true",
        help="governor report: then print auto_explain's plans (ANALYZE, BUFFERS) of slow ones",
    )
    args = parser.parse_args(argv)
    try:
        args.report_sizes = [int(n) for n in args.report_mothers.replace("_", "").split(",") if n]
    except ValueError:
        parser.error("--report-mothers: sizes separated by commas, e.g. 10000,100000")
    if any(not 1 <= n <= 1_000_000 for n in args.report_sizes):
        parser.error("--report-mothers: each size in [1, 1000000]")
    if not 1 <= args.report_requests <= 1000 or not 0 <= args.report_warmup <= 100:
        parser.error("--report-requests must be in [1, 1000] and --report-warmup in [0, 100]")
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 60]")
    if not 0 <= args.extra_duration <= 600:
        parser.error("--extra-duration must be in [0, 600]")
    if not 1 <= args.connections <= 1024 or not 1 <= args.mothers <= 200_000:
        parser.error("--connections must be in [1, 1024] and --mothers in [1, 200000]")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(
        128 + signum
    )  # unwinds through every finally: servers stopped, database dropped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    VAR.mkdir(exist_ok=True)
    started = time.perf_counter()
    report = Report()
    databases = [args.only] if args.only in ("sqlite", "postgres") else ["sqlite", "postgres"]
    for database in [] if args.only == "reports" else databases:
        try:
            bench_database(database, args, report)
        except BenchError as exc:
            report.problems.append(f"{database}: {exc}")
            print(f"  FAILED: {exc}", flush=True)
    if args.only in (None, "reports") and args.report_sizes:
        bench_reports(args, report)
    if report.rows:
        print("\n" + markdown(report, args) + "\n")
        print(target_line(report))
    if report.sync is not None:
        print("\n" + sync_markdown(report) + "\n")
        created = report.sync.total("create")
        verdict = "met" if created < SYNC_TARGET_SECONDS else "NOT met"
        print(
            f"Target ({report.sync.children:,} children in under {SYNC_TARGET_SECONDS:g} s on "
            f"PostgreSQL): {verdict} ({created:.2f} s to create)."
        )
    if report.reports:
        print("\n" + report_markdown(report.reports, args) + "\n")
        print(report_target_line(report.reports))
    if report.disturbed:
        runs = ", ".join(report.disturbed)
        print(
            f"NOTE: other processes used over {DISTURBED:.0%} of a core during {runs}: "
            "rerun on a quiet machine before trusting those figures."
        )
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print(f"make bench took {time.perf_counter() - started:.0f} s")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
