"""Bearer tokens from an identity provider (OIDC JWTs): signature, expiry, issuer, audience, and
the claims that give the caller a role and a scope. Revocation is checked in `service`."""

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from time import monotonic
from typing import Any, NamedTuple

import httpx
import jwt
from starlette.datastructures import State

from tac_api.auth.schemas import LOCAL_AUTHORITY_ROLES, PRISON_ROLES, Caller, Role
from tac_api.config import OidcIssuer, Settings
from tac_api.errors import Problem, Unauthenticated

log = logging.getLogger("tac_api")

# client_id = uuid5(this, "issuer|subject"): the same person keeps the same id in the audit trail
# and the rate limits, token after token. Never change it.
OIDC_CLIENT_NAMESPACE = uuid.UUID("1d895a1c-e5b1-4e5a-9813-23f33ebe4c7e")
# A key id the cached key set does not know makes us fetch it again, at most this often: a new
# key appears when the provider rotates, but tokens with made-up key ids must not flood it.
JWKS_REFETCH_SECONDS = 60.0
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
MAX_CLAIM_LENGTH = 200  # revoked_subject's issuer and subject columns
PRISON_CODE = re.compile(r"[A-Z0-9]{2,8}")
LOCAL_AUTHORITY_CODE = re.compile(r"[0-9]{3}")
ROLE_NAMES = frozenset(role.value for role in Role)


class VerifiedToken(NamedTuple):
    caller: Caller
    issuer: str  # whose token it is: a subject is revoked at one issuer
    subject: str
    issued_at: datetime


class KeysUnavailable(Problem):
    """The provider's keys cannot be had: our side's trouble, not a bad token."""

    status = 503


def looks_like_jwt(token: str) -> bool:
    """header.payload.signature; API keys (`tac_` + base64url) never hold a dot."""
    return token.count(".") == 2


