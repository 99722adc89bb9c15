import uuid

from pydantic import BaseModel, Field, JsonValue

from tac_api.audit.schemas import AuditEventPublic
from tac_api.schemas import UtcDatetime


class Subject(BaseModel):
    """Whom the export is about: her record, and her prison number (a referral names her by it
    before she has a record; an export for a number with no record has no mother_id)."""

    mother_id: uuid.UUID | None
    prison_number: str


class Withheld(BaseModel):
    """Fields of one record left out of the export, and why."""

    table: str
    record_id: uuid.UUID
    fields: list[str]
    reason: str


class SubjectAccessExport(BaseModel):
    """Everything the service holds about one mother, for a subject access request."""

    generated_at: UtcDatetime
    subject: Subject
    records: dict[str, list[dict[str, JsonValue]]] = Field(
        description=(
            "Her rows in every table of her case, by table name (mother, prison_stay, child, "
            "practitioner_link, and any later case table), plus the practitioner directory "
            "entries her links point to. Dates are YYYY-MM-DD, times ISO 8601 UTC, ids strings."
        )
    )
    audit_trail: list[AuditEventPublic] = Field(
        description="Who consulted, changed or disclosed her records, and when: oldest first."
    )
    withheld: list[Withheld] = Field(
        description="What was left out to protect someone else, with the reason."
    )


class HmppsSubjectAccessContent(BaseModel):
    """The answer to the estate's subject access service (hmpps-kotlin-lib's
    HmppsSubjectAccessRequestContent): her export, limited to the dates asked for."""

    content: SubjectAccessExport
