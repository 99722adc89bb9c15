"""`make bench`: requests/s and latency of tac-api's reads, beside floors measured in the same run.

For each database (SQLite in var/bench.db, PostgreSQL in a fresh database, `tac_bench` or
TAC_BENCH_DATABASE, on the server named by TAC_BENCH_POSTGRES_URL): migrate, load reference data
and N synthetic mothers with three children each, create a prison social worker client for EWI,
then serve the data, each server one uvicorn worker in its own process: `tac-api serve`, and
benchmarks/floor.py, which serves two floors: the same-work floor (the same URLs, JSON and rules,
FastAPI over the bare driver with no ORM; for the liaison reads, their own floors in
benchmarks/floor_*.py) and, under /bare, the bare floor (the same rows and JSON from one query and
nothing else). The floors answer a sample of requests as tac-api does before any load is sent.
Then each endpoint gets the same closed-loop load (benchmarks/load.py) on each server in turns,
A-B-C-C-B-A: a fixed number of keep-alive connections, random EWI mothers, a warm-up, a
measured duration.

- the record reads (GET /v1/mothers/{id}, /children): tac-api, the same-work floor, the bare floor;
- the liaison reads (--extra-duration): tac-api and its floor, where the floor serves that path;
- PostgreSQL, --statement-cache both: the mother read again, tac-api beside a second tac-api with
  TAC_DATABASE_STATEMENT_CACHE=false;
- PostgreSQL, --page-duration: page 1 and page 1,000 of every list (benchmarks/pages.py);
- PostgreSQL: the sync batch endpoint, then the governor report over a growing database.

The ratios are what the targets are about; they are measurements, so this exits 0 whether or not a
target is met, and 1 only when something failed (a non-200 answer, a server that did not start,
answers that differ, a database it could not use).

    make bench BENCH_ARGS="--duration 5 --only postgres"
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from benchmarks.floor_liaison import check_liaison_answers
from benchmarks.load import LoadResult, run_load
from benchmarks.pages import measure_pages
from benchmarks.report_bench import run_report_bench
from benchmarks.results import (
    SYNC_TARGET_SECONDS,
    Report,
    Row,
    markdown,
    page_target_line,
    pages_markdown,
    report_markdown,
    report_target_line,
    sync_markdown,
    target_lines,
)
from benchmarks.stack import (
    BENCH_DATABASE,
    DEFAULT_POSTGRES_URL,
    PRISON,
    VAR,
    BenchError,
    Seeded,
    Server,
    create_postgres,
    create_sqlite,
    drop_postgres,
    get,
    postgres_parts,
    seed_database,
    shown_url,
    start_api,
    start_servers,
)
from benchmarks.sync_batch import run_sync_batches

ENDPOINTS = {
    "GET /v1/mothers/{id}": "/v1/mothers/{}",
    "GET /v1/mothers/{id}/children": "/v1/mothers/{}/children",
}
# The same rows from one query and nothing else, served by the floor process (benchmarks/floor.py).
BARE = {
    "GET /v1/mothers/{id}": "/bare/v1/mothers/{}",
    "GET /v1/mothers/{id}/children": "/bare/v1/mothers/{}/children",
}
# The liaison reads, each against its own same-work floor (benchmarks/floor_*.py) when the floor
# serves its path, else on tac-api alone. "{}": a random EWI mother per request; a path without
# it is the same URL every time. "{today}" / "{week}": today and today + 7 days.
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
# Issue 17: the worklist opened first thing, its median under 100 ms at 10,000 mothers. A
# latency, not a throughput: one connection, one request at a time, on tac-api alone (no floor
# of its own yet), as part of the liaison reads' phase.
WORKLIST_ENDPOINT = "GET /v1/worklist (EWI, 14 days)"
WORKLIST_PATH = "/v1/worklist?within_days=14"
WORKLIST_TARGET_MS = 100.0
# Measured beside tac-api with its statement cache off (--statement-cache both).
STATEMENT_CACHE_ENDPOINT = "GET /v1/mothers/{id}"
NO_CACHE = "no-cache"  # the name of tac-api run with TAC_DATABASE_STATEMENT_CACHE=false
# FastAPI's answer for a path no route serves: the floor has no counterpart for that read.
NO_ROUTE = {"detail": "Not Found"}
# The governor report, timed over a growing database (benchmarks/report_bench.py).
REPORT_PATH = "/v1/reports/governor?prison_code={prison}&from={start}&to={end}"
SAME_ANSWER_SAMPLE = 20
DISTURBED = 0.15  # of a core used by other processes during a run: its figures are suspect


def compare(path: str, api: tuple[int, dict[str, str], bytes], other: Any, name: str) -> None:
    """The same status, the same JSON (for a 200) and the same headers as tac-api's."""
    (api_status, api_headers, api_body), (status, headers, body) = api, other
    if status != api_status:
        raise BenchError(
            f"{path}: tac-api said {api_status} {api_body[:300]!r}, "
            f"the {name} said {status} {body[:300]!r}"
        )
    if api_status == 200 and json.loads(api_body) != json.loads(body):
        raise BenchError(
            f"{path}: the {name}'s JSON differs from tac-api's\n  tac-api: {api_body[:600]!r}"
            f"\n  {name}:   {body[:600]!r}"
        )
    for header in ("etag", "content-type", "cache-control", "link", "x-frame-options"):
        if api_headers.get(header) != headers.get(header):
            raise BenchError(
                f"{path}: header {header}: tac-api {api_headers.get(header)!r}, "
                f"{name} {headers.get(header)!r}"
            )


