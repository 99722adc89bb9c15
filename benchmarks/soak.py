"""`make soak`: tac-api under steady mixed load for half an hour on PostgreSQL, at about half the
capacity it measured first, and whether it stays as it started: no errors, the same p99, the same
memory, its connections bounded, its webhooks and outbox kept up with.

1. A fresh database (`tac_soak`, or TAC_SOAK_DATABASE) on the server TAC_BENCH_POSTGRES_URL names
   (as `make bench`), seeded as `make bench` seeds it: N mothers with three children each and the
   demo's liaison records (hearings, meetings, visits...), the worklist's tasks and flags; then a
   prison social worker in EWI, an admin, and Bristol's system with the children it pushes.
2. Processes of their own: the API processes (`tac-api serve`, one uvicorn worker each, the
   background webhook delivery off), the webhook dispatcher (`tac-api webhooks run`), the
   publisher of the outbox (`tac-api events publish`) to an SNS topic on a local moto server, and
   a webhook receiver (benchmarks/receiver.py) to which a webhook per local authority with
   children is registered through the API. This process is the load generator.
3. Capacity: the mix (benchmarks/soak_load.py) closed loop, N connections spread over the API
   processes, for --capacity-seconds.
4. The soak: the same mix open loop, arrivals at --fraction of that capacity, for --minutes,
   sampling every process's resident memory and the database's connections as it goes.
5. The backlogs once the load stops (webhook events not yet delivered, outbox events not yet
   published), and how long they take to drain.

The report is printed as Markdown and written as JSON (var/soak-<time>.json, or --json). Each
target is printed PASS or FAIL. The run exits 1 if any request got a wrong answer (the one target
that is a fault, not a measurement) or the run itself broke (a process died, a setup step failed),
and 0 otherwise, whether or not the latency, memory and backlog targets were met.

    make soak                                   # 30 minutes
    make soak SOAK_ARGS="--minutes 2 --capacity-seconds 20 --mothers 2000"
"""

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import soak_load
from benchmarks.load import database_cpu, machine_busy, proc_cpu, self_cpu
from benchmarks.soak_load import Mix, Outcomes, World, percentile
from benchmarks.stack import (
    BIN,
    DEFAULT_POSTGRES_URL,
    VAR,
    BenchError,
    Server,
    create_postgres,
    drop_postgres,
    free_ports,
    postgres_parts,
    seed_database,
    server_env,
    shown_url,
    tac_api_command,
)
from benchmarks.sync_batch import linked_mothers_and_token, synthetic_items

SOAK_DATABASE = os.environ.get("TAC_SOAK_DATABASE", "tac_soak")
DISTURBED = 0.15  # cores used by other processes during the soak: its figures are suspect
# Targets, from issue 20.
P99_GROWTH = 1.2  # the last window's p99 at most this times the first's
MEMORY_GROWTH = 0.10  # an API process's resident memory may grow by less than this
WINDOW_SECONDS = 300.0  # p99 is compared over the first and last five minutes (a fifth if shorter)
# Pools: the API processes' own, and the workers' (the dispatcher posts to 8 receivers at once).
WORKER_POOL = {"TAC_DATABASE_POOL_SIZE": "4", "TAC_DATABASE_MAX_OVERFLOW": "4"}
SYNC_CHILDREN = 200  # Bristol's children its system pushes, in batches of soak_load.BATCH_SIZE
SAMPLE_SECONDS = 5.0
TOPIC = "hmpps-domain-events"
AWS = {"AWS_ACCESS_KEY_ID": "soak", "AWS_SECRET_ACCESS_KEY": "soak", "TAC_AWS_REGION": "eu-west-2"}


