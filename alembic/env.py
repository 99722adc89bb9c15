"""Migrations run on the same async drivers as the service, on SQLite and PostgreSQL alike."""

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from tac_api.config import get_settings
from tac_api.db import MIGRATION_LOCK, load_models, make_engine

metadata = load_models()  # every table, or autogenerate sees none

config = context.config


def _database_url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _configure(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        _migrate(connection)
        return
    # SQLite alters a table by copying it and dropping the old one, and with foreign keys on,
    # DROP TABLE first deletes its rows: ON DELETE CASCADE would empty every table referring to
    # it (a hearing's amendments with the hearing). Off for the migration (only outside a
    # transaction does SQLite take it), checked after, and on again.
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    try:
        _migrate(connection)
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"the migration left {len(broken)} rows naming rows not there")
    finally:
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Several API containers may start at once: one migrates, the others wait here.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_online() -> None:
    from tac_api.config import Settings

    engine = make_engine(Settings(database_url=_database_url()), pool=False)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def run_migrations_online() -> None:
    connection: Any = config.attributes.get("connection")
    if connection is not None:  # called from inside a running event loop (see tac_api.migrations)
        _configure(connection)
    else:
        asyncio.run(_run_online())


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
