"""A closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next request as
soon as the previous answer is complete, for a warm-up and then a measured duration.

On a 2-core machine the client competes with the server for the CPU, so it has to be cheap: it is
uvloop plus httptools (the HTTP parser uvicorn itself uses), with the requests prepared up front. It
costs about a third of what aiohttp's client does per request, and httpx's AsyncClient is an order
of magnitude slower. Only loopback addresses are ever targeted, and every run is bounded in time.
"""

import asyncio
import gc
import os
import random
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httptools

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class LoadResult:
    requests: int  # answered inside the measured window
    seconds: float
    latencies: list[float]  # seconds, sorted, one per request of the window
    statuses: Counter[int] = field(default_factory=Counter)  # every answer, warm-up included
    failures: int = 0  # connections lost, unparsable answers, requests still open at the deadline
    samples: list[str] = field(default_factory=list)  # a few answers that were not 200
    # CPU in the measured window, in cores (1.0 = one core busy all the time).
    client_cpu: float = 0.0  # this process
    server_cpu: float = 0.0  # the server's process
    database_cpu: float = 0.0  # PostgreSQL's, for this database (SQLite runs inside the server)
    other_cpu: float = 0.0  # everything else on the machine: disturbs the figures when high
    probed: float | None = None  # how much the caller's window probe grew during the window

    @classmethod
    def combine(cls, parts: list["LoadResult"]) -> "LoadResult":
        """Several runs against the same server as one (their windows added up)."""
        seconds = sum(part.seconds for part in parts) or 1.0

        def mean(name: str) -> float:
            return sum(getattr(part, name) * part.seconds for part in parts) / seconds

        probed = [part.probed for part in parts if part.probed is not None]
        return cls(
            requests=sum(part.requests for part in parts),
            seconds=seconds,
            latencies=sorted(latency for part in parts for latency in part.latencies),
            statuses=sum((part.statuses for part in parts), Counter()),
            failures=sum(part.failures for part in parts),
            samples=[sample for part in parts for sample in part.samples][:3],
            client_cpu=mean("client_cpu"),
            server_cpu=mean("server_cpu"),
            database_cpu=mean("database_cpu"),
            other_cpu=mean("other_cpu"),
            probed=sum(probed) if probed else None,
        )

    @property
    def errors(self) -> int:
        return self.failures + sum(n for status, n in self.statuses.items() if status != 200)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return float("nan")
        rank = max(0, min(len(self.latencies) - 1, round(p / 100 * len(self.latencies)) - 1))
        return self.latencies[rank] * 1000


class Connection(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[int] | None = None
        self.body: list[bytes] = []
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            if self.transport is not None:
                self.transport.close()

    def on_message_begin(self) -> None:
        self.body.clear()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self.parser.get_status_code())

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(exc or ConnectionError("connection closed by the server"))

    def _fail(self, exc: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


def proc_cpu(pid: int, reaped: bool = False) -> float:
    """CPU seconds a process has used (user + system), from /proc; with `reaped`, plus what its
    children that have exited used (PostgreSQL's postmaster reaps every closed connection)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12])
    if reaped:
        used += int(fields[13]) + int(fields[14])
    return used / TICKS


def database_cpu(database: str | None) -> dict[int, float]:
    """CPU seconds of the PostgreSQL processes serving `database`: its connections (the process
    title names the database), plus the closed ones, which the postmaster has reaped. Other
    databases' connections on the same server (another project's tests, say) are left out."""
    used: dict[int, float] = {}
    if database is None:
        return used
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/comm") as handle:
                if handle.read().strip() not in ("postgres", "postmaster"):
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                title = handle.read().replace(b"\0", b" ").decode(errors="replace")
            if not title.startswith("postgres:"):  # the postmaster: only what it reaped
                used[pid] = proc_cpu(pid, reaped=True) - proc_cpu(pid)
            elif f" {database} " in title:
                used[pid] = proc_cpu(pid)
        except OSError:  # gone meanwhile
            continue
    return used


def machine_busy() -> float:
    """CPU seconds all cores have spent busy since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:8]]  # user .. softirq
    return (sum(values) - values[3] - values[4]) / TICKS  # less idle and iowait


