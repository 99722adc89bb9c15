import uuid
from datetime import date
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field

from tac_api.db import RecordFields
from tac_api.history import HistoryFields


class Child(RecordFields, table=True):
    __tablename__ = "child"
    __table_args__ = (
        Index("ix_child_mother_order", "mother_id", "last_name", "first_name", "id"),
        Index("ix_child_authority_order", "local_authority_code", "last_name", "first_name", "id"),
        # The authority's own id for the child: what its case-management system syncs by.
        Index("uq_child_external_id", "local_authority_code", "external_id", unique=True),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    # The child's id in the local authority's own system (unique within that authority).
    external_id: str | None = Field(default=None, max_length=64)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    date_of_birth: date | None = None
    expected_date: date | None = None  # when she is expecting: a child not yet born
    sex: str = Field(max_length=16)
    local_authority_code: str = Field(foreign_key="local_authority.dfe_number", max_length=3)
    legal_status: str | None = Field(default=None, foreign_key="legal_status.code", max_length=4)
    placement_type: str | None = Field(
        default=None, foreign_key="placement_type.code", max_length=4
    )
    # Null once a confidentially placed child moves to another authority: the new authority
    # records where the child lives now (see children.service.update_child).
    lives_with: str | None = Field(default=None, max_length=16)
    placement_confidential: bool = False
    # Who the child lives with and where: withheld from all but the child's own authority when
    # the placement is confidential.
    carer_name: str | None = Field(default=None, max_length=120)
    carer_phone: str | None = Field(default=None, max_length=32)
    carer_address: str | None = Field(default=None, max_length=500)
    social_worker_name: str | None = Field(default=None, max_length=120)
    social_worker_email: str | None = Field(default=None, max_length=254)
    social_worker_phone: str | None = Field(default=None, max_length=32)
    contact_arrangement: str = Field(max_length=16)
    contact_arrangement_reason: str | None = Field(default=None, max_length=2000)
    # The fields of the record (as the API names them) the authority's system has ever sent
    # through sync: its whole-record PUT owns those; any other keeps what the prison side recorded.
    authority_fields: list[str] = Field(default_factory=list, sa_type=JSON)


class ChildHistoryEntry(HistoryFields, table=True):
    """One change to a child's record: who made it, when, from which side, in which request,
    and each field's value before and after (as the API names and shows them).

    Written with the change itself and never altered. `local_authority_code` and
    `placement_confidential` say whose placement the values were and whether it was confidential
    (before or after the change), so that the values stay withheld as the record withholds them.
    """

    __tablename__ = "child_history"
    __table_args__ = (Index("ix_child_history_order", "child_id", "changed_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    child_id: uuid.UUID = Field(foreign_key="child.id", ondelete="CASCADE")
    source: str = Field(max_length=16)  # prison_side | local_authority
    request_id: str | None = Field(default=None, max_length=64)  # None: made by a command
    # The child's authority before the change: whose placement the old values were.
    local_authority_code: str = Field(max_length=3)
    placement_confidential: bool
    # [{"field": ..., "old": ..., "new": ...}], values as the API shows them.
    changes: list[dict[str, Any]] = Field(sa_type=JSON)
