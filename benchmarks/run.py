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
import json
import os
import random
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from benchmarks.floor_liaison import check_liaison_answers
from benchmarks.load import LoadResult, run_load
from benchmarks.report_bench import run_report_bench
from benchmarks.results import (
    SYNC_TARGET_SECONDS,
    Report,
    Row,
    markdown,
    report_markdown,
    report_target_line,
    sync_markdown,
    target_line,
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
    start_servers,
)
from benchmarks.sync_batch import run_sync_batches

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
DISTURBED = 0.15  # of a core used by other processes during a run: its figures are suspect


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
        connection = await asyncpg.connect(**postgres_parts(url), timeout=10)
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
        api, floor = start_servers(stack, database, url)
        check_same_answers(api, floor, seeded)
        check_liaison_answers(api, floor, seeded)  # the liaison reads' floors (PostgreSQL)
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
