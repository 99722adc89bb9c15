"""Engine, sessions and the conventions every table shares."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    MetaData,
    Table,
    any_,
    bindparam,
    event,
    insert,
    or_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.base import Executable
from sqlmodel import Field, SQLModel

from tac_api.config import Settings

# Named constraints from the first migration: SQLite's batch mode can only alter what it can name.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata
# PostgreSQL advisory lock key held while the schema or reference data is being changed.
MIGRATION_LOCK = 0x7AC0


def load_models() -> MetaData:
    """The metadata with every table model in it.

    A foreign key names its table by a string, resolved only when something (a flush's ordering,
    Alembic's comparison) needs the table: a process that imported only some models fails there,
    far from the cause. Every entry point (the app, each command, Alembic) calls this first.
    """
    import tac_api.models  # noqa: F401  (every table model, imported for its side effect)

    return metadata


# England's clock: the days a court, the estate's events and its subject access service count by.
UK = ZoneInfo("Europe/London")


def insert_for(session: Any) -> Any:
    """The dialect's INSERT (PostgreSQL's or SQLite's), which has ON CONFLICT DO NOTHING: a
    row that another process may be writing at the same moment is written once."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def utcnow() -> datetime:
    return datetime.now(UTC)


def utctoday() -> date:
    """Today, in UTC: the one clock a day is read by (never the process's local day, nor the
    database's `current_date`, which follows its session's time zone)."""
    return utcnow().date()


class RecordFields(SQLModel):
    """What every record carries: a UUID, UTC timestamps and a version for optimistic locking."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


def touch(record: RecordFields) -> None:
    """Mark a record changed: bump its version (the ETag) and its updated_at."""
    record.version += 1
    record.updated_at = utcnow()


def contains_text(text: str, *columns: Any) -> ColumnElement[bool]:
    """`text` anywhere in any of these columns, whatever its case; its own % and _ are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(*(column.ilike(f"%{escaped}%", escape="\\") for column in columns))


def async_url(database_url: str) -> URL:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async driver ourselves."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database: {backend} (use PostgreSQL or SQLite)")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(
        "PRAGMA foreign_keys=ON"
    )  # SQLite ignores foreign keys unless asked, per connection
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout=5000")  # wait for the writer rather than fail at once
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, and far fewer fsyncs
    cursor.close()


def _unnamed_statement() -> str:
    return ""  # asyncpg's name for PostgreSQL's unnamed statement


class DatabaseUnreachable(ConnectionError):
    """No connection to the database could be opened: refused, reset, host unknown, or no
    answer within TAC_DATABASE_CONNECT_TIMEOUT."""


async def _connect(*args: Any, **kwargs: Any) -> Any:
    """asyncpg's connect, its network failures named as the database's.

    SQLAlchemy passes an OSError from connecting on unwrapped, and an OSError alone cannot say
    whether it came from the database or from a file or another service (a missing file is a
    bug, answered 500): named here, where only the database's connections are opened."""
    try:
        return await asyncpg.connect(*args, **kwargs)
    except OSError as exc:  # TimeoutError (the connect timeout) is one too
        raise DatabaseUnreachable(f"cannot connect to the database ({type(exc).__name__})") from exc


def _closed_by_the_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """On checkout: a pooled connection the server has closed (a restart ends every session)
    is replaced, and with it every connection pooled before now, rather than handed to a
    request that would fail on it. asyncpg saw the server's goodbye as it came, so this asks
    no round trip of the database, as `pool_pre_ping` would on every checkout."""
    if dbapi_connection._connection.is_closed():
        raise InvalidatePoolError("closed by the database server")


