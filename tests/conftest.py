"""Test databases (SQLite always, PostgreSQL when TAC_TEST_POSTGRES_URL is set), made by the real
migrations; one app per database; every test starts from empty case tables."""

import asyncio
import ipaddress
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client
from tac_api.config import Settings
from tac_api.db import make_engine, sessionmaker_for
from tac_api.main import create_app
from tac_api.migrations import upgrade
from tac_api.reference.service import load_reference_data
from tac_api.webhooks.addresses import Address

POSTGRES_URL = os.environ.get("TAC_TEST_POSTGRES_URL")
# No app in the tests delivers webhooks in the background: the webhook tests call the dispatcher
# themselves (or turn it on for the one test of the background task).
os.environ["TAC_WEBHOOK_DISPATCH"] = "false"
# Case tables, children before parents; reference data and API clients persist across tests.
CASE_TABLES = [
    "link_request",
    "change_event",
    "communication_child",
    "communication",
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
    "practitioner",
    "child",
    "prison_stay",
    "mother",
]
# Not case data, but written by the tests: cleared after each test too.
WEBHOOK_TABLES = ["webhook_delivery", "webhook"]


class Names:
    """The name server of the suite's apps: no test looks a webhook's host name up on the
    network. Names under example.gov.uk are on the internet unless a test says otherwise."""

    PUBLIC = "8.8.8.8"

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def answer(self, name: str, *addresses: str) -> None:
        self.answers[name] = list(addresses)

    async def __call__(self, host: str, port: int) -> list[Address]:
        self.lookups.append(host)
        default = [self.PUBLIC] if host.endswith(".example.gov.uk") else []
        return [ipaddress.ip_address(a) for a in self.answers.get(host, default)]

    def reset(self) -> None:
        self.answers.clear()
        self.lookups.clear()


NAMES = Names()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def load_reference_into(url: str) -> None:
    engine = make_engine(Settings(database_url=url), pool=False)
    async with sessionmaker_for(engine)() as session, session.begin():
        await load_reference_data(session)
    await engine.dispose()


async def run_as_server_admin(statement: str) -> None:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def new_postgres_database() -> str:
    """A database of our own on the test server, so tests never touch anything else."""
    assert POSTGRES_URL
    name = f"tac_test_{uuid.uuid4().hex[:12]}"
    try:
        run(run_as_server_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        message = f"cannot reach PostgreSQL at TAC_TEST_POSTGRES_URL: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a PostgreSQL run that cannot connect is a failure
        pytest.skip(message)
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    run(run_as_server_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def backends() -> list[Any]:
    skip = pytest.mark.skip(reason="PostgreSQL tests need TAC_TEST_POSTGRES_URL (set by .ci/run)")
    return [
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres, *([] if POSTGRES_URL else [skip])]),
    ]


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
    return url


@dataclass
class Api:
    """The app under test, with a token per role and scope."""

    client: TestClient
    tokens: dict[str, str]
    database_url: str

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def get(self, who: str, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, headers=self.headers(who), **kwargs)

    def post(
        self, who: str, url: str, json: Any, if_match: str | None = None, **kwargs: Any
    ) -> Any:
        extra = {"If-Match": if_match} if if_match is not None else {}
        return self.client.post(url, headers=self.headers(who, **extra), json=json, **kwargs)

    def patch(self, who: str, url: str, json: Any, if_match: str | None = None) -> Any:
        extra = {"If-Match": if_match} if if_match is not None else {}
        return self.client.patch(url, headers=self.headers(who, **extra), json=json)

    def put(self, who: str, url: str, json: Any, **conditions: str) -> Any:
        """`if_match="..."`, `if_none_match="*"`: sent as those headers."""
        extra = {name.replace("_", "-").title(): value for name, value in conditions.items()}
        return self.client.put(url, headers=self.headers(who, **extra), json=json)

    def delete(self, who: str, url: str, if_match: str | None = None) -> Any:
        extra = {"If-Match": if_match} if if_match is not None else {}
        return self.client.delete(url, headers=self.headers(who, **extra))

    def sql(self, statement: str, **params: Any) -> list[Any]:
        """Look at the database directly, to prove what was (or was not) written."""

        async def query() -> list[Any]:
            async with self.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []

        return self.client.portal.call(query)  # type: ignore[union-attr]

    # Factories: build through the API, as a client would.
    def mother(self, who: str = "admin", **fields: Any) -> dict[str, Any]:
        response = self.post(who, "/v1/mothers", mother_body(**fields))
        assert response.status_code == 201, response.text
        return response.json()

    def child(self, mother_id: str, who: str = "admin", **fields: Any) -> dict[str, Any]:
        response = self.post(who, f"/v1/mothers/{mother_id}/children", child_body(**fields))
        assert response.status_code == 201, response.text
        return response.json()


