"""Identity: identity provider tokens (OIDC JWTs) beside API keys, expiry and revocation.

The tests are their own identity provider: they make keys, publish them as a JWKS (a file, or a
real HTTP server on 127.0.0.1) and sign their own tokens.
"""

import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tac_api.auth import oidc
from tac_api.auth.schemas import Role
from tac_api.auth.service import create_client, revoke_client
from tac_api.cli import app as cli
from tac_api.config import Settings, get_settings
from tac_api.main import create_app
from tests.support.api import Api
from tests.support.bodies import mother_body
from tests.support.identity import (
    AUDIENCE,
    EC_KEY,
    FORGER_KEY,
    ISSUER,
    RSA_KEY,
    JwksServer,
    assert_refused,
    bearer,
    jwks,
    oidc_settings,
    sign,
)

runner = CliRunner()


@pytest.fixture
def idp(api: Api, tmp_path: Path) -> Iterator[TestClient]:
    """The app, trusting keys rsa-1 and ec-1 from a JWKS file (on the same database as `api`,
    whose admin token records the mothers and whose teardown empties the case tables)."""
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks((RSA_KEY, "rsa-1"), (EC_KEY, "ec-1"))))
    settings = oidc_settings(api.database_url, oidc_jwks_file=jwks_file)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def command(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The tac-api command, pointed at the test's database."""
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


class TestIdentityProviderTokens:
    @pytest.mark.parametrize(
        ("key", "kid", "algorithm"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")]
    )
    def test_a_prison_social_worker_sees_her_prison_only(
        self, api: Api, idp: TestClient, key: Any, kid: str, algorithm: str
    ) -> None:
        ewi = api.mother(prison_code="EWI")
        api.mother(prison_code="SDI")
        token = sign(key, kid, algorithm)
        response = idp.get("/v1/mothers", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert [m["id"] for m in response.json()["items"]] == [ewi["id"]]
        # Her scope binds writes too.
        body = {**mother_body(), "prison_code": "SDI"}
        assert idp.post("/v1/mothers", json=body, headers=bearer(token)).status_code == 422

    def test_the_same_person_is_the_same_client_in_the_audit_trail(
        self, api: Api, idp: TestClient
    ) -> None:
        api.mother(prison_code="EWI")
        subject = f"person-{uuid.uuid4()}"
        for issued_ago in (120, 0):  # two tokens, one person
            token = sign(sub=subject, issued_ago=issued_ago)
            assert idp.get("/v1/mothers", headers=bearer(token)).status_code == 200
        client_id = uuid.uuid5(oidc.OIDC_CLIENT_NAMESPACE, f"{ISSUER}|{subject}")
        events = api.get("auditor", f"/v1/audit?client={client_id}").json()["items"]
        assert len(events) == 2
        assert {e["client_name"] for e in events} == {f"oidc:{subject}"}

    def test_an_admin_token_records_mothers_in_any_prison(self, idp: TestClient) -> None:
        token = sign(tac_role="admin", tac_prison_code=None)
        for prison in ("EWI", "SDI"):
            body = {**mother_body(), "prison_code": prison}
            assert idp.post("/v1/mothers", json=body, headers=bearer(token)).status_code == 201
        assert len(idp.get("/v1/mothers", headers=bearer(token)).json()["items"]) == 2

    def test_a_role_may_come_in_a_list_of_groups(self, idp: TestClient) -> None:
        token = sign(tac_role=["staff", "prison_social_worker"])
        assert idp.get("/v1/mothers", headers=bearer(token)).status_code == 200

    def test_a_little_clock_skew_is_allowed(self, idp: TestClient) -> None:
        token = sign(issued_ago=600, expires_in=-10)  # within the 30 s leeway
        assert idp.get("/v1/mothers", headers=bearer(token)).status_code == 200

    @pytest.mark.parametrize(
        ("how", "reason"),
        [
            pytest.param({"issued_ago": 600, "expires_in": -60}, "expired", id="expired"),
            pytest.param({"aud": "another-service"}, "audience", id="wrong-audience"),
            pytest.param({"iss": "https://idp.example.test"}, "another issuer", id="wrong-issuer"),
            pytest.param({"key": FORGER_KEY}, "signature does not verify", id="wrong-signature"),
            pytest.param(
                {"key": EC_KEY, "algorithm": "ES256"}, "does not match", id="key-of-other-type"
            ),
            pytest.param({"key": None, "algorithm": "none"}, "only tokens signed", id="alg-none"),
            pytest.param(
                {"key": "a shared secret, 32 bytes or more", "algorithm": "HS256"},
                "only tokens signed",
                id="hs256",
            ),
            pytest.param({"kid": "rsa-9"}, "key the identity provider lacks", id="unknown-kid"),
            pytest.param({"exp": None}, "lacks the 'exp' claim", id="no-expiry"),
            pytest.param({"tac_role": "superuser"}, "unknown role", id="unknown-role"),
            pytest.param({"tac_role": None}, "unknown role", id="no-role"),
            pytest.param({"tac_role": ["admin", "auditor"]}, "more than one", id="two-roles"),
            pytest.param({"tac_prison_code": None}, "exactly one prison", id="no-prison"),
            pytest.param(
                {"tac_local_authority_code": "801"}, "exactly one prison", id="prison-and-la"
            ),
            pytest.param(
                {"tac_role": "la_system", "tac_prison_code": None},
                "exactly one local authority",
                id="la-without-authority",
            ),
            pytest.param(
                {"tac_role": "la_system", "tac_prison_code": None, "tac_local_authority_code": "8"},
                "not a valid code",
                id="bad-authority-code",
            ),
            pytest.param({"tac_role": "auditor"}, "no prison or local", id="scoped-auditor"),
            pytest.param(
                {"tac_prison_code": "ZZZ"},
                "prison code this service does not know",
                id="unknown-prison",
            ),
            pytest.param(
                {
                    "tac_role": "la_system",
                    "tac_prison_code": None,
                    "tac_local_authority_code": "999",
                },
                "local authority code this service does not know",
                id="unknown-authority",
            ),
            pytest.param({"expires_in": 5401}, "lives longer", id="lifetime-over-the-maximum"),
            pytest.param(
                {"issued_ago": 3000, "expires_in": 2401},
                "lives longer",
                id="lifetime-issued-earlier",
            ),
        ],
    )
    def test_refused(self, api: Api, idp: TestClient, how: dict[str, Any], reason: str) -> None:
        api.mother(prison_code="EWI")
        token = sign(**how)
        assert_refused(idp.get("/v1/mothers", headers=bearer(token)), reason, token)

    def test_a_token_living_the_longest_allowed_is_accepted(self, idp: TestClient) -> None:
        """90 minutes, the longest Entra ID issues, is the default maximum."""
        assert idp.get("/v1/mothers", headers=bearer(sign(expires_in=5400))).status_code == 200

    def test_the_maximum_lifetime_is_a_setting(self, api: Api, tmp_path: Path) -> None:
        jwks_file = tmp_path / "jwks.json"
        jwks_file.write_text(json.dumps(jwks((RSA_KEY, "rsa-1"))))
        settings = oidc_settings(
            api.database_url, oidc_jwks_file=jwks_file, oidc_max_lifetime_seconds=600
        )
        with TestClient(create_app(settings)) as client:
            assert (
                client.get("/v1/mothers", headers=bearer(sign(expires_in=600))).status_code == 200
            )
            token = sign(expires_in=601)
            assert_refused(client.get("/v1/mothers", headers=bearer(token)), "600 seconds", token)

    def test_an_unknown_authority_is_refused_on_writes_too_never_a_500(
        self, api: Api, idp: TestClient
    ) -> None:
        mother = api.mother(prison_code="EWI")
        token = sign(
            tac_role="la_practitioner", tac_prison_code=None, tac_local_authority_code="998"
        )
        for response in (
            idp.get("/v1/mothers", headers=bearer(token)),
            idp.get(f"/v1/mothers/{mother['id']}/family", headers=bearer(token)),
            idp.patch(f"/v1/mothers/{mother['id']}", json={}, headers=bearer(token)),
        ):
            assert_refused(response, "does not know", token)

    def test_a_prison_added_to_the_reference_data_is_accepted_at_once(
        self, api: Api, idp: TestClient
    ) -> None:
        """Known codes are kept, unknown ones asked again: a prison added since (by a migration,
        seen by every process) needs no restart."""
        token = sign(tac_prison_code="NEW1")
        assert_refused(idp.get("/v1/mothers", headers=bearer(token)), "does not know", token)
        api.sql("INSERT INTO prison (code, name) VALUES ('NEW1', 'HMP New')")
        try:
            assert idp.get("/v1/mothers", headers=bearer(token)).status_code == 200
        finally:
            api.sql("DELETE FROM prison WHERE code = 'NEW1'")

    def test_refused_while_oidc_is_not_configured(self, api: Api) -> None:
        token = sign()
        response = api.client.get("/v1/mothers", headers=bearer(token))
        assert_refused(response, "API keys only", token)


class TestRevocation:
    def test_revoking_a_person_refuses_her_earlier_tokens_at_once(
        self, api: Api, idp: TestClient, command: None
    ) -> None:
        subject, colleague = f"person-{uuid.uuid4()}", f"person-{uuid.uuid4()}"
        earlier = sign(sub=subject, issued_ago=60)
        colleagues = sign(sub=colleague, issued_ago=60)
        assert idp.get("/v1/mothers", headers=bearer(earlier)).status_code == 200

        output = invoke("oidc", "revoke", subject, "--issuer", ISSUER)
        assert f"revoked {subject}" in output
        assert f"{ISSUER}\t{subject}\t" in invoke("oidc", "list-revoked")

        assert_refused(idp.get("/v1/mothers", headers=bearer(earlier)), "revoked", earlier)
        assert idp.get("/v1/mothers", headers=bearer(colleagues)).status_code == 200
        # A token the provider issues after the revocation is the provider's decision.
        later = sign(sub=subject, issued_ago=-1)  # the next second
        assert idp.get("/v1/mothers", headers=bearer(later)).status_code == 200

    def test_revoke_needs_an_issuer(self, command: None) -> None:
        result = runner.invoke(cli, ["oidc", "revoke", "someone"])
        assert result.exit_code == 2 and "TAC_OIDC_ISSUER" in result.output

    def test_an_api_key_stops_working_on_the_next_request(self, api: Api) -> None:
        name, token = new_client(api)
        assert api.client.get("/v1/mothers", headers=bearer(token)).status_code == 200

        async def revoke() -> None:
            async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
                await revoke_client(session, name)

        api.client.portal.call(revoke)  # type: ignore[union-attr]
        assert_refused(api.client.get("/v1/mothers", headers=bearer(token)), "revoked", token)


class TestApiKeyExpiry:
    def test_an_expired_key_is_refused(self, api: Api) -> None:
        _, token = new_client(api, expires_at=datetime.now(UTC) - timedelta(seconds=1))
        assert_refused(api.client.get("/v1/mothers", headers=bearer(token)), "expired", token)

    def test_a_key_works_until_it_expires(self, api: Api) -> None:
        _, token = new_client(api, expires_at=datetime.now(UTC) + timedelta(minutes=5))
        assert api.client.get("/v1/mothers", headers=bearer(token)).status_code == 200

    def test_clients_create_sets_the_expiry(self, api: Api, command: None) -> None:
        names = {days: f"cli-{uuid.uuid4().hex[:8]}" for days in (None, "30", "0")}
        tokens = {}
        for days, name in names.items():
            args = ["clients", "create", "--name", name, "--role", "la_practitioner", "--la", "801"]
            output = invoke(*args, *(["--expires-in-days", days] if days else []))
            tokens[days] = output.strip().splitlines()[-1]
        expired, _ = new_client(api, expires_at=datetime.now(UTC) - timedelta(days=1))
        rows = [line.split("\t") for line in invoke("clients", "list").splitlines()]
        assert rows[0] == ["name", "role", "scope", "state", "created_at", "expires_at"]
        expiry = {row[0]: row[-1] for row in rows}
        state = {row[0]: row[3] for row in rows}

        today = datetime.now(UTC)
        assert expiry[names[None]][:10] == (today + timedelta(days=365)).date().isoformat()
        assert expiry[names["30"]][:10] == (today + timedelta(days=30)).date().isoformat()
        assert expiry[names["0"]] == "never"
        assert {state[name] for name in names.values()} == {"active"}
        assert state[expired] == "expired"
        for token in tokens.values():
            assert api.client.get("/v1/mothers", headers=bearer(token)).status_code == 200


class TestJwksUrl:
    def test_keys_are_cached_and_a_rotated_key_is_fetched(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clock = FakeClock()
        monkeypatch.setattr(oidc, "monotonic", clock)
        with JwksServer(jwks((RSA_KEY, "rsa-1"))) as server, oidc_app(api, server.url) as client:

            def status(kid: str, key: Any = RSA_KEY) -> int:
                return client.get("/v1/mothers", headers=bearer(sign(key, kid))).status_code

            assert status("rsa-1") == 200 and server.hits == 1
            assert status("rsa-1") == 200 and server.hits == 1  # cached

            server.document = jwks((RSA_KEY, "rsa-1"), (FORGER_KEY, "rsa-2"))  # rotation
            assert status("rsa-2", FORGER_KEY) == 401 and server.hits == 1  # fetched too lately
            clock.now += 61
            assert status("rsa-2", FORGER_KEY) == 200 and server.hits == 2  # an unknown kid
            assert status("rsa-3") == 401 and server.hits == 2  # at most once a minute

            server.document, server.status = jwks((FORGER_KEY, "rsa-2")), 500
            clock.now += 600
            assert status("rsa-1") == 200 and server.hits == 3  # provider down: keys kept
            server.status = 200
            clock.now += 61
            assert status("rsa-1") == 401 and server.hits == 4  # cache expired: rsa-1 retired

    def test_an_unreachable_provider_is_our_failure_not_the_token(self, api: Api) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with oidc_app(api, f"http://127.0.0.1:{port}/jwks") as client:
            response = client.get("/v1/mothers", headers=bearer(sign()))
        assert response.status_code == 503
        assert "signing keys" in response.json()["detail"]


class TestSettings:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"oidc_audience": None, "oidc_jwks_file": "jwks.json"}, "TAC_OIDC_AUDIENCE"),
            ({}, "exactly one"),
            ({"oidc_jwks_file": "j.json", "oidc_jwks_url": "https://idp/jwks"}, "exactly one"),
            ({"oidc_jwks_url": "http://idp.example.test/jwks"}, "must be https"),
            ({"oidc_jwks_file": "j.json", "oidc_algorithms": "RS256,HS256"}, "ALGORITHMS"),
            ({"oidc_jwks_file": "j.json", "oidc_algorithms": "none"}, "ALGORITHMS"),
        ],
    )
    def test_incomplete_or_unsafe_settings_are_refused(
        self, fields: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            oidc_settings("sqlite://", **fields)

    def test_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TAC_OIDC_ISSUER", ISSUER)
        monkeypatch.setenv("TAC_OIDC_AUDIENCE", AUDIENCE)
        monkeypatch.setenv("TAC_OIDC_JWKS_URL", "https://login.example.test/jwks")
        monkeypatch.setenv("TAC_OIDC_ALGORITHMS", "ES256, PS256")
        assert Settings().oidc_algorithms == ["ES256", "PS256"]
        monkeypatch.delenv("TAC_OIDC_ISSUER")
        with pytest.raises(ValueError, match="need TAC_OIDC_ISSUER"):
            Settings()  # half a configuration is refused, not silently off


# Helpers


def new_client(api: Api, expires_at: datetime | None = None) -> tuple[str, str]:
    """A prison social worker's API key, straight through the service."""
    name = f"identity-{uuid.uuid4().hex[:8]}"

    async def make() -> str:
        async with api.client.app.state.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            _, token = await create_client(
                session,
                name=name,
                role=Role.prison_social_worker,
                prison_code="EWI",
                expires_at=expires_at,
            )
        return token

    return name, api.client.portal.call(make)  # type: ignore[union-attr]


def invoke(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@dataclass
class FakeClock:
    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


def oidc_app(api: Api, jwks_url: str) -> TestClient:
    return TestClient(create_app(oidc_settings(api.database_url, oidc_jwks_url=jwks_url)))
