"""Alembic, driven from code: `tac-api db upgrade` and the tests use these; whether a database's
schema is the one this code needs; and what the API's own database role may do."""

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_BEHIND = "the database schema is behind this version: run `tac-api db upgrade`"
# Rows the API may add and read but never change: the accountability trail.
# The audit trail, and the reports' figures as first published (reports.published): the API
# adds to them and never alters one.
APPEND_ONLY = frozenset({"audit_event", "published_figure"})
VERSION_TABLE = "alembic_version"  # the API reads it to know its schema is ready, nothing more


class SchemaBehind(Exception):
    """The database was never migrated, or not to this code's head revision."""

    def __init__(self) -> None:
        super().__init__(SCHEMA_BEHIND)


class RoleRefused(Exception):
    """The role named for the API cannot be given the API's privileges, or must not be."""


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


@cache
def _scripts() -> ScriptDirectory:
    """This code's migrations, read once per process."""
    return ScriptDirectory.from_config(alembic_config(""))


def _applied_heads(connection: Connection) -> tuple[str, ...]:
    """Alembic's record of the database's revisions (read directly: Alembic's own reader logs
    at every call, and readiness asks often)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return ()
    return tuple(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def schema_behind(connection: Connection) -> bool:
    """Whether this code's migrations are not all applied: never migrated, or migrated by an
    older release. A revision this code does not know is not behind: a newer release migrated
    it (a rolling upgrade), and its migrations only add to what this code uses."""
    current = _applied_heads(connection)
    if not current:
        return True
    scripts = _scripts()
    try:
        applied = {
            revision.revision
            for revision in scripts.revision_map.iterate_revisions(current, "base")
            if revision is not None
        }
    except RevisionError:  # a revision from a newer release
        return False
    return not set(scripts.get_heads()) <= applied


async def require_current_schema(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        if await connection.run_sync(schema_behind):
            raise SchemaBehind


def _grant_statements(connection: Connection, role: str) -> list[str]:
    """What the API's role may do on each table of the schema, and nothing more."""
    quote = connection.dialect.identifier_preparer.quote
    who = quote(role)
    found = connection.execute(
        text(
            "SELECT rolsuper, pg_has_role(:role, pg_get_userbyid(n.nspowner), 'MEMBER') "
            "FROM pg_roles, pg_namespace n WHERE rolname = :role AND n.nspname = current_schema()"
        ),
        {"role": role},
    ).one_or_none()
    if found is None:
        raise RoleRefused(f"there is no role {role}: create it first (CREATE ROLE ... LOGIN)")
    superuser, owner = found
    if superuser or owner:
        # Either could drop the audit trail's triggers, whatever it is granted.
        raise RoleRefused(
            f"{role} is a superuser or owns the schema: the API needs a role of its own"
        )
    statements = [f"GRANT USAGE ON SCHEMA {quote(connection.dialect.default_schema_name)} TO {who}"]
    for table in sorted(inspect(connection).get_table_names()):
        name = quote(table)
        if table == VERSION_TABLE:
            allowed = "SELECT"
        elif table in APPEND_ONLY:
            allowed = "SELECT, INSERT"
        else:
            allowed = "SELECT, INSERT, UPDATE, DELETE"
        # Revoked first, so that running it again also takes back what is no longer allowed.
        statements += [f"REVOKE ALL ON {name} FROM {who}", f"GRANT {allowed} ON {name} TO {who}"]
    schema = quote(connection.dialect.default_schema_name)
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}")
    return statements


async def grant_api_role(engine: AsyncEngine, role: str) -> int:
    """Give the API's role what it needs on every table (PostgreSQL), as the schema's owner.
    Run after every `db upgrade`: a new table grants nothing by itself. Returns the tables."""
    if engine.dialect.name != "postgresql":
        raise RoleRefused("database roles are PostgreSQL's: SQLite has none")
    async with engine.begin() as connection:
        statements = await connection.run_sync(_grant_statements, role)
        for statement in statements:
            await connection.execute(text(statement))
    return sum(statement.startswith("GRANT SELECT") for statement in statements)
