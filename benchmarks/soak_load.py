"""The soak's load: what the service's clients do, mixed, over keep-alive connections spread over
every API process, either closed loop (N connections, each sending its next request as soon as
its answer is in: to find the capacity) or open loop (arrivals at a fixed mean rate, Poisson,
whatever the answers' speed: the soak itself).

The mix (`MIX`, in hundredths): a prison social worker's reads (her record, her children, the
mothers list, her chronology, the week's hearings, the worklist, releases due), her writes (a new
court hearing with an `Idempotency-Key`, now and then the same request again as a client's retry
would send it; a change to a hearing with `If-Match`), a local authority system's batch pushes
of its children (`Idempotency-Key`) and its change-feed polls. Every answer is judged: the status
the request must get (200, 201), a retry's `Idempotent-Replayed: true`, a batch with no failed
item. Anything else is an error, with a few samples kept.

Open loop, a request's latency runs from when it was due, not from when it was sent: a server
that falls behind shows as latency, instead of slowing the load down (coordinated omission).
The connections are benchmarks/load.py's (httptools, one request in flight each), with the
answer's headers kept; one idle for over two seconds is closed, not reused, since uvicorn closes
an idle keep-alive connection after five and a request sent as it does would be lost.
"""

import asyncio
import gc
import json
import random
import time
import uuid
from array import array
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from benchmarks.load import Connection

try:
    import uvloop
except ImportError:  # pragma: no cover - uvicorn[standard] brings it
    uvloop = None

# Hundredths of the requests. Reads about 60, writes about 25, change-feed polls 15.
MIX = {
    "GET mother": 28,
    "GET her children": 10,
    "GET mothers list": 8,
    "GET her chronology": 6,
    "GET week's hearings": 4,
    "GET worklist": 2,
    "GET releases due": 2,
    "POST court hearing": 10,
    "PATCH court hearing": 12,
    "POST sync batch": 3,
    "GET change feed": 15,
}
REPLAY_SHARE = 0.125  # of the hearing POSTs: the same request and key again, as a retry sends it
BATCH_SIZE = 20  # children per sync push
IDLE_SECONDS = 2.0  # a connection idle longer is closed, not reused (uvicorn's limit is 5 s)
ANSWER_SECONDS = 30.0  # a request not answered in this long is an error
PATCH_POOL = 400  # hearings kept ready for a PATCH (their last ETag)
SAMPLES = 5


class HeaderConnection(Connection):
    """load.Connection, keeping the answer's headers (lower-case names)."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: dict[bytes, bytes] = {}
        self.last_used = time.perf_counter()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.headers = {}

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value


@dataclass
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


@dataclass
class Call:
    kind: str
    request: bytes
    judge: Callable[[Answer], bool]  # True when the answer is what the request must get
    done: Callable[[], None] = lambda: None  # called however the request ended


@dataclass
class World:
    """What the requests are made of: the seeded world and the clients' tokens."""

    worker_token: str  # a prison social worker in EWI
    authority_token: str  # Bristol's system (la_system)
    mothers: list[tuple[str, list[str]]]  # EWI mothers with children: (id, child ids)
    hearings: list[tuple[str, str]]  # EWI hearings: (id, ETag)
    sync_items: list[dict[str, Any]]  # Bristol's children, as its system pushes them
    last_names: list[str]


def _request(
    method: str, path: str, token: str, body: Any = None, headers: dict[str, str] | None = None
) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
    head += "Accept: application/json\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    if body is None:
        return (head + "\r\n").encode()
    payload = json.dumps(body).encode()
    head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    return head.encode() + payload


def _ok(status: int) -> Callable[[Answer], bool]:
    return lambda answer: answer.status == status


