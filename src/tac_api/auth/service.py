"""API clients and their tokens. A token is shown once and stored only as its hash."""

import hashlib
import secrets
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import State

from tac_api.auth import oidc
from tac_api.auth.models import ApiClient, RevokedSubject
from tac_api.auth.schemas import LOCAL_AUTHORITY_ROLES, PRISON_ROLES, Caller, Role
from tac_api.db import driver_connection, fetch_rows, utcnow
from tac_api.errors import Conflict, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from tac_api.limits import service as limits
from tac_api.reference.models import LocalAuthority, Prison

TOKEN_PREFIX = "tac_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Built once: every request runs it, and a statement rebuilt per request costs its cache key too.
_CALLER = select(
    ApiClient.id,
    ApiClient.name,
    ApiClient.role,
    ApiClient.prison_code,
    ApiClient.local_authority_code,
).where(
    ApiClient.token_hash == bindparam("token_hash"),
    ApiClient.revoked_at.is_(None),
    or_(ApiClient.expires_at.is_(None), ApiClient.expires_at > bindparam("now")),
)
# A subject revoked at or after the token was issued: one primary-key read per JWT request.
_REVOKED = select(RevokedSubject.revoked_at).where(
    RevokedSubject.issuer == bindparam("issuer"),
    RevokedSubject.subject == bindparam("subject"),
    RevokedSubject.revoked_at >= bindparam("issued_at"),
)


INVALID_TOKEN = "This token is not valid, has expired or has been revoked."
REVOKED_SUBJECT = "This person's access has been revoked; sign in again."


async def admit(
    session: AsyncSession, token: str, app_state: State, per_minute: int
) -> tuple[Caller, TooManyRequests | None]:
    """Who holds this bearer token (401 if no one), with this request counted against their
    rate limit, and the 429 to answer if it is over: what `authenticate` then `limits.enforce`
    do, in one round trip on PostgreSQL (see README, "Reads in two round trips").

    One statement finds the live, unexpired client by its token's hash (a person's token: asks
    whether the person was revoked) and, in a data-modifying CTE, counts the request for that
    client only: a token that matches no one counts against nothing. Nothing is cached:
    revocation takes effect on the very next request. `session`: an autocommit (read) session,
    as for `limits.enforce`. SQLite has no data-modifying CTEs: the two statements, in turn.
    """
    driver = await driver_connection(session) if per_minute else None
    if driver is None:
        found = await authenticate(session, token, app_state)
        try:
            await limits.enforce(session, found, per_minute)
        except TooManyRequests as refusal:
            return found, refusal
        return found, None
    now, interval, tolerance = limits.allowance(per_minute)
    counted = (now, interval, tolerance)
    if not oidc.looks_like_jwt(token):
        sql = _admit_client_sql(session.get_bind().dialect)
        rows = await driver.fetch(sql, hash_token(token), utcnow(), *counted)
        if not rows:
            raise Unauthenticated(INVALID_TOKEN)
        row = rows[0]
        found = _caller_of(row)
    else:
        verifier = _verifier(app_state)
        verified = await verifier.verify(token)
        found = verified.caller
        if not _scopes_known(verifier, found):
            # Once per prison or authority a process meets: the statements in turn.
            await _require_not_revoked(session, verifier, verified)
            await _require_known_scope(session, verifier, found)
            try:
                await limits.enforce(session, found, per_minute)
            except TooManyRequests as refusal:
                return found, refusal
            return found, None
        sql = _admit_person_sql(session.get_bind().dialect)
        key = limits.client_key(found)
        rows = await driver.fetch(
            sql, verified.issuer, verified.subject, verified.issued_at, key, *counted
        )
        row = rows[0]
        if row["revoked"]:
            raise Unauthenticated(REVOKED_SUBJECT)
    if row["allowed"] is not None:
        return found, None
    current = row["current"]
    if current is None:
        # Refused by a row another request made after this statement's snapshot was taken
        # (two first requests at once, over a tiny limit): read it as it is now.
        current = await driver.fetchval(limits.CURRENT_POSTGRES, limits.client_key(found))
    return found, limits.refused(current, now, interval, tolerance)