# The kinds of error `unavailable` looks into (tac_api.errors hands these to it): connecting
# (DatabaseUnreachable is an OSError), SQLAlchemy (its pool's timeout, the driver's errors it
# wraps) and asyncpg's own, from the hot reads and bulk writes on the driver's connection.
DATABASE_ERRORS = (
    OSError,
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)
# SQLSTATEs of a server that cannot serve now: its connection failed or was lost (class 08),
# it is shutting down or starting up (57P01 to 57P03), or it has no connection left (53300).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def unavailable(exc: BaseException) -> bool:
    """Whether an error says the database cannot be used now (down, restarting, unreachable,
    every pooled connection busy) rather than that a statement or the code is wrong.

    What answers 503 with Retry-After instead of 500 (tac_api.errors). Followed through the
    errors it wraps: SQLAlchemy's `orig`, and the driver's own error its adapter was raised
    from (`__cause__`); never through `__context__`, so a bug met while handling a lost
    connection is still a bug."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, DatabaseUnreachable | PoolTimeout):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True  # SQLAlchemy's dialect saw the connection go (and dropped the pool)
        state = getattr(error, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        # A pooled connection used after the server closed it, on the driver straight (fetch_rows):
        # asyncpg says so in words only; SQLAlchemy's own test for a disconnect reads the same.
        if isinstance(error, asyncpg.InterfaceError) and "connection is closed" in str(error):
            return True
        # asyncpg's protocol broken by a message it did not ask for: the server's goodbye
        # (57P01 as it shuts down) read before the connection's end was. Misusing a connection
        # (two queries on it at once) is an InterfaceError, not this.
        if isinstance(error, asyncpg.InternalClientError):
            return True
        pending += [getattr(error, "orig", None), error.__cause__]
    return False


def make_engine(settings: Settings, *, pool: bool = True, autocommit: bool = False) -> AsyncEngine:
    """An engine; `autocommit` for the API's own, whose reads need no transaction."""
    url = async_url(settings.database_url)
    # hide_parameters: a failed statement's message must not carry personal values into logs.
    kwargs: dict[str, Any] = {"echo": settings.sql_echo, "hide_parameters": True}
    if autocommit:
        kwargs["isolation_level"] = "AUTOCOMMIT"
    if url.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 5}
        if url.database and url.database != ":memory:":
            from pathlib import Path

            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {
            "timeout": settings.database_connect_timeout,
            # How SQLAlchemy's asyncpg dialect takes a connect function of one's own.
            "async_creator_fn": _connect,
        }
    if url.get_backend_name() == "postgresql" and not settings.database_statement_cache:
        kwargs["connect_args"] |= {
            # asyncpg's own cache, used by the hot reads that call the driver directly: with
            # none, each query is parsed as the unnamed statement, which lives until the next.
            "statement_cache_size": 0,
            # SQLAlchemy's: it still prepares each statement (to learn its result's types), but
            # as the unnamed one, which asyncpg then parses again in the same message as it is
            # run: the pooler may hand the next transaction another server connection, where a
            # named statement would not exist (or a type lookup in between would release it).
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unnamed_statement,
        }
    if pool and url.database not in (None, "", ":memory:"):  # one in-memory database, no pool
        # Here, not at the top: importing the figures makes prometheus-client choose where it
        # counts (PROMETHEUS_MULTIPROC_DIR), which `tac-api` decides first (cli.counting_mode).
        from tac_api.metrics.figures import MeteredPool

        kwargs.update(
            # SQLAlchemy's pool for asyncio, counting connections in use and waits (/metrics).
            poolclass=MeteredPool,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout,
        )
    if not pool:
        kwargs["poolclass"] = NullPool
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if url.get_backend_name() == "postgresql":
        event.listen(engine.sync_engine, "checkout", _closed_by_the_server)
    return engine


def transactional(engine: AsyncEngine) -> AsyncEngine:
    """The same pool, with each connection in a real transaction while it is checked out.

    The API's engine is autocommit, so that a GET sends no BEGIN and no COMMIT and its connection
    needs no isolation level set and reset on every checkout; writes, far fewer, pay that instead.
    """
    level = "SERIALIZABLE" if engine.dialect.name == "sqlite" else "READ COMMITTED"
    return engine.execution_options(isolation_level=level)


READ_ONLY = "read_only"  # session.info key: an autocommit session that never commits
DRIVER_CONNECTION = "driver_connection"
# session.info key: the id of the request the session serves (the X-Request-ID it answers with),
# for records that say which request made them.
REQUEST_ID = "request_id"


def sessionmaker_for(
    engine: AsyncEngine, *, read_only: bool = False
) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        engine,
        class_=AsyncSession,
        expire_on_commit=False,
        autoflush=False,
        info={READ_ONLY: True} if read_only else None,
    )


# Statement (kept alive here, so its id is never reused) -> SQL and parameter order for the driver.
_DRIVER_SQL: dict[int, tuple[Executable, str, tuple[str, ...]]] = {}


async def driver_connection(session: AsyncSession) -> Any | None:
    """The asyncpg connection under a read-only PostgreSQL session, or None.

    Only outside transactions: a read session keeps one connection until it closes, so the
    driver connection can be used directly for the rest of the request.
    """
    driver = session.info.get(DRIVER_CONNECTION)
    if driver is None:
        connection = await session.connection()
        if connection.dialect.name != "postgresql" or not session.info.get(READ_ONLY):
            return None
        # The checked-out DBAPI connection, read without a trip through the greenlet bridge.
        driver = connection.sync_connection.connection.driver_connection  # type: ignore[union-attr]
        session.info[DRIVER_CONNECTION] = driver  # for the request's next hot read
    return driver


