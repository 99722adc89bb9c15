"""Page 1 and page 1,000 of every cursor-paged list, under the same load: keyset pagination is
meant to make page 1,000 cost what page 1 costs (issue 14: within 1.2x).

PostgreSQL only. Pages of LIMIT items (5), so page 1,000 starts after item 4,995. Lists the
bench's synthetic data leaves shorter than that are first filled by copying their own rows in
bulk SQL (new ids, everything else alike, so sort keys repeat and the id breaks the ties): for a
list of one mother's records, one EWI mother's rows; for a prison's list, the rows of EWI's
mothers. This runs after the other measurements, so the copies disturb none of them.

Page 1,000's cursor is found by walking the list once with pages of 200: a cursor names the last
row seen, not a page size (tac_api.pagination), so the cursor after item 4,995 is the same
whatever the pages on the way were. Then page 1 and page 1,000 get the same closed-loop load,
A-B-B-A, and the ratio of their median latencies is reported.
"""

import argparse
import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from benchmarks.load import LoadResult, run_load
from benchmarks.results import PageRow, Report
from benchmarks.stack import (
    BENCH_DATABASE,
    PRISON,
    BenchError,
    Seeded,
    Server,
    get,
    postgres_parts,
)

LIMIT = 5
PAGE = 1000
WALK = 200  # items per page while walking to page 1,000's cursor
NEEDED = LIMIT * PAGE  # items the list must hold for page 1,000 to be full
WARMUP = 0.3
EWI_MOTHERS = f"mother_id IN (SELECT id FROM mother WHERE prison_code = '{PRISON}')"


@dataclass(frozen=True)
class Listing:
    """A list endpoint, and how to fill it when the seeded data leaves it short."""

    endpoint: str
    path: str  # "{mother}": the mother whose own lists are read
    table: str | None = None  # whose rows are copied to fill it; None: never filled
    rows: str = "TRUE"  # which of its rows are copied ("{mother}" as in path)
    share: float = 1.0  # of the copied rows, about how many the list shows
    auditor: bool = False  # read with an auditor's token, not the social worker's


LISTINGS = [
    Listing("GET /v1/mothers", "/v1/mothers"),
    Listing("GET /v1/court-hearings", "/v1/court-hearings", "court_hearing", EWI_MOTHERS),
    Listing("GET /v1/meetings", "/v1/meetings", "meeting", EWI_MOTHERS),
    Listing("GET /v1/contact-visits", "/v1/contact-visits", "contact_visit", EWI_MOTHERS),
    Listing(
        "GET /v1/parenting-assessments",
        "/v1/parenting-assessments",
        "parenting_assessment",
        EWI_MOTHERS,
    ),
    Listing("GET /v1/proceedings", "/v1/proceedings", "proceedings", EWI_MOTHERS),
    Listing("GET /v1/practitioners", "/v1/practitioners", "practitioner"),
    Listing("GET /v1/release-plans/due (730 days)", "/v1/release-plans/due?within_days=730"),
    Listing("GET /v1/audit", "/v1/audit", auditor=True),
    *(
        Listing(
            f"GET /v1/mothers/{{id}}/{name}",
            f"/v1/mothers/{{mother}}/{name}",
            table,
            "mother_id = '{mother}'",
        )
        for name, table in (
            ("children", "child"),
            ("evidence", "evidence"),
            ("communications", "communication"),
            ("prison-stays", "prison_stay"),
            ("practitioners", "practitioner_link"),
        )
    ),
]


async def _fill(url: str) -> tuple[str, dict[str, str]]:
    """Copy rows until each list to be filled holds enough: the mother whose own lists are read,
    and for each list, what was done."""
    import asyncpg

    notes: dict[str, str] = {}
    connection = await asyncpg.connect(**postgres_parts(url), timeout=10)
    try:
        # A mother with some of each of her own kinds of record, so each has rows to copy.
        mother = str(
            await connection.fetchval(
                "SELECT m.id FROM mother m WHERE m.prison_code = $1 "
                "AND EXISTS (SELECT FROM evidence e WHERE e.mother_id = m.id) "
                "AND EXISTS (SELECT FROM communication c WHERE c.mother_id = m.id) "
                "ORDER BY m.id LIMIT 1",
                PRISON,
            )
        )
        for listing in LISTINGS:
            if listing.table is None:
                continue
            rows = listing.rows.format(mother=mother)
            have = await connection.fetchval(f"SELECT count(*) FROM {listing.table} WHERE {rows}")
            wanted = math.ceil(NEEDED * 1.05 / listing.share)
            if not have or have >= wanted:
                continue
            columns = await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                "'public' AND table_name = $1 ORDER BY ordinal_position",
                listing.table,
            )
            names = [row["column_name"] for row in columns]
            copied = ", ".join("gen_random_uuid()" if name == "id" else name for name in names)
            copies = math.ceil(wanted / have) - 1
            try:
                await connection.execute(
                    f"INSERT INTO {listing.table} ({', '.join(names)}) "
                    f"SELECT {copied} FROM {listing.table}, generate_series(1, {copies}) "
                    f"WHERE {rows}"
                )
            except asyncpg.PostgresError as exc:
                notes[listing.endpoint] = f"not filled: {exc}"
                continue
            notes[listing.endpoint] = f"{have:,} rows copied {copies}x"
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return mother, notes


