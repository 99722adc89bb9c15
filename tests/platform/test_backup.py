"""Backup and restore, as README's Deploying section tells an operator to do it: `pg_dump` in its
custom format of a database the service filled (as docker-compose.yml runs it: the schema's
owner migrates and grants, the API connects as a role of its own), `pg_restore` into a fresh
database, `tac-api db grant` there; the service on the restored database answers the same, its
audit trail is the same row for row and still append-only, and it carries on writing."""

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from tac_api.config import Settings
from tac_api.main import create_app
from tac_api.migrations import upgrade
from tests.support.api import Api
from tests.support.bodies import BATCH, batch_item, communication_body
from tests.support.databases import (
    POSTGRES_URL,
    drop_postgres_database,
    load_reference_into,
    new_postgres_database,
    query,
    run,
    run_as_server_admin,
)
from tests.support.postgres_server import server_bin
from tests.support.processes import make_tokens, run_tac_api
from tests.support.world import linked_mother

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="pg_dump and pg_restore are PostgreSQL's"),
]

FEED = "/v1/sync/changes"
EVERY_AUDIT_ROW = "SELECT * FROM audit_event ORDER BY id"


@dataclass
class Roles:
    owner: str
    api: str


@dataclass
class Database:
    """One database, owned by the schema's owner: its URL as the owner and as the API's role."""

    as_owner: str
    as_api: str


@pytest.fixture
def roles() -> Iterator[Roles]:
    suffix = uuid.uuid4().hex[:8]
    made = Roles(owner=f"tac_owner_{suffix}", api=f"tac_api_{suffix}")
    for role in (made.owner, made.api):
        run(run_as_server_admin(f"CREATE ROLE {role} LOGIN"))
    try:
        yield made
    finally:
        for role in (made.api, made.owner):
            # What the role was granted in databases dropped since is gone with them.
            run(run_as_server_admin(f"DROP ROLE IF EXISTS {role}"))


@pytest.fixture
def databases(roles: Roles) -> Iterator[Any]:
    """A factory of empty databases owned by the schema's owner; dropped at the end."""
    made: list[str] = []

    def make() -> Database:
        url = new_postgres_database()
        made.append(url)
        run(
            run_as_server_admin(f'ALTER DATABASE "{make_url(url).database}" OWNER TO {roles.owner}')
        )
        parts = make_url(url)
        return Database(
            as_owner=parts.set(username=roles.owner).render_as_string(hide_password=False),
            as_api=parts.set(username=roles.api).render_as_string(hide_password=False),
        )

    try:
        yield make
    finally:
        for url in made:
            drop_postgres_database(url)


def tool(argv: list[str]) -> str:
    done = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def libpq(url: str) -> str:
    """The URL as libpq (pg_dump, pg_restore) takes it."""
    return make_url(url).render_as_string(hide_password=False).replace("+asyncpg", "")


def grant(database: Database, role: str) -> None:
    tool_env = {**os.environ, "TAC_DATABASE_URL": database.as_owner}
    done = run_tac_api("db", "grant", "--role", role, env=tool_env)
    assert done.returncode == 0, done.stdout + done.stderr


def fill(api: Api) -> list[tuple[str, str]]:
    """Records of several kinds, made and changed through the API by the people who would:
    (who, path) of each thing to read back."""
    mother = linked_mother(api)  # with an older child in Bristol, so Bristol's feed tells
    mother_path = f"/v1/mothers/{mother['id']}"
    moved = api.patch("admin", mother_path, {"earliest_release_date": "2027-01-04"}, '"1"')
    assert moved.status_code == 200, moved.text
    child = api.child(mother["id"], first_name="Cerys", date_of_birth="2019-05-06")
    child_path = f"/v1/children/{child['id']}"
    changed = api.patch("admin", child_path, {"lives_with": "kinship_carer"}, '"1"')
    assert changed.status_code == 200, changed.text
    relayed = api.post(
        "ewi_worker", f"{mother_path}/communications", communication_body(child_ids=[child["id"]])
    )
    assert relayed.status_code == 201, relayed.text
    solicitor = api.post(
        "admin", "/v1/practitioners", {"role": "solicitor", "name": "Máire Ní Bhriain"}
    )
    assert solicitor.status_code == 201, solicitor.text
    # Bristol's system pushes its children: one for her, one for a mother nobody knows (held
    # as a link request).
    items = [batch_item(mother["prison_number"], "BR-1"), batch_item("Z9999ZZ", "BR-2")]
    pushed = api.post("bristol_system", BATCH, {"items": items})
    assert pushed.status_code == 200, pushed.text
    return [
        ("admin", mother_path),
        ("admin", f"{mother_path}/children"),
        ("admin", child_path),
        ("ewi_worker", f"/v1/communications/{relayed.json()['id']}"),
        ("admin", f"/v1/practitioners/{solicitor.json()['id']}"),
        ("admin", "/v1/mothers"),
        ("bristol_system", FEED),
        ("admin", "/v1/link-requests"),
    ]


