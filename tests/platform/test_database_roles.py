"""The API's own PostgreSQL role, as docker-compose.yml sets it up: the schema's owner migrates
and grants; the API connects as a role that may add audit rows and read them, and nothing else
on that table, so not even the API's own credentials can rewrite the trail or drop its
triggers."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client
from tac_api.config import Settings
from tac_api.db import make_engine
from tac_api.main import create_app
from tac_api.migrations import RoleRefused, grant_api_role, upgrade
from tests.support.bodies import mother_body
from tests.support.databases import (
    POSTGRES_URL,
    drop_postgres_database,
    load_reference_into,
    new_postgres_database,
    run,
    run_as_server_admin,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="database roles are PostgreSQL's"),
]

TAC_API = str(Path(sys.executable).with_name("tac-api"))
TAMPERING = [
    "UPDATE audit_event SET outcome = 'failed'",
    "DELETE FROM audit_event",
    "TRUNCATE audit_event",
    "ALTER TABLE audit_event ADD COLUMN note text",
    "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update_or_delete",
    "ALTER TABLE audit_event DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_event_no_truncate ON audit_event",
    "DROP TABLE audit_event",
    "UPDATE published_figure SET value = 0",
    "DELETE FROM published_figure",
]


@pytest.fixture(scope="module")
def roles() -> Iterator[tuple[str, str]]:
    """A database owned by a role of its own (not a superuser), migrated by it, and the API's
    role granted by it: the URLs of the owner and of the API."""
    suffix = uuid.uuid4().hex[:8]
    owner, api = f"tac_owner_{suffix}", f"tac_api_{suffix}"
    run(run_as_server_admin(f"CREATE ROLE {owner} LOGIN"))
    run(run_as_server_admin(f"CREATE ROLE {api} LOGIN"))
    url = new_postgres_database()
    name = make_url(url).database
    run(run_as_server_admin(f'ALTER DATABASE "{name}" OWNER TO {owner}'))
    try:
        as_owner = make_url(url).set(username=owner).render_as_string(hide_password=False)
        as_api = make_url(url).set(username=api).render_as_string(hide_password=False)
        # The public schema belongs to the database's owner (PostgreSQL 15 and later).
        upgrade(as_owner)
        run(load_reference_into(as_owner))
        done = subprocess.run(
            [TAC_API, "db", "grant", "--role", api],
            env={**os.environ, "TAC_DATABASE_URL": as_owner},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "(audit_event, published_figure: SELECT, INSERT)" in done.stdout
        yield as_owner, as_api
    finally:
        drop_postgres_database(url)
        run(run_as_server_admin(f"DROP ROLE IF EXISTS {api}"))
        run(run_as_server_admin(f"DROP ROLE IF EXISTS {owner}"))


async def _attempt(url: str, statement: str) -> None:
    parts = make_url(url)
    connection = await asyncpg.connect(
        host=parts.host, port=parts.port or 5432, user=parts.username, database=parts.database
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_apis_role_cannot_change_the_audit_trail_or_a_published_figure(
    roles: tuple[str, str], statement: str
) -> None:
    _, as_api = roles
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        run(_attempt(as_api, statement))


def test_the_api_works_as_its_role(roles: tuple[str, str], tmp_path: Path) -> None:
    """Everything the API does at run time (writes and their audit rows, reads and theirs, the
    change feed's lock, rate limits, a report's temporary table, readiness) needs no more."""
    as_owner, as_api = roles
    app = create_app(Settings(database_url=as_api))
    with TestClient(app) as client:

        async def admin_token() -> str:
            async with app.state.sessionmaker() as session, session.begin():
                _, token = await create_client(session, name="admin", role=Role.admin)
            return token

        headers = {"Authorization": f"Bearer {client.portal.call(admin_token)}"}  # type: ignore[union-attr]
        assert client.get("/health/ready").status_code == 200
        created = client.post("/v1/mothers", json=mother_body(), headers=headers)
        assert created.status_code == 201, created.text
        assert client.get("/v1/mothers", headers=headers).status_code == 200
        report = client.get(
            "/v1/reports/governor",
            params={"prison_code": "EWI", "from": "2026-01-01", "to": "2026-03-31"},
            headers=headers,
        )
        assert report.status_code == 200, report.text

    async def audit_rows() -> list[Any]:
        parts = make_url(as_owner)
        connection = await asyncpg.connect(
            host=parts.host, port=parts.port or 5432, user=parts.username, database=parts.database
        )
        try:
            return await connection.fetch("SELECT action, resource_type FROM audit_event")
        finally:
            await connection.close()

    written = {(row["action"], row["resource_type"]) for row in run(audit_rows())}
    assert {("collect", "mother"), ("consult", "mother")} <= written

    # Retention erases cases and writes their audit rows: the API's role may run it too.
    done = subprocess.run(
        [TAC_API, "retention", "run", "--apply"],
        env={**os.environ, "TAC_DATABASE_URL": as_api},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_grant_refuses_a_role_that_could_drop_the_triggers(roles: tuple[str, str]) -> None:
    as_owner, _ = roles
    owner = make_url(as_owner).username
    assert owner

    async def grant(role: str) -> int:
        engine = make_engine(Settings(database_url=as_owner), pool=False)
        try:
            return await grant_api_role(engine, role)
        finally:
            await engine.dispose()

    with pytest.raises(RoleRefused, match="owns the schema"):
        run(grant(owner))
    with pytest.raises(RoleRefused, match="owns the schema"):
        run(grant("postgres"))  # a superuser
    with pytest.raises(RoleRefused, match="there is no role"):
        run(grant(f"nobody_{uuid.uuid4().hex[:8]}"))
