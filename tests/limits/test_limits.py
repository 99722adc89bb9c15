"""Rate limits shared through the database, CORS off unless configured, security headers."""

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client, revoke_client
from tac_api.config import Settings
from tac_api.main import create_app
from tests.support.api import Api
from tests.support.bodies import HERE, mother_body


@contextmanager
def api_process(database_url: str, **settings: Any) -> Iterator[TestClient]:
    """Another API process on the same database, as a load balancer would put beside the first."""
    app = create_app(Settings(database_url=database_url, **settings))
    with TestClient(app) as client:
        yield client


def new_token(client: TestClient, role: Role = Role.prison_social_worker) -> str:
    async def make() -> str:
        async with client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            _, token = await create_client(
                session,
                name=f"limits-{uuid.uuid4().hex[:8]}",
                role=role,
                prison_code="EWI" if role is Role.prison_social_worker else None,
            )
            return token

    return client.portal.call(make)  # type: ignore[union-attr]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_limit_holds_across_processes_sharing_the_database(api: Api) -> None:
    with (
        api_process(api.database_url, rate_limit_per_minute=3) as first,
        api_process(api.database_url, rate_limit_per_minute=3) as second,
    ):
        token = new_token(first)
        assert first.get("/v1/mothers", headers=bearer(token)).status_code == 200
        assert second.get("/v1/mothers", headers=bearer(token)).status_code == 200
        assert first.get("/v1/mothers", headers=bearer(token)).status_code == 200
        refused = second.post("/v1/mothers", headers=bearer(token), json=mother_body())
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("rate-limited")
    # Three requests used a minute's allowance; the next slot opens 20 s (60 s / 3) later.
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert api.sql("SELECT count(*) FROM mother")[0][0] == 0  # the refused write wrote nothing


def test_each_client_has_its_own_allowance(api: Api) -> None:
    with api_process(api.database_url, rate_limit_per_minute=2) as process:
        busy, quiet = new_token(process), new_token(process)
        for _ in range(2):
            assert process.get("/v1/mothers", headers=bearer(busy)).status_code == 200
        assert process.get("/v1/mothers", headers=bearer(busy)).status_code == 429
        assert process.get("/v1/mothers", headers=bearer(quiet)).status_code == 200


def test_refused_requests_are_not_written_to_the_audit_trail(api: Api) -> None:
    with api_process(api.database_url, rate_limit_per_minute=1) as process:
        token = new_token(process)
        process.get("/v1/mothers", headers=bearer(token))
        refused = process.get("/v1/mothers", headers=bearer(token))
    assert refused.status_code == 429
    request_id = refused.headers["X-Request-ID"]
    assert api.sql("SELECT count(*) FROM audit_event WHERE request_id = :r", r=request_id) == [(0,)]


def test_zero_turns_limits_off(api: Api) -> None:
    with api_process(api.database_url, rate_limit_per_minute=0) as process:
        token = new_token(process)
        statuses = {process.get("/v1/mothers", headers=bearer(token)).status_code for _ in range(5)}
    assert statuses == {200}


PREFLIGHT = {
    "Origin": "https://casework.example.gov.uk",
    "Access-Control-Request-Method": "GET",
    "Access-Control-Request-Headers": "Authorization",
}


