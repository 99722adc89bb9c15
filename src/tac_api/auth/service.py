"""API clients and their tokens. A token is shown once and stored only as its hash."""

import hashlib
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.models import ApiClient
from tac_api.auth.schemas import LOCAL_AUTHORITY_ROLES, PRISON_ROLES, Caller, Role
from tac_api.db import fetch_rows, utcnow
from tac_api.errors import Conflict, InvalidInput, NotFound
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
).where(ApiClient.token_hash == bindparam("token_hash"), ApiClient.revoked_at.is_(None))


async def caller_for_token(session: AsyncSession, token: str) -> Caller | None:
    """The live client holding this token, or None: one indexed read per request."""
    rows = await fetch_rows(session, _CALLER, {"token_hash": hash_token(token)})
    if not rows:
        return None
    row = rows[0]
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
) -> tuple[ApiClient, str]:
    """Register a client; returns it with its token, which is never stored or shown again."""
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
