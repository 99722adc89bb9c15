"""The benchmark's stack: its databases (a SQLite file, or a fresh PostgreSQL database), seeded
with synthetic mothers and a client for EWI, and the servers it measures (`tac-api serve`, the
raw-driver floor), each one uvicorn worker in a process of its own."""

import asyncio
import contextlib
import http.client
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
BIN = Path(sys.executable).parent
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Its own name lets two benches share one server (as parallel work on one machine does).
BENCH_DATABASE = os.environ.get("TAC_BENCH_DATABASE", "tac_bench")
CLIENT_NAME = "bench-ewi-social-worker"
PRISON = "EWI"


class BenchError(Exception):
    """Something that makes the figures meaningless: reported, and the exit code is 1."""


@dataclass
class Seeded:
    url: str
    token: str
    ewi_ids: list[str]
    other_ids: list[str]  # mothers in another prison: must read as 404 to this client
    seconds: float


# Databases ------------------------------------------------------------------------------------


def postgres_parts(url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username,
        "password": parsed.password,
        "database": parsed.database or "postgres",
    }


async def postgres_execute(url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(**postgres_parts(url), timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def create_postgres(admin_url: str, database: str = BENCH_DATABASE) -> str:
    """A fresh database (`tac_bench`) on the admin URL's server; returns its URL."""
    from sqlalchemy.engine import make_url

    asyncio.run(
        postgres_execute(
            admin_url,
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
            f'CREATE DATABASE "{database}"',
        )
    )
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, database: str = BENCH_DATABASE) -> None:
    asyncio.run(postgres_execute(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    print(f"  dropped database {database}")


def create_sqlite() -> str:
    path = VAR / "bench.db"
    for stale in (path, path.with_name("bench.db-wal"), path.with_name("bench.db-shm")):
        stale.unlink(missing_ok=True)
    return f"sqlite:///{path}"


async def _seed(url: str, mothers: int, seed: int) -> tuple[str, list[str], list[str]]:
    from sqlalchemy import select

    from benchmarks.worklist_seed import seed_worklist
    from tac_api.auth.schemas import Role
    from tac_api.auth.service import create_client
    from tac_api.config import Settings
    from tac_api.db import make_engine, sessionmaker_for
    from tac_api.demo import load_demo_data
    from tac_api.mothers.models import Mother
    from tac_api.reference.service import load_reference_data

    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        sessions = sessionmaker_for(engine)
        async with sessions() as session, session.begin():
            await load_reference_data(session)
            await load_demo_data(session, mothers=mothers, seed=seed, children_per_mother=3)
            await seed_worklist(session, seed)  # tasks, flags, link requests: the worklist's
            _, token = await create_client(
                session, name=CLIENT_NAME, role=Role.prison_social_worker, prison_code=PRISON
            )
        async with sessions() as session:
            rows = (await session.execute(select(Mother.id, Mother.prison_code))).all()
    finally:
        await engine.dispose()
    ewi = sorted(str(row.id) for row in rows if row.prison_code == PRISON)
    other = sorted(str(row.id) for row in rows if row.prison_code != PRISON)
    return token, ewi, other


def seed_database(url: str, mothers: int, seed: int) -> Seeded:
    from tac_api.migrations import upgrade

    started = time.perf_counter()
    upgrade(url)
    token, ewi, other = asyncio.run(_seed(url, mothers, seed))
    # Steady state before measuring: planner statistics, and no checkpoint or autovacuum of the
    # bulk load landing inside a measured window.
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        asyncio.run(postgres_execute(url, "VACUUM ANALYZE", "CHECKPOINT"))
    os.sync()  # the kernel's writeback of the load, too, must not land inside a measured window
    if not ewi:
        raise BenchError(f"no mother was seeded in {PRISON}")
    return Seeded(url, token, ewi, other, time.perf_counter() - started)


# Servers --------------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback interface now (all held open at once, so all different)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def get(port: int, path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


class Server:
    """A server in its own process group, always stopped (SIGTERM, then SIGKILL) on the way out."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        port: int,
        log_path: Path,
        ready_path: str = "/health/ready",
    ) -> None:
        self.name, self.argv, self.env, self.port, self.log_path = name, argv, env, port, log_path
        # What answers 200 once it serves (the soak's webhook receiver and moto have their own).
        self.ready_path = ready_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited ({self.process.returncode}):\n{self.log_tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get(self.port, self.ready_path)[0] == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


RATE_LIMIT_PER_MINUTE = 100_000_000


def server_env(url: str) -> dict[str, str]:
    env = {**os.environ, "TAC_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    # Limits on, as in production (both servers pay for them), but far above the load's rate.
    env["TAC_RATE_LIMIT_PER_MINUTE"] = str(RATE_LIMIT_PER_MINUTE)
    env.pop("TAC_SQL_ECHO", None)
    return env


def tac_api_command() -> str:
    return shutil.which("tac-api", path=str(BIN)) or str(BIN / "tac-api")


def start_api(
    stack: contextlib.ExitStack, label: str, url: str, env: dict[str, str] | None = None
) -> Server:
    """tac-api alone, one uvicorn worker, ready to answer; stopped on the way out of `stack`.
    `env`: settings of its own, over the bench's."""
    (port,) = free_ports(1)
    argv = [tac_api_command(), "serve", "--port", str(port)]
    server_env_ = {**server_env(url), **(env or {})}
    server = Server("tac-api", argv, server_env_, port, VAR / f"bench-{label}.log")
    stack.callback(server.stop)
    server.start()
    server.wait_ready()
    return server


def start_servers(
    stack: contextlib.ExitStack, database: str, url: str, *, statement_cache: bool = True
) -> tuple[Server, Server]:
    """tac-api (its statement cache on or off) and the floor (which serves the bare floor too),
    each one uvicorn worker, ready to answer; stopped on the way out of `stack`."""
    env = server_env(url)
    api_env = {**env, "TAC_DATABASE_STATEMENT_CACHE": "true" if statement_cache else "false"}
    api_port, floor_port = free_ports(2)
    tac_api = tac_api_command()
    commands = {
        "tac-api": ([tac_api, "serve", "--port", str(api_port)], api_port, api_env),
        "floor": (
            [sys.executable, "-m", "benchmarks.floor", "--port", str(floor_port)],
            floor_port,
            env,
        ),
    }
    servers = []
    for name, (argv, port, server_env_) in commands.items():
        server = Server(name, argv, server_env_, port, VAR / f"bench-{database}-{name}.log")
        stack.callback(server.stop)
        server.start()
        servers.append(server)
    for server in servers:
        server.wait_ready()
    return servers[0], servers[1]
