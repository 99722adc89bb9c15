"""The database goes away and comes back, and an API process dies mid-write: what clients see,
and what the database holds afterwards.

Which failures say "the database is unavailable" (503) and which are bugs (500) needs no server.
The rest is PostgreSQL's: a cluster of the test's own (tests/support/postgres_server), stopped and
started under load, and `tac-api serve` processes of the test's own (tests/support/processes).
"""

import asyncio
import itertools
import json
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy.exc
from fastapi.testclient import TestClient

from tac_api.config import Settings
from tac_api.db import DatabaseUnreachable
from tac_api.errors import DATABASE_RETRY_AFTER_SECONDS
from tac_api.main import create_app
from tests.support.bodies import BATCH, batch_item, child_body, mother_body
from tests.support.databases import POSTGRES_URL, run
from tests.support.postgres_server import Cluster, own_cluster
from tests.support.processes import ApiProcess, bearer, make_tokens, migrated, start_api

POSTGRES_ONLY = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="a cluster of the test's own is PostgreSQL's"),
]


def postgres_only(test: Any) -> Any:
    for mark in POSTGRES_ONLY:
        test = mark(test)
    return test


PROBLEM_JSON = "application/problem+json"
WARM_UP_SECONDS = 1.5
DOWN_SECONDS = 5.0
# "From 10 seconds after it is back, 0 errors": the load goes on a little past that.
RECOVERY_SECONDS = 10.0
AFTER_RECOVERY_SECONDS = 2.0
# No request may take longer than this, whatever the database is doing.
BOUND_SECONDS = 10.0
BATCH_SIZE = 20
CLIENTS = 4
BACK_OFF_SECONDS = 0.25
# A claim whose request never finished is taken over after this (README: 60 s by default).
LOCK_SECONDS = 5
ENV = {
    # Rate limits on (their statement is part of every admission), far above this load.
    "TAC_RATE_LIMIT_PER_MINUTE": "100000",
    "TAC_IDEMPOTENCY_LOCK_SECONDS": str(LOCK_SECONDS),
}


# Nothing listens there.
UNREACHABLE = "postgresql://tac@127.0.0.1:9/tac"


def _raises(error: Exception) -> Any:
    async def endpoint() -> None:
        raise error

    return endpoint


def _invalidated(orig: Exception) -> sqlalchemy.exc.DBAPIError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, orig, connection_invalidated=True)


UNAVAILABLE = {
    "unreachable": DatabaseUnreachable("cannot connect to the database (ConnectionRefusedError)"),
    "pool-timeout": sqlalchemy.exc.TimeoutError("QueuePool limit reached"),
    "disconnect": _invalidated(Exception("connection is closed")),
    "shut-down": asyncpg.AdminShutdownError("terminating connection"),
    "starting-up": asyncpg.CannotConnectNowError("the database system is starting up"),
    "lost": asyncpg.ConnectionDoesNotExistError("connection was closed in the middle"),
    "closed": asyncpg.InterfaceError("connection is closed"),
    "protocol": asyncpg.InternalClientError("protocol is in an unexpected state"),
    "full": asyncpg.TooManyConnectionsError("sorry, too many clients already"),
}
BUGS = {
    "syntax": sqlalchemy.exc.ProgrammingError("SELEC 1", {}, asyncpg.PostgresSyntaxError("x")),
    "unique": asyncpg.UniqueViolationError("duplicate key value"),
    "misuse": asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
    "file": FileNotFoundError("no such template"),
    "type": TypeError("an argument too many"),
}


def test_a_database_that_cannot_be_used_is_503_and_a_bug_still_500() -> None:
    app = create_app(Settings(database_url=UNREACHABLE))
    for name, error in {**UNAVAILABLE, **BUGS}.items():
        app.add_api_route(f"/fails/{name}", _raises(error))
    with TestClient(app, raise_server_exceptions=False) as client:
        for name in UNAVAILABLE:
            response = client.get(f"/fails/{name}")
            assert response.status_code == 503, name
            assert response.headers["content-type"] == PROBLEM_JSON
            assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)
            assert response.json()["type"] == "urn:tac-api:problem:database-unavailable"
            # Answered inside the middleware: the request's id and the security headers.
            assert response.headers["x-request-id"]
            assert response.headers["x-content-type-options"] == "nosniff"
        for name in BUGS:
            response = client.get(f"/fails/{name}")
            assert response.status_code == 500, name
            assert response.headers["connection"] == "close"


