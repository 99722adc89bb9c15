"""GET /metrics: Prometheus' text format, for the monitoring role and admins; requests by route
template (never a path), the pool, refusals, webhook deliveries, and the ages of waiting work read
from the database; every worker's figures added up under `tac-api serve --workers 2`."""

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, update
from typer.testing import CliRunner

from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client
from tac_api.changes.models import ChangeEvent
from tac_api.cli import app as cli
from tac_api.config import Settings, get_settings
from tac_api.db import make_engine, utcnow
from tac_api.events.models import EventPublication, ServiceEvent
from tac_api.idempotency.models import IdempotencyKey
from tac_api.main import create_app
from tac_api.webhooks.dispatcher import dispatch_once
from tac_api.webhooks.models import Webhook, WebhookDelivery
from tests.support.api import CLIENTS, Api
from tests.support.bodies import mother_body
from tests.support.operations import OPERATIONS
from tests.support.processes import bearer, make_tokens, migrated, start_api
from tests.support.servers import NAMES

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# Every route template the app has: the only values a route label may take, with "unmatched".
TEMPLATES = {operation.split(" ")[1] for operation in OPERATIONS} | {
    "/openapi.json",
    "/docs/assets/{path}",
    "unmatched",
}
TOPIC = "arn:aws:sns:eu-west-2:000000000000:tac-metrics-test"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: TestClient | httpx.Client, token: str) -> Samples:
    response = client.get("/metrics", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def run_in_app(api: Api, work: Callable[[Any], Any]) -> Any:
    """`work(session)` in one committed transaction, on the app's own engine."""

    async def transaction() -> Any:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            return await work(session)

    return api.client.portal.call(transaction)  # type: ignore[union-attr]


# -- The page, its labels and who may read it -----------------------------------------------


def test_requests_are_counted_by_route_template_never_by_path(api: Api) -> None:
    mother = api.mother()
    her = f"/v1/mothers/{mother['id']}"
    before = scrape(api.client, api.tokens["monitoring"])
    for _ in range(2):
        assert api.get("admin", her).status_code == 200
    assert api.get("admin", f"/v1/mothers/{uuid.uuid4()}").status_code == 404
    # Paths no route takes, one of them carrying her id and her name.
    assert api.client.get(f"/{uuid.uuid4()}/{mother['last_name']}").status_code == 404
    assert api.client.get(f"{her}/{mother['prison_number']}").status_code == 404
    # A method no one uses: one label for all such.
    assert api.client.request("BREW", "/v1/mothers").status_code == 405
    page = api.get("monitoring", "/metrics").text
    after = parse(page)

    route = "/v1/mothers/{mother_id}"
    total = "tac_http_requests_total"
    assert moved(before, after, total, route=route, method="GET", status="200") == 2
    assert moved(before, after, total, route=route, method="GET", status="404") == 1
    assert moved(before, after, total, route="unmatched", method="GET", status="404") == 2
    assert moved(before, after, total, route="/v1/mothers", method="other", status="405") == 1
    latency = "tac_http_request_duration_seconds_count"
    assert moved(before, after, latency, route=route, method="GET") == 3
    # The scrape before was a request like any other.
    assert moved(before, after, total, route="/metrics", method="GET", status="200") == 1

    # No id, no path, no name anywhere in the page; every route label is a template.
    assert not UUID.search(page)
    for personal in (mother["last_name"], mother["first_name"], mother["prison_number"]):
        assert personal not in page
    # The labels this test's requests moved: the counters are the process's, and other tests'
    # apps in the same worker add routes of their own (`/boom`) that the service does not have.
    changed = [labels for key, labels in after if after[(key, labels)] != before.get((key, labels))]
    routes = {dict(labels).get("route") for labels in changed} - {None}
    assert routes <= TEMPLATES, routes - TEMPLATES
    assert {route, "unmatched", "/v1/mothers", "/metrics"} <= routes
    methods = {dict(labels).get("method") for labels in changed} - {None}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


def test_the_page_is_for_the_monitoring_role_and_admins_only(api: Api) -> None:
    anonymous = api.client.get("/metrics")
    assert anonymous.status_code == 401
    for who in CLIENTS:
        response = api.get(who, "/metrics")
        if who in ("monitoring", "admin"):
            assert response.status_code == 200, (who, response.text)
        else:
            assert response.status_code == 403, (who, response.text)
            assert response.headers["content-type"] == "application/problem+json"
    # The database is asked nothing personal: no audit event for a scrape.
    assert api.sql("SELECT count(*) FROM audit_event WHERE role = 'monitoring'")[0][0] == 0


def admitted_roles(route: APIRoute) -> frozenset[Role]:
    """The roles a route's caller step (`pipeline.requires`) admits; none without one."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if hasattr(dependency.call, "allowed_roles"):
            return frozenset(dependency.call.allowed_roles)
        pending += dependency.dependencies
    return frozenset()


def test_the_monitoring_role_reaches_nothing_else() -> None:
    """Read from every route's declaration, as it is added (the access matrix in tests/contracts
    asks each over HTTP)."""
    reached = {
        f"{method} {context.path}"
        for context in iter_route_contexts(create_app().routes)
        if isinstance(context.original_route, APIRoute)
        and Role.monitoring in admitted_roles(context.original_route)
        for method in context.methods or ()
    }
    assert reached == {"GET /metrics"}


def test_tac_api_clients_create_makes_a_monitoring_client(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    get_settings.cache_clear()
    try:
        name = f"prometheus-{uuid.uuid4().hex[:8]}"
        result = CliRunner().invoke(
            cli, ["clients", "create", "--name", name, "--role", "monitoring"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f"created {name} (monitoring, scope all" in result.output
    token = result.output.strip().splitlines()[-1]
    assert api.client.get("/metrics", headers=bearer(token)).status_code == 200
    assert api.client.get("/v1/reference/prisons", headers=bearer(token)).status_code == 403


# -- What is counted ---------------------------------------------------------------------------


def test_rate_limited_requests_are_counted(api: Api) -> None:
    async def new_client(session: Any) -> str:
        name = f"metrics-limited-{uuid.uuid4().hex[:8]}"
        _, token = await create_client(session, name=name, role=Role.admin)
        return token

    token = run_in_app(api, new_client)  # its own limit, untouched by other tests
    settings = Settings(database_url=api.database_url, rate_limit_per_minute=2)
    before = scrape(api.client, api.tokens["monitoring"])
    with TestClient(create_app(settings, resolver=NAMES)) as limited:
        answers = [
            limited.get("/v1/reference/prisons", headers=bearer(token)).status_code
            for _ in range(6)
        ]
    after = scrape(api.client, api.tokens["monitoring"])
    assert answers.count(429) >= 3, answers
    assert moved(before, after, "tac_rate_limited_requests_total") == answers.count(429)


def test_idempotency_conflicts_and_replays_are_counted(api: Api) -> None:
    key = str(uuid.uuid4())
    body = mother_body()
    headers = api.headers("admin", **{"Idempotency-Key": key})

    def post(sent: dict[str, Any]) -> int:
        return int(api.client.post("/v1/mothers", json=sent, headers=headers).status_code)

    def held_again(completed_at: datetime | None) -> None:
        """The key as a request still running (no completion), or as one completed whose
        answer was never kept."""

        async def change(session: Any) -> None:
            await session.execute(
                update(IdempotencyKey.__table__)  # type: ignore[arg-type]
                .where(IdempotencyKey.__table__.c.key == key)  # type: ignore[attr-defined]
                .values(
                    completed_at=completed_at,
                    claimed_at=utcnow(),
                    response_status=None,
                    response_headers=None,
                    response_body=None,
                )
            )

        run_in_app(api, change)

    before = scrape(api.client, api.tokens["monitoring"])
    assert post(body) == 201
    assert post(body) == 201  # replayed
    assert post({**body, "first_name": "Another"}) == 422  # the key, for another request
    held_again(completed_at=None)
    assert post(body) == 409  # its first request still running
    held_again(completed_at=utcnow() - timedelta(hours=1))
    assert post(body) == 409  # completed, its answer lost
    after = scrape(api.client, api.tokens["monitoring"])

    assert moved(before, after, "tac_idempotency_replays_total") == 1
    conflicts = "tac_idempotency_conflicts_total"
    for reason in ("reused", "in_progress", "completed"):
        assert moved(before, after, conflicts, reason=reason) == 1, reason


def test_webhook_deliveries_are_counted_by_result(api: Api) -> None:
    answers = iter([500, 204, 500, 500])

    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(next(answers))

    webhook = api.post(
        "bristol_system", "/v1/sync/webhooks", {"url": "https://la.example.gov.uk/h"}
    )
    assert webhook.status_code == 201, webhook.text
    app = api.client.app
    t0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def dispatch(now: datetime, **settings: Any) -> int:
        async def once() -> int:
            chosen = app.state.settings.model_copy(update=settings)  # type: ignore[attr-defined]
            async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
                return await dispatch_once(
                    app.state.sessionmaker,  # type: ignore[attr-defined]
                    chosen,
                    client,
                    now=now,
                    rng=lambda: 1.0,
                    resolver=NAMES,
                )

        return int(api.client.portal.call(once))  # type: ignore[union-attr]

    def emit(session: Any) -> Any:
        return session.execute(insert(ChangeEvent.__table__), [change_event(t0)])  # type: ignore[arg-type]

    before = scrape(api.client, api.tokens["monitoring"])
    run_in_app(api, emit)
    assert dispatch(t0) == 1  # 500: to be retried
    assert dispatch(t0 + timedelta(minutes=5)) == 1  # 204
    run_in_app(api, emit)
    assert dispatch(t0 + timedelta(minutes=10), webhook_max_attempts=1) == 1  # 500, the last
    run_in_app(api, emit)
    assert dispatch(t0 + timedelta(minutes=15)) == 1  # 500: to be retried, but...

    async def erase(session: Any) -> None:  # ... its event is erased with its case
        table = ChangeEvent.__table__
        await session.execute(table.delete().where(table.c.occurred_at == t0))  # type: ignore[attr-defined]

    run_in_app(api, erase)
    assert dispatch(t0 + timedelta(minutes=20)) == 0  # given up, nothing sent
    after = scrape(api.client, api.tokens["monitoring"])

    deliveries = "tac_webhook_deliveries_total"
    assert moved(before, after, deliveries, result="retrying") == 2
    assert moved(before, after, deliveries, result="delivered") == 1
    assert moved(before, after, deliveries, result="given_up") == 2


def test_the_pool_counts_connections_in_use_and_requests_waiting(database_url: str) -> None:
    def gauge(name: str) -> float:
        return REGISTRY.get_sample_value(f"tac_database_connections_{name}") or 0.0

    async def check() -> None:
        settings = Settings(
            database_url=database_url, database_pool_size=1, database_max_overflow=0
        )
        engine = make_engine(settings)
        in_use, waiting = gauge("in_use"), gauge("waiting")
        try:
            first = await engine.connect()
            assert gauge("in_use") == in_use + 1
            # The pool's one connection is out: the next request for one waits.
            second = asyncio.create_task(engine.connect().start())
            async with asyncio.timeout(10):
                while gauge("waiting") != waiting + 1:  # noqa: ASYNC110 (a gauge sets no event)
                    await asyncio.sleep(0.01)
            assert gauge("in_use") == in_use + 1
            await first.close()
            async with asyncio.timeout(10):
                await (await second).close()
            assert (gauge("in_use"), gauge("waiting")) == (in_use, waiting)
        finally:
            await engine.dispose()

    asyncio.run(check())


# -- The ages of waiting work, read from the database when scraped -----------------------------


def change_event(occurred_at: datetime) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "local_authority_code": "801",
        "event_type": "court-hearing.updated",
        "occurred_at": occurred_at,
        "mother_id": None,
        "resource_type": "court_hearing",
        "resource_id": uuid.uuid4(),
        "child_ids": [],
        "data": {},
    }


def service_event(occurred_at: datetime) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "event_type": "court-hearing.updated",
        "occurred_at": occurred_at,
        "mother_id": None,
        "resource_type": "court_hearing",
        "resource_id": uuid.uuid4(),
    }


def test_the_ages_of_waiting_work_are_read_when_scraped(api: Api) -> None:
    settings = Settings(
        database_url=api.database_url, rate_limit_per_minute=10**6, events_topic_arn=TOPIC
    )
    with TestClient(create_app(settings, resolver=NAMES)) as client:
        token = api.tokens["monitoring"]
        ages = "tac_webhook_oldest_pending_delivery_age_seconds"
        feed, publishing = "tac_change_feed_lag_seconds", "tac_event_publishing_lag_seconds"
        nothing_waits = scrape(client, token)
        assert [value(nothing_waits, name) for name in (ages, feed, publishing)] == [0, 0, 0]
        # Without a topic, no publishing lag at all (rather than a 0 that would say all is well).
        assert (publishing, frozenset()) not in scrape(api.client, token)

        hooks = [
            api.post("bristol_system", "/v1/sync/webhooks", {"url": f"https://{n}.example.gov.uk/"})
            for n in ("pushed", "behind", "paused")
        ]
        assert [hook.status_code for hook in hooks] == [201] * 3, [h.text for h in hooks]
        pushed, behind, paused = (uuid.UUID(hook.json()["id"]) for hook in hooks)
        now = utcnow()

        async def seed(session: Any) -> None:
            events = (
                (
                    await session.execute(
                        insert(ChangeEvent.__table__).returning(ChangeEvent.__table__.c.position),  # type: ignore[attr-defined]
                        [change_event(now - timedelta(seconds=300))],
                    )
                ).scalar_one(),
                (
                    await session.execute(
                        insert(ChangeEvent.__table__).returning(ChangeEvent.__table__.c.position),  # type: ignore[attr-defined]
                        [change_event(now - timedelta(seconds=100))],
                    )
                ).scalar_one(),
            )
            # `pushed` has had the first event, and its delivery of the second is pending;
            # `behind` has had none (its cursor at the start); `paused` has an older pending
            # delivery of the first, but it is paused: not waited for.
            for webhook, cursor in ((pushed, events[1]), (paused, events[0])):
                await session.execute(
                    update(Webhook).where(Webhook.id == webhook).values(cursor_position=cursor)
                )
            await session.execute(update(Webhook).where(Webhook.id == paused).values(active=False))
            for webhook, position, made in (
                (pushed, events[1], now - timedelta(seconds=120)),
                (paused, events[0], now - timedelta(seconds=3600)),
            ):
                await session.execute(
                    insert(WebhookDelivery.__table__),  # type: ignore[arg-type]
                    {
                        "id": uuid.uuid4(),
                        "webhook_id": webhook,
                        "event_position": position,
                        "event_id": uuid.uuid4(),
                        "event_type": "court-hearing.updated",
                        "status": "pending",
                        "attempts": 1,
                        "created_at": made,
                        "next_attempt_at": now + timedelta(minutes=5),
                    },
                )
            for seconds in (600, 50):
                await session.execute(
                    insert(ServiceEvent.__table__),  # type: ignore[arg-type]
                    [service_event(now - timedelta(seconds=seconds))],
                )

        run_in_app(api, seed)
        seeded = scrape(client, token)
        assert 120 <= value(seeded, ages) < 150
        assert 300 <= value(seeded, feed) < 330  # `behind`'s first event, not `pushed`'s second
        assert 600 <= value(seeded, publishing) < 630  # nothing published to this topic yet

        first_event = api.sql("SELECT min(position) FROM change_event")[0][0]

        async def publish_first(session: Any) -> None:
            first, last = [
                row.position
                for row in (
                    await session.execute(
                        ServiceEvent.__table__.select().order_by(ServiceEvent.position)  # type: ignore[attr-defined]
                    )
                ).all()
            ]
            await session.execute(
                insert(EventPublication.__table__),  # type: ignore[arg-type]
                [
                    {"topic_arn": TOPIC, "last_position": first},
                    {"topic_arn": TOPIC + "-elsewhere", "last_position": last},
                ],
            )
            # `behind` catches up with the first event: the second, younger, is what it waits for.
            await session.execute(
                update(Webhook).where(Webhook.id == behind).values(cursor_position=first_event)
            )

        run_in_app(api, publish_first)
        published = scrape(client, token)
        assert 50 <= value(published, publishing) < 80
        assert 100 <= value(published, feed) < 130


# -- Several worker processes ------------------------------------------------------------------


def count_in_directory(directory: Path, route: str, count: int, in_use: int) -> None:
    """What a process that has since ended counted, in `directory`, as a worker would."""
    script = (
        "from tac_api.metrics.figures import CONNECTIONS_IN_USE, REQUESTS\n"
        f"REQUESTS.labels({route!r}, 'GET', '200').inc({count})\n"
        f"CONNECTIONS_IN_USE.inc({in_use})\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)


def pids_of(directory: Path, kind: str) -> set[int]:
    return {int(path.stem.rsplit("_", 1)[1]) for path in directory.glob(f"{kind}_*.db")}


def test_two_workers_figures_are_added_up(
    make_database: Callable[[str], str], tmp_path: Path
) -> None:
    url = migrated(make_database("sqlite"))
    token = make_tokens(url, {"monitoring": CLIENTS["monitoring"]})["monitoring"]
    directory = tmp_path / "metrics"
    # Left by an earlier run: serve starts from nothing.
    count_in_directory(directory, "/earlier-run", 1000, in_use=7)
    api = start_api(url, tmp_path, {"PROMETHEUS_MULTIPROC_DIR": str(directory)}, workers=2)
    try:

        def liveness(_: int) -> int:
            # A connection each: the two workers take turns accepting them.
            return httpx.get(f"{api.url}/health/liveness", timeout=10).status_code

        route = {"route": "/health/liveness", "method": "GET", "status": "200"}
        with httpx.Client(base_url=api.url, timeout=10) as client:
            # wait_until_live's probes are counted too, however many it sent: from here, deltas.
            before = value(scrape(client, token), "tac_http_requests_total", **route)
        sent = 0
        with ThreadPoolExecutor(8) as pool:
            # Both workers have answered (a request each at least); 40 probes at the least.
            while sent == 0 or len(pids_of(directory, "histogram")) < 2:
                assert sent < 2000, "one worker took every request"
                assert set(pool.map(liveness, range(40))) == {200}
                sent += 40
        workers = pids_of(directory, "histogram")
        with httpx.Client(base_url=api.url, timeout=10) as client:
            # Whichever worker answers, the page counts both workers' requests.
            for _ in range(6):
                samples = scrape(client, token)
                assert value(samples, "tac_http_requests_total", **route) - before == sent
                earlier = {"route": "/earlier-run", "method": "GET", "status": "200"}
                assert value(samples, "tac_http_requests_total", **earlier) == 0
                assert value(samples, "tac_database_connections_in_use") < 7

            # A worker that died (here: a process that counted, then ended): its counts stay in
            # the totals, its connections in use do not.
            count_in_directory(directory, "/died", 5, in_use=7)
            samples = scrape(client, token)
            labels = {"route": "/died", "method": "GET", "status": "200"}
            assert value(samples, "tac_http_requests_total", **labels) == 5
            assert value(samples, "tac_database_connections_in_use") < 7
    finally:
        assert api.stop() == 0, api.output()
    # Each worker's last act: its live gauges gone (what it counted stays for the totals).
    assert not workers & pids_of(directory, "gauge_livesum")
    assert workers <= pids_of(directory, "counter")


def test_serve_makes_a_directory_for_several_workers_and_removes_it() -> None:
    """Not given PROMETHEUS_MULTIPROC_DIR, `tac-api serve --workers 2` makes a directory for its
    workers (set in the variable they inherit), and removes it as it exits; one process
    counts in its memory."""
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    script = (
        "import os\n"
        "from tac_api.metrics.service import multiprocess_directory\n"
        "assert multiprocess_directory(1) is None\n"
        "assert 'PROMETHEUS_MULTIPROC_DIR' not in os.environ\n"
        "made = multiprocess_directory(2)\n"
        "assert os.environ['PROMETHEUS_MULTIPROC_DIR'] == str(made) and made.is_dir()\n"
        "print(made)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    made = Path(result.stdout.strip())
    assert made.name.startswith("tac-api-metrics-")
    assert not made.exists()
