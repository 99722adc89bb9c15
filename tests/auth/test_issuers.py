"""More than one identity provider: the people's (TAC_OIDC_ISSUER) and HMPPS Auth, whose tokens
the estate's subject access service calls with. Each token is judged by the issuer its `iss`
names, against that issuer's keys, audience and claims alone."""

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from tac_api.auth import oidc
from tac_api.cli import app as cli
from tac_api.config import Settings, get_settings
from tac_api.main import create_app
from tests.support.api import Api
from tests.support.identity import (
    AUDIENCE,
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

HMPPS_ISSUER = "https://sign-in-dev.hmpps.service.justice.gov.uk/auth/issuer"
HMPPS_AUDIENCE = "oauth2-resource"
HMPPS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SAR_CLIENT = "hmpps-subject-access-request"
runner = CliRunner()


def hmpps_auth(jwks_url: str | None = None, jwks_file: Path | None = None, **fields: Any) -> Any:
    """HMPPS Auth as TAC_OIDC_ISSUERS names it: `authorities` mapped to roles, no scope claims."""
    return {
        "issuer": HMPPS_ISSUER,
        "audience": HMPPS_AUDIENCE,
        "jwks_url": jwks_url,
        "jwks_file": jwks_file,
        "algorithms": ["RS256"],
        "role_claim": "authorities",
        "roles": {"ROLE_SAR_DATA_ACCESS": "subject_access"},
        "prison_claim": None,
        "local_authority_claim": None,
        "max_lifetime_seconds": 1200,
        **fields,
    }


def hmpps_token(key: Any = HMPPS_KEY, kid: str = "hmpps-1", **claims: Any) -> str:
    """A client credentials token as HMPPS Auth issues one to the subject access service."""
    now = int(time.time())
    payload = {
        "sub": SAR_CLIENT,
        "client_id": SAR_CLIENT,
        "grant_type": "client_credentials",
        "auth_source": "none",
        "authorities": ["ROLE_SAR_DATA_ACCESS", "ROLE_SUBJECT_ACCESS_REQUEST"],
        "scope": ["read"],
        "iss": HMPPS_ISSUER,
        "aud": HMPPS_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 1200,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def jwks_files(tmp_path: Path) -> tuple[Path, Path]:
    people, hmpps = tmp_path / "people.json", tmp_path / "hmpps.json"
    people.write_text(json.dumps(jwks((RSA_KEY, "rsa-1"))))
    hmpps.write_text(json.dumps(jwks((HMPPS_KEY, "hmpps-1"))))
    return people, hmpps


@pytest.fixture
def two_issuers(api: Api, jwks_files: tuple[Path, Path]) -> Iterator[TestClient]:
    """The app trusting the people's provider (TAC_OIDC_*) and HMPPS Auth, keys from files."""
    people, hmpps = jwks_files
    settings = oidc_settings(
        api.database_url, oidc_jwks_file=people, oidc_issuers=[hmpps_auth(jwks_file=hmpps)]
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def command(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def sar(client: TestClient, token: str, prison_number: str) -> Any:
    return client.get(f"/subject-access-request?prn={prison_number}", headers=bearer(token))


class TestTwoIssuers:
    def test_the_subject_access_service_gets_her_content(
        self, api: Api, two_issuers: TestClient
    ) -> None:
        mother = api.mother()
        response = sar(two_issuers, hmpps_token(), mother["prison_number"])
        assert response.status_code == 200, response.text
        assert response.json()["content"]["subject"]["mother_id"] == mother["id"]
        # Who asked, in the audit trail: the client, by HMPPS Auth's issuer and its subject.
        client_id = uuid.uuid5(oidc.OIDC_CLIENT_NAMESPACE, f"{HMPPS_ISSUER}|{SAR_CLIENT}")
        trail = api.get("auditor", f"/v1/audit?client={client_id}").json()["items"]
        assert {(e["action"], e["role"], e["client_name"]) for e in trail} == {
            ("disclose", "subject_access", f"oidc:{SAR_CLIENT}")
        }

    def test_and_nothing_else(self, api: Api, two_issuers: TestClient) -> None:
        mother = api.mother()
        token = hmpps_token()
        for url in ("/v1/mothers", f"/v1/mothers/{mother['id']}", "/v1/reference/prisons"):
            response = two_issuers.get(url, headers=bearer(token))
            assert response.status_code == 403, (url, response.text)
        export = f"/v1/mothers/{mother['id']}/subject-access-export"
        assert two_issuers.get(export, headers=bearer(token)).status_code == 200

    def test_the_first_issuers_tokens_still_work(self, api: Api, two_issuers: TestClient) -> None:
        ewi = api.mother(prison_code="EWI")
        response = two_issuers.get("/v1/mothers", headers=bearer(sign()))
        assert response.status_code == 200, response.text
        assert [m["id"] for m in response.json()["items"]] == [ewi["id"]]
        # Its worker's token is not the subject access service's.
        assert sar(two_issuers, sign(), ewi["prison_number"]).status_code == 403

    @pytest.mark.parametrize(
        ("token", "reason"),
        [
            # One issuer's key, the other's name: verified against the named issuer's keys only.
            pytest.param(
                lambda: hmpps_token(key=RSA_KEY, kid="rsa-1"),
                "key the identity provider lacks",
                id="people-key-hmpps-iss",
            ),
            pytest.param(
                lambda: hmpps_token(key=RSA_KEY, kid="hmpps-1"),
                "signature does not verify",
                id="people-key-under-hmpps-kid",
            ),
            pytest.param(
                lambda: sign(key=HMPPS_KEY, kid="hmpps-1"),
                "key the identity provider lacks",
                id="hmpps-key-people-iss",
            ),
            pytest.param(
                lambda: sign(key=HMPPS_KEY, kid="rsa-1"),
                "signature does not verify",
                id="hmpps-key-under-people-kid",
            ),
            pytest.param(
                lambda: hmpps_token(iss="https://sign-in.example.test/auth/issuer"),
                "another issuer",
                id="unknown-issuer",
            ),
            pytest.param(lambda: hmpps_token(iss=None), "another issuer", id="no-issuer"),
            pytest.param(lambda: hmpps_token(key=FORGER_KEY), "does not verify", id="forged"),
            pytest.param(lambda: hmpps_token(aud=AUDIENCE), "audience", id="people-audience"),
            pytest.param(
                lambda: hmpps_token(authorities=["ROLE_PRISON", "ROLE_SAR_REPORTING"]),
                "unknown role",
                id="without-sar-data-access",
            ),
            # Role names are the people's provider's words: from HMPPS Auth, only its map counts.
            pytest.param(
                lambda: hmpps_token(authorities=["admin"]), "unknown role", id="a-tac-role-name"
            ),
            pytest.param(
                lambda: hmpps_token(exp=int(time.time()) + 1201),
                "1200 seconds",
                id="over-its-lifetime",
            ),
            pytest.param(lambda: hmpps_token(iat=None), "lacks the 'iat'", id="no-iat"),
        ],
    )
    def test_refused(self, api: Api, two_issuers: TestClient, token: Any, reason: str) -> None:
        mother = api.mother()
        made = token()
        assert_refused(sar(two_issuers, made, mother["prison_number"]), reason, made)

    def test_keys_from_a_jwks_url(self, api: Api, jwks_files: tuple[Path, Path]) -> None:
        people, _ = jwks_files
        mother = api.mother()
        with JwksServer(jwks((HMPPS_KEY, "hmpps-1"))) as server:
            settings = oidc_settings(
                api.database_url,
                oidc_jwks_file=people,
                oidc_issuers=[hmpps_auth(jwks_url=server.url)],
            )
            with TestClient(create_app(settings)) as client:
                assert sar(client, hmpps_token(), mother["prison_number"]).status_code == 200
                assert client.get("/v1/mothers", headers=bearer(sign())).status_code == 200
                forged = hmpps_token(key=RSA_KEY)
                assert_refused(sar(client, forged, mother["prison_number"]), "verify", forged)
            assert server.hits == 1  # the people's tokens fetch nothing from HMPPS Auth

    def test_hmpps_auth_alone(self, api: Api, jwks_files: tuple[Path, Path]) -> None:
        """TAC_OIDC_ISSUERS without TAC_OIDC_ISSUER: people sign in with API keys only."""
        _, hmpps = jwks_files
        mother = api.mother()
        settings = Settings(
            database_url=api.database_url, oidc_issuers=[hmpps_auth(jwks_file=hmpps)]
        )
        with TestClient(create_app(settings)) as client:
            assert sar(client, hmpps_token(), mother["prison_number"]).status_code == 200
            token = sign()
            assert_refused(client.get("/v1/mothers", headers=bearer(token)), "issuer", token)


class TestRevocationPerIssuer:
    def test_a_subject_is_revoked_at_its_own_issuer(
        self, api: Api, two_issuers: TestClient, command: pytest.MonkeyPatch
    ) -> None:
        mother = api.mother()
        subject = f"shared-{uuid.uuid4()}"  # the same `sub` at both: two different callers
        people = sign(sub=subject, tac_role="admin", tac_prison_code=None, issued_ago=60)
        now = int(time.time())
        hmpps = hmpps_token(sub=subject, iat=now - 60, exp=now + 600)
        assert sar(two_issuers, hmpps, mother["prison_number"]).status_code == 200

        result = runner.invoke(cli, ["oidc", "revoke", subject, "--issuer", HMPPS_ISSUER])
        assert result.exit_code == 0, result.output

        assert_refused(sar(two_issuers, hmpps, mother["prison_number"]), "revoked", hmpps)
        assert sar(two_issuers, people, mother["prison_number"]).status_code == 200

    def test_revoke_defaults_to_the_one_issuer_trusted(
        self, api: Api, command: pytest.MonkeyPatch, jwks_files: tuple[Path, Path]
    ) -> None:
        _, hmpps = jwks_files
        command.setenv("TAC_OIDC_ISSUERS", json.dumps([hmpps_auth(jwks_file=str(hmpps))]))
        get_settings.cache_clear()
        subject = f"client-{uuid.uuid4()}"
        result = runner.invoke(cli, ["oidc", "revoke", subject])
        assert result.exit_code == 0, result.output
        assert f"({HMPPS_ISSUER})" in result.output


class TestSettings:
    def test_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        hmpps = hmpps_auth(
            jwks_url="https://sign-in.hmpps.service.justice.gov.uk/auth/.well-known/jwks.json"
        )
        monkeypatch.setenv("TAC_OIDC_ISSUERS", json.dumps([hmpps]))
        (trusted,) = Settings().trusted_issuers()
        assert trusted.issuer == HMPPS_ISSUER
        assert trusted.roles == {"ROLE_SAR_DATA_ACCESS": "subject_access"}
        monkeypatch.setenv("TAC_OIDC_ISSUER", ISSUER)
        monkeypatch.setenv("TAC_OIDC_AUDIENCE", AUDIENCE)
        monkeypatch.setenv("TAC_OIDC_JWKS_URL", "https://login.example.test/jwks")
        assert [t.issuer for t in Settings().trusted_issuers()] == [ISSUER, HMPPS_ISSUER]

    @pytest.mark.parametrize(
        ("issuers", "message"),
        [
            ([hmpps_auth(jwks_url="https://a/jwks")] * 2, "trusted twice"),
            ([hmpps_auth(jwks_url="https://a/jwks", issuer=ISSUER)], "trusted twice"),
            ([hmpps_auth()], "exactly one of jwks_url, jwks_file"),
            ([hmpps_auth(jwks_url="https://a/jwks", jwks_file="j.json")], "exactly one"),
            ([hmpps_auth(jwks_url="http://sign-in.example.test/jwks")], "must be https"),
            ([hmpps_auth(jwks_url="https://a/jwks", algorithms=["HS256"])], "algorithms"),
            ([hmpps_auth(jwks_url="https://a/jwks", algorithms=[])], "algorithms"),
            ([hmpps_auth(jwks_url="https://a/jwks", roles={"ROLE_X": "superuser"})], "roles"),
            ([hmpps_auth(jwks_url="https://a/jwks", roles={})], "maps no claim value"),
            ([hmpps_auth(jwks_url="https://a/jwks", audience="")], "audience"),
            ([hmpps_auth(jwks_url="https://a/jwks", max_lifetime_seconds=10)], "max_lifetime"),
            ([hmpps_auth(jwks_url="https://a/jwks", role_mapping={})], "role_mapping"),
            ("not a list", "oidc_issuers"),
        ],
    )
    def test_incomplete_or_unsafe_issuers_are_refused(self, issuers: Any, message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            oidc_settings("sqlite://", oidc_jwks_file="j.json", oidc_issuers=issuers)

    def test_a_list_that_is_not_json_is_refused(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TAC_OIDC_ISSUERS", "[{issuer: nope")
        with pytest.raises(Exception, match="oidc_issuers"):
            Settings()