# Who is who in the tests: each role, in each of two scopes.
CLIENTS = {
    "admin": (Role.admin, None, None),
    "ewi_worker": (Role.prison_social_worker, "EWI", None),
    "sdi_worker": (Role.prison_social_worker, "SDI", None),
    "bristol": (Role.la_practitioner, None, "801"),
    "bristol_system": (Role.la_system, None, "801"),
    "surrey": (Role.la_practitioner, None, "936"),
    "ewi_governor": (Role.governor, "EWI", None),
    "auditor": (Role.auditor, None, None),
}


@pytest.fixture(scope="session")
def api_session(database_url: str) -> Iterator[Api]:
    # Limits on (so every test runs through them), high enough that no test meets them.
    app = create_app(
        Settings(database_url=database_url, rate_limit_per_minute=1_000_000), resolver=NAMES
    )
    with TestClient(app) as client:

        async def make_clients() -> dict[str, str]:
            tokens = {}
            async with app.state.sessionmaker() as session, session.begin():
                for name, (role, prison, authority) in CLIENTS.items():
                    _, tokens[name] = await create_client(
                        session,
                        name=name,
                        role=role,
                        prison_code=prison,
                        local_authority_code=authority,
                    )
            return tokens

        yield Api(client, client.portal.call(make_clients), database_url)  # type: ignore[union-attr]


@pytest.fixture
def api(api_session: Api) -> Iterator[Api]:
    yield api_session
    NAMES.reset()
    if api_session.database_url.startswith("postgresql"):
        api_session.sql(f"TRUNCATE {', '.join(CASE_TABLES + WEBHOOK_TABLES)} CASCADE")
    else:
        for table in CASE_TABLES + WEBHOOK_TABLES:
            api_session.sql(f"DELETE FROM {table}")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served by uvicorn on a free port of 127.0.0.1, for clients that must be tested
    over real HTTP; yields its base URL."""
    config = uvicorn.Config(app, log_config=None, access_log=False, loop="asyncio")
    server = uvicorn.Server(config)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


@pytest.fixture(scope="module")
def live_server(api_session: Api) -> Iterator[str]:
    """The app served over real HTTP, on the tests' database."""
    app = create_app(
        Settings(database_url=api_session.database_url, rate_limit_per_minute=10**6),
        resolver=NAMES,
    )
    with serving(app) as url:
        yield url


def mother_row(made: datetime, **fields: Any) -> dict[str, Any]:
    """Siân O'Connor's row as a raw insert writes it (for tests that work below the API: a
    fresh process's command, a migration's backfill), with `fields` over the defaults."""
    return {
        "id": uuid.uuid4(),
        "created_at": made,
        "updated_at": made,
        "version": 1,
        "prison_number": "A1234BC",
        "first_name": "Siân",
        "last_name": "O'Connor",
        "date_of_birth": date(1990, 4, 12),
        "prison_code": "EWI",
        "reception_date": date(2025, 9, 1),
        "status": "active",
        **fields,
    }


_numbers = iter(range(10_000))


def mother_body(**fields: Any) -> dict[str, Any]:
    n = next(_numbers)
    body = {
        "prison_number": f"A{n:04d}BC",
        "first_name": "Siân",
        "last_name": "O'Connor",
        "date_of_birth": "1990-04-12",
        "prison_code": "EWI",
        "reception_date": "2025-09-01",
        "earliest_release_date": "2027-03-01",
        "domestic_abuse_history": True,
        "ethnicity": "white_british",
    }
    body.update(fields)
    return body


def child_body(**fields: Any) -> dict[str, Any]:
    body = {
        "first_name": "Rhys",
        "last_name": "O'Connor",
        "date_of_birth": "2016-02-03",
        "sex": "male",
        "local_authority_code": "801",
        "legal_status": "C2",
        "placement_type": "U3",
        "lives_with": "foster_carer",
        "social_worker": {"name": "Gwen Llewellyn", "email": "gwen@bristol.example.gov.uk"},
    }
    body.update(fields)
    return body


def communication_body(**fields: Any) -> dict[str, Any]:
    body = {
        "from_party": "la_social_worker",
        "from_name": "Gwen Llewellyn",
        "to_party": "mother",
        "channel": "phone",
        "occurred_at": "2026-01-15T10:30:00Z",
        "summary": "Rhys's school report: settled well, enjoying football.",
    }
    body.update(fields)
    return body


TODAY = date.today()
HERE = Path(__file__).parent
