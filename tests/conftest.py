"""Test databases (SQLite always, PostgreSQL when TAC_TEST_POSTGRES_URL is set), made by the real
migrations; one app per database; every test starts from empty case tables. Fixtures only: what
the tests import lives in tests/support."""

import logging
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from sqlalchemy import text

from tac_api.config import Settings
from tac_api.main import create_app
from tac_api.migrations import upgrade
from tests.support.api import Api, add_clients
from tests.support.databases import (
    POOLER_URL,
    backends,
    drop_postgres_database,
    load_reference_into,
    new_postgres_database,
    run,
    served,
)
from tests.support.events import Estate, new_estate
from tests.support.servers import NAMES, serving

# No app in the tests delivers webhooks in the background: the webhook tests call the dispatcher
# themselves (or turn it on for the one test of the background task).
os.environ["TAC_WEBHOOK_DISPATCH"] = "false"
if POOLER_URL:
    # Behind a transaction-pooling PgBouncer 1.18, as README's Deploying section says to run.
    os.environ["TAC_DATABASE_STATEMENT_CACHE"] = "false"
# The slowest files first, longest first (seconds of one worker, a quiet 2-core machine, December
# 2026), then the rest by their number of tests: pytest-xdist deals whole files (`--dist loadfile`)
# in this order (`--no-loadscope-reorder`, in the Makefile; its own order, by number of tests
# alone, dealt these files of one slow test last, to run alone while the other worker waited).
SLOWEST_FIRST = [
    "tests/contracts/test_schemathesis.py",  # 264
    "tests/commands/test_commands.py",  # 103
    "tests/contracts/test_access_matrix.py",  # 98
    "tests/reports/test_reports.py",  # 55
    "tests/commands/test_bench.py",  # 53
    "tests/platform/test_pgbouncer.py",  # 44
    "tests/platform/test_outage.py",  # 34
    "tests/commands/test_soak.py",  # 25
    "tests/events/test_consumer.py",  # 25
    "tests/platform/test_processes.py",  # 24
    "tests/platform/test_metrics.py",  # 24
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    rank = {path: place for place, path in enumerate(SLOWEST_FIRST)}
    tests_in = Counter(file_of(item) for item in items)
    items.sort(key=lambda item: (rank.get(file_of(item), len(rank)), -tests_in[file_of(item)]))


# Case tables, children before parents; reference data and API clients persist across tests.
CASE_TABLES = [
    "published_figure",
    "prison_event",
    "prison_number_alias",
    "service_event",
    "task",
    "review_flag",
    "transfer_summary",
    "group_attendance",
    "group_facilitator",
    "group_session",
    "review_relationship",
    "review_rating",
    "review",
    "birth",
    "pregnancy",
    "consent",
    "referral",
    "link_request",
    "change_event",
    "communication_child",
    "communication",
    "onward_referral",
    "release_plan_history",
    "release_plan_contact",
    "release_plan_action",
    "release_plan_pathway",
    "release_plan",
    "parenting_assessment_recipient",
    "parenting_assessment_child",
    "parenting_assessment",
    "evidence",
    "meeting_child",
    "meeting",
    "contact_visit_status_change",
    "contact_visit_child",
    "contact_visit",
    "child_history",
    "court_hearing_amendment",
    "court_hearing_child",
    "court_hearing",
    "proceedings_extension",
    "proceedings_child",
    "proceedings",
    "practitioner_link",
    "group_attendance",
    "group_facilitator",
    "group_session",
    "allocation",
    "staff_member",
    "practitioner",
    "organisation",
    "unit_cost",
    "child",
    "prison_stay",
    "mother",
]
# Not case data, but written by the tests: cleared after each test too.
WEBHOOK_TABLES = ["webhook_delivery", "webhook", "event_publication"]


@pytest.fixture(scope="session")
def make_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Factory for empty databases of either kind; PostgreSQL ones are dropped at the end."""
    made: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'tac.db'}"
        url = new_postgres_database()
        made.append(url)
        return url

    yield make
    for url in made:
        drop_postgres_database(url)


@pytest.fixture(scope="session", params=backends())
def database_url(request: pytest.FixtureRequest, make_database: Any) -> str:
    url = make_database(request.param)
    upgrade(url)
    run(load_reference_into(url))
    return served(url)


@pytest.fixture(scope="session")
def api_session(database_url: str) -> Iterator[Api]:
    # Limits on (so every test runs through them), high enough that no test meets them.
    app = create_app(
        Settings(database_url=database_url, rate_limit_per_minute=1_000_000), resolver=NAMES
    )
    with TestClient(app) as client:

        async def make_clients() -> dict[str, str]:
            async with app.state.sessionmaker() as session, session.begin():
                return await add_clients(session)

        yield Api(client, client.portal.call(make_clients), database_url)  # type: ignore[union-attr]


@pytest.fixture
def api(api_session: Api) -> Iterator[Api]:
    yield api_session
    NAMES.reset()
    clear(api_session)


def clear(api: Api) -> None:
    """Empty the case tables, in one transaction. DELETE, not TRUNCATE: a test leaves a handful
    of rows, and PostgreSQL's TRUNCATE of forty-odd tables (a new file for each, synced) cost more
    than many tests themselves."""

    statements = [f"DELETE FROM {table}" for table in CASE_TABLES + WEBHOOK_TABLES]
    # Prisons a prison event named, where the service does not work.
    statements.append("DELETE FROM prison WHERE NOT served")

    async def delete_all() -> None:
        async with api.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
            if connection.dialect.name == "postgresql":
                # One round trip (the simple query protocol takes several statements), not
                # fifty: this runs after every test.
                raw = await connection.get_raw_connection()
                await raw.driver_connection.execute(";".join(statements))  # type: ignore[union-attr]
                return
            for statement in statements:
                await connection.execute(text(statement))

    api.client.portal.call(delete_all)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def live_server(api_session: Api) -> Iterator[str]:
    """The app served over real HTTP, on the tests' database."""
    app = create_app(
        Settings(database_url=api_session.database_url, rate_limit_per_minute=10**6),
        resolver=NAMES,
    )
    with serving(app) as url:
        yield url


@pytest.fixture(scope="module")
def module_api(api_session: Api) -> Iterator[Api]:
    """The app for a module that builds one world for all its tests (which read, never write):
    the case tables are emptied after the module, as `api` empties them after each test."""
    yield api_session
    NAMES.reset()
    clear(api_session)


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """A local SQS and SNS (moto in server mode, over real HTTP), one per test worker. Each
    test makes its own topic and queues on it (`tests.support.events.new_estate`)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def estate(aws_endpoint: str) -> Estate:
    """This test's own topic, queue and dead-letter queue (a message goes there on its third
    failed receive)."""
    return new_estate(aws_endpoint)
