"""What a bench run found, and the Markdown table it is reported as."""

import argparse
import os
from dataclasses import dataclass, field
from datetime import date

from benchmarks.load import LoadResult
from benchmarks.report_bench import ReportTiming
from benchmarks.sync_batch import SyncResult

TARGET = 0.5  # tac-api/floor requests/s on PostgreSQL, from the issue
SYNC_TARGET_SECONDS = 2.0  # 10,000 children in batches of 1,000 on PostgreSQL, from issue 5
NONE = "\N{EN DASH}"  # in the table, for a figure there is none of (no floor)


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