def check_same_answers(api: Server, floor: Server, seeded: Seeded) -> None:
    """The floors must do the same job: same status, same JSON, same ETag, for a sample of ids.

    The bare floor is asked for the 200s only: it has no scope, so another prison's mother is
    not a 404 to it."""
    rng = random.Random(7)
    cases = [(name, 200) for name in ENDPOINTS for _ in range(SAME_ANSWER_SAMPLE)]
    ids = {200: seeded.ewi_ids, 404: seeded.other_ids}
    cases += [(name, 404) for name in ENDPOINTS for _ in range(3) if seeded.other_ids]
    for name, expected in cases:
        mother_id = rng.choice(ids[expected])
        path = ENDPOINTS[name].format(mother_id)
        answer = get(api.port, path, seeded.token)
        if answer[0] != expected:
            raise BenchError(f"{path}: expected {expected}, tac-api said {answer[0]} {answer[2]!r}")
        compare(path, answer, get(floor.port, path, seeded.token), "floor")
        if expected == 200 and name in BARE:
            compare(path, answer, get(floor.port, BARE[name].format(mother_id)), "bare floor")
    print(
        f"  same answers from tac-api, the floor and the bare floor for {len(cases)} sampled "
        "requests (200s and 404s; the bare floor, 200s)"
    )


def floor_serves(api: Server, floor: Server, seeded: Seeded, paths: list[str]) -> bool:
    """Whether the floor has its own counterpart of a liaison read (benchmarks/floor_*.py).

    Asked once per read: a 404 from no route means there is none, and the read is measured on
    tac-api alone. Where there is one, it must answer a sample with tac-api's status; that its
    JSON and audit rows are tac-api's is the floor's own check's to prove (floor_liaison's
    check_liaison_answers: a bundle's time of answer, say, is never equal)."""
    rng = random.Random(11)
    sample = sorted({rng.choice(paths) for _ in range(3)})
    for path in sample:  # tac-api answers before any load is sent
        status, _, body = get(api.port, path, seeded.token)
        if status != 200:
            raise BenchError(f"{path}: expected 200, tac-api said {status} {body[:300]!r}")
        json.loads(body)
    status, _, body = get(floor.port, sample[0], seeded.token)
    if status == 404 and json.loads(body) == NO_ROUTE:
        return False
    for path in sample:
        status, _, body = get(floor.port, path, seeded.token)
        if status != 200:
            raise BenchError(f"{path}: expected 200, the floor said {status} {body[:300]!r}")
        json.loads(body)
    return True


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
        try:
            connection = await asyncpg.connect(**postgres_parts(url), timeout=10)
        except (OSError, asyncpg.PostgresError):  # a full server, say: only this figure is lost
            return float("nan")
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
    # The pool was filled in the warm-up: these are connections churned.
    if result.probed and not math.isnan(result.probed):
        line += f"; about {result.probed:.0f} database connections opened meanwhile"
    if result.other_cpu > DISTURBED:
        line += "  DISTURBED: other processes were busy"
    return line


@dataclass
class Contender:
    """One of the servers (and paths) an endpoint is measured on."""

    name: str
    server: Server
    paths: list[str]
    token: bool = True  # the bare floor is sent no token: it reads none