def _signing_keys(document: Any) -> dict[str, jwt.PyJWK]:
    """The signature keys of a JWKS document, by key id. Keys PyJWT cannot use are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document (no 'keys' list)")
    usable = [k for k in document["keys"] if isinstance(k, dict) and k.get("use", "sig") == "sig"]
    key_set = jwt.PyJWKSet(usable)  # raises when none is usable
    return {key.key_id: key for key in key_set if key.key_id}


class JwksFile:
    """Keys from a file, read once."""

    def __init__(self, path: Path) -> None:
        self.keys = _signing_keys(json.loads(path.read_text()))

    async def key(self, kid: str) -> jwt.PyJWK | None:
        return self.keys.get(kid)


class JwksUrl:
    """Keys fetched from the provider, kept for `cache_seconds`, fetched again early (at most once
    a minute) for a key id not seen yet: that is how a rotated key arrives."""

    def __init__(self, url: str, cache_seconds: float) -> None:
        self.url = url
        self.cache_seconds = cache_seconds
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at: float | None = None
        self.attempted_at: float | None = None
        self._lock = asyncio.Lock()

    def _may_fetch(self, kid: str) -> bool:
        now = monotonic()
        if self.attempted_at is not None and now - self.attempted_at < JWKS_REFETCH_SECONDS:
            return False  # tried a moment ago, whether or not it worked
        stale = self.fetched_at is None or now - self.fetched_at >= self.cache_seconds
        return stale or kid not in self.keys

    async def key(self, kid: str) -> jwt.PyJWK | None:
        if self._may_fetch(kid):
            async with self._lock:
                if self._may_fetch(kid):  # unless a request that held the lock just did
                    await self._fetch()
        if self.fetched_at is None:  # never fetched: no key to judge any token by
            raise KeysUnavailable("The identity provider's signing keys cannot be fetched now.")
        return self.keys.get(kid)

    async def _fetch(self) -> None:
        self.attempted_at = monotonic()
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.url, headers={"Accept": "application/json"})
                response.raise_for_status()
                keys = _signing_keys(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            # Keep the keys we have: an unreachable provider must not sign everyone out at once.
            log.warning("could not fetch the OIDC JWKS from %s: %s", self.url, exc)
            return
        self.keys, self.fetched_at = keys, monotonic()


class TrustedIssuer:
    """One identity provider's tokens: checked against its keys, issuer and audience, and their
    claims turned into a Caller as its settings say."""

    def __init__(self, settings: OidcIssuer) -> None:
        self.settings = settings
        self.issuer = settings.issuer
        self.audience = settings.audience
        self.algorithms = list(settings.algorithms)
        if settings.jwks_file is not None:
            self.source: JwksFile | JwksUrl = JwksFile(settings.jwks_file)
        else:
            assert settings.jwks_url
            self.source = JwksUrl(settings.jwks_url, settings.jwks_cache_seconds)

    async def verify(self, token: str, header: Mapping[str, Any]) -> VerifiedToken:
        # Checked before any key is looked up: an `alg: none` or HS256 token fetches nothing.
        if header.get("alg") not in self.algorithms:
            raise Unauthenticated(
                f"Only tokens signed with {', '.join(self.algorithms)} are accepted."
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("This token names no signing key ('kid').")
        key = await self.source.key(kid)
        if key is None:
            raise Unauthenticated("This token is signed with a key the identity provider lacks.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": REQUIRED_CLAIMS, "enforce_minimum_key_length": True},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(_why_invalid(exc)) from None
        # PyJWT has checked both are numbers.
        if claims["exp"] - claims["iat"] > self.settings.max_lifetime_seconds:
            raise Unauthenticated(
                "This token lives longer (exp - iat) than the "
                f"{self.settings.max_lifetime_seconds} seconds this service accepts."
            )
        issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
        return VerifiedToken(self.caller_from(claims), self.issuer, claims["sub"], issued_at)

    def caller_from(self, claims: Mapping[str, Any]) -> Caller:
        settings = self.settings
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject or len(subject) > MAX_CLAIM_LENGTH:
            # Longer subjects could not be revoked (see RevokedSubject), so they are not let in.
            raise Unauthenticated(f"The token's 'sub' must be 1 to {MAX_CLAIM_LENGTH} characters.")
        role = _role(claims.get(settings.role_claim), settings.role_claim, settings.roles)
        prison = _code(claims, settings.prison_claim, PRISON_CODE)
        authority = _code(claims, settings.local_authority_claim, LOCAL_AUTHORITY_CODE)
        if role in PRISON_ROLES:
            if prison is None or authority is not None:
                raise Unauthenticated(
                    f"A {role} token must name exactly one prison ('{settings.prison_claim}')."
                )
        elif role in LOCAL_AUTHORITY_ROLES:
            if authority is None or prison is not None:
                raise Unauthenticated(
                    f"A {role} token must name exactly one local authority "
                    f"('{settings.local_authority_claim}')."
                )
        elif prison is not None or authority is not None:
            raise Unauthenticated(f"An {role} token has no prison or local authority scope.")
        return Caller(
            client_id=uuid.uuid5(OIDC_CLIENT_NAMESPACE, f"{self.issuer}|{subject}"),
            name=f"oidc:{subject}"[:200],
            role=role,
            prison_code=prison,
            local_authority_code=authority,
        )


class OidcVerifier:
    """Checks identity providers' tokens: each by the one issuer its `iss` names, against that
    issuer's keys and audience alone (a token signed by one claiming to be another's fails)."""

    def __init__(self, settings: Settings) -> None:
        self.issuers = {
            trusted.issuer: TrustedIssuer(trusted) for trusted in settings.trusted_issuers()
        }
        assert self.issuers
        # (kind, code) of the prisons and local authorities tokens named that the reference data
        # holds: a few hundred at most, and a code is never removed, so a hit needs no query.
        # A miss asks the database, so a code added since (by another process) is accepted.
        self.known_scopes: set[tuple[str, str]] = set()

    async def verify(self, token: str) -> VerifiedToken:
        """The caller a valid token speaks for, whose it is and when it was issued; else 401."""
        try:
            header = jwt.get_unverified_header(token)
            # Unverified: only to know whose keys to verify it with (which then check `iss`).
            claimed = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            raise Unauthenticated("This token is not a well-formed JWT.") from None
        trusted = self.issuers.get(claimed) if isinstance(claimed, str) else None
        if trusted is None:
            raise Unauthenticated("This token comes from another issuer, one not trusted here.")
        return await trusted.verify(token, header)


def _role(value: Any, claim: str, mapping: Mapping[str, Role] | None) -> Role:
    """A role name, or a list (a provider's groups) holding exactly one role name; with a
    `mapping`, the claim's values it names are roles, and no others."""
    values = value if isinstance(value, list) else [value]
    names = [v for v in values if isinstance(v, str)]
    if mapping is None:
        roles = {Role(v) for v in names if v in ROLE_NAMES}
    else:
        roles = {mapping[v] for v in names if v in mapping}
    if not roles:
        raise Unauthenticated(f"Unknown role: the token's '{claim}' claim names no tac-api role.")
    if len(roles) > 1:
        raise Unauthenticated(f"The token's '{claim}' claim holds more than one role.")
    return roles.pop()


def _code(claims: Mapping[str, Any], claim: str | None, pattern: re.Pattern[str]) -> str | None:
    if claim is None:
        return None
    value = claims.get(claim)
    if value in (None, ""):  # providers often send an unset attribute as an empty string
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Unauthenticated(f"The token's '{claim}' claim is not a valid code.")
    return value


def _why_invalid(exc: jwt.PyJWTError) -> str:
    """A detail for the caller, from our own words only: nothing of the token is echoed."""
    match exc:
        case jwt.ExpiredSignatureError():
            return "This token has expired."
        case jwt.ImmatureSignatureError():
            return "This token is not valid yet."
        case jwt.InvalidAudienceError():
            return "This token is meant for another service (audience)."
        case jwt.InvalidIssuerError():
            return "This token comes from another issuer."
        case jwt.InvalidSignatureError():
            return "This token's signature does not verify."
        case jwt.MissingRequiredClaimError(claim=claim):
            return f"This token lacks the '{claim}' claim."
        case jwt.InvalidAlgorithmError():
            return "This token's algorithm does not match its signing key."
        case _:
            return "This token is not valid."


def verifier_for(state: State) -> OidcVerifier | None:
    """The app's verifier, made on first use; None while OIDC is not configured."""
    verifier: OidcVerifier | None = getattr(state, "oidc_verifier", None)
    if verifier is None and state.settings.trusted_issuers():
        verifier = state.oidc_verifier = OidcVerifier(state.settings)
    return verifier
