"""The request pipeline: what happens before a route runs, step by step, each step named.

A route's signature says which steps it has:

    async def create_visit(
        body: ContactVisitCreate,
        caller: PrisonSide,          # who is calling, their role, rate limit, parameter checks,
                                     # and (personal data) an audit event expected
        claim: IdempotencyClaim,     # its Idempotency-Key claimed before it runs (POST)
        session: SessionDep,         # one transaction, committed once (tac_api.session)
        ...

The caller aliases (`PrisonSide`, `CaseReader`, `AnyCaller`, ... and a domain's own made with
`requires`) run, in order:
1. `admit_caller` (auth): who the token stands for, 401 if no one; and the request counted
   against their rate limit, 429 if over it (one statement on PostgreSQL), before the role is
   checked, so forbidden attempts count too;
2. `check_role`: 403 for a role the route does not admit;
3. `expect_audit`: a route touching personal data must leave an audit event (the session
   refuses to commit one that does not); `personal_data=False` for reference data;
4. `check_parameters`: unknown query parameters and control characters refused (422), before a
   parameter reaches a service;
5. `claim_if_declared` (idempotency): for a route that declares `IdempotencyClaim`.

Why one dependency runs them rather than one dependency each: the steps that need the database
share one connection. A read runs in autocommit on the request's own connection. A write's
connection holds a transaction, which the rate limit must neither wait for nor count inside: so
steps 1 and 5 run on a short "gate" connection of their own, given back before the write takes
its own, so that no request holds two (which, with the pool full, would wait for each other for
good). The claim is declared in the signature and made on that gate: a POST without the header
costs nothing more. tests/contracts checks that every POST declares it.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.dependencies import admit_caller
from tac_api.auth.schemas import Caller, Role
from tac_api.db import READ_ONLY
from tac_api.errors import Forbidden
from tac_api.http import reject_control_characters, reject_unknown_query_parameters
from tac_api.idempotency.steps import IdempotencyClaim, claim_if_declared
from tac_api.session import SessionDep

__all__ = ["IdempotencyClaim", "requires"]

CallerDependency = Callable[..., Awaitable[Caller]]


def check_role(caller: Caller, allowed: frozenset[Role]) -> None:
    if caller.role not in allowed:
        raise Forbidden(f"The {caller.role} role may not use this operation.")


def expect_audit(request: Request, personal_data: bool) -> None:
    request.state.audit_required = personal_data


def check_parameters(request: Request) -> None:
    reject_unknown_query_parameters(request)
    reject_control_characters(request)


def requires(*roles: Role, personal_data: bool = True, admin: bool = True) -> CallerDependency:
    """The caller step for a route: admits `admin` plus the roles named (`admin=False`: the roles
    named only, for operations done on behalf of one authority). `personal_data`: a success must
    leave an audit event. The roles are kept on it (`allowed_roles`) for the route x role test
    matrix and the OpenAPI security requirements."""
    allowed = frozenset({*([Role.admin] if admin else []), *roles})

    async def caller(request: Request, session: SessionDep) -> Caller:
        if session.info.get(READ_ONLY):
            found = await _admit(request, session)
        else:
            async with request.app.state.read_sessionmaker() as gate:
                found = await _admit(request, gate)
                # Seen at once by every process: the gate is autocommit.
                await claim_if_declared(request, gate, found)
        return found

    async def _admit(request: Request, session: AsyncSession) -> Caller:
        found = await admit_caller(request, session)
        expect_audit(request, personal_data)
        check_role(found, allowed)
        check_parameters(request)
        return found

    caller.allowed_roles = allowed  # type: ignore[attr-defined]
    caller.personal_data = personal_data  # type: ignore[attr-defined]
    return caller


# Reference data: every role but the subject access service's and monitoring's (which call
# nothing but the subject access routes and /metrics), and no personal data in it.
AnyCaller = Annotated[
    Caller,
    Depends(requires(*(set(Role) - {Role.subject_access, Role.monitoring}), personal_data=False)),
]
AuditReader = Annotated[Caller, Depends(requires(Role.auditor))]
# Person-level data: everyone but governors, who see figures only (reports come later).
CaseReader = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]
PrisonSide = Annotated[Caller, Depends(requires(Role.prison_social_worker))]
# An administrator's alone (the staff directory's sign-ins, unit costs).
AdminOnly = Annotated[Caller, Depends(requires())]
# Everything held about a person, for her subject access request: an administrator, or the
# estate's subject access service.
SubjectAccess = Annotated[Caller, Depends(requires(Role.subject_access))]
# A child's record is kept by the prison side and by the child's own local authority.
ChildRecordKeeper = Annotated[
    Caller, Depends(requires(Role.prison_social_worker, Role.la_practitioner, Role.la_system))
]
# A local authority's case-management system, writing its own authority's records.
# An admin acts for no one authority, so is not one of them.
AuthoritySystem = Annotated[Caller, Depends(requires(Role.la_system, admin=False))]
