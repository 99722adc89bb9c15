"""The audit trail: who did what with whose records, written with the work itself, append-only,
ids only; request ids and structured logs."""

import io
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.exc import DBAPIError

from tac_api.audit import service as audit_service
from tac_api.config import Settings
from tac_api.logs import JsonLogFormatter
from tac_api.main import create_app
from tac_api.pipeline import CaseReader
from tac_api.session import SessionDep
from tests.support.api import Api
from tests.support.audit import audit_fails, failing_app, trail
from tests.support.bodies import mother_body


def test_a_new_record_is_audited_as_collected(api: Api) -> None:
    response = api.post("ewi_worker", "/v1/mothers", mother_body())
    mother_id = response.json()["id"]
    assert trail(api, response) == [
        (
            "ewi_worker",
            "prison_social_worker",
            "collect",
            "mother",
            mother_id,
            mother_id,
            "succeeded",
        )
    ]


def test_a_change_is_audited_as_altered(api: Api) -> None:
    mother = api.mother()
    response = api.patch("ewi_worker", f"/v1/mothers/{mother['id']}", {"status": "released"}, '"1"')
    assert response.status_code == 200
    assert trail(api, response) == [
        (
            "ewi_worker",
            "prison_social_worker",
            "alter",
            "mother",
            mother["id"],
            mother["id"],
            "succeeded",
        )
    ]


def test_reads_record_every_record_shown(api: Api) -> None:
    mother = api.mother()
    children = [api.child(mother["id"], first_name=name)["id"] for name in ("Rhys", "Cerys")]
    response = api.get("ewi_worker", f"/v1/mothers/{mother['id']}")
    rows = trail(api, response)
    assert {(r[2], r[3], r[4], r[5]) for r in rows} == {
        ("consult", "mother", mother["id"], mother["id"]),
        *(("consult", "child", child, mother["id"]) for child in children),
    }
    listing = api.get("bristol", f"/v1/mothers/{mother['id']}/children")
    assert {r[4] for r in trail(api, listing)} == set(children)
    family = api.get("bristol", f"/v1/mothers/{mother['id']}/family")
    assert {r[2] for r in trail(api, family)} == {"combine"}


def test_a_search_records_each_mother_found(api: Api) -> None:
    found = [api.mother(last_name=name)["id"] for name in ("Nguyễn", "Nguyen-Price")]
    api.mother(last_name="Ó Briain")
    response = api.get("admin", "/v1/mothers", params={"q": "nguy"})
    assert {r[4] for r in trail(api, response)} <= set(found)
    assert len(trail(api, response)) == len(response.json()["items"])


@pytest.mark.parametrize(("who", "outcome"), [("surrey", "not_found"), ("ewi_governor", "refused")])
def test_failed_attempts_are_recorded_with_their_outcome(api: Api, who: str, outcome: str) -> None:
    mother = api.mother()
    response = api.get(who, f"/v1/mothers/{mother['id']}")
    assert response.status_code in (403, 404)
    assert trail(api, response) == [
        (who, api_role(api, who), "consult", "mother", mother["id"], mother["id"], outcome)
    ]


def api_role(api: Api, who: str) -> str:
    return api.sql("SELECT role FROM api_client WHERE name = :n", n=who)[0][0]


def test_invalid_input_is_recorded_and_writes_nothing(api: Api) -> None:
    response = api.post("ewi_worker", "/v1/mothers", mother_body(date_of_birth="2099-01-01"))
    assert response.status_code == 422
    assert trail(api, response) == [
        ("ewi_worker", "prison_social_worker", "collect", "mother", None, None, "invalid")
    ]
    assert api.sql("SELECT count(*) FROM mother") == [(0,)]


def test_no_caller_no_audit_row(api: Api) -> None:
    response = api.client.get("/v1/mothers")
    assert response.status_code == 401
    assert trail(api, response) == []


def test_the_change_and_its_audit_row_commit_together(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_service, "write_pending", audit_fails)
    with failing_app(api) as client:
        response = client.post("/v1/mothers", headers=api.headers("ewi_worker"), json=mother_body())
    assert response.status_code == 500
    assert api.sql("SELECT count(*) FROM mother") == [(0,)]


def test_a_read_whose_audit_row_cannot_be_written_discloses_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    mother = api.mother()
    consulting_params = audit_service.consulting_params

    def unwritable(*args: Any) -> dict[str, Any]:
        # Longer than the column allows: the insert fails, on PostgreSQL inside the read's
        # own statement (which writes its audit rows itself), so the read fails with it.
        return {**consulting_params(*args), "audit_role": "r" * 100}

    if api.database_url.startswith("postgresql"):
        monkeypatch.setattr(audit_service, "consulting_params", unwritable)
    else:  # no data-modifying CTEs: the session writes the audit rows after the read
        monkeypatch.setattr(audit_service, "write_pending", audit_fails)
    with failing_app(api) as client:
        for path in (f"/v1/mothers/{mother['id']}", "/v1/mothers"):
            response = client.get(path, headers=api.headers("ewi_worker"))
            assert response.status_code == 500
            assert "O'Connor" not in response.text