def answers(api: Api, reads: list[tuple[str, str]]) -> dict[str, Any]:
    found = {}
    for who, path in reads:
        response = api.get(who, path)
        assert response.status_code == 200, f"{path}: {response.text}"
        found[path] = (response.json(), response.headers.get("ETag"))
    return found


def audit_answer(api: Api) -> list[dict[str, Any]]:
    """The whole trail as an auditor reads it, page by page."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200}
    while True:
        page = api.get("auditor", "/v1/audit", params=params)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if page.json()["next_cursor"] is None:
            return items
        params["cursor"] = page.json()["next_cursor"]


@contextmanager
def serving(url: str, tokens: dict[str, str]) -> Iterator[Api]:
    app = create_app(Settings(database_url=url, rate_limit_per_minute=1_000_000))
    with TestClient(app) as client:
        yield Api(client, tokens, url)


def test_a_restored_dump_serves_the_same_records_and_the_same_audit_trail(
    roles: Roles, databases: Any, tmp_path: Path
) -> None:
    original = databases()
    upgrade(original.as_owner)
    run(load_reference_into(original.as_owner))
    grant(original, roles.api)
    tokens = make_tokens(original.as_api)

    with serving(original.as_api, tokens) as api:
        reads = fill(api)
        before = answers(api, reads)
        trail_read = audit_answer(api)
    trail = query(original.as_owner, EVERY_AUDIT_ROW)
    assert {row["resource_type"] for row in trail} >= {"mother", "child", "communication"}

    # The procedure README gives, as the schema's owner (the API's role cannot read the schema's
    # definition of what it was not granted, nor create anything).
    dump = tmp_path / "tac.dump"
    tool([server_bin("pg_dump"), "--format=custom", f"--file={dump}", libpq(original.as_owner)])
    restored = databases()
    tool(
        [
            server_bin("pg_restore"),
            "--no-owner",
            "--no-acl",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={libpq(restored.as_owner)}",
            str(dump),
        ]
    )
    grant(restored, roles.api)

    # The trail, row for row, before the service has read anything there.
    assert query(restored.as_owner, EVERY_AUDIT_ROW) == trail
    with serving(restored.as_api, tokens) as api:
        assert api.client.get("/health/ready").status_code == 200  # the schema is current
        assert answers(api, reads) == before
        # As an auditor reads it: everything there was, then what reading it here added.
        assert audit_answer(api)[: len(trail_read)] == trail_read

        # It carries on: a new record, its audit row after the restored ones, and the feed's
        # next position after the last restored one (the sequences came with the data).
        feed = api.get("bristol_system", FEED).json()
        mother_id = before["/v1/mothers"][0]["items"][0]["id"]
        moved = api.patch(
            "admin", f"/v1/mothers/{mother_id}", {"earliest_release_date": "2027-02-01"}, '"2"'
        )
        assert moved.status_code == 200, moved.text
        later = api.get("bristol_system", FEED, params={"after": feed["next_cursor"]}).json()
        assert [e["type"] for e in later["items"]] == ["mother.release-date-changed"]
    added = [row for row in query(restored.as_owner, EVERY_AUDIT_ROW) if row not in trail]
    assert all(row["id"] > trail[-1]["id"] for row in added)
    assert [row["resource_id"] for row in added if row["action"] == "alter"] == [
        uuid.UUID(mother_id)
    ]

    # Still append-only: the triggers came with the table, and refuse even its owner.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        query(restored.as_owner, "UPDATE audit_event SET outcome = 'failed' RETURNING id")