@dataclass
class Process:
    """A process whose memory is followed: the API's, the dispatcher's, the publisher's."""

    name: str
    server: Server
    followed: bool  # its memory growth has a target (the API processes)
    tac_api: bool = True  # the service's (its memory reported); else the receiver's or moto's
    start_kb: int = 0
    end_kb: int = 0
    peak_kb: int = 0

    @property
    def pid(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid

    def alive(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None

    def rss_kb(self) -> int:
        """VmRSS from /proc/<pid>/status: what the process holds in memory now."""
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    @property
    def growth(self) -> float:
        return (self.end_kb - self.start_kb) / self.start_kb if self.start_kb else float("nan")


@dataclass
class Cpu:
    """CPU seconds used so far: by each process, this one, PostgreSQL's for the soak's database,
    and the whole machine."""

    at: float
    processes: dict[str, float]
    client: float
    database: dict[int, float]
    machine: float

    @classmethod
    def now(cls, processes: list["Process"]) -> "Cpu":
        return cls(
            time.perf_counter(),
            {p.name: proc_cpu(p.pid) for p in processes},
            self_cpu(),
            database_cpu(SOAK_DATABASE),
            machine_busy(),
        )

    def since(self, before: "Cpu") -> dict[str, float]:
        """Cores used in between (1.0: one core busy all the time); `other`: the machine's busy
        time that none of them accounts for, which disturbs the figures when high."""
        elapsed = self.at - before.at
        used = {
            name: (seconds - before.processes[name]) / elapsed
            for name, seconds in self.processes.items()
        }
        used["load generator"] = (self.client - before.client) / elapsed
        # Connections opened meanwhile are new processes: all they used is in the window.
        used["PostgreSQL"] = (
            sum(seconds - before.database.get(pid, 0.0) for pid, seconds in self.database.items())
            / elapsed
        )
        busy = (self.machine - before.machine) / elapsed
        used["other"] = max(0.0, busy - sum(used.values()))
        return {name: round(cores, 3) for name, cores in used.items()}


@dataclass
class Samples:
    connections: list[tuple[float, int]] = field(default_factory=list)  # (elapsed s, count)
    memory: list[tuple[float, dict[str, int]]] = field(default_factory=list)


# Seeding ---------------------------------------------------------------------------------------


async def _clients_and_records(url: str) -> dict[str, Any]:
    """An admin's token; EWI's active mothers with their children; EWI's scheduled hearings with
    their ETags; the local authorities with children (each gets a webhook)."""
    from sqlalchemy import select

    from tac_api.auth.schemas import Role
    from tac_api.auth.service import create_client
    from tac_api.children.models import Child
    from tac_api.config import Settings
    from tac_api.db import make_engine, sessionmaker_for
    from tac_api.hearings.models import CourtHearing
    from tac_api.mothers.models import Mother

    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with sessionmaker_for(engine)() as session, session.begin():
            _, admin = await create_client(session, name="soak-admin", role=Role.admin)
            active = (Mother.prison_code == "EWI") & (Mother.status == "active")
            rows = (
                await session.execute(
                    select(Mother.id, Child.id)
                    .join(Child, Child.mother_id == Mother.id)
                    .where(active)
                    .order_by(Mother.id, Child.id)
                )
            ).all()
            hearings = (
                await session.execute(
                    select(CourtHearing.id, CourtHearing.version)
                    .join(Mother, Mother.id == CourtHearing.mother_id)
                    .where(
                        active,
                        CourtHearing.status == "scheduled",
                        CourtHearing.external_id.is_(None),
                    )
                    .order_by(CourtHearing.id)
                    .limit(soak_load.PATCH_POOL)
                )
            ).all()
            authorities = sorted(set(await session.scalars(select(Child.local_authority_code))))
    finally:
        await engine.dispose()
    mothers: dict[str, list[str]] = {}
    for mother_id, child_id in rows:
        mothers.setdefault(str(mother_id), []).append(str(child_id))
    return {
        "admin": admin,
        "mothers": sorted(mothers.items()),
        "hearings": [(str(h.id), f'"{h.version}"') for h in hearings],
        "authorities": authorities,
    }


def seed_world(url: str, args: argparse.Namespace) -> tuple[World, str, list[str]]:
    """The bench's seed, then what the soak's clients need: (world, admin token, authorities)."""
    from tac_api.demo import LAST_NAMES

    seeded = seed_database(url, args.mothers, args.seed)
    found = asyncio.run(_clients_and_records(url))
    bristol, authority_token = asyncio.run(linked_mothers_and_token(url))
    if not found["mothers"] or not bristol:
        raise BenchError("the seed made no active EWI mother with children, or none in Bristol")
    world = World(
        worker_token=seeded.token,
        authority_token=authority_token,
        mothers=found["mothers"],
        hearings=found["hearings"],
        sync_items=synthetic_items(sorted(bristol), SYNC_CHILDREN, args.seed),
        last_names=list(LAST_NAMES),
    )
    print(
        f"  seeded {args.mothers:,} mothers x 3 children in {seeded.seconds:.1f} s: "
        f"{len(world.mothers):,} active in EWI, {len(world.hearings)} of their hearings to change, "
        f"{len(found['authorities'])} local authorities",
        flush=True,
    )
    return world, found["admin"], found["authorities"]


# Processes -------------------------------------------------------------------------------------


def log_path(process: str) -> Path:
    """A process's output, under its run's database (var/soak-tac_soak-api-1.log): two soaks at
    once need two databases, and so keep their logs apart too."""
    return VAR / f"soak-{SOAK_DATABASE}-{process}.log"


def start(servers: list[Server], server: Server) -> Server:
    """Started (not yet ready); stopped with the others by stop_all."""
    servers.append(server)
    server.start()
    return server


def stop_all(servers: list[Server]) -> None:
    """All at once (SIGTERM, SIGKILL after 10 s), not one after another: each API process takes
    a moment to finish, and the suite runs this."""

    def stop(server: Server) -> None:
        began = time.perf_counter()
        server.stop()
        took = time.perf_counter() - began
        if took > 3:  # a process slow to stop on SIGTERM is worth knowing of
            print(f"  {server.name} took {took:.1f} s to stop", flush=True)

    with ThreadPoolExecutor(max_workers=len(servers) or 1) as pool:
        list(pool.map(stop, servers))


def moto_topic(endpoint: str) -> str:
    """The estate's topic, on the local SNS (moto's server): its ARN."""
    import boto3

    sns = boto3.client(
        "sns",
        endpoint_url=endpoint,
        region_name=AWS["TAC_AWS_REGION"],
        aws_access_key_id="soak",
        aws_secret_access_key="soak",
    )
    return sns.create_topic(Name=TOPIC)["TopicArn"]


def register_webhooks(port: int, admin: str, receiver: int, authorities: list[str]) -> None:
    """One webhook per local authority with children, to the receiver, through the API."""
    for code in authorities:
        body = json.dumps(
            {"url": f"http://127.0.0.1:{receiver}/hooks/{code}", "local_authority_code": code}
        )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(
                "POST",
                "/v1/sync/webhooks",
                body=body,
                headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
            )
            answer = connection.getresponse()
            if answer.status != 201:
                raise BenchError(f"webhook for {code}: {answer.status} {answer.read()[:300]!r}")
            answer.read()
        finally:
            connection.close()


def start_processes(
    stack: contextlib.ExitStack,
    url: str,
    args: argparse.Namespace,
    admin: str,
    authorities: list[str],
) -> tuple[list[Process], int, str]:
    """The receiver, moto, the API processes, the dispatcher and the publisher, started together
    and ready; returns the processes followed, the receiver's port and the topic's ARN."""
    receiver_port, moto_port, *api_ports = free_ports(2 + args.processes)
    servers: list[Server] = []
    stack.callback(stop_all, servers)
    receiver = start(
        servers,
        Server(
            "receiver",
            [sys.executable, "-m", "benchmarks.receiver", "--port", str(receiver_port)],
            {**os.environ, "PYTHONUNBUFFERED": "1"},
            receiver_port,
            log_path("receiver"),
            ready_path="/count",
        ),
    )
    moto = start(
        servers,
        Server(
            "moto",
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
            {**os.environ},
            moto_port,
            log_path("moto"),
            ready_path="/",
        ),
    )
    env = {
        **server_env(url),
        "TAC_DATABASE_POOL_SIZE": str(args.pool_size),
        "TAC_DATABASE_MAX_OVERFLOW": str(args.max_overflow),
        # Delivery is the dispatcher's (a service of its own, as docker-compose.yml runs it).
        "TAC_WEBHOOK_DISPATCH": "false",
        # The receiver is on this machine, over plain http.
        "TAC_WEBHOOK_ALLOW_HTTP": "true",
    }
    tac_api = tac_api_command()
    processes = [
        Process(
            f"api-{number}",
            start(
                servers,
                Server(
                    f"api-{number}",
                    [tac_api, "serve", "--port", str(port)],
                    env,
                    port,
                    log_path(f"api-{number}"),
                ),
            ),
            followed=True,
        )
        for number, port in enumerate(api_ports, 1)
    ]
    moto.wait_ready()
    endpoint = f"http://127.0.0.1:{moto_port}"
    topic = moto_topic(endpoint)
    workers = {
        "dispatcher": ([tac_api, "webhooks", "run"], {}),
        "publisher": (
            [tac_api, "events", "publish"],
            {"TAC_AWS_ENDPOINT_URL": endpoint, "TAC_EVENTS_TOPIC_ARN": topic, **AWS},
        ),
    }
    for name, (argv, extra) in workers.items():
        server = Server(name, argv, {**env, **WORKER_POOL, **extra}, 0, log_path(name))
        processes.append(Process(name, start(servers, server), followed=False))
    processes += [
        Process("receiver", receiver, followed=False, tac_api=False),
        Process("moto", moto, followed=False, tac_api=False),
    ]
    receiver.wait_ready()
    for process in processes:
        if process.followed:
            process.server.wait_ready()
    register_webhooks(api_ports[0], admin, receiver_port, authorities)
    for process in processes:  # the workers have had the API's start-up time to fail
        if not process.alive():
            raise BenchError(f"{process.name} exited:\n{process.server.log_tail()}")
    print(
        f"  {args.processes} API processes (pools of {args.pool_size} + {args.max_overflow}), "
        f"a webhook dispatcher and an outbox publisher (pools of 4 + 4), a webhook receiver "
        f"({len(authorities)} webhooks), moto's SNS; this process sends the load",
        flush=True,
    )
    return processes, receiver_port, topic


# Measuring -------------------------------------------------------------------------------------

# Client connections only: a parallel query's workers are listed too, and are not connections.
CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)
WEBHOOK_BACKLOG_SQL = """
SELECT (SELECT count(*) FROM webhook_delivery WHERE status = 'pending')
     + (SELECT count(*) FROM webhook w
        JOIN change_event e ON e.local_authority_code = w.local_authority_code
                           AND e.position > w.cursor_position
        WHERE w.active)
"""
OUTBOX_BACKLOG_SQL = """
SELECT count(*) FROM service_event
WHERE position > coalesce((SELECT last_position FROM event_publication WHERE topic_arn = $1), 0)
"""


@dataclass
class Measured:
    capacity: Outcomes
    rate: float
    soak: Outcomes
    samples: Samples
    backlog: dict[str, Any]
    receiver: dict[str, int]
    problems: list[str]
    cpu: dict[str, float]  # cores used during the soak, by process (Cpu.since)


async def backlogs(monitor: Any, topic: str) -> tuple[int, int]:
    return (
        int(await monitor.fetchval(WEBHOOK_BACKLOG_SQL)),
        int(await monitor.fetchval(OUTBOX_BACKLOG_SQL, topic)),
    )


def receiver_counts(port: int) -> dict[str, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/count")
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


async def measure(
    url: str,
    args: argparse.Namespace,
    world: World,
    processes: list[Process],
    receiver_port: int,
    topic: str,
) -> Measured:
    import asyncpg

    ports = [p.server.port for p in processes if p.followed]
    mix = Mix(world, args.seed)
    monitor = await asyncpg.connect(**postgres_parts(url), timeout=10)
    problems: list[str] = []
    try:
        warmup = min(5.0, args.capacity_seconds / 3)
        print(
            f"  capacity: {args.connections} connections, closed loop, {warmup:g} s warm-up, "
            f"{args.capacity_seconds:g} s measured",
            flush=True,
        )
        capacity = await soak_load.closed_loop(
            ports, mix, args.connections, warmup, args.capacity_seconds
        )
        measured_rate = capacity.requests / capacity.seconds
        rate = max(1.0, measured_rate * args.fraction)
        print(
            f"    {measured_rate:,.1f} req/s, {capacity.errors} errors; the soak sends "
            f"{rate:,.1f} req/s ({args.fraction:.0%}) for {args.minutes:g} min",
            flush=True,
        )
        samples = Samples()
        seconds = args.minutes * 60

        async def sample(elapsed: float) -> None:
            count = int(await monitor.fetchval(CONNECTIONS_SQL))
            samples.connections.append((elapsed, count))
            memory = {}
            for process in processes:
                if not process.alive():
                    raise BenchError(f"{process.name} died:\n{process.server.log_tail()}")
                if not process.tac_api:
                    continue
                memory[process.name] = kb = process.rss_kb()
                process.peak_kb = max(process.peak_kb, kb)
            samples.memory.append((elapsed, memory))

        await sample(0.0)
        for process in processes:
            process.start_kb = samples.memory[0][1].get(process.name, 0)
        cpu_before = Cpu.now(processes)
        reported = [0.0]

        async def tick(elapsed: float, outcomes: Outcomes) -> None:
            await sample(elapsed)
            if elapsed - reported[0] >= 60 or elapsed >= seconds:
                recent = outcomes.latencies(reported[0], elapsed)
                print(
                    f"    {elapsed / 60:5.1f} min: {outcomes.requests:,} requests, "
                    f"{outcomes.errors} errors, p99 since the last line "
                    f"{percentile(recent, 99):.1f} ms, "
                    f"{samples.connections[-1][1]} database connections",
                    flush=True,
                )
                reported[0] = elapsed

        soak = await soak_load.open_loop(
            ports, mix, rate, seconds, seed=args.seed, every=SAMPLE_SECONDS, tick=tick
        )
        cpu = Cpu.now(processes).since(cpu_before)
        await sample(seconds)
        for process in processes:
            process.end_kb = samples.memory[-1][1].get(process.name, 0)
        webhooks, outbox = await backlogs(monitor, topic)
        backlog: dict[str, Any] = {"webhooks_at_end": webhooks, "outbox_at_end": outbox}
        stopped = time.perf_counter()
        while (webhooks or outbox) and time.perf_counter() - stopped < args.drain_seconds:
            await asyncio.sleep(0.5)
            webhooks, outbox = await backlogs(monitor, topic)
        drained = time.perf_counter() - stopped
        backlog.update(
            webhooks_after_drain=webhooks,
            outbox_after_drain=outbox,
            drain_seconds=round(drained, 1),
        )
        statuses = dict(
            (row[0], row[1])
            for row in await monitor.fetch(
                "SELECT status, count(*) FROM webhook_delivery GROUP BY status"
            )
        )
        backlog["deliveries"] = {s: statuses.get(s, 0) for s in ("delivered", "failed", "pending")}
        backlog["outbox_published"] = int(
            await monitor.fetchval(
                "SELECT coalesce(max(last_position), 0) FROM event_publication "
                "WHERE topic_arn = $1",
                topic,
            )
        )
        backlog["outbox_events"] = int(await monitor.fetchval("SELECT count(*) FROM service_event"))
    finally:
        await monitor.close()
    return Measured(
        capacity, rate, soak, samples, backlog, receiver_counts(receiver_port), problems, cpu
    )


# Reporting -------------------------------------------------------------------------------------


def window(seconds: float) -> float:
    return min(WINDOW_SECONDS, seconds / 5)


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def build_report(
    args: argparse.Namespace, measured: Measured, processes: list[Process], started: datetime
) -> dict[str, Any]:
    soak, capacity = measured.soak, measured.capacity
    seconds = soak.seconds
    span = window(seconds)
    first = percentile(soak.latencies(0, span), 99)
    last = percentile(soak.latencies(seconds - span, seconds), 99)
    connections = [count for _, count in measured.samples.connections]
    backlog = measured.backlog
    kinds = {}
    for kind in soak.kinds:
        latencies = soak.latencies(kind=kind)
        if not latencies:
            continue
        index = soak.kinds.index(kind)
        errors = sum(1 for k, ok in zip(soak.kind, soak.ok, strict=True) if k == index and not ok)
        kinds[kind] = {
            "requests": len(latencies),
            "errors": errors,
            "p50_ms": round(percentile(latencies, 50), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
        }
    memory = [
        {
            "process": p.name,
            "pid": p.pid,
            "target": p.followed,
            "start_kb": p.start_kb,
            "end_kb": p.end_kb,
            "peak_kb": p.peak_kb,
            "growth": round(p.growth, 4),
        }
        for p in processes
        if p.tac_api
    ]
    pool = args.pool_size + args.max_overflow
    ceiling = args.processes * pool + 2 * sum(int(v) for v in WORKER_POOL.values())
    deliveries = backlog["deliveries"]
    targets = [
        {"figure": "errors", "target": "0", "value": soak.errors, "passed": soak.errors == 0},
        {
            "figure": "p99, last window over first",
            "target": f"at most {P99_GROWTH}",
            "value": round(last / first, 3) if first else None,
            "passed": bool(first) and last <= P99_GROWTH * first,
        },
        *(
            {
                "figure": f"resident memory growth, {m['process']}",
                "target": f"under {MEMORY_GROWTH:.0%}",
                "value": m["growth"],
                "passed": m["growth"] < MEMORY_GROWTH,
            }
            for m in memory
            if m["target"]
        ),
        {
            "figure": "webhook deliveries given up",
            "target": "0",
            "value": deliveries["failed"],
            "passed": deliveries["failed"] == 0,
        },
        {
            "figure": "backlogs drained after the load",
            "target": f"within {args.drain_seconds:g} s",
            "value": backlog["drain_seconds"],
            "passed": backlog["webhooks_after_drain"] == 0 and backlog["outbox_after_drain"] == 0,
        },
    ]
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arguments": vars(args) | {"json": str(args.json) if args.json else None},
        "processes": {
            "api": args.processes,
            "api_pool": f"{args.pool_size} + {args.max_overflow}",
            "workers": ["dispatcher (tac-api webhooks run)", "publisher (tac-api events publish)"],
            "load_generator": "this process",
        },
        "capacity": {
            "connections": args.connections,
            "seconds": capacity.seconds,
            "requests": capacity.requests,
            "rate": round(capacity.requests / capacity.seconds, 1),
            "errors": capacity.errors,
        },
        "soak": {
            "minutes": args.minutes,
            "target_rate": round(measured.rate, 1),
            "rate": round(soak.requests / seconds, 1),
            "requests": soak.requests,
            "errors": soak.errors,
            "error_samples": soak.samples,
            "p50_ms": round(percentile(soak.latencies(), 50), 2),
            "p99_ms": round(percentile(soak.latencies(), 99), 2),
            "window_seconds": span,
            "p99_first_ms": round(first, 2),
            "p99_last_ms": round(last, 2),
            "by_kind": kinds,
            "statuses": dict(sorted(soak.statuses.items())),
        },
        "memory": memory,
        "database_connections": {
            "peak": max(connections),
            "end": connections[-1],
            "ceiling": ceiling,
            "samples": len(connections),
        },
        "webhooks": {
            "backlog_at_end": backlog["webhooks_at_end"],
            "backlog_after_drain": backlog["webhooks_after_drain"],
            "delivered": deliveries["delivered"],
            "failed": deliveries["failed"],
            "received": measured.receiver["received"],
            "duplicates": measured.receiver["duplicates"],
            "unsigned": measured.receiver["unsigned"],
        },
        "outbox": {
            "backlog_at_end": backlog["outbox_at_end"],
            "backlog_after_drain": backlog["outbox_after_drain"],
            "published_through": backlog["outbox_published"],
            "events": backlog["outbox_events"],
        },
        "drain_seconds": backlog["drain_seconds"],
        "cpu_cores": measured.cpu,
        "disturbed": measured.cpu["other"] > DISTURBED,
        "targets": targets,
        "problems": measured.problems,
    }


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.1f} MB"


def markdown(report: dict[str, Any]) -> str:
    soak, capacity = report["soak"], report["capacity"]
    span = soak["window_seconds"]
    span_name = f"{span / 60:g} min" if span >= 60 else f"{span:g} s"
    ratio = soak["p99_last_ms"] / soak["p99_first_ms"] if soak["p99_first_ms"] else float("nan")
    passed = {t["figure"]: verdict(t["passed"]) for t in report["targets"]}
    connections = report["database_connections"]
    webhooks, outbox = report["webhooks"], report["outbox"]
    lines = [
        "| Figure | Value | Target | |",
        "| --- | --- | --- | --- |",
        f"| capacity (closed loop, {capacity['connections']} connections) | "
        f"{capacity['rate']:,.1f} req/s, {capacity['errors']} errors | | |",
        f"| requests ({soak['minutes']:g} min, open loop) | {soak['requests']:,} "
        f"({soak['rate']:,.1f} req/s; asked {soak['target_rate']:,.1f}) | | |",
        f"| errors | {soak['errors']} | 0 | {passed['errors']} |",
        f"| p50 / p99, whole run | {soak['p50_ms']:.1f} / {soak['p99_ms']:.1f} ms | | |",
        f"| p99, first {span_name} | {soak['p99_first_ms']:.1f} ms | | |",
        f"| p99, last {span_name} | {soak['p99_last_ms']:.1f} ms ({ratio:.2f}x) | "
        f"at most {P99_GROWTH}x | {passed['p99, last window over first']} |",
    ]
    for m in report["memory"]:
        figure = f"resident memory growth, {m['process']}"
        lines.append(
            f"| resident memory, {m['process']} | {_mb(m['start_kb'])} -> {_mb(m['end_kb'])} "
            f"({m['growth']:+.1%}; peak {_mb(m['peak_kb'])}) | "
            + (f"under +{MEMORY_GROWTH:.0%} | {passed[figure]} |" if m["target"] else "| |")
        )
    lines += [
        f"| database connections | peak {connections['peak']}, end {connections['end']} "
        f"(pools' ceiling {connections['ceiling']}) | | |",
        f"| webhook backlog at the end | {webhooks['backlog_at_end']:,} events "
        f"({webhooks['backlog_after_drain']:,} after {report['drain_seconds']:g} s); "
        f"{webhooks['delivered']:,} delivered, {webhooks['failed']} given up, "
        f"{webhooks['received']:,} received ({webhooks['duplicates']} twice) | "
        f"none given up | {passed['webhook deliveries given up']} |",
        f"| outbox backlog at the end | {outbox['backlog_at_end']:,} events "
        f"({outbox['backlog_after_drain']:,} after {report['drain_seconds']:g} s); "
        f"{outbox['published_through']:,} of {outbox['events']:,} published | "
        f"both drained | {passed['backlogs drained after the load']} |",
        "| CPU during the soak, in cores | "
        + ", ".join(f"{name} {cores:.2f}" for name, cores in report["cpu_cores"].items())
        + " | | |",
        "",
        "| Request | requests | errors | p50 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, figures in soak["by_kind"].items():
        lines.append(
            f"| {kind} | {figures['requests']:,} | {figures['errors']} | "
            f"{figures['p50_ms']:.1f} | {figures['p99_ms']:.1f} |"
        )
    return "\n".join(lines)


# The run ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make soak",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="the soak's duration")
    parser.add_argument(
        "--capacity-seconds", type=float, default=45.0, help="the capacity's measured seconds"
    )
    parser.add_argument(
        "--fraction", type=float, default=0.5, help="of the capacity, the soak's rate"
    )
    parser.add_argument("--processes", type=int, default=2, help="API processes")
    parser.add_argument(
        "--connections", type=int, default=16, help="the capacity's concurrent connections"
    )
    parser.add_argument("--pool-size", type=int, default=10, help="each API process's pool")
    parser.add_argument("--max-overflow", type=int, default=5, help="and its overflow")
    parser.add_argument(
        "--mothers", type=int, default=10_000, help="mothers seeded (3 children each)"
    )
    parser.add_argument("--seed", type=int, default=2026, help="seed of the data and the load")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=60.0,
        help="the longest wait, once the load stops, for the backlogs to drain",
    )
    parser.add_argument(
        "--json", type=str, default=None, help="the JSON report's path (var/soak-<time>.json)"
    )
    args = parser.parse_args(argv)
    if not 0.05 <= args.minutes <= 24 * 60 or not 1 <= args.capacity_seconds <= 600:
        parser.error("--minutes must be in [0.05, 1440] and --capacity-seconds in [1, 600]")
    if not 0 < args.fraction <= 1 or not 1 <= args.processes <= 8:
        parser.error("--fraction must be in (0, 1] and --processes in [1, 8]")
    if not 1 <= args.connections <= 256 or not 20 <= args.mothers <= 200_000:
        parser.error("--connections must be in [1, 256] and --mothers in [20, 200000]")
    if not 1 <= args.pool_size <= 100 or not 0 <= args.max_overflow <= 100:
        parser.error("--pool-size must be in [1, 100] and --max-overflow in [0, 100]")
    if not 0 <= args.drain_seconds <= 3600:
        parser.error("--drain-seconds must be in [0, 3600]")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: processes stopped, db dropped


def soak(args: argparse.Namespace) -> dict[str, Any]:
    started = datetime.now(UTC)
    admin_url = os.environ.get("TAC_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    with contextlib.ExitStack() as stack:
        try:
            url = create_postgres(admin_url, SOAK_DATABASE)
        except Exception as exc:  # unreachable, refused, no right to create: nothing to soak
            raise BenchError(
                f"cannot create {SOAK_DATABASE} on {shown_url(admin_url)}: {exc}"
            ) from exc
        stack.callback(drop_postgres, admin_url, SOAK_DATABASE)
        print(f"PostgreSQL, database {SOAK_DATABASE} on {shown_url(admin_url)}", flush=True)
        world, admin, authorities = seed_world(url, args)
        processes, receiver_port, topic = start_processes(stack, url, args, admin, authorities)
        measured = soak_load.run(measure(url, args, world, processes, receiver_port, topic))
        for process in processes:
            if not process.alive():
                measured.problems.append(f"{process.name} died:\n{process.server.log_tail()}")
        return build_report(args, measured, processes, started)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    VAR.mkdir(exist_ok=True)
    began = time.perf_counter()
    try:
        report = soak(args)
    except BenchError as exc:
        print(f"FAILED: {exc}", flush=True)
        return 1
    path = args.json or str(VAR / f"soak-{report['started_at'].replace(':', '')[:17]}.json")
    with open(path, "w") as out:
        json.dump(report, out, indent=2)
    print("\n" + markdown(report) + "\n")
    for target in report["targets"]:
        print(
            f"Target ({target['figure']}: {target['target']}): {verdict(target['passed'])} "
            f"({target['value']})"
        )
    if report["disturbed"]:
        print(
            f"NOTE: other processes used {report['cpu_cores']['other']:.2f} cores during the "
            f"soak (over {DISTURBED}): its latency figures are suspect; rerun on a quiet machine."
        )
    for sample in report["soak"]["error_samples"]:
        print(f"ERROR: {sample}")
    for problem in report["problems"]:
        print(f"PROBLEM: {problem}")
    print(f"report: {path}\nmake soak took {time.perf_counter() - began:.0f} s")
    return 1 if report["soak"]["errors"] or report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
