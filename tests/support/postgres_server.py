"""PostgreSQL servers of a test's own: a cluster made with the installed server's `initdb` and run
with `pg_ctl` (to stop and start under load), and Debian's PgBouncer in front of the shared server.

Both run as the `postgres` user when the tests run as root (as CI does): neither will run as root.
Each lives in a directory of its own under /tmp that that user owns, on a port of its own.
"""

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.support.databases import POSTGRES_URL, run
from tests.support.processes import free_port

SERVER_USER = "postgres"


def server_bin(name: str) -> str:
    """A server program (initdb, pg_ctl, pg_dump) of the newest PostgreSQL installed."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[4]))
    if found:
        return str(found[-1])
    on_path = shutil.which(name)
    if on_path is None:
        pytest.fail(f"{name} is not installed: `make test` installs the PostgreSQL tools it needs")
    return on_path


def as_server_user(argv: list[str]) -> list[str]:
    """The command as the `postgres` user when we are root; as ourselves otherwise."""
    return ["runuser", "-u", SERVER_USER, "--", *argv] if os.geteuid() == 0 else argv


def run_as_server_user(argv: list[str], timeout: float = 60) -> str:
    done = subprocess.run(
        as_server_user(argv), capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{argv[0]} failed: {done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def server_directory(prefix: str) -> Iterator[Path]:
    """A directory the server user owns (pytest's own under /tmp are root's, mode 700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(path, SERVER_USER, SERVER_USER)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def _answers(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def wait_until_accepting(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not run(_answers(url)):
        assert time.monotonic() < deadline, f"nothing answers at {url}"
        time.sleep(0.1)


@dataclass
class Cluster:
    """A PostgreSQL cluster of the test's own (trust auth on 127.0.0.1, durability off)."""

    data: Path
    port: int
    log: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        run_as_server_user(
            [server_bin("pg_ctl"), "start", "-w", "-D", str(self.data), "-l", str(self.log)]
        )
        wait_until_accepting(self.url())

    def stop(self, mode: str = "fast") -> None:
        """`fast`: connections are ended and the server shuts down cleanly; `immediate`: as a
        crash (recovery at the next start)."""
        run_as_server_user([server_bin("pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data)])

    def create_database(self, name: str) -> str:
        async def create() -> None:
            connection = await asyncpg.connect(self.url())
            try:
                await connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await connection.close()

        run(create())
        return self.url(name)


@contextmanager
def own_cluster(max_connections: int = 100) -> Iterator[Cluster]:
    """initdb, start; stopped and removed at the end."""
    with server_directory("tac-cluster-") as home:
        data = home / "data"
        run_as_server_user(
            [server_bin("initdb"), "-D", str(data), "-U", SERVER_USER, "-A", "trust", "-E", "UTF8"],
            timeout=120,
        )
        settings = (
            "listen_addresses = '127.0.0.1'\n"
            f"port = {free_port()}\n"
            f"unix_socket_directories = '{home}'\n"
            f"max_connections = {max_connections}\n"
            # A test's data: a crash may lose it, and nothing here needs it kept.
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
        )
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(settings)
        port = int(settings.split("port = ")[1].split("\n")[0])
        cluster = Cluster(data, port, home / "server.log")
        cluster.start()
        try:
            yield cluster
        finally:
            subprocess.run(
                as_server_user(
                    [server_bin("pg_ctl"), "stop", "-w", "-m", "immediate", "-D", str(data)]
                ),
                capture_output=True,
                check=False,
            )


@dataclass
class Bouncer:
    """Debian's PgBouncer on a port of its own, in front of the tests' PostgreSQL server."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def url(self, database: str) -> str:
        """The URL of `database` through the pooler (the same user as the direct URL)."""
        assert POSTGRES_URL
        direct = make_url(POSTGRES_URL)
        return (
            direct.set(host="127.0.0.1", port=self.port, database=database)
            .render_as_string(hide_password=False)
            .replace("postgresql+asyncpg://", "postgresql://")
        )


@contextmanager
def pgbouncer(
    pool_mode: str = "transaction", pool_size: int = 10, round_robin: bool = False
) -> Iterator[Bouncer]:
    """PgBouncer in front of TAC_TEST_POSTGRES_URL's server: any database by name, trust auth
    (the tests' server trusts its local connections too), `pool_size` server connections per
    database and user. `round_robin`: each transaction to the next server connection in turn,
    rather than the one used last, so that anything a client leaves on a server connection
    beyond its transaction is missing from the next one (the way a busy pooler mixes them)."""
    assert POSTGRES_URL, "PgBouncer sits in front of TAC_TEST_POSTGRES_URL's server"
    direct = make_url(POSTGRES_URL)
    program = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(program).exists():
        pytest.fail("pgbouncer is not installed: `make test` installs it (Debian's pgbouncer)")
    with server_directory("tac-pgbouncer-") as home:
        port = free_port()
        users = home / "users.txt"
        users.write_text(f'"{direct.username}" ""\n')
        config = home / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={direct.host or '127.0.0.1'} port={direct.port or 5432}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\n"
            f"unix_socket_dir = {home}\n"
            "auth_type = trust\n"
            # May read the admin console's SHOW STATS and SHOW POOLS (what went through it).
            f"stats_users = {direct.username}\n"
            f"auth_file = {users}\n"
            f"pool_mode = {pool_mode}\n"
            f"default_pool_size = {pool_size}\n"
            f"server_round_robin = {int(round_robin)}\n"
            # With round robin, all of them open from the start: there is a next one to turn to.
            f"min_pool_size = {pool_size if round_robin else 0}\n"
            "max_client_conn = 500\n"
            # What asyncpg sets at connect (PgBouncer refuses unknown startup parameters).
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {home / 'pgbouncer.log'}\n"
        )
        for path in (users, config):
            if os.geteuid() == 0:
                shutil.chown(path, SERVER_USER, SERVER_USER)
        process = subprocess.Popen(
            as_server_user([program, str(config)]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bouncer = Bouncer(port, process, home / "pgbouncer.log")
        try:
            wait_until_accepting(bouncer.url(direct.database or "postgres"))
            yield bouncer
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