async def fetch_rows(
    session: AsyncSession, statement: Executable, params: dict[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """The rows of a read statement, as mappings, on the request's connection.

    For the hottest reads only, with statements built once (per role) rather than per request.
    On PostgreSQL the statement is compiled once and then run on the asyncpg connection itself:
    SQLAlchemy's per-execution work costs as much CPU as the query does. The statement is still
    SQLAlchemy's, so scoping stays in one place; elsewhere it runs through SQLAlchemy as usual.
    """
    driver = await driver_connection(session)
    if driver is None:
        connection = await session.connection()
        return (await connection.execute(statement, params)).mappings().all()
    compiled = _DRIVER_SQL.get(id(statement))
    if compiled is None:
        sql = statement.compile(dialect=session.get_bind().dialect)
        compiled = (statement, sql.string, tuple(sql.positiontup or ()))
        _DRIVER_SQL[id(statement)] = compiled
    _, sql_text, names = compiled
    return await driver.fetch(sql_text, *(params[name] for name in names))


async def transaction_driver(session: AsyncSession) -> Any | None:
    """The asyncpg connection under a PostgreSQL write session whose transaction has begun, or
    None (SQLite, or nothing sent yet: SQLAlchemy must send the BEGIN).

    For writing many rows at once (a sync batch, its audit rows): SQLAlchemy's per-row parameter
    work costs more than the database's. What is sent on it is part of the session's transaction.
    """
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return None
    fairy = await connection.get_raw_connection()
    if getattr(fairy.dbapi_connection, "_transaction", None) is None:
        return None
    return fairy.driver_connection


def among(session: AsyncSession, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`: on PostgreSQL one array parameter, however many values (a thousand
    bound parameters cost more to render and send than the query costs to run)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def _array_types(table: Table, names: Sequence[str], dialect: Any) -> list[str]:
    return [f"{table.c[name].type.compile(dialect=dialect)}[]" for name in names]


def _column_values(table: Table, name: str, rows: list[dict[str, Any]]) -> list[Any]:
    """One column's values, as the driver takes them: asyncpg takes JSON as its text."""
    if isinstance(table.c[name].type, JSON):
        return [None if row[name] is None else orjson.dumps(row[name]).decode() for row in rows]
    return [row[name] for row in rows]


async def bulk_insert(
    session: AsyncSession,
    table: Table,
    rows: list[dict[str, Any]],
    same: Mapping[str, Any] | None = None,
) -> None:
    """Insert rows (dicts with the same keys) in one statement: arrays unnested on PostgreSQL.

    `same`: the columns every row has alike (who wrote them, when), sent once rather than as
    arrays of a thousand copies, whose encoding and unnesting cost as much as the rest; a row's
    own value for such a column is not used."""
    if not rows:
        return
    same = same or {}
    driver = await transaction_driver(session)
    if driver is None:
        await session.execute(insert(table), [{**row, **same} for row in rows])
        return
    # Table and column names come from our own metadata, never from input.
    names = [name for name in rows[0] if name not in same]
    dialect = session.get_bind().dialect
    types = _array_types(table, names, dialect)
    arrays = ", ".join(f"${n}::{t}" for n, t in enumerate(types, start=1))
    once = [
        f"${n}::{table.c[name].type.compile(dialect=dialect)}"
        for n, name in enumerate(same, start=len(names) + 1)
    ]
    await driver.execute(
        f"INSERT INTO {table.name} ({', '.join([*names, *same])}) "
        f"SELECT {', '.join(['*', *once])} FROM unnest({arrays})",
        *(_column_values(table, name, rows) for name in names),
        *(_column_values(table, name, [same])[0] for name in same),
    )


async def bulk_update(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], columns: Sequence[str]
) -> None:
    """Set `columns` of each row, found by its id, in one statement (arrays on PostgreSQL)."""
    if not rows:
        return
    driver = await transaction_driver(session)
    if driver is None:
        statement = (
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        await session.execute(
            statement,
            [{"row_id": row["id"], **{f"new_{n}": row[n] for n in columns}} for row in rows],
        )
        return
    names = ["id", *columns]
    types = _array_types(table, names, session.get_bind().dialect)
    arrays = ", ".join(f"${n}::{t}" for n, t in enumerate(types, start=1))
    assignments = ", ".join(f"{name} = changed.{name}" for name in columns)
    await driver.execute(
        f"UPDATE {table.name} SET {assignments} "
        f"FROM unnest({arrays}) AS changed({', '.join(names)}) "
        f"WHERE {table.name}.id = changed.id",
        *(_column_values(table, name, rows) for name in names),
    )