def test_a_database_that_cannot_be_reached_answers_every_request_503() -> None:
    """Nothing listens: every request that asks the database is 503 with Retry-After, reads and
    idempotent writes alike; the process itself is alive."""
    with TestClient(create_app(Settings(database_url=UNREACHABLE))) as client:
        token = bearer("tac_not-checked-before-the-database-answers")
        for method, path, headers in (
            ("GET", "/v1/mothers", token),
            ("POST", "/v1/mothers", {**token, "Idempotency-Key": "k-1"}),
            ("GET", "/health/readiness", {}),
        ):
            response = client.request(method, path, headers=headers, json=mother_body())
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == PROBLEM_JSON
            assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)
        assert client.get("/health/liveness").status_code == 200


@dataclass
class Database:
    url: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with own_cluster() as made:
        yield made


@pytest.fixture(scope="module")
def database(cluster: Cluster) -> Database:
    url = migrated(cluster.create_database("tac_outage"))
    return Database(url, make_tokens(url))


@pytest.fixture(scope="module")
def api(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    """One API process, its claims stale after LOCK_SECONDS: a claim left by a request the
    outage cut short is taken over by its retry once the database is back."""
    started = start_api(database.url, tmp_path_factory.mktemp("outage"), ENV)
    try:
        yield started
    finally:
        started.stop(signal.SIGKILL)


def sql(url: str, statement: str, *args: Any) -> list[asyncpg.Record]:
    """Look at the database directly: what was written, whatever the API said."""

    async def query() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url)
        try:
            return list(await connection.fetch(statement, *args))
        finally:
            await connection.close()

    return run(query())  # type: ignore[no-any-return]


@dataclass
class Answer:
    """One request of the load, as the client saw it."""

    kind: str  # read, mother, child, batch, liveness, readiness
    method: str
    path: str
    who: str
    body: Any
    key: str | None
    started: float
    ended: float
    status: int | None = None  # None: no answer at all (the connection failed)
    content_type: str = ""
    retry_after: str | None = None
    json: Any = None
    failure: str | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def within(self) -> str:
        return f"{self.kind} {self.method} {self.path} -> {self.status} ({self.seconds:.2f} s)"


def send(
    client: httpx.Client,
    tokens: dict[str, str],
    kind: str,
    method: str,
    path: str,
    who: str = "admin",
    body: Any = None,
    key: str | None = None,
) -> Answer:
    headers = bearer(tokens[who]) if who else {}
    if key is not None:
        headers["Idempotency-Key"] = key
    answer = Answer(kind, method, path, who, body, key, time.monotonic(), 0.0)
    try:
        response = client.request(method, path, headers=headers, json=body)
    except httpx.HTTPError as exc:
        answer.failure = repr(exc)
    else:
        answer.status = response.status_code
        answer.content_type = response.headers.get("content-type", "")
        answer.retry_after = response.headers.get("retry-after")
        if answer.content_type.endswith("json"):
            answer.json = response.json()
    answer.ended = time.monotonic()
    return answer


@dataclass
class World:
    """What the load works on: a mother to read and to add children to, one Bristol is linked
    to (her prison side recorded a child of hers in Bristol) for its batches."""

    mother_id: str
    linked_prison_number: str


def build_world(api: ApiProcess, tokens: dict[str, str]) -> World:
    with httpx.Client(base_url=api.url, timeout=30) as client:
        made = client.post("/v1/mothers", json=mother_body(), headers=bearer(tokens["admin"]))
        assert made.status_code == 201, made.text
        mother = made.json()
        child = client.post(
            f"/v1/mothers/{mother['id']}/children",
            json=child_body(first_name="Eldest", date_of_birth="2009-01-02"),
            headers=bearer(tokens["admin"]),
        )
        assert child.status_code == 201, child.text
    return World(mother["id"], mother["prison_number"])


