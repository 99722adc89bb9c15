"""The raw-driver floor: the two benchmarked URLs answered by FastAPI with no ORM and no SQLAlchemy.

The same work as tac-api does for a prison social worker (or an admin): the API client row by the
SHA-256 of the bearer token (not revoked, not expired), the client's rate limit (the same GCRA
upsert), one query for the mother visible to that client with her children (or for her children),
and one audit insert for every record shown; answered with the same JSON (confidential placements
withheld), the same status codes (401/403/404) and the same headers. asyncpg (its pool) on
PostgreSQL, aiosqlite on SQLite; served by the same uvicorn settings as `tac-api serve`.
Local-authority callers (tac-api's reduced views) and `cursor` are not benchmarked, so they are
not implemented here.

The same process also serves the **bare floor** under /bare (/bare/v1/mothers/{id} and
/bare/v1/mothers/{id}/children): the same rows and the same JSON from one query on a pooled
connection, and nothing else (no token, no rate limit, no scope, no audit row). It is what the
hardware and the driver allow; the same-work floor is what tac-api's rules cost done by hand.

Other floors (benchmarks/floor_*.py) add their routes with `app.include_router(...)` in
create_app; they find the database as `request.app.state.store` (its `pool` on PostgreSQL).

Run by benchmarks.run as `python -m benchmarks.floor --port P` with TAC_DATABASE_URL set.
"""

import argparse
import asyncio
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import orjson
from fastapi import FastAPI, Query, Request, Response

# Pure helpers shared with tac-api, so both servers format ages and cursors identically.
from tac_api.pagination import encode_cursor
from tac_api.schemas import age_on

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "strict-transport-security": "max-age=63072000",
}
CASE_READERS = frozenset({"admin", "prison_social_worker"})  # the prison-side readers
JSON_OPTIONS = orjson.OPT_UTC_Z  # aware UTC datetimes end in "Z", as pydantic writes them

MOTHER_COLUMNS = (
    "m.id, m.created_at, m.updated_at, m.version, m.prison_number, m.first_name, m.last_name, "
    "m.date_of_birth, m.prison_code, m.reception_date, m.earliest_release_date, m.status, "
    "m.domestic_abuse_history, m.ethnicity, m.closed_on, m.supported_from, m.released_on"
)
CHILD_SUMMARY_COLUMNS = (
    "c.id AS child_id, c.first_name AS child_first_name, c.date_of_birth AS child_date_of_birth, "
    "c.local_authority_code AS child_local_authority_code, c.lives_with AS child_lives_with, "
    "c.placement_confidential AS child_placement_confidential"
)
CHILD_COLUMNS = (
    "c.id, c.created_at, c.updated_at, c.version, c.mother_id, c.first_name, c.last_name, "
    "c.date_of_birth, c.expected_date, c.sex, c.local_authority_code, c.legal_status, "
    "c.placement_type, c.lives_with, c.placement_confidential, c.carer_name, c.carer_phone, "
    "c.carer_address, c.social_worker_name, "
    "c.social_worker_email, c.social_worker_phone, c.contact_arrangement, "
    "c.contact_arrangement_reason"
)
# $1/?1 token hash, $2/?2 now; $1/?1 mother id, $2/?2 the caller's prison (NULL for an admin),
# $3/?3 limit.
CALLER_SQL = (
    "SELECT id, name, role, prison_code, local_authority_code FROM api_client "
    "WHERE token_hash = {p1} AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {p2})"
)
# GCRA, as tac_api.limits: $1 client, $2 now (epoch seconds), $3 interval, $4 tolerance.
RATE_LIMIT_SQL = (
    "INSERT INTO rate_limit_state (client_key, theoretical_arrival) VALUES ({key}, {now} + {step}) "
    "ON CONFLICT (client_key) DO UPDATE SET theoretical_arrival = "
    "{greatest}(rate_limit_state.theoretical_arrival, {now}) + {step} "
    "WHERE {greatest}(rate_limit_state.theoretical_arrival, {now}) + {step} - {now} <= {window} "
    "RETURNING theoretical_arrival"
)
AUDIT_COLUMNS = (
    "occurred_at, request_id, client_id, client_name, role, outcome, action, resource_type, "
    "resource_id, subject_id"
)
AUDIT_SQL_PG = (
    f"INSERT INTO audit_event ({AUDIT_COLUMNS}) "
    "SELECT $1, $2, $3, $4, $5, 'succeeded', 'consult', e.resource_type, e.resource_id, "
    "e.subject_id FROM unnest($6::text[], $7::uuid[], $8::uuid[]) "
    "AS e(resource_type, resource_id, subject_id)"
)
AUDIT_SQL_SQLITE = (
    f"INSERT INTO audit_event ({AUDIT_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, 'succeeded', 'consult', ?, ?, ?)"
)
WINDOW = 60.0
# Her open flags for review, shown on her record to the prison side (issue 17): a list of
# (id, reason, raised_at, raised_by) objects, oldest first, as one value per row.
OPEN_FLAGS_SQL = {
    "postgresql": (
        "(SELECT COALESCE(json_agg(json_build_object('id', f.id, 'reason', f.reason, "
        "'raised_at', f.raised_at, 'raised_by', f.raised_by_name) ORDER BY f.raised_at, f.id), "
        "'[]') FROM review_flag f WHERE f.resource_type = '{kind}' AND f.resource_id = {record} "
        "AND f.cleared_at IS NULL) AS open_flags"
    ),
    "sqlite": (
        "(SELECT json_group_array(json_object('id', f.id, 'reason', f.reason, "
        "'raised_at', f.raised_at, 'raised_by', f.raised_by_name)) FROM (SELECT * FROM "
        "review_flag f WHERE f.resource_type = '{kind}' AND f.resource_id = {record} "
        "AND f.cleared_at IS NULL ORDER BY f.raised_at, f.id) f) AS open_flags"
    ),
}