class _CpuSnapshot:
    def __init__(self, server_pid: int | None, database: str | None) -> None:
        self.at = time.perf_counter()
        self.client = self_cpu()
        self.server = proc_cpu(server_pid) if server_pid else 0.0
        self.database = database_cpu(database)
        self.machine = machine_busy()


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _load(
    host: str,
    port: int,
    requests: list[bytes],
    connections: int,
    warmup: float,
    duration: float,
    server_pid: int | None,
    grace: float,
    window_probe: Callable[[], Awaitable[float]] | None,
    database: str | None,
) -> LoadResult:
    loop = asyncio.get_running_loop()
    result = LoadResult(requests=0, seconds=duration, latencies=[])
    latencies = result.latencies
    statuses = result.statuses
    choose = random.Random(2026).choice
    clock = time.perf_counter
    started = clock()
    window_start = started + warmup
    window_end = window_start + duration

    async def connect() -> Connection | None:
        try:
            _, protocol = await loop.create_connection(Connection, host, port)
        except OSError:
            result.failures += 1
            await asyncio.sleep(0.05)
            return None
        return protocol

    async def worker() -> None:
        connection = None
        try:
            while True:
                sent = clock()
                if sent >= window_end:
                    return
                if connection is None or connection.lost:
                    connection = await connect()
                    continue
                waiter = connection.waiter = loop.create_future()
                assert connection.transport is not None
                connection.transport.write(choose(requests))
                try:
                    status = await waiter
                except (ConnectionError, OSError, httptools.HttpParserError):
                    result.failures += 1
                    continue
                if sent >= window_start:
                    latencies.append(clock() - sent)
                statuses[status] += 1
                if status != 200 and len(result.samples) < 3:
                    result.samples.append(f"{status} {b''.join(connection.body)[:300]!r}")
        finally:
            if connection is not None and connection.transport is not None:
                connection.transport.close()

    async def sample_cpu() -> tuple[float | None, _CpuSnapshot]:
        await asyncio.sleep(max(0.0, window_start - clock()))
        snapshot = _CpuSnapshot(server_pid, database)
        return await window_probe() if window_probe else None, snapshot

    first = asyncio.ensure_future(sample_cpu())
    workers = asyncio.gather(*(worker() for _ in range(connections)))
    # Interrupted (SIGTERM, Ctrl-C): the workers' cancellation is expected, not worth a report.
    workers.add_done_callback(lambda done: done.cancelled() or done.exception())
    try:
        await asyncio.wait_for(workers, timeout=warmup + duration + grace)
    except TimeoutError:
        result.failures += connections  # at most one request per connection left hanging
    probed_before, before = await first
    after = _CpuSnapshot(server_pid, database)
    if window_probe is not None and probed_before is not None:
        result.probed = await window_probe() - probed_before
    elapsed = after.at - before.at
    result.requests = len(latencies)  # those sent inside the window, which lasts `duration`
    if elapsed > 0:
        result.client_cpu = (after.client - before.client) / elapsed
        result.server_cpu = (after.server - before.server) / elapsed
        # Connections opened in the window are new processes: all they used is in the window.
        result.database_cpu = (
            sum(used - before.database.get(pid, 0.0) for pid, used in after.database.items())
            / elapsed
        )
        busy = (after.machine - before.machine) / elapsed
        known = result.client_cpu + result.server_cpu + result.database_cpu
        result.other_cpu = max(0.0, busy - known)
    latencies.sort()
    return result


def run_load(
    *,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    connections: int,
    warmup: float,
    duration: float,
    host: str = "127.0.0.1",
    server_pid: int | None = None,
    grace: float = 10.0,
    window_probe: Callable[[], Awaitable[float]] | None = None,
    database: str | None = None,
) -> LoadResult:
    """GET random paths of `paths` from host:port over `connections` keep-alive connections.

    `window_probe`, if given, is awaited as the measured window opens and after it closes; the
    difference is returned as `probed` (e.g. how many database connections were opened).
    `database`: the PostgreSQL database the server uses, whose processes' CPU is measured."""
    if host not in LOOPBACK:
        raise ValueError(f"load is only ever sent to this machine (loopback), not {host}")
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}\r\n".encode() for path in paths
    ]
    coroutine = _load(
        host,
        port,
        requests,
        connections,
        warmup,
        duration,
        server_pid,
        grace,
        window_probe,
        database,
    )
    gc.collect()
    gc.disable()  # no collector pauses inside the client's timings
    try:
        return uvloop.run(coroutine) if uvloop is not None else asyncio.run(coroutine)
    finally:
        gc.enable()
