import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from tac_api.history import HistoryEntryPublic
from tac_api.schemas import (
    ONE_LINE,
    Changes,
    Email,
    Input,
    IsoDate,
    LongName,
    Phone,
    PrisonCode,
    RecordPublic,
)

# The service's own staff: who may be in a prison's directory (and hold a caseload).
StaffRole = Literal["prison_social_worker", "advocate", "facilitator"]
# An identity provider's subject (`sub`): as long as a token's may be (tac_api.auth.oidc).
IdentitySubject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=ONE_LINE)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]

SIGN_IN = (
    "How she signs in, so that work is hers either way: her identity provider's subject "
    "(`identity_subject`) or an API client (`api_client_id`), one or the other (or neither yet)."
)


class StaffMemberCreate(Input):
    prison_code: PrisonCode = Field(description="The prison whose directory she is in.")
    name: LongName
    role: StaffRole
    email: Email | None = None
    phone: Phone | None = None
    identity_subject: IdentitySubject | None = Field(
        default=None,
        description="Her subject (`sub`) at the identity provider this service trusts "
        "(TAC_OIDC_ISSUER). " + SIGN_IN,
    )
    api_client_id: uuid.UUID | None = Field(
        default=None,
        description="An API client of a prison social worker of the same prison, not revoked. "
        + SIGN_IN,
    )


class StaffMemberUpdate(Changes):
    """Only the fields sent change. Her prison does not: someone who moves to another prison
    leaves this one (`left_on`) and is entered in the other's directory."""

    not_nullable = frozenset({"name", "role"})

    name: LongName | SkipJsonSchema[None] = None
    role: StaffRole | SkipJsonSchema[None] = None
    email: Email | None = None
    phone: Phone | None = None
    identity_subject: IdentitySubject | None = None
    api_client_id: uuid.UUID | None = None
    left_on: IsoDate | None = Field(
        default=None,
        description="When she left the service: not in the future, and only once none of the "
        "women is allocated to her any more.",
    )


class StaffMemberPublic(RecordPublic):
    prison_code: str
    name: str
    role: StaffRole
    email: str | None
    phone: str | None
    identity_subject: str | None = Field(
        description="Her subject at the identity provider; shown to an admin and to herself "
        "only (null to anyone else)."
    )
    api_client_id: uuid.UUID | None = Field(
        description="Her API client; shown to an admin and to herself only."
    )
    signs_in_as: uuid.UUID | None = Field(
        description="The caller id she has when she signs in either way (the audit trail's "
        "client_id): how `GET /v1/staff/me` finds her. Shown to an admin and to herself only."
    )
    left_on: date | None


class AllocationPut(Input):
    staff_member_id: uuid.UUID = Field(
        description="A worker in the directory of her prison who has not left."
    )
    allocated_on: IsoDate = Field(
        description="From when: not in the future, and not before her current allocation began "
        "(or her last one ended). Her current allocation ends on this day."
    )
    reason: Reason | None = None


class AllocationEnd(Input):
    ended_on: IsoDate = Field(
        description="Not in the future, and not before her current allocation began."
    )
    reason: Reason | None = None


class AllocatedWorker(BaseModel):
    id: uuid.UUID
    name: str
    role: StaffRole


class AllocationPublic(RecordPublic, HistoryEntryPublic):
    """One of her allocations; `changed_by` made it (whoever ended it is in the audit trail)."""

    mother_id: uuid.UUID
    staff_member: AllocatedWorker
    allocated_on: date
    ended_on: date | None = Field(description="Null while it is her current allocation.")
    reason: str | None
    end_reason: str | None


class CaseloadGuide(BaseModel):
    lower: int = Field(description="TAC_CASELOAD_GUIDE_LOWER: fewer women than this is under.")
    upper: int = Field(description="TAC_CASELOAD_GUIDE_UPPER: more women than this is over.")


class WomanAllocated(BaseModel):
    mother_id: uuid.UUID
    first_name: str
    last_name: str
    prison_number: str
    allocated_on: date


class WomanUnallocated(BaseModel):
    mother_id: uuid.UUID
    first_name: str
    last_name: str
    prison_number: str


class WorkerCaseload(BaseModel):
    staff_member_id: uuid.UUID
    name: str
    role: StaffRole
    count: int = Field(description="Her active women: allocated to her, case not closed.")
    over_guide: bool = Field(description="count is above the guide's upper figure.")
    under_guide: bool = Field(description="count is below the guide's lower figure.")
    women: list[WomanAllocated]


class PrisonCaseloads(BaseModel):
    prison_code: str
    prison_name: str
    workers: list[WorkerCaseload] = Field(description="Each of its staff who has not left.")
    unallocated: list[WomanUnallocated] = Field(
        description="Active women held here allocated to none of its staff."
    )


class Caseloads(BaseModel):
    guide: CaseloadGuide
    prisons: list[PrisonCaseloads]
