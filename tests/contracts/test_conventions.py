"""API conventions that hold everywhere: problem+json, limits, headers, the committed contract."""

import json

from tac_api.main import create_app
from tests.support.api import Api
from tests.support.bodies import HERE, mother_body


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((HERE.parent / "openapi" / "openapi.json").read_text())
    assert committed == create_app().openapi(), "run `make openapi` and commit the result"


def test_unknown_route_is_problem_json(api: Api) -> None:
    response = api.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_wrong_method_is_problem_json(api: Api) -> None:
    response = api.client.put("/health")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"


def test_malformed_json_is_a_problem(api: Api) -> None:
    response = api.client.post(
        "/v1/mothers",
        content=b'{"prison_number": ',
        headers=api.headers("admin", **{"Content-Type": "application/json"}),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_oversized_bodies_are_refused_and_write_nothing(api: Api) -> None:
    limit = api.client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    body = mother_body(first_name="x" * (limit + 1))
    response = api.post("admin", "/v1/mothers", body)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    def chunks():  # no Content-Length: the limit is counted as the body streams in
        yield b'{"first_name": "'
        for _ in range(limit // 1000 + 1):
            yield b"x" * 1000
        yield b'"}'

    streamed = api.client.post(
        "/v1/mothers",
        content=chunks(),
        headers=api.headers("admin", **{"Content-Type": "application/json"}),
    )
    assert streamed.status_code == 413
    assert api.sql("SELECT count(*) FROM mother")[0][0] == 0


def test_security_headers(api: Api) -> None:
    response = api.client.get("/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_errors_never_show_a_stack_trace(api: Api) -> None:
    from fastapi.testclient import TestClient

    app = create_app(api.client.app.state.settings)  # type: ignore[attr-defined]

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret" not in response.text and "Traceback" not in response.text


def test_unknown_query_parameters_are_refused(api: Api) -> None:
    api.mother(prison_code="SDI")
    response = api.get("admin", "/v1/mothers?prisoncode=EWI")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "location": "query",
            "field": "prisoncode",
            "message": "is not a parameter of this operation",
        }
    ]
    assert api.get("admin", "/v1/mothers?prison_code=EWI&limit=5").status_code == 200


def test_405_names_every_method_of_the_path(api: Api) -> None:
    response = api.client.delete("/v1/mothers/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, PATCH"


def test_dates_are_dates_not_numbers(api: Api) -> None:
    response = api.post("admin", "/v1/mothers", mother_body(date_of_birth=0))
    assert response.status_code == 422
    assert api.get("admin", "/v1/reference/local-authorities?current_on=0").status_code == 422


def test_a_failed_commit_is_never_reported_as_success(api: Api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.ext.asyncio import AsyncSession

    async def failing_commit(self: AsyncSession) -> None:
        raise ConnectionError("database went away mid-commit")

    from fastapi.testclient import TestClient

    app = create_app(api.client.app.state.settings)  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as client:
        monkeypatch.setattr(AsyncSession, "commit", failing_commit)
        response = client.post("/v1/mothers", json=mother_body(), headers=api.headers("admin"))
        monkeypatch.undo()
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert api.sql("SELECT count(*) FROM mother")[0][0] == 0


def test_a_cursor_over_a_time_column_decodes_to_a_time() -> None:
    from datetime import UTC, datetime

    from tac_api.audit.models import AuditEvent
    from tac_api.pagination import decode_cursor, encode_cursor

    when = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    columns = [AuditEvent.occurred_at, AuditEvent.id]
    assert decode_cursor(encode_cursor((when, 7)), columns) == (when, 7)