def _compiled(statement: Any, dialect: Any) -> str:
    return str(statement.compile(dialect=dialect))


@cache
def _admit_client_sql(dialect: Any) -> str:
    """The client holding the token ($1 its hash, $2 now), and the request counted ($3 on)."""
    # _CALLER's parameters come out as $1, $2 in its own order: the token's hash, then now.
    assert list(_CALLER.compile(dialect=dialect).positiontup or ()) == ["token_hash", "now"]
    key = "caller.id::text"
    return (
        f"WITH caller AS ({_compiled(_CALLER, dialect)}), "
        f"taken AS ({limits.taken_for(key, 'FROM caller', first=3)}) "
        "SELECT caller.*, (SELECT theoretical_arrival FROM taken) AS allowed, "
        # The state as the statement found it (a CTE's change is not seen by its own
        # statement): unchanged when the request was refused, which is when it is read.
        f"(SELECT theoretical_arrival FROM rate_limit_state WHERE client_key = {key}) AS current "
        "FROM caller"
    )


@cache
def _admit_person_sql(dialect: Any) -> str:
    """Whether the person was revoked ($1 issuer, $2 subject, $3 issued at), and the request
    counted if not ($4 the client key, $5 on)."""
    positions = list(_REVOKED.compile(dialect=dialect).positiontup or ())
    assert positions == ["issuer", "subject", "issued_at"]
    key = "$4::varchar"
    return (
        f"WITH revoked AS ({_compiled(_REVOKED, dialect)}), "
        "taken AS ("
        f"{limits.taken_for(key, 'WHERE NOT EXISTS (SELECT FROM revoked)', first=5)}) "
        "SELECT EXISTS (SELECT FROM revoked) AS revoked, "
        "(SELECT theoretical_arrival FROM taken) AS allowed, "
        f"(SELECT theoretical_arrival FROM rate_limit_state WHERE client_key = {key}) AS current"
    )


def _verifier(app_state: State) -> oidc.OidcVerifier:
    verifier = oidc.verifier_for(app_state)
    if verifier is None:
        raise Unauthenticated("This service accepts API keys only, not identity provider tokens.")
    return verifier


async def _require_not_revoked(
    session: AsyncSession, verifier: oidc.OidcVerifier, verified: oidc.VerifiedToken
) -> None:
    params = {
        "issuer": verified.issuer,
        "subject": verified.subject,
        "issued_at": verified.issued_at,
    }
    if await fetch_rows(session, _REVOKED, params):
        raise Unauthenticated(REVOKED_SUBJECT)


async def authenticate(session: AsyncSession, token: str, app_state: State) -> Caller:
    """Who holds this bearer token: an identity provider's JWT, or one of our API keys.

    Any failure is a 401; revocation of either kind is read on every request.
    """
    if not oidc.looks_like_jwt(token):
        found = await caller_for_token(session, token)
        if found is None:
            raise Unauthenticated(INVALID_TOKEN)
        return found
    verifier = _verifier(app_state)
    verified = await verifier.verify(token)
    await _require_not_revoked(session, verifier, verified)
    await _require_known_scope(session, verifier, verified.caller)
    return verified.caller


_KNOWN_CODE = {
    "prison": select(Prison.code).where(Prison.code == bindparam("code")),
    "local authority": select(LocalAuthority.dfe_number).where(
        LocalAuthority.dfe_number == bindparam("code")
    ),
}


def _scopes_known(verifier: oidc.OidcVerifier, caller: Caller) -> bool:
    """Whether this process has already found the token's prison or authority in the
    reference data (`_require_known_scope`)."""
    return all(
        code is None or (kind, code) in verifier.known_scopes
        for kind, code in (
            ("prison", caller.prison_code),
            ("local authority", caller.local_authority_code),
        )
    )


