"""Several `tac-api serve` processes on one PostgreSQL, as an operator runs them, over real HTTP:
what they share lives in the database, so one Idempotency-Key makes one record, one client has
one rate limit, a change-feed reader sees each event once, and two webhook dispatchers never
deliver one event twice at once, whichever process each request reaches. And a process stopped
with SIGTERM finishes what it is doing, takes nothing new, gives back its webhook leases and
exits 0.

One database and one set of three processes serve the module (starting a process costs seconds);
each test writes its own records, with its own clients, and counts only those."""

import asyncio
import base64
import contextlib
import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import orjson
import pytest
from sqlalchemy.engine import make_url

from tac_api.auth.schemas import Role
from tac_api.changes.schemas import cursor_of
from tac_api.webhooks import dispatcher
from tests.support.api import CLIENTS
from tests.support.bodies import child_body, mother_body
from tests.support.databases import POSTGRES_URL, query
from tests.support.processes import (
    SMALL_POOL,
    TAC_API,
    ApiProcess,
    Command,
    api_processes,
    bearer,
    make_tokens,
    migrated,
    start_api,
    start_command,
    stopped_at_end,
    wait_for,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not POSTGRES_URL, reason="PostgreSQL tests need TAC_TEST_POSTGRES_URL (set by .ci/run)"
    ),
]

FEED = "/v1/sync/changes"
HOOKS = "/v1/sync/webhooks"
# Small, so that the rate-limit test can fire more than a minute's allowance at once and have
# it all answered within one emission interval (60 / 30 = 2 s). Every other test stays inside
# it by giving each of its actors a client of its own.
RATE_LIMIT = 30
SERVICE_ENV = {
    "TAC_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
    # Webhooks registered to the test's receiver on 127.0.0.1, over plain http.
    "TAC_WEBHOOK_ALLOW_HTTP": "true",
}
# Delivering processes: quick to look for work, and patient with a receiver the test holds
# (an attempt cut short by the timeout would be retried, and counted twice by the receiver).
DISPATCH_ENV = {
    **SERVICE_ENV,
    "TAC_WEBHOOK_POLL_SECONDS": "0.1",
    "TAC_WEBHOOK_TIMEOUT_SECONDS": "20",
}
EWI_WORKER = (Role.prison_social_worker, "EWI", None)
BRISTOL_SYSTEM = (Role.la_system, None, "801")
# Each actor its own client, so none meets the small limit but the one test that is about it.
WRITERS = [f"writer_{n}" for n in range(8)]
READERS = [f"reader_{n}" for n in range(6)]
LIMITED = [f"limited_{n}" for n in range(3)]  # the rate-limit test's, a new one for each try
MODULE_CLIENTS = {
    **CLIENTS,
    "idempotent": EWI_WORKER,
    **dict.fromkeys(LIMITED, EWI_WORKER),
    **dict.fromkeys(WRITERS, EWI_WORKER),
    **dict.fromkeys(READERS, BRISTOL_SYSTEM),
}


# The database, straight ------------------------------------------------------------------------


def latest_position(database_url: str) -> int:
    return query(database_url, "SELECT coalesce(max(position), 0) FROM change_event")[0][0]


def events_after(database_url: str, authority: str, position: int) -> list[str]:
    """The ids of an authority's events after `position`, in the feed's order."""
    rows = query(
        database_url,
        "SELECT event_id FROM change_event WHERE local_authority_code = $1 AND position > $2 "
        "ORDER BY position",
        authority,
        position,
    )
    return [str(row[0]) for row in rows]


def lease_of(database_url: str, webhook_id: str) -> uuid.UUID | None:
    rows = query(
        database_url, "SELECT lease_token FROM webhook WHERE id = $1", uuid.UUID(webhook_id)
    )
    return rows[0][0]


def delivery_states(database_url: str, webhook_id: str) -> list[str]:
    rows = query(
        database_url,
        "SELECT status FROM webhook_delivery WHERE webhook_id = $1 ORDER BY event_position",
        uuid.UUID(webhook_id),
    )
    return [row[0] for row in rows]


# The service under test -----------------------------------------------------------------------


