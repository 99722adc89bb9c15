"""The service behind Debian's PgBouncer 1.18 in transaction pooling mode, with the connection
settings README's Deploying section gives for it (TAC_DATABASE_STATEMENT_CACHE=false).

The sync, idempotency, change-feed and report tests are run again, on PostgreSQL, in a pytest of
their own whose service (and every check they make on its database) connects through the pooler
(TAC_TEST_POOLER_URL: tests/conftest.py's `database_url`); their databases are still made and
migrated directly. The pooler hands each transaction, and each statement outside one, to its
server connections in turn: whatever the service left on a server connection beyond a
transaction (a session's lock, setting, temporary table or prepared statement) would be missing
from the next, and the tests would fail. PgBouncer's own figures show that their traffic went
through it."""

import csv
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tac_api.migrations import _scripts
from tests.support.databases import (
    POSTGRES_URL,
    drop_postgres_database,
    new_postgres_database,
    query,
    run,
)
from tests.support.postgres_server import Bouncer, pgbouncer, server_bin
from tests.support.processes import run_tac_api

ROOT = Path(__file__).resolve().parents[2]
ALL = ["tests/sync", "tests/idempotency", "tests/changes", "tests/reports"]
# In the suite, all of the first three and, of the reports (three quarters of the time), those
# that reach each way a report uses its connection: a governor's and the programme's report
# (their repeatable-read snapshot, SET LOCAL, the temporary table), one that fails half-way
# (the connection given up), figures published and read again. TAC_TEST_POOLER_ALL=1: every one.
QUICK = [
    *ALL[:3],
    "tests/reports/test_published.py",
    "tests/reports/test_reports.py::test_a_report_that_fails_leaves_its_connection_clean",
]
POOLED = ALL if os.environ.get("TAC_TEST_POOLER_ALL") else QUICK
PYTEST_OPTIONS = ["-m", "postgres", "-q", "-x", "-p", "no:cacheprovider", "--durations=10"]
# Fewer server connections than the service's pool (30 + 10): its connections share them.
SERVER_CONNECTIONS = 4

needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="needs TAC_TEST_POSTGRES_URL")


def show(bouncer: Bouncer, command: str) -> list[dict[str, str]]:
    """A SHOW command's rows from PgBouncer's admin console (simple queries only: psql)."""
    assert POSTGRES_URL
    user = make_url(POSTGRES_URL).username or "postgres"
    done = subprocess.run(
        [
            server_bin("psql"),
            "--csv",
            "--host=127.0.0.1",
            f"--port={bouncer.port}",
            f"--username={user}",
            "--dbname=pgbouncer",
            f"--command={command}",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


async def _server_processes(url: str, statements: int) -> set[int]:
    """Which server processes ran one client connection's statements, one after another."""
    connection = await asyncpg.connect(url, statement_cache_size=0)
    try:
        seen = set()
        for _ in range(statements):
            seen.add(await connection.fetchval("SELECT pg_backend_pid()"))
        return seen
    finally:
        await connection.close()


def through(bouncer: Bouncer) -> dict[str, str]:
    """This environment, for a process whose service under test connects through `bouncer`."""
    env = {
        name: value
        for name, value in os.environ.items()
        # Not a worker of this run's xdist, nor inside one of its tests.
        if not name.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))
    }
    return env | {
        "TAC_TEST_POOLER_URL": bouncer.url("postgres"),
        "TAC_DATABASE_STATEMENT_CACHE": "false",
    }