async def _require_known_scope(
    session: AsyncSession, verifier: oidc.OidcVerifier, caller: Caller
) -> None:
    """A token's prison or local authority must be one the reference data holds, as an API
    client's must when it is created: a scope nothing can match would fail later, deeper in."""
    for kind, code in (
        ("prison", caller.prison_code),
        ("local authority", caller.local_authority_code),
    ):
        if code is None or (kind, code) in verifier.known_scopes:
            continue
        if not await fetch_rows(session, _KNOWN_CODE[kind], {"code": code}):
            raise Unauthenticated(f"The token names a {kind} code this service does not know.")
        verifier.known_scopes.add((kind, code))


async def caller_for_token(session: AsyncSession, token: str) -> Caller | None:
    """The live, unexpired client holding this token, or None: one indexed read per request."""
    params = {"token_hash": hash_token(token), "now": utcnow()}
    rows = await fetch_rows(session, _CALLER, params)
    if not rows:
        return None
    return _caller_of(rows[0])


def _caller_of(row: Any) -> Caller:
    return Caller(
        client_id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        prison_code=row["prison_code"],
        local_authority_code=row["local_authority_code"],
    )


async def create_client(
    session: AsyncSession,
    *,
    name: str,
    role: Role,
    prison_code: str | None = None,
    local_authority_code: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiClient, str]:
    """Register a client; returns it with its token, which is never stored or shown again.

    `expires_at`: when the token stops working by itself; None, only when revoked.
    """
    if role in PRISON_ROLES:
        if not prison_code or local_authority_code:
            raise InvalidInput("prison", f"a {role} is scoped to exactly one prison")
        if await session.get(Prison, prison_code) is None:
            raise InvalidInput("prison", f"unknown prison {prison_code}")
    elif role in LOCAL_AUTHORITY_ROLES:
        if not local_authority_code or prison_code:
            raise InvalidInput("la", f"a {role} is scoped to exactly one local authority")
        if await session.get(LocalAuthority, local_authority_code) is None:
            raise InvalidInput("la", f"unknown local authority {local_authority_code}")
    elif prison_code or local_authority_code:
        raise InvalidInput("role", f"an {role} has no prison or local authority scope")
    if (await session.execute(select(ApiClient.id).where(ApiClient.name == name))).first():
        raise Conflict(f"a client named {name!r} already exists")
    token = new_token()
    client = ApiClient(
        name=name,
        role=role.value,
        prison_code=prison_code,
        local_authority_code=local_authority_code,
        token_hash=hash_token(token),
        expires_at=expires_at,
    )
    session.add(client)
    await session.flush()
    return client, token


async def list_clients(session: AsyncSession) -> list[ApiClient]:
    return list(await session.scalars(select(ApiClient).order_by(ApiClient.name)))


async def revoke_client(session: AsyncSession, name: str) -> ApiClient:
    client = await session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise NotFound(f"no client named {name!r}")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        client.version += 1
    await session.flush()
    return client


async def revoke_subject(session: AsyncSession, issuer: str, subject: str) -> RevokedSubject:
    """Refuse, from now on, every token of this person issued until now (a later one passes)."""
    for field, value in (("issuer", issuer), ("subject", subject)):
        if not value or len(value) > oidc.MAX_CLAIM_LENGTH:
            raise InvalidInput(field, f"must be 1 to {oidc.MAX_CLAIM_LENGTH} characters")
    revoked = await session.get(RevokedSubject, (issuer, subject))
    if revoked is None:
        revoked = RevokedSubject(issuer=issuer, subject=subject, revoked_at=utcnow())
        session.add(revoked)
    else:
        revoked.revoked_at = utcnow()
    await session.flush()
    return revoked


async def list_revoked_subjects(session: AsyncSession) -> list[RevokedSubject]:
    statement = select(RevokedSubject).order_by(RevokedSubject.issuer, RevokedSubject.subject)
    return list(await session.scalars(statement))
