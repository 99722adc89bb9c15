"""What a bench run found, and the Markdown table it is reported as."""

import argparse
import os
from dataclasses import dataclass, field
from datetime import date

from benchmarks.load import LoadResult
from benchmarks.report_bench import ReportTiming
from benchmarks.sync_batch import SyncResult

TARGET = 0.5  # tac-api/floor requests/s on PostgreSQL, from the issue
BARE_TARGET = 0.5  # tac-api/bare floor for the record reads on PostgreSQL (issue 14)
PAGE_TARGET = 1.2  # page 1,000's latency over page 1's, at most (issue 14)
SYNC_TARGET_SECONDS = 2.0  # 10,000 children in batches of 1,000 on PostgreSQL, from issue 5
NONE = "\N{EN DASH}"  # in the table, for a figure there is none of (no floor)
RECORD_READS = ("GET /v1/mothers/{id}", "GET /v1/mothers/{id}/children")


def _ratio(top: LoadResult | None, bottom: LoadResult | None) -> float:
    if top is None or bottom is None or not bottom.rate:
        return float("nan")
    return top.rate / bottom.rate


def cpu_ms(result: LoadResult) -> float:
    """The server's CPU per request, in ms: the figure a busy machine disturbs least."""
    return result.server_cpu / result.rate * 1000 if result.rate else float("nan")


@dataclass
class Row:
    database: str
    endpoint: str
    api: LoadResult
    floor: LoadResult | None  # the same-work floor; None: it has no counterpart of this read
    bare: LoadResult | None = None  # the bare floor: one query and nothing else
    # tac-api with its statement cache on, and with it off (TAC_DATABASE_STATEMENT_CACHE=false),
    # measured in turns of their own once the floor has stopped.
    cache_on: LoadResult | None = None
    no_cache: LoadResult | None = None

    @property
    def ratio(self) -> float:
        return _ratio(self.api, self.floor)

    @property
    def bare_ratio(self) -> float:
        return _ratio(self.api, self.bare)

    @property
    def no_cache_ratio(self) -> float:
        return _ratio(self.no_cache, self.cache_on)


@dataclass
class PageRow:
    """Page 1 and page 1,000 of one list, under the same load (None: not measured, and why)."""

    database: str
    endpoint: str
    limit: int
    first: LoadResult | None = None
    thousandth: LoadResult | None = None
    note: str = ""  # how the list was filled, or why it was not measured

    @property
    def ratio(self) -> float:
        """Page 1,000's median latency over page 1's."""
        if self.first is None or self.thousandth is None:
            return float("nan")
        return self.thousandth.percentile(50) / self.first.percentile(50)


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    pages: list[PageRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    disturbed: list[str] = field(default_factory=list)  # runs other processes competed with
    sync: SyncResult | None = None
    reports: list[ReportTiming] = field(default_factory=list)
    # The worklist's latency on one connection, per database (benchmarks.run.measure_worklist).
    worklist: dict[str, LoadResult] = field(default_factory=dict)


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
        f"Target (governor report under {TARGET_MS:,.0f} ms at 100,000 mothers on PostgreSQL, "
        f"first reading): {verdict} (median {largest.median:.0f} ms at {largest.mothers:,}; "
        f"published {largest.published_median:.0f} ms)."
    )


def _figures(result: LoadResult | None, ratio: float | None = None) -> str:
    if result is None:
        return f"| {NONE} | {NONE} |" + (f" {NONE} |" if ratio is not None else "")
    cells = f"| {result.rate:,.0f} | {result.percentile(50):.1f} |"
    return cells + (f" {ratio:.2f} |" if ratio is not None else "")


def _all_cpu_ms(result: LoadResult) -> float:
    """The server's and the database's CPU per request, in ms (a deep page costs the latter)."""
    used = result.server_cpu + result.database_cpu
    return used / result.rate * 1000 if result.rate else float("nan")