class Load:
    """Clients sending reads, idempotent writes and batch pushes, each answer kept in a ledger."""

    def __init__(self, api: ApiProcess, tokens: dict[str, str], world: World) -> None:
        self.api = api
        self.tokens = tokens
        self.world = world
        self.ledger: list[Answer] = []
        self.stop = threading.Event()
        self.numbers = itertools.count(1)
        self.threads: list[threading.Thread] = []

    def start(self, clients: int) -> None:
        self.threads = [threading.Thread(target=self._client, args=(n,)) for n in range(clients)]
        self.threads.append(threading.Thread(target=self._probe))
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a load client never came back"

    def _client(self, n: int) -> None:
        kinds = itertools.cycle(["read", "mother", "read", "child", "list", "batch"][n % 2 :])
        with httpx.Client(base_url=self.api.url, timeout=BOUND_SECONDS + 20) as client:
            while not self.stop.is_set():
                answer = self.one(client, next(kinds))
                self.ledger.append(answer)
                if answer.status == 503:
                    # A client backing off (if less than Retry-After asks): enough requests
                    # while it is down to prove the rule, not thousands to retry afterwards.
                    time.sleep(BACK_OFF_SECONDS)

    def one(self, client: httpx.Client, kind: str) -> Answer:
        number = next(self.numbers)
        key = str(uuid.uuid4())
        world = self.world
        if kind == "read":
            return send(client, self.tokens, kind, "GET", f"/v1/mothers/{world.mother_id}")
        if kind == "list":
            return send(client, self.tokens, kind, "GET", "/v1/mothers?limit=20")
        if kind == "mother":
            body = mother_body(prison_number=f"M{number:04d}LD")
            return send(client, self.tokens, kind, "POST", "/v1/mothers", body=body, key=key)
        if kind == "child":
            body = child_body(first_name=f"Load{number}")
            path = f"/v1/mothers/{world.mother_id}/children"
            return send(client, self.tokens, kind, "POST", path, body=body, key=key)
        items = [
            batch_item(world.linked_prison_number, f"O{number}-{i}", first_name=f"Batch{i}")
            for i in range(BATCH_SIZE)
        ]
        return send(
            client, self.tokens, kind, "POST", BATCH, "bristol_system", {"items": items}, key
        )

    def _probe(self) -> None:
        with httpx.Client(base_url=self.api.url, timeout=BOUND_SECONDS + 20) as client:
            while not self.stop.is_set():
                for kind in ("liveness", "readiness"):
                    self.ledger.append(send(client, {}, kind, "GET", f"/health/{kind}", who=""))
                time.sleep(0.2)


@dataclass
class Outage:
    stopping: float  # pg_ctl stop called
    down: float  # ... returned: the server is gone
    starting: float  # pg_ctl start called
    up: float  # ... returned: the server accepts connections

    def while_down(self, answer: Answer) -> bool:
        """Sent and answered while nothing could have reached the database."""
        return answer.started >= self.down and answer.ended <= self.starting

    def before(self, answer: Answer) -> bool:
        return answer.ended < self.stopping

    def recovered(self, answer: Answer) -> bool:
        return answer.started >= self.up + RECOVERY_SECONDS


def is_unavailable(answer: Answer) -> bool:
    """503 problem+json, saying when to come back."""
    return (
        answer.status == 503
        and answer.content_type == PROBLEM_JSON
        and answer.retry_after is not None
        and answer.retry_after.isdigit()
        and int(answer.retry_after) >= 1
        and answer.json["status"] == 503
    )


def snapshot(url: str) -> Counter[str]:
    """What the load's writes left in the database, by what names each: a mother by her prison
    number, a child by its first name, a batch's children by their external ids."""
    return Counter(
        row[0]
        for row in sql(
            url,
            "SELECT prison_number FROM mother WHERE prison_number LIKE 'M____LD' "
            "UNION ALL SELECT first_name FROM child WHERE first_name LIKE 'Load%' "
            "UNION ALL SELECT external_id FROM child WHERE external_id LIKE 'O%'",
        )
    )


