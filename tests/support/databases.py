"""Test databases of either kind: made, filled with reference data, dropped."""

import asyncio
import os
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tac_api.config import Settings
from tac_api.db import make_engine, sessionmaker_for
from tac_api.reference.service import load_reference_data

POSTGRES_URL = os.environ.get("TAC_TEST_POSTGRES_URL")
# A transaction-pooling PgBouncer in front of POSTGRES_URL's server (tests/platform/
# test_pgbouncer.py runs tests with it): the service under test, and every check a test makes on
# its database, then go through it; databases are still made, migrated and dropped directly.
POOLER_URL = os.environ.get("TAC_TEST_POOLER_URL")


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def load_reference_into(url: str) -> None:
    engine = make_engine(Settings(database_url=url), pool=False)
    async with sessionmaker_for(engine)() as session, session.begin():
        await load_reference_data(session)
    await engine.dispose()


async def run_as_server_admin(statement: str) -> None:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def new_postgres_database() -> str:
    """A database of our own on the test server, so tests never touch anything else."""
    assert POSTGRES_URL
    name = f"tac_test_{uuid.uuid4().hex[:12]}"
    try:
        run(run_as_server_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"cannot reach PostgreSQL at TAC_TEST_POSTGRES_URL: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a PostgreSQL run that cannot connect is a failure
        pytest.skip(message)
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def served(url: str) -> str:
    """How the service under test reaches a PostgreSQL database: through the pooler if there
    is one (the same database by name), directly otherwise."""
    if not POOLER_URL or not url.startswith("postgresql"):
        return url
    pooler = make_url(POOLER_URL)
    return (
        make_url(url).set(host=pooler.host, port=pooler.port).render_as_string(hide_password=False)
    )


def query(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Read or change a PostgreSQL database directly (any driver in `url`), on a connection of
    its own: as the service left it, never through the service's pool."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def fetch() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(dsn)
        try:
            return await connection.fetch(sql, *args)
        finally:
            await connection.close()

    return run(fetch())


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    run(run_as_server_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def backends() -> list[Any]:
    skip = pytest.mark.skip(reason="PostgreSQL tests need TAC_TEST_POSTGRES_URL (set by .ci/run)")
    return [
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres, *([] if POSTGRES_URL else [skip])]),
    ]