def flags_on(dialect: str, kind: str, record: str) -> str:
    return OPEN_FLAGS_SQL[dialect].format(kind=kind, record=record)


MOTHER_SQL = (
    f"SELECT {MOTHER_COLUMNS}, {CHILD_SUMMARY_COLUMNS}, {{flags}} FROM mother m "
    "LEFT JOIN child c ON c.mother_id = m.id "
    "WHERE m.id = {p1} AND ({p2} IS NULL OR m.prison_code = {p2}) "
    "ORDER BY c.date_of_birth, c.id"
)
CHILDREN_SQL = (
    f"SELECT m.id AS visible_mother_id, {CHILD_COLUMNS}, {{flags}} FROM mother m "
    "LEFT JOIN child c ON c.mother_id = m.id "
    "WHERE m.id = {p1} AND ({p2} IS NULL OR m.prison_code = {p2}) "
    "ORDER BY c.last_name, c.first_name, c.id LIMIT {p3}"
)


# The bare floor's: the rows by id alone, one statement.
BARE_MOTHER_SQL = (
    f"SELECT {MOTHER_COLUMNS}, {CHILD_SUMMARY_COLUMNS}, {{flags}} FROM mother m "
    "LEFT JOIN child c ON c.mother_id = m.id WHERE m.id = {p1} ORDER BY c.date_of_birth, c.id"
)
BARE_CHILDREN_SQL = (
    f"SELECT m.id AS visible_mother_id, {CHILD_COLUMNS}, {{flags}} FROM mother m "
    "LEFT JOIN child c ON c.mother_id = m.id WHERE m.id = {p1} "
    "ORDER BY c.last_name, c.first_name, c.id LIMIT {p2}"
)


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps({"type": "about:blank", "status": status, "detail": detail})
    return Response(
        body,
        status_code=status,
        media_type="application/problem+json",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def json_response(content: Any, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(content, option=JSON_OPTIONS, default=str)  # default: asyncpg's UUID
    all_headers = {**SECURITY_HEADERS, **headers} if headers else SECURITY_HEADERS
    return Response(body, media_type="application/json", headers=all_headers)


RATE_LIMITED: list[Any] = []  # a sentinel: the caller is over the limit


@dataclass
class Read:
    """One request: who (by token hash), which mother, and which of the rows it shows."""

    token_hash: str
    mother_id: uuid.UUID
    request_id: str
    interval: float
    shown: Callable[[Any], list[tuple[str, uuid.UUID]]]


def utcnow() -> datetime:
    return datetime.now(UTC)


class PostgresStore:
    """asyncpg: a pool, and each request's two statements on one connection, no transaction."""

    def __init__(self, url: str, pool_size: int) -> None:
        self.url = url
        self.pool_size = pool_size
        self.pool: Any = None

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=self.pool_size)

    async def close(self) -> None:
        await self.pool.close()

    async def fetch(self, request: Read, sql: str, *extra: Any) -> Any:
        async with self.pool.acquire() as connection:
            caller = await connection.fetchrow(CALLER_SQL_PG, request.token_hash, utcnow())
            if caller is None or caller["role"] not in CASE_READERS:
                return caller, None
            now = time.time()
            limit = (str(caller["id"]), now, request.interval, WINDOW)
            if await connection.fetchval(RATE_LIMIT_SQL_PG, *limit) is None:
                return caller, RATE_LIMITED
            mother_id = request.mother_id
            rows = await connection.fetch(sql, mother_id, caller["prison_code"], *extra)
            shown = request.shown(rows)
            if shown:
                await connection.execute(
                    AUDIT_SQL_PG,
                    utcnow(),
                    request.request_id,
                    caller["id"],
                    caller["name"],
                    caller["role"],
                    [kind for kind, _ in shown],
                    [record for _, record in shown],
                    [mother_id] * len(shown),
                )
            return caller, rows

    async def fetch_bare(self, sql: str, *parameters: Any) -> Any:
        """One statement on a pooled connection, nothing else (the bare floor)."""
        return await self.pool.fetch(sql, *parameters)

    ident = staticmethod(lambda value: value)
    when = staticmethod(lambda value: value)
    day = staticmethod(lambda value: value)
    flag = staticmethod(lambda value: value)


def _sqlite_uuid(value: str | None) -> str | None:
    # SQLAlchemy's Uuid type stores 32 hex digits on SQLite.
    if value is None:
        return None
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _sqlite_id(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value


def _sqlite_parameters(parameters: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(value.hex if isinstance(value, uuid.UUID) else value for value in parameters)


def _sqlite_datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _sqlite_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


class SqliteStore:
    """aiosqlite: a small pool of connections (each its own thread), the app's pragmas."""

    def __init__(self, path: str, pool_size: int) -> None:
        self.path = path
        self.pool_size = pool_size
        self.idle: asyncio.Queue[Any] = asyncio.Queue()
        self.connections: list[Any] = []

    async def open(self) -> None:
        import aiosqlite

        for _ in range(self.pool_size):
            # isolation_level None: autocommit, as tac-api's engine.
            connection = await aiosqlite.connect(self.path, timeout=5, isolation_level=None)
            connection.row_factory = aiosqlite.Row
            for pragma in (
                "foreign_keys=ON",
                "journal_mode=WAL",
                "busy_timeout=5000",
                "synchronous=NORMAL",
            ):
                await connection.execute(f"PRAGMA {pragma}")
            self.connections.append(connection)
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()

    async def fetch(self, request: Read, sql: str, *extra: Any) -> Any:
        connection = await self.idle.get()
        try:
            # One hop to the connection's thread per statement: execute and fetch together.
            now = utcnow().isoformat(sep=" ").removesuffix("+00:00")
            callers = await connection.execute_fetchall(
                CALLER_SQL_SQLITE, (request.token_hash, now)
            )
            caller = callers[0] if callers else None
            if caller is None or caller["role"] not in CASE_READERS:
                return caller, None
            limit = (_sqlite_uuid(caller["id"]), time.time(), request.interval, WINDOW)
            if not await connection.execute_fetchall(RATE_LIMIT_SQL_SQLITE, limit):
                return caller, RATE_LIMITED
            mother_id = request.mother_id
            parameters = (mother_id.hex, caller["prison_code"], *extra)
            rows = await connection.execute_fetchall(sql, parameters)
            shown = request.shown(rows)
            if shown:
                stamp = utcnow().isoformat(sep=" ").removesuffix("+00:00")
                who = (stamp, request.request_id, caller["id"], caller["name"], caller["role"])
                await connection.executemany(
                    AUDIT_SQL_SQLITE,
                    [(*who, kind, _sqlite_id(record), mother_id.hex) for kind, record in shown],
                )
            return caller, rows
        finally:
            self.idle.put_nowait(connection)

    async def fetch_bare(self, sql: str, *parameters: Any) -> Any:
        """One statement on a pooled connection, nothing else (the bare floor)."""
        connection = await self.idle.get()
        try:
            return await connection.execute_fetchall(sql, _sqlite_parameters(parameters))
        finally:
            self.idle.put_nowait(connection)

    ident = staticmethod(_sqlite_uuid)
    when = staticmethod(_sqlite_datetime)
    day = staticmethod(_sqlite_date)
    flag = staticmethod(_sqlite_bool)


CALLER_SQL_PG = CALLER_SQL.format(p1="$1", p2="$2")
CALLER_SQL_SQLITE = CALLER_SQL.format(p1="?1", p2="?2")
RATE_LIMIT_SQL_PG = RATE_LIMIT_SQL.format(
    key="$1", now="$2::float8", step="$3::float8", window="$4::float8", greatest="GREATEST"
)
RATE_LIMIT_SQL_SQLITE = RATE_LIMIT_SQL.format(
    key="?1", now="?2", step="?3", window="?4", greatest="max"
)


SQL = {
    "postgresql": {
        "mother": MOTHER_SQL.format(
            p1="$1", p2="$2::varchar", flags=flags_on("postgresql", "mother", "m.id")
        ),
        "children": CHILDREN_SQL.format(
            p1="$1", p2="$2::varchar", p3="$3", flags=flags_on("postgresql", "child", "c.id")
        ),
        "bare mother": BARE_MOTHER_SQL.format(
            p1="$1", flags=flags_on("postgresql", "mother", "m.id")
        ),
        "bare children": BARE_CHILDREN_SQL.format(
            p1="$1", p2="$2", flags=flags_on("postgresql", "child", "c.id")
        ),
    },
    "sqlite": {
        "mother": MOTHER_SQL.format(p1="?1", p2="?2", flags=flags_on("sqlite", "mother", "m.id")),
        "children": CHILDREN_SQL.format(
            p1="?1", p2="?2", p3="?3", flags=flags_on("sqlite", "child", "c.id")
        ),
        "bare mother": BARE_MOTHER_SQL.format(p1="?1", flags=flags_on("sqlite", "mother", "m.id")),
        "bare children": BARE_CHILDREN_SQL.format(
            p1="?1", p2="?2", flags=flags_on("sqlite", "child", "c.id")
        ),
    },
}


def _open_flags(row: Any) -> list[dict[str, Any]]:
    """Her open flags, from the JSON text of the row's `open_flags` column."""
    return orjson.loads(row["open_flags"])


def flags_shown(row: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.UUID(f["id"]),
            "reason": f["reason"],
            "raised_at": _flag_time(f["raised_at"]),
            "raised_by": f["raised_by"],
        }
        for f in _open_flags(row)
    ]


def _flag_time(value: str) -> datetime:
    """A flag's raised_at as JSON gave it: ISO with an offset (PostgreSQL) or SQLite's text."""
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def make_store(database_url: str, pool_size: int) -> tuple[str, Any]:
    scheme = urlsplit(database_url).scheme.split("+")[0]
    if scheme in ("postgresql", "postgres"):
        return "postgresql", PostgresStore(
            "postgresql" + database_url[database_url.index(":") :], pool_size
        )
    if scheme == "sqlite":
        return "sqlite", SqliteStore(database_url.removeprefix("sqlite:///"), pool_size)
    raise ValueError(f"unsupported database: {database_url}")


def create_app() -> FastAPI:
    from tac_api.config import Settings

    settings = Settings()
    database_url = settings.database_url
    # tac-api's SQLAlchemy pool may hold pool_size + max_overflow connections: the same here.
    pool_size = settings.database_pool_size + settings.database_max_overflow
    kind, store = make_store(database_url, pool_size)
    mother_sql, children_sql = SQL[kind]["mother"], SQL[kind]["children"]
    bare_mother_sql, bare_children_sql = SQL[kind]["bare mother"], SQL[kind]["bare children"]
    ident, when, day, flag = store.ident, store.when, store.day, store.flag

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(title="tac-api raw-driver floor", lifespan=lifespan)
    # The liaison reads' same-work floors (PostgreSQL), at tac-api's paths.
    from benchmarks.floor_liaison import liaison_router

    app.include_router(liaison_router(store, settings))

    interval = WINDOW / settings.rate_limit_per_minute if settings.rate_limit_per_minute else 0.0

    def read_of(
        request: Request, mother_id: uuid.UUID, shown: Callable[[Any], list[Any]]
    ) -> Read | None:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        token_hash = hashlib.sha256(token.encode()).hexdigest()
        return Read(token_hash, mother_id, uuid.uuid4().hex, interval, shown)

    def refused(caller: Any, rows: Any = None) -> Response:
        if caller is None:
            return problem(
                401, "This token is not valid, or has been revoked.", {"WWW-Authenticate": "Bearer"}
            )
        if rows is RATE_LIMITED:
            return problem(429, "This client has used its requests for now.", {"retry-after": "1"})
        return problem(403, f"The {caller['role']} role may not use this operation.")

    app.state.store = store  # for the floors of other reads (benchmarks/floor_*.py)

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    def her_and_her_children(mother_id: uuid.UUID) -> Callable[[Any], list[Any]]:
        def shown(rows: Any) -> list[Any]:
            if not rows:
                return []
            children = [("child", row["child_id"]) for row in rows if row["child_id"] is not None]
            flags = [("review_flag", uuid.UUID(f["id"])) for f in _open_flags(rows[0])]
            return [("mother", mother_id), *children, *flags]

        return shown

    def her_record(rows: Any) -> tuple[dict[str, Any], str]:
        """The mother's JSON, from her row joined to her children's, and its ETag."""
        today = date.today()
        first = rows[0]
        record = {
            "id": ident(first["id"]),
            "created_at": when(first["created_at"]),
            "updated_at": when(first["updated_at"]),
            "version": first["version"],
            "prison_number": first["prison_number"],
            "first_name": first["first_name"],
            "last_name": first["last_name"],
            "date_of_birth": day(first["date_of_birth"]),
            "prison_code": first["prison_code"],
            "reception_date": day(first["reception_date"]),
            "earliest_release_date": day(first["earliest_release_date"]),
            "status": first["status"],
            "domestic_abuse_history": flag(first["domestic_abuse_history"]),
            "ethnicity": first["ethnicity"],
            "closed_on": day(first["closed_on"]),
            "supported_from": day(first["supported_from"]),
            "released_on": day(first["released_on"]),
            "flags_for_review": flags_shown(first),
            "children": [
                {
                    "id": ident(row["child_id"]),
                    "first_name": row["child_first_name"],
                    "age": age_on(day(row["child_date_of_birth"]), today),
                    "local_authority_code": row["child_local_authority_code"],
                    # The prison side never sees a confidential placement.
                    "lives_with": None
                    if row["child_placement_confidential"]
                    else row["child_lives_with"],
                    "placement_withheld": bool(row["child_placement_confidential"]),
                }
                for row in rows
                if row["child_id"] is not None
            ],
        }
        return record, f'"{first["version"]}"'

    @app.get("/v1/mothers/{mother_id}")
    async def get_mother(mother_id: uuid.UUID, request: Request) -> Response:
        read = read_of(request, mother_id, her_and_her_children(mother_id))
        if read is None:
            return refused(None)
        caller, rows = await store.fetch(read, mother_sql)
        if rows is None or rows is RATE_LIMITED:
            return refused(caller, rows)
        if not rows:
            return problem(404, f"No mother with id {mother_id} is visible to you.")
        record, etag = her_record(rows)
        return json_response(record, {"etag": etag, "x-request-id": read.request_id})

    @app.get("/bare/v1/mothers/{mother_id}")
    async def bare_mother(mother_id: uuid.UUID) -> Response:
        rows = await store.fetch_bare(bare_mother_sql, mother_id)
        if not rows:
            return problem(404, f"No mother with id {mother_id} is visible to you.")
        record, etag = her_record(rows)
        return json_response(record, {"etag": etag})

    def her_children(rows: Any, limit: int, request: Request, headers: dict[str, str]) -> Response:
        """A page of her children (at most `limit` of the limit + 1 rows), with its Link."""
        today = date.today()
        items = []
        for row in rows:
            if row["id"] is None:  # she is visible and has no children
                continue
            born = day(row["date_of_birth"])
            worker = None
            if row["social_worker_name"]:
                worker = {
                    "name": row["social_worker_name"],
                    "email": row["social_worker_email"],
                    "phone": row["social_worker_phone"],
                }
            withheld = bool(row["placement_confidential"])  # never the prison side's to see
            carer = None
            if row["carer_name"] and not withheld:
                carer = {
                    "name": row["carer_name"],
                    "phone": row["carer_phone"],
                    "address": row["carer_address"],
                }
            items.append(
                {
                    "id": ident(row["id"]),
                    "created_at": when(row["created_at"]),
                    "updated_at": when(row["updated_at"]),
                    "version": row["version"],
                    "mother_id": ident(row["mother_id"]),
                    # An authority's own key: the floor's caller is the prison side, never told.
                    "external_id": None,
                    "first_name": row["first_name"],
                    "last_name": row["last_name"],
                    "date_of_birth": born,
                    "expected_date": day(row["expected_date"]),
                    "age": age_on(born, today),
                    "sex": row["sex"],
                    "local_authority_code": row["local_authority_code"],
                    "legal_status": row["legal_status"],
                    "placement_type": None if withheld else row["placement_type"],
                    "lives_with": None if withheld else row["lives_with"],
                    "placement_confidential": withheld,
                    "placement_withheld": withheld,
                    "carer": carer,
                    "social_worker": worker,
                    "contact_arrangement": row["contact_arrangement"],
                    "contact_arrangement_reason": row["contact_arrangement_reason"],
                    "flags_for_review": flags_shown(row),
                }
            )
        next_cursor = None
        if len(items) > limit:
            items = items[:limit]
            last = items[-1]
            next_cursor = encode_cursor((last["id"],))  # the row, by id only, as tac-api
            next_url = request.url.include_query_params(cursor=next_cursor, limit=limit)
            headers["link"] = f'<{next_url}>; rel="next"'
        return json_response({"items": items, "next_cursor": next_cursor}, headers)

    @app.get("/v1/mothers/{mother_id}/children")
    async def list_children(
        mother_id: uuid.UUID,
        request: Request,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Response:
        def shown(rows: Any) -> list[Any]:
            shown = [row for row in rows[:limit] if row["id"] is not None]
            flags = [("review_flag", uuid.UUID(f["id"])) for row in shown for f in _open_flags(row)]
            return [*(("child", row["id"]) for row in shown), *flags]

        read = read_of(request, mother_id, shown)
        if read is None:
            return refused(None)
        caller, rows = await store.fetch(read, children_sql, limit + 1)
        if rows is None or rows is RATE_LIMITED:
            return refused(caller, rows)
        if not rows:
            return problem(404, f"No mother with id {mother_id} is visible to you.")
        return her_children(rows, limit, request, {"x-request-id": read.request_id})

    @app.get("/bare/v1/mothers/{mother_id}/children")
    async def bare_children(
        mother_id: uuid.UUID,
        request: Request,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> Response:
        rows = await store.fetch_bare(bare_children_sql, mother_id, limit + 1)
        if not rows:
            return problem(404, f"No mother with id {mother_id} is visible to you.")
        return her_children(rows, limit, request, {})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    # The same settings as `tac-api serve` (tac_api.cli.serve): one worker, no access log.
    uvicorn.run(
        "benchmarks.floor:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=1,
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
