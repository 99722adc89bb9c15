"""TAC_DATABASE_STATEMENT_CACHE=false: no prepared statement outlives its query, so the API can sit
behind a transaction-pooling PgBouncer (which hands each transaction any server connection)."""

from typing import Any

import pytest
from sqlalchemy import text

from tac_api.config import Settings
from tac_api.db import make_engine
from tests.support.databases import POSTGRES_URL, run

# The hot reads call asyncpg directly (tac_api.db.fetch_rows): its statement cache is what counts.
QUERY = "SELECT $1::int + 1"
PREPARED = "SELECT name FROM pg_prepared_statements"


async def _prepared_after_reads(url: str, statement_cache: bool) -> list[str]:
    """The named statements a connection holds after the same query twice, by both paths."""
    engine = make_engine(Settings(database_url=url, database_statement_cache=statement_cache))
    try:
        async with engine.connect() as connection:
            for _ in range(2):
                await connection.execute(text("SELECT 1"))  # through SQLAlchemy
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            for number in range(2):
                assert await driver.fetchval(QUERY, number) == number + 1  # the driver itself
            return [row["name"] for row in await driver.fetch(PREPARED)]
    finally:
        await engine.dispose()


def test_the_statement_cache_is_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAC_DATABASE_STATEMENT_CACHE", raising=False)
    assert Settings().database_statement_cache is True
    monkeypatch.setenv("TAC_DATABASE_STATEMENT_CACHE", "false")
    assert Settings().database_statement_cache is False


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="needs TAC_TEST_POSTGRES_URL")
def test_without_the_cache_no_statement_is_kept_by_name(make_database: Any) -> None:
    url = make_database("postgres")
    kept = run(_prepared_after_reads(url, statement_cache=True))
    assert any(name.startswith("__asyncpg_stmt_") for name in kept)  # asyncpg's cache, named

    # Only the unnamed statement, parsed again with each query: through PgBouncer, the next
    # query may run on another server connection, where no name would be known.
    assert run(_prepared_after_reads(url, statement_cache=False)) == []


def test_sqlite_ignores_the_setting(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'tac.db'}"
    engine = make_engine(Settings(database_url=url, database_statement_cache=False))

    async def one() -> int:
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text("SELECT 1"))).scalar_one()
        finally:
            await engine.dispose()

    assert run(one()) == 1