def markdown(report: Report, args: argparse.Namespace) -> str:
    lines = [
        f"`make bench`: {args.mothers:,} mothers with 3 children each; {args.connections} "
        f"keep-alive connections; one uvicorn worker per server; {os.cpu_count()} cores shared "
        "with the load generator. Each row's servers are measured in the same run, in turns "
        "A-B-C-C-B-A (A-B-B-A for two), each half of the measured time, after a "
        f"{args.warmup:g} s warm-up: {args.duration:g} s for the record reads, "
        f"{args.extra_duration:g} s for the liaison reads. Same-work floor: the same URL, JSON "
        "and rules (token, rate limit, scope, audit row) from FastAPI over the bare driver "
        "(asyncpg / aiosqlite), no ORM; for a liaison read, that read's own floor "
        f"(benchmarks/floor_*.py), {NONE} where there is none yet. Bare floor: the same rows "
        "and JSON from one query and nothing else. CPU ms/req: tac-api's server process.",
        "",
        "| Database | Endpoint | tac-api req/s | p50 ms | p99 ms | errors | CPU ms/req "
        "| same-work floor req/s | p50 ms | tac-api/floor | bare floor req/s | p50 ms "
        "| tac-api/bare |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for row in report.rows:
        lines.append(
            f"| {'PostgreSQL' if row.database == 'postgres' else 'SQLite'} | `{row.endpoint}` "
            f"| {row.api.rate:,.0f} | {row.api.percentile(50):.1f} | {row.api.percentile(99):.1f} "
            f"| {row.api.errors:,} | {cpu_ms(row.api):.2f} {_figures(row.floor, row.ratio)}"
            f"{_figures(row.bare, row.bare_ratio)[1:]}"
        )
    cached = [row for row in report.rows if row.no_cache is not None and row.cache_on]
    if cached:
        lines += [
            "",
            "Statement cache off (TAC_DATABASE_STATEMENT_CACHE=false, as behind a "
            "transaction-pooling PgBouncer), beside tac-api with it on, in turns A-B-B-A of "
            f"{args.duration:g} s each after the floor has stopped:",
            "",
            "| Database | Endpoint | cache on req/s | CPU ms/req | cache off req/s | CPU ms/req "
            "| off/on |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for row in cached:
            assert row.no_cache is not None and row.cache_on is not None
            lines.append(
                f"| PostgreSQL | `{row.endpoint}` | {row.cache_on.rate:,.0f} "
                f"| {cpu_ms(row.cache_on):.2f} "
                f"| {row.no_cache.rate:,.0f} | {cpu_ms(row.no_cache):.2f} "
                f"| {row.no_cache_ratio:.2f} |"
            )
    return "\n".join(lines)


def pages_markdown(report: Report, args: argparse.Namespace) -> str:
    lines = [
        f"Page 1 and page 1,000 of each list, tac-api, {report.pages[0].limit} items a page "
        f"(page 1,000 starts after item {report.pages[0].limit * 999:,}), same load and turns "
        f"(A-B-B-A, {args.page_duration:g} s each page). CPU ms/req: tac-api's and "
        "PostgreSQL's together.",
        "",
        "| Database | List | page 1 req/s | p50 ms | CPU ms/req | page 1,000 req/s | p50 ms "
        "| CPU ms/req | page 1,000 / page 1 (p50) | how the list was filled |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in report.pages:
        database = "PostgreSQL" if row.database == "postgres" else "SQLite"
        if row.first is None or row.thousandth is None:
            figures = f"| {NONE} " * 7
        else:
            figures = (
                f"{_figures(row.first)} {_all_cpu_ms(row.first):.2f} "
                f"{_figures(row.thousandth)} {_all_cpu_ms(row.thousandth):.2f} | {row.ratio:.2f} "
            )
        lines.append(f"| {database} | `{row.endpoint}` {figures}| {row.note} |")
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


def target_lines(report: Report) -> list[str]:
    """One line per target of the record and liaison reads, PostgreSQL's figures."""
    rows = [row for row in report.rows if row.database == "postgres"]
    if not rows:
        return ["Targets (on PostgreSQL): not measured."]
    lines = []
    record = [row for row in rows if row.endpoint in RECORD_READS]
    bare = [row for row in record if row.bare is not None]
    if bare:
        met = all(row.bare_ratio >= BARE_TARGET for row in bare)
        figures = ", ".join(f"{_short(row.endpoint)} {row.bare_ratio:.2f}" for row in bare)
        lines.append(
            f"Target (record reads, tac-api/bare floor >= {BARE_TARGET} on PostgreSQL): "
            f"{'met' if met else 'NOT met'} ({figures})."
        )
    same = [row for row in record if row.floor is not None]
    if same:
        met = all(row.ratio >= TARGET for row in same)
        figures = ", ".join(f"{_short(row.endpoint)} {row.ratio:.2f}" for row in same)
        lines.append(
            f"Target (record reads, tac-api/same-work floor >= {TARGET} on PostgreSQL): "
            f"{'met' if met else 'NOT met'} ({figures})."
        )
    liaison = [row for row in rows if row.endpoint not in RECORD_READS]
    if liaison:
        measured = [row for row in liaison if row.floor is not None]
        figures = ", ".join(
            f"{_short(row.endpoint)} {row.ratio:.2f}"
            if row.floor is not None
            else f"{_short(row.endpoint)} no floor yet"
            for row in liaison
        )
        if len(measured) < len(liaison):
            verdict = "not measured for all"
            if any(row.ratio < TARGET for row in measured):
                verdict = "NOT met"
        else:
            verdict = "met" if all(row.ratio >= TARGET for row in measured) else "NOT met"
        lines.append(
            f"Target (each liaison read, tac-api/its own same-work floor >= {TARGET} on "
            f"PostgreSQL): {verdict} ({figures})."
        )
    return lines


def page_target_line(report: Report) -> str:
    rows = [row for row in report.pages if row.database == "postgres"]
    measured = [row for row in rows if row.first is not None]
    if not measured:
        return f"Target (page 1,000 within {PAGE_TARGET}x of page 1 on PostgreSQL): not measured."
    over = [row for row in measured if row.ratio > PAGE_TARGET]
    verdict = (
        f"met by all {len(measured)} lists measured"
        if not over
        else f"NOT met by {len(over)} of the {len(measured)} lists measured"
    )
    if len(measured) < len(rows):
        verdict += f" ({len(rows) - len(measured)} too short to measure)"
    worst = max(measured, key=lambda row: row.ratio)
    return (
        f"Target (page 1,000 within {PAGE_TARGET}x of page 1 for every list on PostgreSQL): "
        f"{verdict} (worst {_short(worst.endpoint)} {worst.ratio:.2f})."
    )


def _short(endpoint: str) -> str:
    """`GET /v1/mothers/{id}/chronology` -> `/chronology`-like short names for the target lines."""
    path = endpoint.removeprefix("GET ").split(" (")[0]
    return path.removeprefix("/v1")
