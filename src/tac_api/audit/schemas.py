import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from tac_api.schemas import UtcDatetime


class Action(StrEnum):
    """What was done with personal data: the acts the Data Protection Act 2018 s62 names."""

    collect = "collect"
    alter = "alter"
    consult = "consult"
    disclose = "disclose"
    combine = "combine"
    erase = "erase"


class Outcome(StrEnum):
    succeeded = "succeeded"
    refused = "refused"  # authenticated, but not allowed (403) or over the rate limit (429)
    not_found = "not_found"  # includes records outside the caller's scope
    invalid = "invalid"
    conflict = "conflict"
    failed = "failed"


def outcome_of(status: int) -> Outcome:
    if status < 400:
        return Outcome.succeeded
    if status in (401, 403, 429):
        return Outcome.refused
    if status == 404:
        return Outcome.not_found
    if status in (409, 412, 428):
        return Outcome.conflict
    if status < 500:
        return Outcome.invalid
    return Outcome.failed


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: UtcDatetime
    request_id: str
    client_id: uuid.UUID | None
    client_name: str | None
    role: str
    action: Action
    resource_type: str
    resource_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    outcome: Outcome