class Mix:
    """Makes each next request of the mix, and keeps what later requests need from the answers:
    hearings' ETags, the change feed's cursor, the requests a retry repeats."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.kinds = list(MIX)
        self.weights = list(MIX.values())
        # Free for a PATCH (none is changed by two requests at once: that would be a 412).
        self.hearings: deque[tuple[str, str]] = deque(world.hearings[:PATCH_POOL])
        self.batches: deque[int] = deque(
            range(max(1, len(world.sync_items) // BATCH_SIZE)) if world.sync_items else []
        )
        self.pushes: Counter[int] = Counter()
        self.retries: deque[bytes] = deque(maxlen=50)  # hearing POSTs answered 201
        self.cursor: str | None = None
        self.cursor_order = 0  # a poll's answer moves the cursor only if no later poll's has
        self.polls = 0
        self.changed = 0
        today = date.today()
        self.today, self.week = today.isoformat(), (today + timedelta(days=7)).isoformat()

    def next(self) -> Call:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        made = getattr(self, "_" + kind.lower().replace(" ", "_").replace("'", ""))()
        return made or self._get_mother()  # nothing free for that write: a read instead

    # Reads -----------------------------------------------------------------------------------

    def _read(self, kind: str, path: str) -> Call:
        return Call(kind, _request("GET", path, self.world.worker_token), _ok(200))

    def _mother(self) -> tuple[str, list[str]]:
        return self.rng.choice(self.world.mothers)

    def _get_mother(self) -> Call:
        return self._read("GET mother", f"/v1/mothers/{self._mother()[0]}")

    def _get_her_children(self) -> Call:
        return self._read("GET her children", f"/v1/mothers/{self._mother()[0]}/children")

    def _get_mothers_list(self) -> Call:
        if self.rng.random() < 0.5:
            return self._read("GET mothers list", "/v1/mothers?prison_code=EWI&limit=50")
        name = self.rng.choice(self.world.last_names)[:4]
        return self._read("GET mothers list", f"/v1/mothers?q={_quoted(name)}&limit=20")

    def _get_her_chronology(self) -> Call:
        return self._read("GET her chronology", f"/v1/mothers/{self._mother()[0]}/chronology")

    def _get_weeks_hearings(self) -> Call:
        path = f"/v1/court-hearings?prison_code=EWI&from={self.today}&to={self.week}"
        return self._read("GET week's hearings", path)

    def _get_worklist(self) -> Call:
        return self._read("GET worklist", "/v1/worklist?within_days=14")

    def _get_releases_due(self) -> Call:
        return self._read(
            "GET releases due", "/v1/release-plans/due?prison_code=EWI&within_days=84"
        )

    # Writes ----------------------------------------------------------------------------------

    def _post_court_hearing(self) -> Call:
        kind = "POST court hearing"
        if self.retries and self.rng.random() < REPLAY_SHARE:
            request = self.rng.choice(self.retries)

            def replayed(answer: Answer) -> bool:
                return (
                    answer.status == 201 and answer.headers.get(b"idempotent-replayed") == b"true"
                )

            return Call(kind + " (retry)", request, replayed)
        mother_id, children = self._mother()
        starts = datetime.combine(
            date.today() + timedelta(days=self.rng.randrange(1, 60)), clock_time(10), tzinfo=UTC
        )
        body = {
            "mother_id": mother_id,
            "child_ids": children[: self.rng.randrange(1, len(children) + 1)],
            "court_name": "Bristol Civil and Family Justice Centre",
            "hearing_type": self.rng.choice(["case_management", "issues_resolution", "final"]),
            "starts_at": starts.isoformat(),
        }
        key = {"Idempotency-Key": f"soak-{uuid.uuid4().hex}"}
        request = _request("POST", "/v1/court-hearings", self.world.worker_token, body, key)

        def created(answer: Answer) -> bool:
            if answer.status != 201:
                return False
            self.retries.append(request)
            etag = answer.headers.get(b"etag")
            if etag and len(self.hearings) < PATCH_POOL:
                self.hearings.append((json.loads(answer.body)["id"], etag.decode()))
            return True

        return Call(kind, request, created)

    def _patch_court_hearing(self) -> Call | None:
        if not self.hearings:
            return None
        hearing_id, etag = self.hearings.popleft()
        self.changed += 1
        body = {
            "court_name": f"Bristol Civil and Family Justice Centre, court {self.changed % 9 + 1}"
        }
        request = _request(
            "PATCH",
            f"/v1/court-hearings/{hearing_id}",
            self.world.worker_token,
            body,
            {"If-Match": etag},
        )
        kept: list[str] = []

        def changed(answer: Answer) -> bool:
            if answer.status != 200 or b"etag" not in answer.headers:
                return False
            kept.append(answer.headers[b"etag"].decode())
            return True

        def done() -> None:  # back in the pool with its new ETag; after an error, left out
            if kept:
                self.hearings.append((hearing_id, kept[0]))

        return Call("PATCH court hearing", request, changed, done)

    def _post_sync_batch(self) -> Call | None:
        if not self.batches:
            return None
        number = self.batches.popleft()
        self.pushes[number] += 1
        # Each push of a batch changes every child in it (the first creates them), as a
        # placement review would: real writes, not the unchanged answer of a re-send.
        lives_with = ("foster_carer", "kinship_carer")[self.pushes[number] % 2]
        items = [
            {**item, "lives_with": lives_with}
            for item in self.world.sync_items[number * BATCH_SIZE : (number + 1) * BATCH_SIZE]
        ]
        key = {"Idempotency-Key": f"soak-batch-{uuid.uuid4().hex}"}
        request = _request(
            "POST", "/v1/sync/children:batch", self.world.authority_token, {"items": items}, key
        )

        def pushed(answer: Answer) -> bool:
            if answer.status != 200:
                return False
            result = json.loads(answer.body)
            return result["failed"] == 0 and result["pending"] == 0

        return Call("POST sync batch", request, pushed, lambda: self.batches.append(number))

    def _get_change_feed(self) -> Call:
        self.polls += 1
        order = self.polls
        after = f"&after={self.cursor}" if self.cursor else ""
        path = f"/v1/sync/changes?limit=100{after}"

        def polled(answer: Answer) -> bool:
            if answer.status != 200:
                return False
            if order > self.cursor_order:
                self.cursor, self.cursor_order = json.loads(answer.body)["next_cursor"], order
            return True

        return Call("GET change feed", _request("GET", path, self.world.authority_token), polled)


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


# Running it -----------------------------------------------------------------------------------


@dataclass
class Outcomes:
    """Every request of a phase: when it was due (seconds from the phase's start), its latency
    (seconds), its kind and whether its answer was right."""

    kinds: list[str]
    due: array = field(default_factory=lambda: array("d"))
    latency: array = field(default_factory=lambda: array("d"))
    kind: array = field(default_factory=lambda: array("B"))
    ok: array = field(default_factory=lambda: array("B"))
    statuses: Counter[str] = field(default_factory=Counter)  # "<kind> <status>"
    samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, kind: str, due: float, latency: float, ok: bool, status: int | str) -> None:
        if kind not in self.kinds:
            self.kinds.append(kind)
        self.due.append(due)
        self.latency.append(latency)
        self.kind.append(self.kinds.index(kind))
        self.ok.append(ok)
        self.statuses[f"{kind} {status}"] += 1

    @property
    def requests(self) -> int:
        return len(self.due)

    @property
    def errors(self) -> int:
        return len(self.ok) - sum(self.ok)

    def latencies(
        self, start: float = 0.0, end: float = float("inf"), kind: str | None = None
    ) -> list[float]:
        index = self.kinds.index(kind) if kind in self.kinds else None
        return sorted(
            latency
            for due, latency, k in zip(self.due, self.latency, self.kind, strict=True)
            if start <= due < end and (kind is None or k == index)
        )


def percentile(latencies: list[float], p: float) -> float:
    """Nearest rank, in milliseconds, of sorted latencies in seconds (load.LoadResult's)."""
    if not latencies:
        return float("nan")
    rank = max(0, min(len(latencies) - 1, round(p / 100 * len(latencies)) - 1))
    return latencies[rank] * 1000


class Pool:
    """Keep-alive connections per port, reused newest first, closed after IDLE_SECONDS idle."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.idle: dict[int, list[HeaderConnection]] = {port: [] for port in ports}
        self.turn = 0

    def port(self) -> int:
        self.turn += 1
        return self.ports[self.turn % len(self.ports)]

    async def take(self, port: int) -> HeaderConnection:
        now = time.perf_counter()
        idle = self.idle[port]
        while idle:
            connection = idle.pop()
            if not connection.lost and now - connection.last_used < IDLE_SECONDS:
                return connection
            if connection.transport is not None:
                connection.transport.close()
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(HeaderConnection, "127.0.0.1", port)
        return protocol

    def give_back(self, port: int, connection: HeaderConnection) -> None:
        connection.last_used = time.perf_counter()
        self.idle[port].append(connection)

    def close(self) -> None:
        for idle in self.idle.values():
            for connection in idle:
                if connection.transport is not None:
                    connection.transport.close()
            idle.clear()


async def _send(pool: Pool, call: Call, outcomes: Outcomes, due: float, started: float) -> None:
    """One request on a connection of the next port; its outcome recorded against `due`."""
    port = pool.port()
    status: int | str = "no answer"
    ok = False
    connection: HeaderConnection | None = None
    try:
        connection = await pool.take(port)
        waiter = connection.waiter = asyncio.get_running_loop().create_future()
        assert connection.transport is not None
        connection.transport.write(call.request)
        status = await asyncio.wait_for(waiter, ANSWER_SECONDS)
        answer = Answer(status, connection.headers, b"".join(connection.body))
        ok = call.judge(answer)
        if not ok and len(outcomes.samples) < SAMPLES:
            outcomes.samples.append(f"{call.kind}: {status} {answer.body[:300]!r}")
        pool.give_back(port, connection)
    except Exception as exc:
        # Refused, reset, unparsable, unanswered: an error of this request, never of the run.
        status = type(exc).__name__
        if connection is not None and connection.transport is not None:
            connection.transport.close()
        if len(outcomes.samples) < SAMPLES:
            outcomes.samples.append(f"{call.kind}: {status} {exc}")
    finally:
        call.done()
    outcomes.add(call.kind, due - started, time.perf_counter() - due, ok, status)


async def closed_loop(
    ports: list[int], mix: Mix, connections: int, warmup: float, seconds: float
) -> Outcomes:
    """`connections` at once, each sending its next request when its answer is in; what was
    sent after the warm-up and before the end is counted."""
    pool = Pool(ports)
    warm = Outcomes(list(MIX))
    outcomes = Outcomes(list(MIX), seconds=seconds)
    clock = time.perf_counter
    start = clock() + warmup
    end = start + seconds

    async def worker() -> None:
        while (now := clock()) < end:
            await _send(pool, mix.next(), warm if now < start else outcomes, now, start)

    try:
        await asyncio.gather(*(worker() for _ in range(connections)))
    finally:
        pool.close()
    outcomes.samples[:0] = warm.samples[: SAMPLES - len(outcomes.samples)]
    return outcomes


async def open_loop(
    ports: list[int],
    mix: Mix,
    rate: float,
    seconds: float,
    *,
    seed: int,
    every: float = 10.0,
    tick: Callable[[float, Outcomes], Awaitable[None]] | None = None,
    in_flight: int = 512,
) -> Outcomes:
    """Requests due at a mean `rate` a second (exponential gaps) for `seconds`; `tick` awaited
    every `every` seconds meanwhile (the soak's samples). At most `in_flight` at once: beyond
    that a request waits, its wait counted in its latency."""
    pool = Pool(ports)
    outcomes = Outcomes(list(MIX), seconds=seconds)
    rng = random.Random(seed)
    slots = asyncio.Semaphore(in_flight)
    clock = time.perf_counter
    start = clock()
    tasks: set[asyncio.Task[None]] = set()

    async def fire(call: Call, due: float) -> None:
        async with slots:
            await _send(pool, call, outcomes, due, start)

    async def ticker() -> None:
        while (elapsed := clock() - start) < seconds:
            await asyncio.sleep(min(every, seconds - elapsed))
            if tick is not None:
                await tick(clock() - start, outcomes)

    ticking = asyncio.ensure_future(ticker())
    due = start
    try:
        while True:
            due += rng.expovariate(rate)
            # A tick that failed (a process died) ends the load now, its error raised below.
            if due - start >= seconds or ticking.done():
                break
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.ensure_future(fire(mix.next(), due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=ANSWER_SECONDS + 5)
        await ticking
    finally:
        ticking.cancel()
        for task in tasks:
            task.cancel()
        pool.close()
    return outcomes


def run(coroutine: Awaitable[Any]) -> Any:
    """On uvloop where there is one. The collector stays on (a half-hour run would otherwise
    grow without bound), but what was made before the load is frozen out of its passes, so they
    stay short inside the client's timings."""
    gc.collect()
    gc.freeze()
    try:
        return uvloop.run(coroutine) if uvloop is not None else asyncio.run(coroutine)  # type: ignore[arg-type]
    finally:
        gc.unfreeze()