def names(answer: Answer) -> list[str]:
    if answer.kind == "mother":
        return [answer.body["prison_number"]]
    if answer.kind == "child":
        return [answer.body["first_name"]]
    return [item["external_id"] for item in answer.body["items"]]


def written(found: Counter[str], answer: Answer) -> int:
    """How many of the rows a write makes are in the database; any twice counts twice."""
    return sum(found[name] for name in names(answer))


def whole(answer: Answer) -> int:
    return BATCH_SIZE if answer.kind == "batch" else 1


@postgres_only
def test_while_the_database_is_down_every_answer_is_503_and_nothing_is_half_written(
    cluster: Cluster, database: Database, api: ApiProcess
) -> None:
    load = Load(api, database.tokens, build_world(api, database.tokens))
    load.start(CLIENTS)
    try:
        time.sleep(WARM_UP_SECONDS)
        stopping = time.monotonic()
        cluster.stop()
        down = time.monotonic()
        time.sleep(DOWN_SECONDS)
        starting = time.monotonic()
        cluster.start()
        up = time.monotonic()
        time.sleep(RECOVERY_SECONDS + AFTER_RECOVERY_SECONDS)
    finally:
        load.finish()
    outage = Outage(stopping, down, starting, up)
    summarise(load.ledger, outage)
    check_answers(load.ledger, outage, api)
    check_writes(database.url, load, api)


@postgres_only
def test_a_restart_while_idle_costs_no_request_an_error(
    cluster: Cluster, database: Database, api: ApiProcess
) -> None:
    """The server closed every pooled connection as it stopped: the pool replaces them as they
    are checked out (without asking the database), rather than failing the first requests."""
    world = build_world(api, database.tokens)
    load = Load(api, database.tokens, world)

    def reads() -> list[Answer]:
        def read(_: int) -> Answer:
            with httpx.Client(base_url=api.url, timeout=BOUND_SECONDS + 20) as client:
                return load.one(client, "read")

        with ThreadPoolExecutor(CLIENTS) as pool:
            return list(pool.map(read, range(CLIENTS * 2)))

    assert {a.status for a in reads()} == {200}
    pooled = sql(
        database.url,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()",
    )[0][0]
    assert pooled >= 2, "the API kept no connections to find closed"
    cluster.stop()
    cluster.start()
    after = reads()
    with httpx.Client(base_url=api.url, timeout=BOUND_SECONDS + 20) as client:
        after += [load.one(client, kind) for kind in ("mother", "child", "batch", "list")]
        after.append(send(client, {}, "readiness", "GET", "/health/readiness", who=""))
    assert not [a.within for a in after if a.status not in (200, 201)], unhandled(api)


def summarise(ledger: list[Answer], outage: Outage) -> None:
    """What the run saw, by window (shown with -s; a failure's message says the rest)."""
    windows = {
        "before": lambda a: a.ended < outage.stopping,
        "stopping": lambda a: a.ended >= outage.stopping and a.started < outage.down,
        "down": outage.while_down,
        "starting": lambda a: a.ended > outage.starting and a.started < outage.up,
        "recovering": lambda a: a.started >= outage.up and not outage.recovered(a),
        "recovered": outage.recovered,
    }
    for name, within in windows.items():
        seen = Counter((a.kind, a.status) for a in ledger if within(a))
        slowest = max((a.seconds for a in ledger if within(a)), default=0)
        print(f"{name}: {dict(sorted(seen.items()))} slowest {slowest:.2f} s")


def unhandled(api: ApiProcess) -> str:
    """The errors the process answered 500 for, as its log tells them: each one's last frames."""
    told = []
    for line in api.output().splitlines():
        if '"unhandled error' in line:
            entry = json.loads(line)
            told.append(f"{entry['message']}\n{entry.get('exc_info', '')[-1500:]}")
    return "\n".join(told)


