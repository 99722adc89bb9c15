"""The caller dependency: who is asking, and whether their role may use this route."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller, Role
from tac_api.auth.service import authenticate
from tac_api.db import READ_ONLY
from tac_api.errors import Forbidden, Unauthenticated
from tac_api.http import reject_control_characters, reject_unknown_query_parameters
from tac_api.idempotency import service as idempotency
from tac_api.limits import service as limits
from tac_api.session import SessionDep

CallerDependency = Callable[..., Awaitable[Caller]]
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API client token (`tac-api clients create`), or an access token (JWT) "
    "from the identity provider named by TAC_OIDC_ISSUER.",
}


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an API token as 'Authorization: Bearer <token>'.")
    return token.strip()


def requires(*roles: Role, personal_data: bool = True, admin: bool = True) -> CallerDependency:
    """A dependency that authenticates the caller and admits `admin` plus the roles named
    (`admin=False`: the roles named only, for operations done on behalf of one authority).

    It is the one dependency every authenticated operation has, so it also refuses unknown
    query parameters and control characters in any parameter (fewer dependencies to solve on
    every request, and both checks run before a parameter reaches a service). The roles are
    kept on it for the route x role test matrix and for the OpenAPI security requirements.
    `personal_data`: the operation touches personal data, so a success must leave an audit
    event (the session dependency refuses to commit one that does not).
    """
    allowed = frozenset({*([Role.admin] if admin else []), *roles})

    async def caller(request: Request, session: SessionDep) -> Caller:
        token = bearer_token(request)
        if session.info.get(READ_ONLY):
            # A read runs in autocommit: its one connection serves the whole request.
            found = await _admit(request, session, token)
            allow(request, found)
        else:
            # A write's connection holds a transaction: the rate limit must not wait for it, nor
            # count inside it. Both are done first on a connection of their own, returned before
            # the write takes its own, so that no request ever holds two (which, with the pool
            # full, would wait for each other for good).
            async with request.app.state.read_sessionmaker() as gate:
                found = await _admit(request, gate, token)
                allow(request, found)
                # A POST's Idempotency-Key, if sent, is claimed on the same connection, before
                # the route runs, and seen at once by every process.
                await idempotency.claim(request, gate, found)
        return found

    def allow(request: Request, found: Caller) -> None:
        request.state.audit_required = personal_data
        if found.role not in allowed:
            raise Forbidden(f"The {found.role} role may not use this operation.")
        reject_unknown_query_parameters(request)
        reject_control_characters(request)

    caller.allowed_roles = allowed  # type: ignore[attr-defined]
    return caller


async def _admit(request: Request, session: AsyncSession, token: str) -> Caller:
    """Who the caller is, counted against their rate limit (forbidden attempts count too)."""
    found = await authenticate(session, token, request.app.state)
    # Known from here on: the audit trail records who was refused as well as who was not.
    request.state.caller = found
    await limits.enforce(session, found, request.app.state.settings.rate_limit_per_minute)
    return found


# Reference data: every role, and no personal data in it.
AnyCaller = Annotated[Caller, Depends(requires(*Role, personal_data=False))]
AuditReader = Annotated[Caller, Depends(requires(Role.auditor))]
# Person-level data: everyone but governors, who see figures only (reports come later).
CaseReader = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]
PrisonSide = Annotated[Caller, Depends(requires(Role.prison_social_worker))]
# A child's record is kept by the prison side and by the child's own local authority.
ChildRecordKeeper = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]
# A local authority's case-management system, writing its own authority's records.
# An admin acts for no one authority, so is not one of them.
AuthoritySystem = Annotated[Caller, Depends(requires(Role.la_system, admin=False))]
