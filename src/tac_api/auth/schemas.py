import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    prison_social_worker = "prison_social_worker"
    la_practitioner = "la_practitioner"
    la_system = "la_system"
    governor = "governor"


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