def check_answers(ledger: list[Answer], outage: Outage, api: ApiProcess) -> None:
    log = unhandled(api)
    probes = [a for a in ledger if a.kind in ("liveness", "readiness")]
    requests = [a for a in ledger if a not in probes]
    assert all(a.status is not None for a in ledger), [a.failure for a in ledger if a.failure]
    assert not [a.within for a in ledger if a.status == 500], log
    assert not [a.within for a in ledger if a.seconds > BOUND_SECONDS]

    # Before the stop, and from RECOVERY_SECONDS after the start: every request succeeds.
    assert not [a.within for a in requests if outage.before(a) and a.status not in (200, 201)]
    after = [a for a in requests if outage.recovered(a)]
    assert not [a.within for a in after if a.status not in (200, 201)], log
    assert len(after) >= 10, "too little load after the recovery to prove anything"
    # While it is down: 503 problem+json with Retry-After, and nothing else.
    down = [a for a in requests if outage.while_down(a)]
    assert len(down) >= 20, "too little load while the database was down to prove anything"
    assert all(is_unavailable(a) for a in down), [a.within for a in down if not is_unavailable(a)]
    assert {a.kind for a in down} == {"read", "list", "mother", "child", "batch"}
    # Around the stop and the start (in flight at the stop, or the pool reconnecting): either.
    assert not [
        a.within for a in requests if a.status not in (200, 201) and not is_unavailable(a)
    ], log

    assert {a.status for a in probes if a.kind == "liveness"} == {200}
    readiness_down = [a for a in probes if a.kind == "readiness" and outage.while_down(a)]
    assert readiness_down and all(is_unavailable(a) for a in readiness_down)
    readiness_after = [a for a in probes if a.kind == "readiness" and outage.recovered(a)]
    assert readiness_after and {a.status for a in readiness_after} == {200}
    assert [a for a in probes if a.kind == "liveness" and outage.while_down(a)]


def check_writes(url: str, load: Load, api: ApiProcess) -> None:
    writes = [a for a in load.ledger if a.kind in ("mother", "child", "batch")]
    succeeded = [a for a in writes if a.status in (200, 201)]
    failed = [a for a in writes if a.status == 503]
    assert len(succeeded) + len(failed) == len(writes)
    assert failed, "no write failed: the outage was not under load"
    found = snapshot(url)
    # Every write answered 2xx is there, once.
    for answer in succeeded:
        if answer.kind == "batch":
            assert answer.json["created"] == BATCH_SIZE, answer.json
        assert written(found, answer) == whole(answer), answer.within
    # A write answered 503 is there whole or not at all (not at all, unless its commit
    # reached the database and its answer did not).
    for answer in failed:
        assert written(found, answer) in (0, whole(answer)), answer.within

    # Sent again with its key (by several clients at once, as the load was), it completes.
    def again(answer: Answer) -> None:
        with httpx.Client(base_url=api.url, timeout=BOUND_SECONDS + 20) as client:
            retried = send(
                client,
                load.tokens,
                answer.kind,
                answer.method,
                answer.path,
                answer.who,
                answer.body,
                answer.key,
            )
        completed_before = retried.status == 409 and retried.json["type"].endswith(
            "idempotency-key-completed"
        )
        assert retried.status in (200, 201) or completed_before, (retried.within, retried.json)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(again, failed))
    # ... once: every write of the load is there exactly once, and nothing else.
    found = snapshot(url)
    assert not [a.within for a in writes if written(found, a) != whole(a)]
    assert sum(found.values()) == sum(whole(a) for a in writes)


# SIGKILL mid-batch -----------------------------------------------------------------------------


KILLED_BATCH = 1000