@pytest.mark.postgres
@needs_postgres
def test_the_sync_idempotency_change_feed_and_report_tests_pass_through_pgbouncer() -> None:
    with pgbouncer("transaction", SERVER_CONNECTIONS, round_robin=True) as bouncer:
        # The pooler really mixes: one client's statements run on several server connections.
        servers = set()
        deadline = time.monotonic() + 10
        while len(servers) < 2 and time.monotonic() < deadline:
            servers |= run(_server_processes(bouncer.url("postgres"), 8))
        assert len(servers) >= 2, servers

        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", *POOLED, *PYTEST_OPTIONS],
            cwd=ROOT,
            env=through(bouncer),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        took = time.monotonic() - started
        summary = done.stdout[-6000:] + done.stderr[-3000:]
        print(f"{' '.join(POOLED)} through PgBouncer: {took:.0f} s\n{summary}")
        assert done.returncode == 0, summary
        assert re.search(r"\d+ passed", done.stdout) and " failed" not in done.stdout, summary

        # Their databases' traffic went through the pooler: each database of theirs is one of
        # its pools, with thousands of transactions.
        stats = {row["database"]: row for row in show(bouncer, "SHOW STATS")}
        tested = [row for name, row in stats.items() if name.startswith("tac_test_")]
        assert tested, f"no test database went through PgBouncer: {sorted(stats)}"
        assert sum(int(row["total_xact_count"]) for row in tested) > 1000, tested


@pytest.mark.postgres
@needs_postgres
def test_migrations_run_through_pgbouncer() -> None:
    """`tac-api db upgrade` (the migrations, then the reference data), each in one transaction
    under a transaction-level advisory lock, needs no connection of its own."""
    url = new_postgres_database()
    try:
        with pgbouncer("transaction", 2, round_robin=True) as bouncer:
            env = through(bouncer) | {"TAC_DATABASE_URL": bouncer.url(make_url(url).database)}
            done = run_tac_api("db", "upgrade", env=env, timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "schema at head" in done.stdout
            stats = {row["database"]: row for row in show(bouncer, "SHOW STATS")}
            assert int(stats[make_url(url).database]["total_xact_count"]) > 0
        # At this code's head, read directly.
        applied = [row[0] for row in query(url, "SELECT version_num FROM alembic_version")]
        assert applied == _scripts().get_heads()
    finally:
        drop_postgres_database(url)


# Session-level state, which a transaction-pooling PgBouncer loses between transactions: a lock
# held by the session (pg_advisory_lock), a notification channel (LISTEN), a session's setting
# (SET without LOCAL), a statement prepared by name (PREPARE), a cursor that outlives its
# transaction (WITH HOLD), a temporary table kept past the commit.
SESSION_STATE = [
    re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.IGNORECASE),
    re.compile(r"[\"';]\s*LISTEN\s|add_listener"),
    re.compile(r"[\"';]\s*SET\s+(?!LOCAL\b)(SESSION\s+)?\w+\s*(=|TO\b)", re.IGNORECASE),
    re.compile(r"[\"';]\s*PREPARE\s+\w+", re.IGNORECASE),
    re.compile(r"WITH\s+HOLD", re.IGNORECASE),
    re.compile(r"set_config\s*\([^)]*false\s*\)", re.IGNORECASE),
]


def test_nothing_the_service_sends_outlives_its_transaction() -> None:
    """A guard for what the run through PgBouncer can only catch when it happens: no statement
    in the service or its migrations leaves state on the server connection. Its advisory locks
    are pg_advisory_xact_lock; the reports' one temporary table goes at the commit."""
    found = []
    for path in sorted([*(ROOT / "src/tac_api").rglob("*.py"), *(ROOT / "alembic").rglob("*.py")]):
        source = path.read_text()
        for pattern in SESSION_STATE:
            found += [f"{path.relative_to(ROOT)}: {m.group(0)!r}" for m in pattern.finditer(source)]
        temporary = 'prefixes=["TEMPORARY"]' in source or "CREATE TEMP" in source.upper()
        # Dropped at the commit, or it would be left on whichever server connection made it.
        if temporary and not (
            'postgresql_on_commit="DROP"' in source or "ON COMMIT DROP" in source
        ):
            found.append(f"{path.relative_to(ROOT)}: a temporary table kept past the commit")
    assert found == []
    # The guard sees what it guards against.
    assert SESSION_STATE[0].search("SELECT pg_advisory_lock(:key)")
    assert not SESSION_STATE[0].search("SELECT pg_advisory_xact_lock(:key)")
    assert SESSION_STATE[2].search("\"SET work_mem = '64MB'\"")
    assert not SESSION_STATE[2].search("\"SET LOCAL work_mem = '64MB'\"")
    assert not SESSION_STATE[2].search('"ON CONFLICT (k) DO UPDATE SET n = 1"')