@dataclass
class Service:
    database_url: str
    apis: list[ApiProcess]
    tokens: dict[str, str]
    logs: Path

    def url(self, n: int, path: str) -> str:
        """`path` on the n-th process, round the three: requests spread over them."""
        return self.apis[n % len(self.apis)].url + path

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return bearer(self.tokens[who], **extra)

    def family(self, *authorities: str) -> str:
        """A mother at HMP East Sutton Park with a child in each of these authorities: her id."""
        mother = httpx.post(
            self.url(0, "/v1/mothers"), json=mother_body(), headers=self.headers("admin")
        )
        assert mother.status_code == 201, mother.text
        mother_id = mother.json()["id"]
        for n, authority in enumerate(authorities):
            child = httpx.post(
                self.url(n + 1, f"/v1/mothers/{mother_id}/children"),
                json=child_body(local_authority_code=authority),
                headers=self.headers("admin"),
            )
            assert child.status_code == 201, child.text
        return str(mother_id)

    def register(self, path: str, receiver: "Receiver", authority: str) -> str:
        """A webhook of `authority`'s to the receiver at `path`: its id. From the latest event
        on, as every new webhook starts."""
        answer = httpx.post(
            self.url(0, HOOKS),
            json={"url": receiver.url(path), "local_authority_code": authority},
            headers=self.headers("admin"),
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def remove_webhooks(self, *webhook_ids: str) -> None:
        """So that no later test's dispatcher delivers to a receiver that is gone."""
        ids = [uuid.UUID(webhook_id) for webhook_id in webhook_ids]
        query(self.database_url, "DELETE FROM webhook_delivery WHERE webhook_id = ANY($1)", ids)
        query(self.database_url, "DELETE FROM webhook WHERE id = ANY($1)", ids)


@pytest.fixture(scope="module")
def service(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    database_url = migrated(make_database("postgres"))
    tokens = make_tokens(database_url, MODULE_CLIENTS)
    logs = tmp_path_factory.mktemp("processes")
    with api_processes(database_url, logs, 3, SERVICE_ENV) as apis:
        yield Service(database_url, apis, tokens, logs)
    # Stopped with SIGTERM, as an orchestrator stops them: each exits 0.
    assert [api.process.returncode for api in apis] == [0, 0, 0], apis[0].output()[-3000:]


async def post_evidence(
    http: httpx.AsyncClient, service: Service, who: str, n: int, mother_id: str, title: str
) -> httpx.Response:
    body = {"category": "course", "title": title, "started_on": "2025-09-01"}
    url = service.url(n, f"/v1/mothers/{mother_id}/evidence")
    answer = await http.post(url, json=body, headers=service.headers(who))
    assert answer.status_code == 201, answer.text
    return answer


# One Idempotency-Key ----------------------------------------------------------------------------


def test_one_key_sent_twenty_times_at_once_across_three_processes_makes_one_record(
    service: Service,
) -> None:
    body = mother_body()
    headers = service.headers("idempotent", **{"Idempotency-Key": str(uuid.uuid4())})

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as http:
            return await asyncio.gather(
                *(
                    http.post(service.url(n, "/v1/mothers"), json=body, headers=headers)
                    for n in range(20)
                )
            )

    answers = asyncio.run(race())
    assert {answer.status_code for answer in answers} <= {201, 409}, [a.text for a in answers]
    created = [answer for answer in answers if answer.status_code == 201]
    first = [answer for answer in created if "Idempotent-Replayed" not in answer.headers]
    assert len(first) == 1, "not one first answer"
    for replayed in created:
        assert replayed.json() == first[0].json()
        assert replayed.headers["Location"] == first[0].headers["Location"]
    for busy in (answer for answer in answers if answer.status_code == 409):
        assert busy.json()["type"].endswith("idempotency-key-in-use"), busy.text
        assert int(busy.headers["Retry-After"]) >= 1
    count = "SELECT count(*) FROM mother WHERE prison_number = $1"
    assert query(service.database_url, count, body["prison_number"])[0][0] == 1
    # Those told to come back get the first answer, from whichever process.
    again = httpx.post(service.url(2, "/v1/mothers"), json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first[0].json()


# One rate limit -------------------------------------------------------------------------------


def test_a_clients_rate_limit_holds_across_three_processes(service: Service) -> None:
    """GCRA with a minute's allowance at once: of more requests than the limit, fired at once
    over the three processes (a third to each, fewer than the limit: each process alone would
    have let all of them through), the limit's worth pass, one more at most.

    A request is admitted while the client's theoretical arrival time, pushed one emission
    interval (60 / limit = 2 s) per admitted request, stays within a minute of its `now`: a
    burst that outlasts an interval earns one more. So the bound is exact only for a burst
    shorter than an interval; one that is not (a machine loaded past that) proves nothing
    either way, and is fired again for a new client."""
    fired = RATE_LIMIT + 15
    interval = 60 / RATE_LIMIT

    async def burst(who: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as http:
            return await asyncio.gather(
                *(
                    http.get(service.url(n, "/v1/mothers"), headers=service.headers(who))
                    for n in range(fired)
                )
            )

    took = []
    for who in LIMITED:
        started = time.monotonic()
        answers = asyncio.run(burst(who))
        took.append(time.monotonic() - started)
        if took[-1] < interval:  # every request's `now` was within one interval
            break
    else:
        pytest.fail(f"no burst within an emission interval ({interval:g} s): {took}")
    admitted = [answer for answer in answers if answer.status_code != 429]
    assert {answer.status_code for answer in admitted} == {200}
    assert RATE_LIMIT <= len(admitted) <= RATE_LIMIT + 1, len(admitted)
    for refused in (answer for answer in answers if answer.status_code == 429):
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) >= 1


# The change feed ------------------------------------------------------------------------------


def test_feed_readers_polling_while_three_processes_write_see_every_event_once_in_order(
    service: Service,
) -> None:
    """Writers through all three processes add evidence and change it (an event each for
    Bristol, and one for Surrey, whose rows interleave); two readers poll Bristol's feed from
    their own cursors, a page of 7 at a time, through all three, while the writing goes on."""
    mothers = [service.family("801", "936") for _ in range(2)]
    start = latest_position(service.database_url)
    writers, items_each = WRITERS[:3], 6

    async def scenario() -> list[list[dict[str, Any]]]:
        finished = asyncio.Event()
        async with httpx.AsyncClient(timeout=30) as http:

            async def writer(w: int, who: str) -> None:
                for k in range(items_each):
                    made = await post_evidence(
                        http, service, who, w + k, mothers[(w + k) % 2], f"W{w}-{k}"
                    )
                    changed = await http.patch(
                        service.url(w + k + 1, f"/v1/evidence/{made.json()['id']}"),
                        json={"title": f"W{w}-{k} (completed)"},
                        headers=service.headers(who, **{"If-Match": made.headers["ETag"]}),
                    )
                    assert changed.status_code == 200, changed.text

            async def reader(r: int) -> list[dict[str, Any]]:
                # A reader is its cursor: its polls go round the processes and round three
                # clients of Bristol's, so that the module's small rate limit never holds it up.
                clients = READERS[3 * r : 3 * r + 3]
                seen: list[dict[str, Any]] = []
                cursor = cursor_of(start)
                for poll in range(10_000):
                    done = finished.is_set()  # read once more after the last write
                    answer = await http.get(
                        service.url(poll + r, FEED),
                        params={"after": cursor, "limit": 7},
                        headers=service.headers(clients[poll % 3]),
                    )
                    assert answer.status_code == 200, answer.text
                    page = answer.json()
                    seen += page["items"]
                    cursor = page["next_cursor"]
                    if done and not page["items"]:
                        break
                    await asyncio.sleep(0 if page["items"] else 0.15)
                return seen

            readers = [asyncio.create_task(reader(r)) for r in range(2)]
            await asyncio.gather(*(writer(w, who) for w, who in enumerate(writers)))
            finished.set()
            return await asyncio.gather(*readers)

    read = asyncio.run(scenario())
    written = events_after(service.database_url, "801", start)
    assert len(written) == len(writers) * items_each * 2
    for seen in read:
        ids = [event["id"] for event in seen]
        assert len(ids) == len(set(ids)), "an event seen twice"
        assert ids == written, "an event missed, or out of order"


# Webhook dispatchers --------------------------------------------------------------------------


@dataclass
class Delivery:
    event_id: str
    position: int
    sender: int | None  # the dispatcher's process id


@dataclass
class Receiver:
    """A local authority's receiver on 127.0.0.1: each webhook posts to its own path. Records
    every delivery and which process sent it, counts those to one path in flight at once, and
    holds each for `hold` seconds, or until `gate` is set."""

    hold: float = 0.0
    senders: list[int] = field(default_factory=list)  # process ids to tell apart
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    received: dict[str, list[Delivery]] = field(default_factory=lambda: defaultdict(list))
    in_flight: Counter[str] = field(default_factory=Counter)
    most_at_once: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        with self.lock:
            return len(self.received[path])


# Which process holds which TCP connection, from /proc (Linux): the receiver cannot otherwise
# tell two dispatchers apart, nor the test know when a dispatcher has started polling.


def sockets_of(pid: int) -> set[str]:
    """The inodes of a process's sockets."""
    found = set()
    with contextlib.suppress(OSError):  # the process gone
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):  # closed since listed
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    found.add(link[len("socket:[") : -1])
    return found


class Connection(NamedTuple):
    local: int  # port
    remote: int  # port, 0 for a listening socket
    unread: int  # bytes received that the process has not read yet
    inode: str


def tcp_connections() -> list[Connection]:
    """Every IPv4 and IPv6 TCP socket."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
            unread = int(fields[4].split(":")[1], 16)  # tx_queue:rx_queue
            found.append(Connection(local, remote, unread, fields[9]))
    return found


def sender_of(port: int, pids: list[int]) -> int | None:
    """Which of these processes holds the connection from local port `port`."""
    inodes = {c.inode for c in tcp_connections() if c.local == port}
    return next((pid for pid in pids if inodes & sockets_of(pid)), None)


def connected_to(pid: int, server_port: int) -> bool:
    """Whether the process holds a connection to this port (its pool's, to PostgreSQL)."""
    inodes = {c.inode for c in tcp_connections() if c.remote == server_port}
    return bool(inodes & sockets_of(pid))


def has_read(api: ApiProcess, client_port: int | None = None) -> bool:
    """Whether the server has accepted a client's connection (from `client_port`, or any) and
    read all that was sent on it so far: a request whose headers it has read is in flight, one
    still in the listen queue or unread would be dropped by a stop."""
    held = sockets_of(api.process.pid)
    return any(
        c.local == api.port
        and c.remote != 0
        and client_port in (None, c.remote)
        and c.unread == 0
        and c.inode in held
        for c in tcp_connections()
    )


@contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Receive(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            path = self.path
            sender = sender_of(self.client_address[1], receiver.senders)
            with receiver.lock:
                receiver.in_flight[path] += 1
                receiver.most_at_once[path] = max(
                    receiver.most_at_once[path], receiver.in_flight[path]
                )
            receiver.arrived.set()
            time.sleep(receiver.hold)
            receiver.gate.wait(60)
            event = orjson.loads(body)
            assert event["id"] == self.headers["TAC-Event-ID"]
            with receiver.lock:
                receiver.in_flight[path] -= 1
                receiver.received[path].append(
                    Delivery(event["id"], position_of(event["cursor"]), sender)
                )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receive)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.gate.set()
        server.shutdown()
        server.server_close()


def position_of(cursor: str) -> int:
    (position,) = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return int(position)


def start_dispatchers(database_url: str, log_dir: Path, count: int) -> list[Command]:
    """`tac-api webhooks run` in processes of their own."""
    env = {**os.environ, "TAC_DATABASE_URL": database_url, **SMALL_POOL, **DISPATCH_ENV}
    return [
        start_command(
            [TAC_API, "webhooks", "run"], log_dir / f"webhooks-{uuid.uuid4().hex[:8]}.log", env
        )
        for _ in range(count)
    ]


TOLD = "webhook delivery told to stop"  # the dispatcher's line, once it starts no new attempt


def add_webhooks(database_url: str, receiver: Receiver, paths: dict[str, str]) -> list[str]:
    """Webhooks (path: authority) to the receiver, from the latest event on, written straight
    to the database: registering them is not what these tests are about, and through the API
    so many would spend an admin's whole rate limit."""
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in paths]
    query(
        database_url,
        "INSERT INTO webhook (id, created_at, updated_at, version, local_authority_code, url, "
        "active, secret, cursor_position) "
        "SELECT id, $1, $1, 1, authority, url, true, $2, "
        "(SELECT coalesce(max(position), 0) FROM change_event) "
        "FROM unnest($3::uuid[], $4::text[], $5::text[]) AS hook(id, authority, url)",
        now,
        "s" * 32,
        ids,
        list(paths.values()),
        [receiver.url(path) for path in paths],
    )
    return [str(webhook_id) for webhook_id in ids]


def test_two_dispatchers_deliver_each_event_once_and_never_two_at_once_to_a_webhook(
    service: Service,
) -> None:
    """Two `tac-api webhooks run` deliver to more webhooks than one claims in a pass (so both
    have work), while writers through the three API processes make their events. The receiver
    holds every delivery a moment, so that a second one to the same webhook would be seen in
    flight beside it."""
    mother_id = service.family("801", "936")
    hooks = {f"/hook-{n}": ("801", "936")[n % 2] for n in range(dispatcher.CLAIMS_PER_PASS + 2)}
    writes = 6
    with receiving(Receiver(hold=0.02)) as receiver:
        receiver.gate.set()
        start = latest_position(service.database_url)
        webhook_ids = add_webhooks(service.database_url, receiver, hooks)
        try:
            with stopped_at_end([]) as dispatchers:
                dispatchers += start_dispatchers(service.database_url, service.logs, 2)
                receiver.senders = [process.process.pid for process in dispatchers]
                # Both polling before there is work: otherwise the first up could take it all.
                database_port = make_url(service.database_url).port or 5432
                wait_for(
                    lambda: all(connected_to(pid, database_port) for pid in receiver.senders),
                    60,
                    "start of both dispatchers",
                )

                async def write() -> None:
                    async with httpx.AsyncClient(timeout=30) as http:

                        async def writer(w: int, who: str) -> None:
                            for k in range(writes // 3):
                                await post_evidence(http, service, who, w + k, mother_id, f"{k}")

                        await asyncio.gather(
                            *(writer(w, who) for w, who in enumerate(WRITERS[3:6]))
                        )

                asyncio.run(write())
                expected = {
                    authority: events_after(service.database_url, authority, start)
                    for authority in ("801", "936")
                }
                assert [len(ids) for ids in expected.values()] == [writes, writes]
                wait_for(
                    lambda: all(receiver.count(path) >= writes for path in hooks),
                    90,
                    "delivery of every event",
                )
                # Stopped, each finishes the attempts under way (the receiver records one
                # before answering): after that no duplicate can be on its way.
                exits = [process.stop() for process in dispatchers]
        finally:
            service.remove_webhooks(*webhook_ids)
    assert exits == [0, 0], dispatchers[0].output()[-3000:]
    for path, authority in hooks.items():
        delivered = [d.event_id for d in receiver.received[path]]
        assert delivered == expected[authority], f"{path}: not each event once, in order"
        assert receiver.most_at_once[path] == 1, f"{path}: two deliveries at once"
    senders = Counter(d.sender for path in hooks for d in receiver.received[path])
    assert set(receiver.senders) <= set(senders), f"both dispatchers should deliver: {senders}"


# SIGTERM --------------------------------------------------------------------------------------


def slowly(body: bytes, sent: threading.Event, go_on: threading.Event) -> Iterator[bytes]:
    """A request body sent in two parts: the second only once told, so that the request is
    in flight as long as the test needs."""
    yield body[:20]
    sent.set()
    go_on.wait(60)
    yield body[20:]


def test_sigterm_finishes_requests_in_flight_refuses_new_ones_gives_back_leases_and_exits_0(
    service: Service,
) -> None:
    """A process that delivers webhooks is stopped while a request's body is still arriving and
    a delivery is waiting on a slow receiver: the request is answered, a new connection is
    refused, the delivery under way finishes but no other starts, its lease is given back, and
    it exits 0."""
    env = {**DISPATCH_ENV, "TAC_WEBHOOK_DISPATCH": "true", "TAC_SHUTDOWN_GRACE_SECONDS": "30"}
    with (
        receiving(Receiver()) as receiver,  # holds each delivery until its gate is set
        stopped_at_end([], signal.SIGKILL) as started,
    ):
        started.append(start_api(service.database_url, service.logs, env))
        stopping = started[0]
        webhook_id = ""
        try:
            mother_id = service.family("801")
            webhook_id = service.register("/slow", receiver, "801")

            async def three_events() -> None:
                async with httpx.AsyncClient(timeout=30) as http:
                    for k in range(3):
                        await post_evidence(http, service, WRITERS[6], k, mother_id, f"{k}")

            asyncio.run(three_events())
            assert receiver.arrived.wait(30), "nothing was delivered"
            assert lease_of(service.database_url, webhook_id) is not None

            body = orjson.dumps(mother_body())
            sent, go_on = threading.Event(), threading.Event()
            answers: list[httpx.Response] = []
            in_flight = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(
                        stopping.url + "/v1/mothers",
                        content=slowly(body, sent, go_on),
                        headers=service.headers(
                            WRITERS[7],
                            **{
                                "Content-Type": "application/json",
                                "Content-Length": str(len(body)),
                            },
                        ),
                        timeout=60,
                    )
                )
            )
            in_flight.start()
            assert sent.wait(10)
            wait_for(lambda: has_read(stopping), 10, "request read by the server")
            stopping.process.send_signal(signal.SIGTERM)

            def refused() -> bool:
                try:
                    httpx.get(stopping.url + "/health/liveness", timeout=2)
                except httpx.ConnectError:
                    return True
                return False

            wait_for(refused, 10, "refusal of a new connection")
            assert in_flight.is_alive() and not answers, "the request in flight was cut short"
            go_on.set()
            in_flight.join(30)
            assert answers and answers[0].status_code == 201, answers and answers[0].text
            # Past the requests, the app's own shutdown: its dispatcher is told to stop, and
            # from then on starts no attempt.
            wait_for(lambda: TOLD in stopping.output(), 30, "dispatcher told to stop")
            receiver.gate.set()
            code = stopping.wait(timeout=60)
            lease = lease_of(service.database_url, webhook_id)
            deliveries = delivery_states(service.database_url, webhook_id)
        finally:
            if webhook_id:
                service.remove_webhooks(webhook_id)
    assert code == 0, stopping.output()[-3000:]
    assert lease is None, "the stopped process kept its lease"
    assert receiver.count("/slow") == 1, "a stopping process started another delivery"
    assert deliveries == ["delivered"]  # the one under way was finished and recorded
    count = "SELECT count(*) FROM mother WHERE id = $1"
    assert query(service.database_url, count, uuid.UUID(answers[0].json()["id"]))[0][0] == 1


GRACE_SECONDS = 1


def test_sigterm_cuts_a_request_that_outlasts_the_grace_time_and_still_exits_0(
    service: Service,
) -> None:
    """TAC_SHUTDOWN_GRACE_SECONDS bounds the wait for requests in flight: a request whose body
    never finishes arriving is cut when it runs out, without a record,
    and the process still exits 0 (its shutdown after the cut is the one the test above sees
    give back the leases), soon after."""
    env = {"TAC_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS)}
    body = orjson.dumps(mother_body())
    head = (
        f"POST /v1/mothers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {service.tokens[WRITERS[7]]}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with stopped_at_end([], signal.SIGKILL) as started:
        started.append(start_api(service.database_url, service.logs, env))
        cut = started[0]
        with socket.create_connection(("127.0.0.1", cut.port), timeout=30) as client:
            client.sendall(head + body[:20])  # the rest never comes
            port = client.getsockname()[1]
            wait_for(lambda: has_read(cut, port), 10, "request read by the server")
            cut.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            code = cut.wait(timeout=GRACE_SECONDS + 30)
            took = time.monotonic() - signalled
            answer = client.recv(4096)  # all there is: the server's side has closed
    assert code == 0, cut.output()[-3000:]
    # Cut: uvicorn answers a request it cancelled with a plain 500 (and closes), or nothing.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 500 "), answer
    assert took >= GRACE_SECONDS, "cut before the grace time"
    assert "timeout graceful shutdown exceeded" in cut.output()  # uvicorn's line: it cut it
    count = "SELECT count(*) FROM mother WHERE prison_number = $1"
    assert query(service.database_url, count, orjson.loads(body)["prison_number"])[0][0] == 0


def test_sigterm_to_webhooks_run_ends_the_attempt_under_way_gives_back_leases_and_exits_0(
    service: Service,
) -> None:
    """`tac-api webhooks run` stopped while a slow receiver holds its first of three events:
    that attempt is finished and recorded, no other starts (a pass could otherwise hold the
    lease through 50 slow answers per webhook, past an orchestrator's patience), the lease is
    given back, and it exits 0."""
    mother_id = service.family("801")
    with receiving(Receiver()) as receiver:
        webhook_id = service.register("/slow-worker", receiver, "801")
        try:

            async def three_events() -> None:
                async with httpx.AsyncClient(timeout=30) as http:
                    for k in range(3):
                        await post_evidence(http, service, WRITERS[7], k, mother_id, f"{k}")

            asyncio.run(three_events())
            with stopped_at_end([], signal.SIGKILL) as started:
                started += start_dispatchers(service.database_url, service.logs, 1)
                worker = started[0]
                assert receiver.arrived.wait(60), "nothing was delivered"
                assert lease_of(service.database_url, webhook_id) is not None
                worker.process.send_signal(signal.SIGTERM)
                wait_for(lambda: TOLD in worker.output(), 30, "dispatcher told to stop")
                receiver.gate.set()
                code = worker.wait(60)
                lease = lease_of(service.database_url, webhook_id)
                deliveries = delivery_states(service.database_url, webhook_id)
        finally:
            service.remove_webhooks(webhook_id)
    assert code == 0, worker.output()[-3000:]
    assert lease is None, "the stopped worker kept its lease"
    assert receiver.count("/slow-worker") == 1, "a stopping worker started another delivery"
    assert deliveries == ["delivered"]