class RowLock:
    """A mother's row held FOR UPDATE in a transaction of the test's own: a child's insert
    checks its mother's row (FOR KEY SHARE, for the foreign key) at the end of its statement, so
    a batch for her waits there with all its children written, uncommitted."""

    def __init__(self, url: str, mother_id: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.connection: asyncpg.Connection = self.loop.run_until_complete(asyncpg.connect(url))
        self.transaction = self.connection.transaction()
        self.loop.run_until_complete(self.transaction.start())
        self.loop.run_until_complete(
            self.connection.execute(
                "SELECT 1 FROM mother WHERE id = $1 FOR UPDATE", uuid.UUID(mother_id)
            )
        )

    def release(self) -> None:
        if not self.connection.is_closed():
            self.loop.run_until_complete(self.transaction.rollback())
            self.loop.run_until_complete(self.connection.close())
        self.loop.close()


@postgres_only
def test_a_batch_killed_mid_write_leaves_nothing_and_its_retry_completes_it_once(
    database: Database, api: ApiProcess, tmp_path: Path
) -> None:
    url = database.url
    # The process killed; the retry goes to the other (as to another replica), which never
    # knew of the first attempt but from the database.
    first = start_api(url, tmp_path, ENV)
    second = api
    lock: RowLock | None = None
    try:
        world = build_world(first, database.tokens)
        items = [
            batch_item(world.linked_prison_number, f"K-{n}", first_name=f"Killed{n}")
            for n in range(KILLED_BATCH)
        ]
        external_ids = [item["external_id"] for item in items]
        key = str(uuid.uuid4())
        headers = bearer(database.tokens["bristol_system"], **{"Idempotency-Key": key})

        lock = RowLock(url, world.mother_id)
        outcome: dict[str, Any] = {}

        def push() -> None:
            try:
                outcome["answer"] = httpx.post(
                    f"{first.url}{BATCH}", json={"items": items}, headers=headers, timeout=60
                )
            except httpx.HTTPError as exc:
                outcome["failure"] = exc

        pushing = threading.Thread(target=push)
        pushing.start()
        deadline = time.monotonic() + 30
        while True:
            waiting = sql(
                url,
                "SELECT pid, backend_xid IS NOT NULL AS wrote, query FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' "
                "AND pid <> $1",
                lock.connection.get_server_pid(),
            )
            if waiting:
                break
            assert time.monotonic() < deadline, "the batch never reached its commit"
            assert pushing.is_alive(), f"the batch was answered: {outcome}"
            time.sleep(0.02)
        (pid, wrote, query), *_ = waiting
        # Its children inserted, their mother's row awaited for the foreign key's check.
        assert wrote and query.startswith("INSERT INTO child "), query[:200]

        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        lock.release()
        pushing.join(timeout=30)
        assert "answer" not in outcome and isinstance(outcome["failure"], httpx.TransportError)
        # Its database session ends once the server sees its client gone: rolled back.
        deadline = time.monotonic() + 30
        while sql(url, "SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid):
            assert time.monotonic() < deadline, "the killed process's transaction lingers"
            time.sleep(0.05)
        assert written_children(url, external_ids) == 0
        (claim,) = sql(
            url,
            "SELECT claimed_at, completed_at FROM idempotency_key WHERE key = $1",
            key,
        )
        assert claim["completed_at"] is None

        with httpx.Client(base_url=second.url, timeout=60) as client:
            in_progress = client.post(BATCH, json={"items": items}, headers=headers)
            assert in_progress.status_code == 409, in_progress.text
            assert in_progress.json()["type"] == "urn:tac-api:problem:idempotency-key-in-use"
            assert in_progress.headers["retry-after"].isdigit()
            # Until the claim is older than the lock time: the same answer; then it runs.
            deadline = time.monotonic() + LOCK_SECONDS + 20
            while True:
                retried = client.post(BATCH, json={"items": items}, headers=headers)
                if retried.status_code != 409:
                    break
                assert retried.json()["type"] == "urn:tac-api:problem:idempotency-key-in-use"
                assert time.monotonic() < deadline, "the claim was never taken over"
                time.sleep(0.5)
            assert retried.status_code == 200, retried.text[:500]
            assert retried.json()["created"] == KILLED_BATCH
            assert written_children(url, external_ids) == KILLED_BATCH
            replayed = client.post(BATCH, json={"items": items}, headers=headers)
            assert replayed.status_code == 200
            assert replayed.headers["idempotent-replayed"] == "true"
            assert replayed.json() == retried.json()
        assert written_children(url, external_ids) == KILLED_BATCH
    finally:
        if lock is not None:
            lock.release()
        if first.alive():
            first.stop(signal.SIGKILL)


def written_children(url: str, external_ids: list[str]) -> int:
    found = sql(url, "SELECT count(*) FROM child WHERE external_id = ANY($1::text[])", external_ids)
    return int(found[0][0])
