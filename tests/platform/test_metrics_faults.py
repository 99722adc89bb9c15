"""GET /metrics where things go wrong: a multiprocess directory that holds other files, a
database that fails as the page is read, a request that ended before any answer started."""

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import exc as database_errors
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Scope, Send

from tac_api.config import Settings
from tac_api.metrics import service
from tac_api.middleware import RequestContext
from tests.support.api import Api


def count_in_directory(directory: Path) -> int:
    """A process that counted one request in `directory`, as a worker does, and ended: its pid."""
    script = (
        "import os\n"
        "from tac_api.metrics.figures import CONNECTIONS_IN_USE, REQUESTS\n"
        "REQUESTS.labels('/earlier', 'GET', '200').inc()\n"
        "CONNECTIONS_IN_USE.inc()\n"
        "print(os.getpid())\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, timeout=60, capture_output=True
    )
    return int(done.stdout)


def sqlite_database(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE mother (id INTEGER)")
    connection.commit()
    connection.close()


def test_serve_empties_the_directory_of_prometheus_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROMETHEUS_MULTIPROC_DIR may be a directory that holds other things (var/, with tac.db):
    serve removes a previous run's figures, and nothing else; the page reads its files only."""
    directory = tmp_path / "var"
    directory.mkdir()
    pid = count_in_directory(directory)
    sqlite_database(directory / "tac.db")
    (directory / "notes.db").write_bytes(b"not prometheus-client's")
    left = {path.name for path in directory.iterdir()}
    assert {f"counter_{pid}.db", f"gauge_livesum_{pid}.db"} <= left

    # The page, before serve empties it: the SQLite database beside the figures is not read
    # (prometheus-client's own collector reads every *.db and fails on it).
    every_process = CollectorRegistry(auto_describe=False)
    every_process.register(service.EveryProcess(str(directory)))
    families = list(text_string_to_metric_families(generate_latest(every_process).decode()))
    requests = next(family for family in families if family.name == "tac_http_requests")
    assert [sample.value for sample in requests.samples] == [1.0]

    monkeypatch.setenv(service.DIRECTORY, str(directory))
    assert service.multiprocess_directory(1) == directory
    assert {path.name for path in directory.iterdir()} == {"tac.db", "notes.db"}
    database = sqlite3.connect(directory / "tac.db")
    assert database.execute("SELECT count(*) FROM mother").fetchall() == [(0,)]
    database.close()


async def pool_timed_out(session: AsyncSession, settings: Settings) -> list[object]:
    raise database_errors.TimeoutError("QueuePool limit of size 5 overflow 2 reached")


async def connection_lost(session: AsyncSession, settings: Settings) -> list[object]:
    # As SQLAlchemy raises it when the driver says the connection went: marked invalidated.
    raise database_errors.OperationalError(
        "SELECT min(...)",
        {},
        ConnectionResetError("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )


@pytest.mark.parametrize("failure", [pool_timed_out, connection_lost])
def test_a_database_that_fails_as_the_page_is_read_leaves_the_ages_out_not_the_page(
    api: Api, monkeypatch: pytest.MonkeyPatch, failure: object
) -> None:
    def read_ok(page: str) -> float:
        families = text_string_to_metric_families(page)
        return (
            next(f for f in families if f.name == "tac_metrics_database_read_ok").samples[0].value
        )

    answered = api.get("monitoring", "/metrics")
    assert answered.status_code == 200 and read_ok(answered.text) == 1
    assert "tac_webhook_oldest_pending_delivery_age_seconds " in answered.text

    # The token was checked (the database answered then); the ages' statement fails.
    monkeypatch.setattr(service, "waiting_figures", failure)
    answered = api.get("monitoring", "/metrics")
    assert answered.status_code == 200, answered.text
    assert read_ok(answered.text) == 0
    assert "tac_webhook_oldest_pending_delivery_age_seconds" not in answered.text
    assert "tac_change_feed_lag_seconds" not in answered.text
    # What each process counted is still there: what shows why.
    assert 'tac_http_requests_total{method="GET",route="/metrics",status="200"}' in answered.text


def requests_counted(status: str) -> float:
    labels = {"route": "unmatched", "method": "DELETE", "status": status}
    return REGISTRY.get_sample_value("tac_http_requests_total", labels) or 0.0


async def through_the_middleware(app: object) -> None:
    scope: Scope = {"type": "http", "method": "DELETE", "path": "/x", "headers": []}

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        pass

    await RequestContext(app)(scope, receive, send)  # type: ignore[arg-type]


def test_a_request_that_ended_before_any_answer_is_counted_as_none_not_500() -> None:
    """Cancelled (its client gone, the shutdown's grace over) before an answer started: no
    status was sent, so none is counted (a 500 would page someone over nothing)."""

    async def cancelled(scope: Scope, receive: Receive, send: Send) -> None:
        raise asyncio.CancelledError

    async def gave_up(scope: Scope, receive: Receive, send: Send) -> None:
        return  # as a handler that saw the client had gone

    async def failed(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a fault: Starlette answers it 500")

    async def answered_then_cancelled(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        raise asyncio.CancelledError

    before = {status: requests_counted(status) for status in ("none", "500", "204")}
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(through_the_middleware(cancelled))
    asyncio.run(through_the_middleware(gave_up))
    with pytest.raises(RuntimeError):
        asyncio.run(through_the_middleware(failed))
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(through_the_middleware(answered_then_cancelled))
    assert requests_counted("none") == before["none"] + 2
    assert requests_counted("500") == before["500"] + 1
    assert requests_counted("204") == before["204"] + 1