def test_cors_is_off_unless_configured(api: Api) -> None:
    preflight = api.client.options("/v1/mothers", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    read = api.client.get(
        "/v1/mothers", headers={**api.headers("admin"), "Origin": "https://x.example"}
    )
    assert "access-control-allow-origin" not in read.headers


def test_cors_admits_only_the_configured_origins(api: Api) -> None:
    origin = PREFLIGHT["Origin"]
    with api_process(api.database_url, cors_origins=[origin]) as process:
        allowed = process.options("/v1/mothers", headers=PREFLIGHT)
        other = process.options(
            "/v1/mothers", headers={**PREFLIGHT, "Origin": "https://elsewhere.example"}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in other.headers


def test_security_headers_on_answers_and_on_problems(api: Api) -> None:
    for response in (
        api.get("admin", "/v1/mothers"),
        api.get("admin", f"/v1/mothers/{uuid.uuid4()}"),
        api.client.get("/v1/mothers"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_no_request_holds_two_connections(api: Api) -> None:
    """With a pool of one connection, every kind of request still gets through: a write counts
    its rate limit before taking its own connection, and a failure is recorded after giving
    its connection back (holding one while waiting for another deadlocks a full pool)."""
    with api_process(
        api.database_url,
        rate_limit_per_minute=1_000,
        database_pool_size=1,
        database_max_overflow=0,
        database_pool_timeout=3,
    ) as process:
        token = new_token(process)
        created = process.post("/v1/mothers", headers=bearer(token), json=mother_body())
        assert created.status_code == 201, created.text
        assert process.get("/v1/mothers", headers=bearer(token)).status_code == 200
        missing = process.get(f"/v1/mothers/{uuid.uuid4()}", headers=bearer(token))
        assert missing.status_code == 404
        invalid = process.post("/v1/mothers", headers=bearer(token), json={"first_name": ""})
        assert invalid.status_code == 422
    outcomes = api.sql(
        "SELECT outcome FROM audit_event WHERE request_id IN (:a, :b)",
        a=missing.headers["X-Request-ID"],
        b=invalid.headers["X-Request-ID"],
    )
    assert sorted(row[0] for row in outcomes) == ["invalid", "not_found"]


def test_every_operation_that_can_answer_429_documents_it(api: Api) -> None:
    """Each operation of the committed contract, called with an allowance already used up:
    the ones that answer 429 are exactly the ones that document it (with Retry-After), so a
    generated client or a fuzzer reads it as the contract, not as an error."""
    contract = json.loads((HERE.parent / "openapi" / "openapi.json").read_text())
    with api_process(api.database_url, rate_limit_per_minute=1) as process:
        token = new_token(process, Role.admin)
        assert process.get("/v1/reference/prisons", headers=bearer(token)).status_code == 200
        answered, documented, every = set(), set(), set()
        for path, item in contract["paths"].items():
            url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            for method, operation in item.items():
                every.add(f"{method.upper()} {path}")
                response = process.request(method.upper(), url, headers=bearer(token))
                if response.status_code == 429:
                    answered.add(f"{method.upper()} {path}")
                limited = operation["responses"].get("429")
                if limited is not None:
                    documented.add(f"{method.upper()} {path}")
                    assert "Retry-After" in limited["headers"]
                    assert "application/problem+json" in limited["content"]
    assert answered == documented
    # Every operation but the health checks, which a load balancer calls without a token.
    # The probes: no token, no rate limit.
    assert every - answered == {
        "GET /health",
        "GET /health/ready",
        "GET /health/liveness",
        "GET /health/readiness",
        "GET /info",
    }


def revoke(client: TestClient, name: str) -> None:
    async def run() -> None:
        async with client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            await revoke_client(session, name)

    client.portal.call(run)  # type: ignore[union-attr]


def named_token(client: TestClient, name: str) -> str:
    async def make() -> str:
        async with client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            _, token = await create_client(
                session, name=name, role=Role.prison_social_worker, prison_code="EWI"
            )
            return token

    return client.portal.call(make)  # type: ignore[union-attr]


def test_a_revoked_client_is_refused_on_its_very_next_request(api: Api) -> None:
    """Admission (the token and the rate limit in one statement on PostgreSQL) caches no one."""
    with api_process(api.database_url, rate_limit_per_minute=100) as process:
        name = f"revoked-{uuid.uuid4().hex[:8]}"
        token = named_token(process, name)
        mother = process.post("/v1/mothers", headers=bearer(token), json=mother_body()).json()
        assert process.get(f"/v1/mothers/{mother['id']}", headers=bearer(token)).status_code == 200
        revoke(process, name)
        after = process.get(f"/v1/mothers/{mother['id']}", headers=bearer(token))
    assert after.status_code == 401
    assert api.sql(
        "SELECT count(*) FROM audit_event WHERE request_id = :r", r=after.headers["X-Request-ID"]
    ) == [(0,)]


def test_forbidden_attempts_count_and_unknown_tokens_count_nothing(api: Api) -> None:
    with api_process(api.database_url, rate_limit_per_minute=2) as process:
        auditor = new_token(process, Role.auditor)
        states = api.sql("SELECT count(*) FROM rate_limit_state")[0][0]
        for _ in range(3):
            unknown = process.get("/v1/mothers", headers=bearer("tac_no-such-token"))
            assert unknown.status_code == 401
        assert api.sql("SELECT count(*) FROM rate_limit_state")[0][0] == states
        statuses = [
            process.get(f"/v1/mothers/{uuid.uuid4()}", headers=bearer(auditor)).status_code
            for _ in range(3)
        ]
    assert statuses == [403, 403, 429]


def test_a_read_over_the_limit_is_refused_unread_and_unaudited(api: Api) -> None:
    with api_process(api.database_url, rate_limit_per_minute=1) as process:
        token = new_token(process)
        mother = api.mother(prison_code="EWI")
        first = process.get(f"/v1/mothers/{mother['id']}", headers=bearer(token))
        refused = process.get(f"/v1/mothers/{mother['id']}", headers=bearer(token))
    assert first.status_code == 200 and refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert mother["last_name"] not in refused.text
    assert api.sql(
        "SELECT count(*) FROM audit_event WHERE request_id = :r", r=refused.headers["X-Request-ID"]
    ) == [(0,)]
