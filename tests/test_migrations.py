"""Migrations make the schema on both databases, agree with the models, and reverse cleanly."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tac_api.config import Settings
from tac_api.db import make_engine, metadata
from tac_api.migrations import downgrade, upgrade
from tests.conftest import backends, run


async def _inspect(url: str, work):  # type: ignore[no-untyped-def]
    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def differences(url: str) -> list:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, metadata)

    return run(_inspect(url, diff))


def tables(url: str) -> set[str]:
    return set(run(_inspect(url, lambda c: inspect(c).get_table_names())))


@pytest.mark.parametrize("backend", backends())
def test_upgrade_matches_models_downgrade_and_upgrade_again(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database(backend)
    upgrade(url)
    assert differences(url) == []
    assert {"mother", "child", "api_client", "local_authority"} <= tables(url)
    downgrade(url, "base")
    assert tables(url) <= {"alembic_version"}
    upgrade(url)
    assert differences(url) == []


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"

    def pragmas(connection):  # type: ignore[no-untyped-def]
        return {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("foreign_keys", "journal_mode", "busy_timeout")
        }

    assert run(_inspect(url, pragmas)) == {
        "foreign_keys": 1,
        "journal_mode": "wal",
        "busy_timeout": 5000,
    }
