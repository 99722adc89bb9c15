"""Every tac-api command in a fresh process, as a new user runs it: the console script, its
exit code (0 done, non-zero failed) and what it says. In-process runs (tests/test_cli.py) share
the models the test session has imported, and so cannot see a command that forgot to."""

import json
import os
import pty
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select, text

from tac_api.changes.models import ChangeEvent
from tac_api.config import Settings
from tac_api.db import make_engine
from tac_api.migrations import SCHEMA_BEHIND, upgrade
from tac_api.mothers.models import Mother
from tac_api.webhooks.models import Webhook
from tests.support.bodies import mother_row
from tests.support.databases import backends, load_reference_into, run
from tests.support.processes import TAC_API, run_tac_api


def tac_api(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_tac_api(*args, env={**os.environ, "TAC_DATABASE_URL": url, **env})


def succeeds(url: str, *args: str, **env: str) -> str:
    done = tac_api(url, *args, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def sql(url: str, statement: str, **params: Any) -> list[Any]:
    async def query() -> list[Any]:
        engine = make_engine(Settings(database_url=url), pool=False)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return run(query())


def migrated(url: str) -> str:
    """A database at head with its reference data, made in this process (quicker)."""
    upgrade(url)
    run(load_reference_into(url))
    return url


def add_webhook_with_an_event(url: str, address: str) -> None:
    """A webhook of Bristol's and one change for it, as the API would have left them."""
    now = datetime.now(UTC)

    async def add() -> None:
        engine = make_engine(Settings(database_url=url), pool=False)
        try:
            async with engine.begin() as connection:
                mother_id = (await connection.execute(select(Mother.id).limit(1))).scalar()
                if mother_id is None:
                    mother_id = uuid.uuid4()
                    await connection.execute(
                        insert(Mother.__table__).values(
                            mother_row(now, id=mother_id, supported_from=date(2025, 9, 1))
                        )
                    )
                await connection.execute(
                    insert(Webhook.__table__).values(
                        id=uuid.uuid4(),
                        created_at=now,
                        updated_at=now,
                        version=1,
                        local_authority_code="801",
                        url=address,
                        active=True,
                        secret="s" * 32,
                        cursor_position=0,
                    )
                )
                await connection.execute(
                    insert(ChangeEvent.__table__).values(
                        event_id=uuid.uuid4(),
                        local_authority_code="801",
                        event_type="child.updated",
                        occurred_at=now,
                        mother_id=mother_id,
                        resource_type="child",
                        resource_id=uuid.uuid4(),
                        child_ids=[],
                        data={"changed": ["legal_status"]},
                    )
                )
        finally:
            await engine.dispose()

    run(add())


@pytest.fixture
def receiver() -> Iterator[tuple[str, threading.Event]]:
    """An HTTP receiver on this machine; the event is set when something is delivered."""
    delivered = threading.Event()

    class Receive(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()
            delivered.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tac", delivered
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("backend", backends())
def test_a_first_day_in_fresh_processes(
    backend: str,
    make_database: Any,
    receiver: tuple[str, threading.Event],
    tmp_path: Path,
) -> None:
    url = make_database(backend)
    assert "schema at head" in succeeds(url, "db", "upgrade")

    demo = succeeds(url, "demo-data", "--mothers", "5", "--admin-token")
    assert "loaded 5 mothers" in demo and demo.strip().splitlines()[-1].startswith("tac_")
    again = succeeds(url, "demo-data", "--mothers", "5")
    assert "already loaded: nothing added" in again
    assert sql(url, "SELECT count(*) FROM mother") == [(5,)]

    created = succeeds(url, "clients", "create", "--name", "ewi-sw", "--role", "admin")
    assert created.strip().splitlines()[-1].startswith("tac_")
    assert "ewi-sw\tadmin\t-\tactive" in succeeds(url, "clients", "list")
    succeeds(url, "clients", "revoke", "ewi-sw")
    refused = tac_api(url, "clients", "create", "--name", "x", "--role", "governor")
    assert refused.returncode == 2 and "exactly one prison" in refused.stderr

    succeeds(url, "oidc", "revoke", "person-1", "--issuer", "https://id.example.org")
    assert "person-1" in succeeds(url, "oidc", "list-revoked")
    assert tac_api(url, "oidc", "revoke", "person-1").returncode == 2  # no issuer anywhere

    assert "dry run" in succeeds(url, "retention", "run")
    assert "erased" in succeeds(url, "retention", "run", "--apply")

    address, delivered = receiver
    add_webhook_with_an_event(url, address)
    # A fresh process with a webhook to deliver to: its flush needs every table's model.
    # The receiver is plain HTTP on this machine: the development switch allows it.
    delivery = succeeds(url, "webhooks", "run", "--once", TAC_WEBHOOK_ALLOW_HTTP="true")
    assert "1 delivery attempts made" in delivery
    assert delivered.is_set()
    assert sql(url, "SELECT status FROM webhook_delivery") == [("delivered",)]

    out = tmp_path / "openapi.json"
    succeeds(url, "openapi", "--out", str(out))
    assert json.loads(out.read_text())["info"]["title"] == "tac-api"


def test_webhooks_run_once_exits_non_zero_when_a_delivery_fails(tmp_path: Path) -> None:
    url = migrated(f"sqlite:///{tmp_path / 'tac.db'}")
    add_webhook_with_an_event(url, "http://127.0.0.1:9/never-sent")
    sql(url, "UPDATE change_event SET data = '{not json'")  # an event that cannot be read
    failed = tac_api(url, "webhooks", "run", "--once")
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == (
        "error: delivering to 1 webhook(s) failed: see the log above"
    )


def test_a_database_that_cannot_be_reached_is_one_line_and_non_zero() -> None:
    failed = tac_api("postgresql://tac@127.0.0.1:1/tac", "clients", "list")
    assert failed.returncode == 1
    assert failed.stderr.startswith("error: cannot reach the database in TAC_DATABASE_URL")
    assert "Traceback" not in failed.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["clients", "list"],
        ["clients", "create", "--name", "x", "--role", "admin"],
        ["clients", "revoke", "x"],
        ["demo-data", "--mothers", "2"],
        ["oidc", "revoke", "person-1", "--issuer", "https://id.example.org"],
        ["oidc", "list-revoked"],
        ["retention", "run"],
        ["webhooks", "run", "--once"],
        ["db", "grant", "--role", "tac_api"],
    ],
)
def test_a_database_never_migrated_says_run_db_upgrade(command: list[str], tmp_path: Path) -> None:
    failed = tac_api(f"sqlite:///{tmp_path / 'empty.db'}", *command)
    assert failed.returncode == 1
    assert failed.stderr == f"error: {SCHEMA_BEHIND}\n"
    assert failed.stdout == ""


@pytest.mark.parametrize("backend", backends())
def test_a_schema_behind_this_version_says_run_db_upgrade(backend: str, make_database: Any) -> None:
    url = make_database(backend)
    upgrade(url, "919ce09b21a4")  # an older release's head
    failed = tac_api(url, "clients", "list")
    assert (failed.returncode, failed.stderr) == (1, f"error: {SCHEMA_BEHIND}\n")


def _at_head(url: str) -> bool:
    return sql(url, "SELECT count(*) FROM alembic_version") == [(1,)]


@pytest.mark.parametrize("backend", backends())
def test_db_downgrade_asks_first(backend: str, make_database: Any) -> None:
    url = make_database(backend)
    upgrade(url)
    # No terminal to ask at, and no --yes: refused, nothing dropped.
    refused = tac_api(url, "db", "downgrade", "base")
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    assert _at_head(url)

    # At a terminal: asked, and "no" leaves the schema as it was.
    controller, terminal = pty.openpty()
    try:
        asked = subprocess.Popen(
            [TAC_API, "db", "downgrade", "base"],
            env={**os.environ, "TAC_DATABASE_URL": url},
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(controller, b"n\n")
        out, err = asked.communicate(timeout=120)
    finally:
        os.close(controller)
        os.close(terminal)
    assert asked.returncode == 1, out + err
    assert "Downgrade to base?" in out
    assert _at_head(url)

    assert "schema at base" in succeeds(url, "db", "downgrade", "base", "--yes")
    assert sql(url, "SELECT count(*) FROM alembic_version") == [(0,)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready(port: int, server: subprocess.Popen[str]) -> httpx.Response:
    """/health/ready, once the server answers at all."""
    deadline = time.monotonic() + 60
    while True:
        assert server.poll() is None, server.communicate()
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "tac-api serve did not start"
            time.sleep(0.1)


def test_serve_is_not_ready_until_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tac.db'}"
    port = _free_port()
    server = subprocess.Popen(
        [TAC_API, "serve", "--port", str(port)],
        env={**os.environ, "TAC_DATABASE_URL": url},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        before = _ready(port, server)
        assert before.status_code == 503
        assert before.headers["content-type"] == "application/problem+json"
        succeeds(url, "db", "upgrade")
        assert _ready(port, server).json() == {"status": "ready"}  # no restart needed
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert f"warning: {SCHEMA_BEHIND}" in err


def test_webhooks_run_delivers_until_stopped(
    tmp_path: Path, receiver: tuple[str, threading.Event]
) -> None:
    url = migrated(f"sqlite:///{tmp_path / 'tac.db'}")
    address, delivered = receiver
    add_webhook_with_an_event(url, address)
    worker = subprocess.Popen(
        [TAC_API, "webhooks", "run"],
        env={**os.environ, "TAC_DATABASE_URL": url, "TAC_WEBHOOK_ALLOW_HTTP": "true"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert delivered.wait(timeout=60), "nothing was delivered"
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, out + err


def scrape_deliveries(port: int) -> float | None:
    """`tac_webhook_deliveries_total{result="delivered"}` on a worker's own port (None: the
    port does not answer yet)."""
    try:
        page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return None
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            if sample.name == "tac_webhook_deliveries_total" and sample.labels == {
                "result": "delivered"
            }:
                return sample.value
    return 0.0


def test_webhooks_run_serves_its_figures_on_its_metrics_port(
    tmp_path: Path, receiver: tuple[str, threading.Event]
) -> None:
    """With TAC_METRICS_PORT, a dispatcher of its own (no /metrics of the API's to count in) serves
    its deliveries by result; in its own memory, even with PROMETHEUS_MULTIPROC_DIR inherited."""
    url = migrated(f"sqlite:///{tmp_path / 'tac.db'}")
    address, delivered = receiver
    port = _free_port()
    directory = tmp_path / "metrics"
    directory.mkdir()
    worker = subprocess.Popen(
        [TAC_API, "webhooks", "run"],
        env={
            **os.environ,
            "TAC_DATABASE_URL": url,
            "TAC_WEBHOOK_ALLOW_HTTP": "true",
            "TAC_METRICS_PORT": str(port),
            "PROMETHEUS_MULTIPROC_DIR": str(directory),
        },
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (before := scrape_deliveries(port)) is None:
            assert worker.poll() is None and time.monotonic() < deadline, "no metrics port"
            time.sleep(0.2)
        assert before == 0
        add_webhook_with_an_event(url, address)
        assert delivered.wait(timeout=60), "nothing was delivered"
        # Counted once the receiver's answer is recorded, a moment after it was sent.
        while scrape_deliveries(port) != 1:
            assert time.monotonic() < deadline, "the delivery was not counted"
            time.sleep(0.2)
        page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert address not in page and "127.0.0.1" not in page  # counts, never a webhook
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, out + err
    assert not list(directory.iterdir()), "a worker counts in its own memory"


def test_commands_other_than_serve_leave_no_figures_in_the_multiprocess_directory(
    tmp_path: Path,
) -> None:
    """A container's PROMETHEUS_MULTIPROC_DIR (set for serve) is inherited by its health check,
    `tac-api db check`, every 30 s: each run would leave files there to pile up."""
    url = migrated(f"sqlite:///{tmp_path / 'tac.db'}")
    directory = tmp_path / "metrics"
    directory.mkdir()
    for _ in range(2):
        succeeds(url, "db", "check", PROMETHEUS_MULTIPROC_DIR=str(directory))
    succeeds(url, "clients", "list", PROMETHEUS_MULTIPROC_DIR=str(directory))
    assert not list(directory.iterdir())
