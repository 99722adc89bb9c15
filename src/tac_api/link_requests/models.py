import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from tac_api.db import RecordFields


class LinkRequest(RecordFields, table=True):
    """A local authority asking to be linked to a mother it has no confirmed child of.

    The link itself is a child record: an authority is linked to a mother while it has a child
    of hers (so children recorded before link requests existed need no backfill). Until the
    prison side confirms, the request holds what the authority pushed and the mother sees none
    of it. She is found by her prison number when the request is read, not stored: a number no
    mother has yet joins her prison's list once she is recorded, and follows her if she moves.
    Not part of her case (no `mother_id`): an unconfirmed claim about her, erased when it
    expires (TAC_LINK_REQUEST_EXPIRY_DAYS) whether decided or not.
    """

    __tablename__ = "link_request"
    __table_args__ = (
        # A repeat push of the same child updates its one request.
        Index("uq_link_request_external_id", "local_authority_code", "external_id", unique=True),
        Index("ix_link_request_prison_number", "mother_prison_number"),
    )

    local_authority_code: str = Field(foreign_key="local_authority.dfe_number", max_length=3)
    # The child's id in the authority's own system.
    external_id: str = Field(max_length=64)
    mother_prison_number: str = Field(max_length=7)
    # Who asked: the authority's system (its client's name).
    requested_by: str = Field(max_length=200)
    status: str = Field(default="pending", max_length=16)  # pending, confirmed, declined
    # The child as the authority pushed it (the sync body, less the ids); cleared once decided:
    # confirmed, it is the child's record; declined, it was never the service's to keep.
    child: dict[str, Any] | None = Field(default=None, sa_type=JSON(none_as_null=True))  # type: ignore[call-overload]
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)
    # The child confirming made (no foreign key: the child may be erased with her case while
    # the decision is kept until it expires).
    child_id: uuid.UUID | None = None