def test_a_personal_data_route_that_records_nothing_fails(api: Api) -> None:
    app = create_app(Settings(database_url=api.database_url, rate_limit_per_minute=0))

    @app.get("/v1/unaudited")
    async def unaudited(_: CaseReader, session: SessionDep) -> dict[str, str]:
        return {"looked": "at something"}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/unaudited", headers=api.headers("admin"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"


NAMES = ("Siân", "O'Connor", "Rhys", "1990-04-12", "A0")


def test_audit_rows_hold_ids_never_personal_values(api: Api) -> None:
    mother = api.mother()
    api.child(mother["id"])
    api.get("admin", f"/v1/mothers/{mother['id']}/family")
    api.get("admin", "/v1/mothers", params={"q": "Siân"})
    for row in api.sql("SELECT * FROM audit_event"):
        text = " ".join(str(value) for value in row)
        assert not any(name in text for name in NAMES), row


def test_the_database_refuses_to_change_the_trail(api: Api) -> None:
    api.get("admin", "/v1/mothers")
    statements = ["UPDATE audit_event SET outcome = 'x'", "DELETE FROM audit_event"]
    if api.database_url.startswith("postgresql"):
        statements.append("TRUNCATE audit_event")
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            api.sql(statement)


def test_auditors_search_by_subject_client_and_time(api: Api) -> None:
    mother = api.mother()
    child = api.child(mother["id"])
    other = api.mother()
    api.get("bristol", f"/v1/children/{child['id']}")
    api.get("ewi_worker", f"/v1/mothers/{other['id']}")

    about_her = api.get("auditor", "/v1/audit", params={"subject_id": mother["id"]}).json()
    assert {e["subject_id"] for e in about_her["items"]} == {mother["id"]}
    assert {"collect", "consult"} <= {e["action"] for e in about_her["items"]}
    about_child = api.get("auditor", "/v1/audit", params={"subject_id": child["id"]}).json()
    assert {e["resource_id"] for e in about_child["items"]} == {child["id"]}

    by_bristol = api.get(
        "auditor", "/v1/audit", params={"subject_id": mother["id"], "client": "bristol"}
    ).json()["items"]
    assert [(e["client_name"], e["resource_type"]) for e in by_bristol] == [("bristol", "child")]
    client_id = by_bristol[0]["client_id"]
    by_id = api.get("admin", "/v1/audit", params={"client": client_id, "subject_id": child["id"]})
    assert [e["id"] for e in by_id.json()["items"]] == [by_bristol[0]["id"]]

    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    none = api.get("auditor", "/v1/audit", params={"subject_id": mother["id"], "from": later})
    assert none.json()["items"] == []
    backwards = api.get(
        "auditor", "/v1/audit", params={"from": later, "to": "2020-01-01T00:00:00Z"}
    )
    assert backwards.status_code == 422


def test_the_trail_pages_oldest_first(api: Api) -> None:
    mother = api.mother()
    for _ in range(5):
        api.get("ewi_worker", f"/v1/mothers/{mother['id']}")
    seen: list[int] = []
    # The auditor's own reads are on her trail too: look at the social worker's.
    url, params = "/v1/audit", {"subject_id": mother["id"], "client": "ewi_worker", "limit": 2}
    while True:
        page = api.get("auditor", url, params=params).json()
        seen += [e["id"] for e in page["items"]]
        if not page["next_cursor"]:
            break
        params = {**params, "cursor": page["next_cursor"]}
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 5


def test_reading_the_trail_is_itself_recorded(api: Api) -> None:
    mother = api.mother()
    response = api.get("auditor", "/v1/audit", params={"subject_id": mother["id"]})
    assert trail(api, response) == [
        ("auditor", "auditor", "consult", "audit", None, mother["id"], "succeeded")
    ]


def test_every_answer_has_a_request_id_of_ours(api: Api) -> None:
    first = api.get("admin", "/v1/mothers").headers["X-Request-ID"]
    # A caller's own id could carry a name into the trail, or pose as another request's.
    sent = {**api.headers("admin"), "X-Request-ID": f"A1234BC-Sian-OConnor-{first}"}
    second = api.client.get("/v1/mothers", headers=sent).headers["X-Request-ID"]
    assert len(first) == len(second) == 32 and first != second
    assert uuid.UUID(second)