def measure_endpoint(
    database: str,
    seeded: Seeded,
    endpoint: str,
    contenders: list[Contender],
    duration: float,
    args: argparse.Namespace,
    report: Report,
) -> dict[str, LoadResult]:
    """Each contender under the same load, in turns A-B-C-C-B-A (A-B-B-A for two), each turn half
    the duration: a machine that drifts (this one shares its host) shifts all figures alike
    instead of their ratios. The first turn of each is warmed up; later ones just reconnect."""
    print(f"  {endpoint}", flush=True)
    with_token = {"Authorization": f"Bearer {seeded.token}", "Accept": "application/json"}
    parts: dict[str, list[LoadResult]] = {contender.name: [] for contender in contenders}
    turns = contenders + contenders[::-1]
    for turn, contender in enumerate(turns):
        server = contender.server
        if server.process is None:
            raise BenchError(f"{server.name} is not running")
        first = turn < len(contenders)
        parts[contender.name].append(
            run_load(
                port=server.port,
                paths=contender.paths,
                headers=with_token if contender.token else {"Accept": "application/json"},
                connections=args.connections,
                warmup=args.warmup if first else min(args.warmup, 0.5),
                duration=duration / 2,
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
    return results


def add_row(report: Report, database: str, endpoint: str, results: dict[str, LoadResult]) -> Row:
    row = Row(
        database,
        endpoint,
        results["tac-api"],
        results.get("floor"),
        bare=results.get("bare"),
    )
    report.rows.append(row)
    ratios = []
    if row.floor is not None:
        ratios.append(f"tac-api/floor {row.ratio:.2f}")
    if row.bare is not None:
        ratios.append(f"tac-api/bare {row.bare_ratio:.2f}")
    if ratios:
        print(f"    {', '.join(ratios)}", flush=True)
    return row


def measure(
    database: str,
    seeded: Seeded,
    api: Server,
    floor: Server,
    args: argparse.Namespace,
    report: Report,
) -> None:
    """The record reads: tac-api, its same-work floor and the bare floor."""
    for endpoint, template in ENDPOINTS.items():
        paths = [template.format(mother_id) for mother_id in seeded.ewi_ids]
        contenders = [Contender("tac-api", api, paths), Contender("floor", floor, paths)]
        if endpoint in BARE:
            bare = [BARE[endpoint].format(mother_id) for mother_id in seeded.ewi_ids]
            contenders.append(Contender("bare", floor, bare, token=False))
        results = measure_endpoint(
            database, seeded, endpoint, contenders, args.duration, args, report
        )
        add_row(report, database, endpoint, results)


def measure_statement_cache(
    seeded: Seeded,
    api: Server,
    stack: contextlib.ExitStack,
    args: argparse.Namespace,
    report: Report,
) -> None:
    """The mother read again, beside a second tac-api with its statement cache off, A-B-B-A.

    Once the floor has stopped: three servers' pools at once would hold about as many
    connections as PostgreSQL allows by default (100)."""
    endpoint = STATEMENT_CACHE_ENDPOINT
    no_cache = start_api(
        stack, "postgres-no-cache", seeded.url, {"TAC_DATABASE_STATEMENT_CACHE": "false"}
    )
    no_cache.name = NO_CACHE
    try:
        paths = [ENDPOINTS[endpoint].format(mother_id) for mother_id in seeded.ewi_ids]
        for path in random.Random(7).sample(paths, min(len(paths), SAME_ANSWER_SAMPLE)):
            answer = get(api.port, path, seeded.token)
            compare(path, answer, get(no_cache.port, path, seeded.token), "no-cache tac-api")
        contenders = [Contender("tac-api", api, paths), Contender(NO_CACHE, no_cache, paths)]
        results = measure_endpoint(
            "postgres",
            seeded,
            f"{endpoint}, statement cache on and off",
            contenders,
            args.duration,
            args,
            report,
        )
    finally:
        no_cache.stop()
    row = next(
        row for row in report.rows if row.database == "postgres" and row.endpoint == endpoint
    )
    row.cache_on, row.no_cache = results["tac-api"], results[NO_CACHE]
    print(f"    cache off/on {row.no_cache_ratio:.2f}", flush=True)


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
    database: str,
    seeded: Seeded,
    api: Server,
    floor: Server,
    args: argparse.Namespace,
    report: Report,
) -> None:
    """The liaison reads, each beside its own same-work floor where the floor serves it."""
    print(f"  liaison reads, {args.extra_duration:g} s each (beside their floor, where it has one)")
    for endpoint, paths in extra_paths(seeded).items():
        contenders = [Contender("tac-api", api, paths)]
        try:
            if floor_serves(api, floor, seeded, paths):
                contenders.append(Contender("floor", floor, paths))
        except BenchError as exc:  # that floor is wrong: its figures would mean nothing
            report.problems.append(f"{database} {endpoint}: {exc}")
            print(f"    its floor failed, so it is measured on tac-api alone: {exc}")
        results = measure_endpoint(
            database, seeded, endpoint, contenders, args.extra_duration, args, report
        )
        add_row(report, database, endpoint, results)
    measure_worklist(database, seeded, api, args, report)


def measure_worklist(
    database: str, seeded: Seeded, api: Server, args: argparse.Namespace, report: Report
) -> None:
    """The worklist's latency: one connection, one request after another."""
    one = argparse.Namespace(**{**vars(args), "connections": 1})
    contenders = [Contender("tac-api", api, [WORKLIST_PATH])]
    print("  the worklist's latency, one connection")
    results = measure_endpoint(
        database, seeded, WORKLIST_ENDPOINT, contenders, args.extra_duration, one, report
    )
    report.worklist[database] = results["tac-api"]  # errors: reported by measure_endpoint


def bench_database(database: str, args: argparse.Namespace, report: Report) -> None:
    print(f"\n{database}", flush=True)
    with contextlib.ExitStack() as stack:
        if database == "postgres":
            admin_url = os.environ.get("TAC_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
            try:
                url = create_postgres(admin_url)
            except Exception as exc:  # unreachable, refused, no right to create: nothing to measure
                raise BenchError(
                    f"cannot create {BENCH_DATABASE} on {shown_url(admin_url)}: {exc}"
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
        postgres = database == "postgres"
        api, floor = start_servers(
            stack, database, url, statement_cache=not (postgres and args.statement_cache == "off")
        )
        check_same_answers(api, floor, seeded)
        check_liaison_answers(api, floor, seeded)  # the liaison reads' floors (PostgreSQL)
        measure(database, seeded, api, floor, args, report)
        if args.extra_duration > 0:
            measure_extra(database, seeded, api, floor, args, report)
        floor.stop()  # idle from here on, its connections out of the way
        if postgres and args.statement_cache == "both":
            measure_statement_cache(seeded, api, stack, args, report)
        if args.page_duration > 0:
            measure_pages(database, seeded, api, args, report)
        if postgres and args.sync_children > 0:
            measure_sync(seeded, api, args, report)


def measure_sync(seeded: Seeded, api: Server, args: argparse.Namespace, report: Report) -> None:
    print(f"  POST /v1/sync/children:batch ({args.sync_children:,} children, batches of 1,000)")
    try:
        result = run_sync_batches(
            seeded.url, postgres_parts(seeded.url), api.port, args.sync_children, 1000, args.seed
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
        "--page-duration",
        type=float,
        default=1.0,
        help="measured seconds for page 1 and for page 1,000 of each list; 0 skips the lists",
    )
    parser.add_argument(
        "--statement-cache",
        choices=["on", "off", "both"],
        default="both",
        help="PostgreSQL: tac-api with its prepared-statement cache on, off "
        "(TAC_DATABASE_STATEMENT_CACHE=false, as behind a transaction-pooling PgBouncer), or "
        "both: the mother read measured side by side with a second tac-api that has it off",
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
    if not 0 <= args.extra_duration <= 600 or not 0 <= args.page_duration <= 600:
        parser.error("--extra-duration and --page-duration must be in [0, 600]")
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
        print("\n".join(target_lines(report)))
    for database, result in report.worklist.items():
        median = result.percentile(50)
        verdict = "met" if median < WORKLIST_TARGET_MS else "NOT met"
        print(
            f"Target (worklist median under {WORKLIST_TARGET_MS:g} ms, one connection, "
            f"{database}): {verdict} (p50 {median:.1f} ms, p99 {result.percentile(99):.1f} ms, "
            f"{result.requests:,} requests)."
        )
    if report.pages:
        print("\n" + pages_markdown(report, args) + "\n")
        print(page_target_line(report))
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
