import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal

from sqlalchemy import BindParameter, Date, String, bindparam


class Role(StrEnum):
    admin = "admin"
    prison_social_worker = "prison_social_worker"
    la_practitioner = "la_practitioner"
    la_system = "la_system"
    governor = "governor"
    auditor = "auditor"  # reads the audit trail, and nothing else
    # The estate's subject access service (HMPPS Auth's ROLE_SAR_DATA_ACCESS): everything held
    # about the person it asks for, through the subject access routes, and nothing else.
    subject_access = "subject_access"
    # An operator's Prometheus: GET /metrics (counts and ages, never a person), and nothing else.
    monitoring = "monitoring"


PRISON_ROLES = frozenset({Role.prison_social_worker, Role.governor})
LOCAL_AUTHORITY_ROLES = frozenset({Role.la_practitioner, Role.la_system})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking, and the one prison or local authority their role is scoped to."""

    client_id: uuid.UUID
    name: str
    role: Role
    prison_code: str | None = None
    local_authority_code: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def is_local_authority(self) -> bool:
        return self.role in LOCAL_AUTHORITY_ROLES


ScopeParam = Literal["prison_code", "local_authority_code"]


def role_of(who: Caller | Role) -> Role:
    return who if isinstance(who, Role) else who.role


def scope_value(who: Caller | Role, field: ScopeParam) -> BindParameter[str]:
    """The caller's prison or authority, for a scope condition.

    Given a Caller, its value is bound in. Given only a Role (for a statement built once per role
    and reused), it is a required parameter, filled at execution by `scope_params(caller)`:
    forgetting it fails loudly rather than leaking another caller's scope.
    """
    if isinstance(who, Role):
        return bindparam(f"caller_{field}", type_=String, required=True)
    return bindparam(f"caller_{field}", getattr(who, field), type_=String)


def scope_today(who: Caller | Role) -> BindParameter[date]:
    """Today (UTC), for a scope condition that runs to a day (kept until): bound in, or, given
    only a Role, a required parameter filled by `scope_params`."""
    if isinstance(who, Role):
        return bindparam("caller_today", type_=Date, required=True)
    return bindparam("caller_today", datetime.now(UTC).date(), type_=Date)


def scope_params(caller: Caller) -> dict[str, str | date | None]:
    return {
        "caller_prison_code": caller.prison_code,
        "caller_local_authority_code": caller.local_authority_code,
        "caller_today": datetime.now(UTC).date(),
    }
