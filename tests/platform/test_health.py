from importlib.metadata import version

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from tac_api import __version__
from tac_api.config import Settings
from tac_api.db import make_engine
from tac_api.main import create_app
from tac_api.migrations import upgrade
from tests.support.api import Api
from tests.support.databases import backends, run


def test_health_answers_without_a_token(api: Api) -> None:
    assert api.client.get("/health").json() == {"status": "ok"}


def test_ready_when_the_database_answers(api: Api) -> None:
    response = api.client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def _readiness(url: str) -> tuple[int, dict, list[str]]:  # type: ignore[type-arg]
    """/health/ready twice from one app on `url`: the second answer, and the SQL it sent."""
    app = create_app(Settings(database_url=url))
    sent: list[str] = []
    with TestClient(app) as client:
        client.get("/health/ready")
        event.listen(
            app.state.engine.sync_engine,
            "before_cursor_execute",
            lambda *args: sent.append(args[2]),
        )
        response = client.get("/health/ready")
    return response.status_code, response.json(), sent


def _set_revision(url: str, revision: str) -> None:
    async def stamp() -> None:
        engine = make_engine(Settings(database_url=url), pool=False)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE alembic_version SET version_num = :r"), {"r": revision}
                )
        finally:
            await engine.dispose()

    run(stamp())


@pytest.mark.parametrize("backend", backends())
def test_not_ready_until_the_schema_reaches_this_versions_head(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database(backend)
    status, body, _ = _readiness(url)  # never migrated
    assert status == 503
    assert body["type"] == "urn:tac-api:problem:schema-behind"
    assert "run `tac-api db upgrade`" in body["detail"]

    upgrade(url, "919ce09b21a4")  # an older release's schema
    assert _readiness(url)[0] == 503

    upgrade(url)
    status, body, sent = _readiness(url)
    assert (status, body) == (200, {"status": "ready"})
    # Once seen current, readiness asks the database only whether it answers.
    assert sent == ["SELECT 1"]


@pytest.mark.parametrize("backend", backends())
def test_ready_on_a_schema_a_newer_release_migrated(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    """During a rolling upgrade the new release migrates first: the old one still serves."""
    url = make_database(backend)
    upgrade(url)
    _set_revision(url, "fffffffff001")  # a revision this code has never heard of
    assert _readiness(url)[:2] == (200, {"status": "ready"})


# The estate's probes -------------------------------------------------------------------------

# Nothing listens there: a database that cannot be reached.
UNREACHABLE = "postgresql://tac@127.0.0.1:9/tac"


def test_the_estates_probes_answer_without_a_token(api: Api) -> None:
    assert api.client.get("/health/liveness").json() == {"status": "UP"}
    response = api.client.get("/health/readiness")
    assert (response.status_code, response.json()) == (200, {"status": "UP"})
    assert api.client.get("/info").status_code == 200


def test_liveness_never_asks_the_database() -> None:
    with TestClient(create_app(Settings(database_url=UNREACHABLE))) as client:
        assert client.get("/health/liveness").json() == {"status": "UP"}
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/info").status_code == 200
        for path in ("/health/readiness", "/health/ready"):
            response = client.get(path)
            assert response.status_code == 503
            assert response.json()["detail"] == "The database cannot be reached."


@pytest.mark.parametrize("backend", backends())
def test_readiness_needs_this_versions_schema(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database(backend)
    with TestClient(create_app(Settings(database_url=url))) as client:
        response = client.get("/health/readiness")
        assert response.status_code == 503
        assert response.json()["type"] == "urn:tac-api:problem:schema-behind"


def test_info_names_the_build() -> None:
    with TestClient(create_app(Settings(database_url=UNREACHABLE))) as client:
        assert client.get("/info").json() == {
            "build": {"name": "tac-api", "version": version("tac-api")}
        }
    built = Settings(database_url=UNREACHABLE, build_id="2026-12-06.3", git_commit="92a1c26")
    with TestClient(create_app(built)) as client:
        assert client.get("/info").json() == {
            "build": {"name": "tac-api", "version": __version__, "id": "2026-12-06.3"},
            "git": {"commit": {"id": "92a1c26"}},
        }
