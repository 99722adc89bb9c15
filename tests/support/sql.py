"""Looking at the database below the API: row counts, ids as stored, statements sent."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event

from tests.support.api import Api


def count(api: Api, table: str) -> int:
    return api.sql(f"SELECT count(*) FROM {table}")[0][0]


def db_id(api: Api, value: str) -> Any:
    """An id as the database stores it: SQLite keeps UUIDs as 32 hex characters."""
    return uuid.UUID(value) if api.database_url.startswith("postgresql") else uuid.UUID(value).hex


@contextmanager
def counting(api: Api) -> Iterator[list[str]]:
    """Every statement sent: through SQLAlchemy, and straight to asyncpg (db.fetch_rows)."""
    statements: list[str] = []
    engine = api.client.app.state.engine.sync_engine  # type: ignore[attr-defined]

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    driver_fetch, driver_execute = asyncpg.Connection.fetch, asyncpg.Connection.execute
    driver_fetchval = asyncpg.Connection.fetchval

    async def fetch(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        statements.append(query)
        return await driver_fetch(self, query, *args, **kwargs)

    async def execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        statements.append(query)
        return await driver_execute(self, query, *args, **kwargs)

    async def fetchval(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        statements.append(query)
        return await driver_fetchval(self, query, *args, **kwargs)

    event.listen(engine, "before_cursor_execute", record)
    asyncpg.Connection.fetch = fetch  # type: ignore[method-assign]
    asyncpg.Connection.execute = execute  # type: ignore[method-assign]
    asyncpg.Connection.fetchval = fetchval  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
        asyncpg.Connection.fetch = driver_fetch  # type: ignore[method-assign]
        asyncpg.Connection.execute = driver_execute  # type: ignore[method-assign]
        asyncpg.Connection.fetchval = driver_fetchval  # type: ignore[method-assign]


def statements(api: Api, sqlite: int, postgres: int) -> int:
    """A request's statement count on this test's database. On PostgreSQL admission (the token
    and the rate limit) is one statement, and a read built on `show_visible` / `page_shown`
    writes its own audit rows (see README, "Reads in two round trips"); SQLite has no
    data-modifying CTEs, so there each is a statement of its own."""
    return postgres if api.database_url.startswith("postgresql") else sqlite