async def _auditor(url: str) -> str:
    from tac_api.auth.schemas import Role
    from tac_api.auth.service import create_client
    from tac_api.config import Settings
    from tac_api.db import make_engine, sessionmaker_for

    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with sessionmaker_for(engine)() as session, session.begin():
            _, token = await create_client(session, name="bench-auditor", role=Role.auditor)
    finally:
        await engine.dispose()
    return token


def _with(path: str, **query: Any) -> str:
    return f"{path}{'&' if '?' in path else '?'}{urlencode(query)}"


def _page_1000_cursor(api: Server, path: str, token: str) -> str | None:
    """The cursor after item 4,995, walked to in pages of 200; None: the list is shorter."""
    cursor, seen = None, 0
    while seen < NEEDED - LIMIT:
        take = min(WALK, NEEDED - LIMIT - seen)
        query = {"limit": take, **({"cursor": cursor} if cursor else {})}
        status, _, body = get(api.port, _with(path, **query), token)
        if status != 200:
            raise BenchError(f"{path}: walking its pages, tac-api said {status} {body[:300]!r}")
        page = json.loads(body)
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return None
    return cursor


def _load(api: Server, path: str, token: str, args: argparse.Namespace) -> LoadResult:
    assert api.process is not None
    return run_load(
        port=api.port,
        paths=[path],
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        connections=args.connections,
        warmup=WARMUP,
        duration=args.page_duration / 2,
        server_pid=api.process.pid,
        database=BENCH_DATABASE,
    )


def measure_pages(
    database: str, seeded: Seeded, api: Server, args: argparse.Namespace, report: Report
) -> None:
    if database != "postgres":
        return
    print(f"  page 1 and page {PAGE:,} of each list ({LIMIT} items a page)", flush=True)
    mother, notes = asyncio.run(_fill(seeded.url))
    auditor = asyncio.run(_auditor(seeded.url))
    for listing in LISTINGS:
        path = listing.path.format(mother=mother)
        token = auditor if listing.auditor else seeded.token
        row = PageRow(database, listing.endpoint, LIMIT, note=notes.get(listing.endpoint, ""))
        report.pages.append(row)
        try:
            cursor = _page_1000_cursor(api, path, token)
        except BenchError as exc:
            report.problems.append(f"{database} {listing.endpoint}: {exc}")
            row.note = "failed"
            continue
        if cursor is None:
            row.note = (row.note + "; " if row.note else "") + f"fewer than {NEEDED:,} items"
            print(f"  {listing.endpoint}: {row.note}, not measured", flush=True)
            continue
        first, thousandth = _with(path, limit=LIMIT), _with(path, limit=LIMIT, cursor=cursor)
        status, _, body = get(api.port, thousandth, token)
        if status != 200 or not json.loads(body)["items"]:
            report.problems.append(f"{database} {listing.endpoint} page {PAGE}: {status}")
            continue
        runs: dict[str, list[LoadResult]] = {first: [], thousandth: []}
        for turn in (first, thousandth, thousandth, first):
            runs[turn].append(_load(api, turn, token, args))
            if api.process is None or api.process.poll() is not None:
                raise BenchError(f"tac-api died under load:\n{api.log_tail()}")
        row.first = LoadResult.combine(runs[first])
        row.thousandth = LoadResult.combine(runs[thousandth])
        for name, result in (("page 1", row.first), (f"page {PAGE}", row.thousandth)):
            if result.errors:
                report.problems.append(
                    f"{database} {listing.endpoint} {name}: {result.errors} errors "
                    f"{'; '.join(result.samples)}"
                )
        print(
            f"  {listing.endpoint}: page 1 p50 {row.first.percentile(50):.2f} ms "
            f"({row.first.rate:,.0f} req/s), page {PAGE:,} p50 "
            f"{row.thousandth.percentile(50):.2f} ms ({row.thousandth.rate:,.0f} req/s): "
            f"{row.ratio:.2f}x",
            flush=True,
        )
