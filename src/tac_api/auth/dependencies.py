"""Who is calling: the bearer token, and the client or person it stands for.

The rest of what happens before a route runs (role, rate limit, idempotency claim, audit
expectation, parameter checks) is the request pipeline: see `tac_api.pipeline`.
"""

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.auth.service import admit, authenticate
from tac_api.errors import Unauthenticated
from tac_api.metrics.figures import RATE_LIMITED

BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API client token (`tac-api clients create`), or an access token (JWT) "
    "from an identity provider this service trusts (TAC_OIDC_ISSUER, TAC_OIDC_ISSUERS).",
}


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an API token as 'Authorization: Bearer <token>'.")
    return token.strip()


async def identify(request: Request, session: AsyncSession) -> Caller:
    """Who the caller is (401 if no one). Kept on the request from here on: the audit trail
    records who was refused as well as who was not."""
    found = await authenticate(session, bearer_token(request), request.app.state)
    request.state.caller = found
    return found


async def admit_caller(request: Request, session: AsyncSession) -> Caller:
    """Who the caller is (401 if no one), with the request counted against their rate limit
    (429 if over it): `identify` and the rate limit, in one round trip where the database
    allows (see `tac_api.auth.service.admit`)."""
    per_minute = request.app.state.settings.rate_limit_per_minute
    found, refusal = await admit(session, bearer_token(request), request.app.state, per_minute)
    request.state.caller = found
    if refusal is not None:
        RATE_LIMITED.inc()
        raise refusal
    return found
