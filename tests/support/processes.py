"""tac-api as an operator runs it: `tac-api serve` in processes of its own, over real HTTP, on a
database of the test's. For the proofs that only separate processes can give (one limit, one
idempotent answer and one delivery across them; a database lost and found; signals)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tac_api.auth.service import create_client
from tac_api.config import Settings
from tac_api.db import make_engine, sessionmaker_for
from tac_api.migrations import upgrade
from tests.support.api import CLIENTS
from tests.support.databases import load_reference_into, run

TAC_API = str(Path(sys.executable).parent / "tac-api")
# Small pools: three processes and the test's own connections stay far inside PostgreSQL's 100.
SMALL_POOL = {"TAC_DATABASE_POOL_SIZE": "5", "TAC_DATABASE_MAX_OVERFLOW": "2"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ApiProcess:
    """One `tac-api serve`, its output in a file (a pipe nobody reads would fill and stall it)."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_until_live(self, timeout: float = 60) -> None:
        """Until /health/liveness answers (the process has imported and bound its port)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.alive(), f"tac-api serve exited {self.process.returncode}:\n{self.output()}"
            try:
                if httpx.get(f"{self.url}/health/liveness", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"tac-api serve did not start:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send a signal and wait for the exit; its code (negative: killed by that signal)."""
        if self.alive():
            self.process.send_signal(stop_signal)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(
                f"tac-api serve did not stop in {timeout} s:\n{self.output()}"
            ) from None


def start_api(
    database_url: str,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    port: int | None = None,
    wait: bool = True,
    workers: int = 1,
) -> ApiProcess:
    """`tac-api serve` on a port of its own. `env`: TAC_* settings for this process (small pools by
    default, the background webhook dispatcher off unless said). `workers`: `--workers`."""
    port = port or free_port()
    settings = {
        **os.environ,
        "TAC_DATABASE_URL": database_url,
        "TAC_WEBHOOK_DISPATCH": "false",
        **SMALL_POOL,
        **(env or {}),
    }
    log = log_dir / f"tac-api-{port}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [TAC_API, "serve", "--port", str(port), "--workers", str(workers)],
            env=settings,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    api = ApiProcess(port, process, log, settings)
    if wait:
        api.wait_until_live()
    return api


@contextmanager
def api_processes(
    database_url: str, log_dir: Path, count: int, env: Mapping[str, str] | None = None
) -> Iterator[list[ApiProcess]]:
    """`count` processes on one database, started together, stopped (SIGTERM) at the end."""
    started = [start_api(database_url, log_dir, env, wait=False) for _ in range(count)]
    try:
        for api in started:
            api.wait_until_live()
        yield started
    finally:
        for api in started:
            if api.alive():
                api.stop()


def migrated(database_url: str) -> str:
    """The database at head, with its reference data (prisons, authorities, codes)."""
    upgrade(database_url)
    run(load_reference_into(database_url))
    return database_url


def make_tokens(database_url: str, clients: Mapping[str, Any] = CLIENTS) -> dict[str, str]:
    """API keys for the tests' clients (name: (role, prison, authority)), written straight to the
    database the processes serve: their tokens, by name."""

    async def create() -> dict[str, str]:
        engine = make_engine(Settings(database_url=database_url), pool=False)
        tokens = {}
        try:
            async with sessionmaker_for(engine)() as session, session.begin():
                for name, (role, prison, authority) in clients.items():
                    _, tokens[name] = await create_client(
                        session,
                        name=name,
                        role=role,
                        prison_code=prison,
                        local_authority_code=authority,
                    )
        finally:
            await engine.dispose()
        return tokens

    return run(create())


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
