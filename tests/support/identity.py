"""The tests' own identity provider: keys, their JWKS (a file, or served over HTTP on
127.0.0.1), and tokens signed with them (moved here from tests/auth/test_identity.py, so that the
subject access service's tests sign theirs the same way)."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tac_api.config import Settings

ISSUER = "https://login.example.test/realms/tac"
AUDIENCE = "tac-api"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
# Someone else's key, published nowhere: what a forger would sign with.
FORGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: Any, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


def jwks(*keys: tuple[Any, str]) -> dict[str, Any]:
    return {"keys": [public_jwk(key, kid) for key, kid in keys]}


def sign(
    key: Any = RSA_KEY,
    kid: str = "rsa-1",
    algorithm: str = "RS256",
    issued_ago: int = 0,
    expires_in: int = 300,
    **claims: Any,
) -> str:
    """A token for an EWI prison social worker, issued now and valid for five minutes, unless
    told otherwise (a claim given as None is left out)."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "sw-ewi-1",
        "iat": now - issued_ago,
        "exp": now + expires_in,
        "tac_role": "prison_social_worker",
        "tac_prison_code": "EWI",
    }
    payload.update(claims)
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": kid})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def oidc_settings(database_url: str, **fields: Any) -> Settings:
    return Settings(
        **{"database_url": database_url, "oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, **fields}
    )


def assert_refused(response: Any, reason: str, token: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert reason.lower() in response.json()["detail"].lower()
    assert all(part not in response.text for part in token.split(".") if part)


@dataclass
class JwksServer:
    """An identity provider's JWKS endpoint on 127.0.0.1, counting its fetches."""

    document: dict[str, Any]
    status: int = 200
    hits: int = 0
    server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def __enter__(self) -> "JwksServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps(owner.document).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
