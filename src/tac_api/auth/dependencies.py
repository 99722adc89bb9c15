"""The caller dependency: who is asking, and whether their role may use this route."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tac_api.auth.schemas import Caller, Role
from tac_api.auth.service import caller_for_token
from tac_api.db import SessionDep
from tac_api.errors import Forbidden, Unauthenticated

bearer = HTTPBearer(auto_error=False, description="An API client token (`tac-api clients create`).")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

CallerDependency = Callable[..., Awaitable[Caller]]


def requires(*roles: Role) -> CallerDependency:
    """A dependency that authenticates the caller and admits `admin` plus the roles named.

    The roles are kept on the dependency so the route x role test matrix can read them back.
    """
    allowed = frozenset({Role.admin, *roles})

    async def caller(credentials: Credentials, session: SessionDep) -> Caller:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthenticated("Send an API token as 'Authorization: Bearer <token>'.")
        found = await caller_for_token(session, credentials.credentials)
        if found is None:
            raise Unauthenticated("This token is not valid, or has been revoked.")
        if found.role not in allowed:
            raise Forbidden(f"The {found.role} role may not use this operation.")
        return found

    caller.allowed_roles = allowed  # type: ignore[attr-defined]
    return caller


AnyCaller = Annotated[Caller, Depends(requires(*Role))]
AdminCaller = Annotated[Caller, Depends(requires())]
# Person-level data: everyone but governors, who see figures only (reports come later).
CaseReader = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]
PrisonSide = Annotated[Caller, Depends(requires(Role.prison_social_worker))]