@contextmanager
def access_lines() -> Iterator[list[dict[str, Any]]]:
    """The access log's lines, as JSON, written while the block runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("{message}{levelname}", style="{"))
    logger = logging.getLogger("tac_api.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
    lines += [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_callers_id_is_answered_and_logged_as_its_correlation_id(api: Api) -> None:
    mother = api.mother()
    sync_run = "bristol-sync.2026-12-04_0001"
    with access_lines() as lines:
        response = api.client.get(
            f"/v1/mothers/{mother['id']}",
            headers=api.headers("admin", **{"X-Request-ID": sync_run}),
        )
    assert response.status_code == 200
    assert response.headers["X-Correlation-ID"] == sync_run
    ours = response.headers["X-Request-ID"]
    assert ours != sync_run and uuid.UUID(ours)
    [line] = lines
    assert line["correlation_id"] == sync_run and line["request_id"] == ours
    # The trail keeps our id, never the caller's.
    assert api.sql("SELECT request_id FROM audit_event WHERE request_id = :r", r=ours) == [(ours,)]
    assert api.sql("SELECT count(*) FROM audit_event WHERE request_id = :r", r=sync_run) == [(0,)]


@pytest.mark.parametrize(
    "sent",
    [
        b"x" * 65,
        b"",
        b"sync run 7",
        "Siân-OConnor".encode(),
        b"run\x01seven",
        b"run;drop",
        b"run/7",
    ],
)
def test_an_id_that_does_not_fit_is_ignored_not_refused(api: Api, sent: bytes) -> None:
    with access_lines() as lines:
        response = api.client.get(
            "/v1/mothers", headers=[*api.headers("admin").items(), ("X-Request-ID", sent)]
        )
    assert response.status_code == 200
    assert "X-Correlation-ID" not in response.headers
    assert uuid.UUID(response.headers["X-Request-ID"])
    [line] = lines
    assert line["correlation_id"] is None


def test_an_id_sent_twice_is_ignored(api: Api) -> None:
    twice = [*api.headers("admin").items(), ("X-Request-ID", "run-1"), ("X-Request-ID", "run-2")]
    response = api.client.get("/v1/mothers", headers=twice)
    assert response.status_code == 200 and "X-Correlation-ID" not in response.headers


def test_an_unexpected_error_still_answers_with_a_request_id_and_safe_headers(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_service, "write_pending", audit_fails)
    with failing_app(api) as client:
        response = client.get(
            "/v1/mothers", headers=api.headers("admin", **{"X-Request-ID": "run-7"})
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.headers["X-Request-ID"]) == 32
    assert response.headers["X-Correlation-ID"] == "run-7"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_access_logs_are_json_with_ids_and_no_query_string(api: Api) -> None:
    with access_lines() as lines:
        response = api.get("ewi_worker", "/v1/mothers", params={"q": "Siân O'Connor"})
    [line] = lines
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["path"] == "/v1/mothers" and line["status"] == 200
    assert line["role"] == "prison_social_worker" and uuid.UUID(line["client_id"])
    assert "Siân" not in json.dumps(line) and "q=" not in json.dumps(line)


def test_logged_errors_keep_their_stack_but_not_their_message() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter("{message}", style="{"))
    logger = logging.getLogger("tac_api.test")
    logger.addHandler(handler)
    prison_number = "A1234BC"
    try:
        raise ValueError(f"Key (prison_number)=({prison_number}) already exists")
    except ValueError:
        logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    logged = json.loads(stream.getvalue())
    assert "A1234BC" not in stream.getvalue()
    assert "builtins.ValueError (message withheld)" in logged["exc_info"]


def test_log_lines_are_written_as_the_json_logging_library_writes_them() -> None:
    """JsonLogFormatter does less work per line (the access log writes one per request): the
    lines must stay the library's, byte for byte."""

    class LibrarysOwn(JsonFormatter):
        formatException = JsonLogFormatter.formatException

    settings: dict[str, Any] = {
        "fmt": "{asctime}{levelname}{name}{message}",
        "style": "{",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        "datefmt": "%Y-%m-%dT%H:%M:%S%z",
    }
    logger = logging.getLogger("tac_api.access")
    extra = {
        "request_id": uuid.uuid4().hex,
        "correlation_id": None,
        "path": "/v1/mothers/Siân",
        "status": 200,
        "duration_ms": 1.25,
        "client_id": uuid.uuid4(),
        "when": datetime(2026, 12, 5, tzinfo=UTC),
    }
    failed = logger.makeRecord("tac_api", logging.ERROR, "f", 1, "failed %s", ("x",), None)
    try:
        raise ValueError("Key (prison_number)=(A1234BC) already exists")
    except ValueError:
        failed.exc_info = sys.exc_info()
    records = [
        logger.makeRecord("tac_api.access", logging.INFO, "f", 1, "request", (), None, extra=extra),
        logger.makeRecord("tac_api", logging.INFO, "f", 1, {"asked": "ñ", "n": 2}, (), None),
        failed,
    ]
    for options in ({}, {"static_fields": {"service": "tac-api"}}, {"json_indent": 2}):
        ours, librarys = JsonLogFormatter(**settings, **options), LibrarysOwn(**settings, **options)
        # The same second twice (the time is formatted once a second), then later ones.
        for later in (0.0, 0.5, 1.0, 3600.0):
            for record in records:
                record.created += later
                assert ours.format(record) == librarys.format(record)
