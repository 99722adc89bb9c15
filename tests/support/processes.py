"""tac-api as an operator runs it: `tac-api serve` in processes of its own, over real HTTP, on a
database of the test's. For the proofs that only separate processes can give (one limit, one
idempotent answer and one delivery across them; a database lost and found; signals)."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tac_api.config import Settings
from tac_api.db import make_engine, sessionmaker_for
from tac_api.migrations import upgrade
from tests.support.api import CLIENTS, add_clients
from tests.support.databases import load_reference_into, run

TAC_API = str(Path(sys.executable).parent / "tac-api")
# Small pools: three processes and the test's own connections stay far inside PostgreSQL's 100.
SMALL_POOL = {"TAC_DATABASE_POOL_SIZE": "5", "TAC_DATABASE_MAX_OVERFLOW": "2"}


def run_tac_api(
    *args: str, env: Mapping[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """One `tac-api` command as an operator runs it, in the environment given (whole: the
    caller decides what of the tests' own it keeps), with no terminal: nothing may wait for an
    answer."""
    return subprocess.run(
        [TAC_API, *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Command:
    """A command in a process of its own, its output in a file (a pipe nobody reads would fill
    and stall it)."""

    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(repr=False)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send a signal and wait for the exit; its code (negative: killed by that signal)."""
        if self.alive():
            self.process.send_signal(stop_signal)
        return self.wait(timeout)

    def wait(self, timeout: float = 60) -> int:
        """The exit code; killed, and an AssertionError, if it has not exited within `timeout`."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(
                f"{self.process.args} did not stop in {timeout} s:\n{self.output()[-3000:]}"
            ) from None


Started = TypeVar("Started", bound=Command)


def start_command(argv: list[str], log: Path, env: Mapping[str, str]) -> Command:
    """`argv` (`env`: its whole environment) in a process of its own, its output in `log`."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
    return Command(process, log, dict(env))


def stop_all(
    commands: Iterable[Command], stop_signal: int = signal.SIGTERM, timeout: float = 60
) -> None:
    """Every one told at once (they stop side by side), then each waited for; one that has not
    stopped within `timeout` is killed, and the first such failure raised once all have been
    seen to."""
    commands = list(commands)
    for command in commands:
        if command.alive():
            command.process.send_signal(stop_signal)
    failures = []
    for command in commands:
        try:
            command.wait(timeout)
        except Exception as exc:  # the others are still stopped
            failures.append(exc)
    if failures:
        raise failures[0]


@contextmanager
def stopped_at_end(
    commands: list[Started], stop_signal: int = signal.SIGTERM
) -> Iterator[list[Started]]:
    """The commands, each stopped (`stop_signal`) at the end if still running, however the
    block ends. Those the block starts may be appended to the list."""
    try:
        yield commands
    finally:
        stop_all(commands, stop_signal)


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    """Until `condition()` is true; an AssertionError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {seconds:g} s"
        time.sleep(0.05)


@dataclass
class ApiProcess(Command):
    """One `tac-api serve` on a port of its own."""

    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
    default, the background webhook dispatcher off unless said). `workers`: `--workers`. If it
    does not start (`wait`), it is stopped before the AssertionError."""
    port = port or free_port()
    settings = {
        **os.environ,
        "TAC_DATABASE_URL": database_url,
        "TAC_WEBHOOK_DISPATCH": "false",
        **SMALL_POOL,
        **(env or {}),
    }
    argv = [TAC_API, "serve", "--port", str(port), "--workers", str(workers)]
    command = start_command(argv, log_dir / f"tac-api-{port}.log", settings)
    api = ApiProcess(command.process, command.log, command.env, port)
    if wait:
        try:
            api.wait_until_live()
        except BaseException:
            stop_all([api], signal.SIGKILL)
            raise
    return api


@contextmanager
def api_processes(
    database_url: str, log_dir: Path, count: int, env: Mapping[str, str] | None = None
) -> Iterator[list[ApiProcess]]:
    """`count` processes on one database, started together, stopped (SIGTERM) at the end."""
    with stopped_at_end([]) as started:
        started += [start_api(database_url, log_dir, env, wait=False) for _ in range(count)]
        for api in started:
            api.wait_until_live()
        yield started


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
        try:
            async with sessionmaker_for(engine)() as session, session.begin():
                return await add_clients(session, dict(clients))
        finally:
            await engine.dispose()

    return run(create())


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
