"""Link requests as the prison side decides them, and as the asking authority sees its own."""

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from tac_api.children.schemas import PLACEMENT_FIELDS
from tac_api.schemas import Input, Text, UtcDatetime

LinkRequestStatus = Literal["pending", "confirmed", "declined"]


class LinkRequestPublic(BaseModel):
    """Who asked, for which child, naming which mother: for her prison's social worker (or an
    admin) to confirm or decline."""

    id: uuid.UUID
    local_authority_code: str = Field(description="The authority asking to be linked to her.")
    requested_by: str = Field(description="The authority's system that pushed the child.")
    external_id: str = Field(description="The child's id in the authority's system.")
    mother_prison_number: str = Field(description="The prison number the authority named.")
    mother_id: uuid.UUID | None = Field(
        description="The mother with this prison number; null while no mother has it (an admin "
        "sees those: she may be recorded later, and the request then joins her prison's list)."
    )
    status: LinkRequestStatus
    requested_at: UtcDatetime = Field(description="When the authority first asked.")
    updated_at: UtcDatetime = Field(description="When it last pushed this child.")
    child: dict[str, Any] | None = Field(
        description="The child as the authority pushed it (the fields its sync body sent, less "
        "the ids); a confidential placement is withheld as in the child's record (`lives_with`, "
        "`placement_type` and `carer` null, `placement_withheld` true). Null once decided "
        "(confirmed, it is the child's record)."
    )
    decided_at: UtcDatetime | None
    decided_by: str | None
    reason: str | None
    child_id: uuid.UUID | None = Field(description="The child confirming made.")


class LinkRequestForAuthority(BaseModel):
    """Your own request to be linked to the mother you named: the same whether or not the
    service knows her prison number, and nothing of her until the prison side confirms."""

    id: uuid.UUID
    external_id: str = Field(description="Your id for the child.")
    mother_prison_number: str = Field(
        description="As you sent it; the number NOMIS kept, if it has merged yours into it."
    )
    status: LinkRequestStatus
    requested_at: UtcDatetime
    updated_at: UtcDatetime
    decided_at: UtcDatetime | None
    child_id: uuid.UUID | None = Field(description="Your child's id in tac-api once confirmed.")


class LinkConfirmation(Input):
    reason: Text | None = Field(default=None, description="Why, if worth saying (optional).")


class LinkRefusal(Input):
    reason: Text = Field(description="Why the link is declined (kept for the prison side).")


def for_authority(row: Any) -> LinkRequestForAuthority:
    return LinkRequestForAuthority(
        id=row["id"],
        external_id=row["external_id"],
        mother_prison_number=row["mother_prison_number"],
        status=row["status"],
        requested_at=row["created_at"],
        updated_at=row["updated_at"],
        decided_at=row["decided_at"],
        child_id=row["child_id"],
    )


def _placement_withheld(child: dict[str, Any] | None) -> dict[str, Any] | None:
    """A confidential placement as the child's record shows it to the prison side: withheld
    (a mistyped prison number must not give an unrelated prison a carer's address)."""
    if not child or not child.get("placement_confidential"):
        return child
    return {**child, **dict.fromkeys(PLACEMENT_FIELDS), "placement_withheld": True}


def for_prison_side(row: Any, mother_id: uuid.UUID | None) -> LinkRequestPublic:
    return LinkRequestPublic(
        id=row["id"],
        local_authority_code=row["local_authority_code"],
        requested_by=row["requested_by"],
        external_id=row["external_id"],
        mother_prison_number=row["mother_prison_number"],
        mother_id=mother_id,
        status=row["status"],
        requested_at=row["created_at"],
        updated_at=row["updated_at"],
        child=_placement_withheld(row["child"]),
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        reason=row["reason"],
        child_id=row["child_id"],
    )
