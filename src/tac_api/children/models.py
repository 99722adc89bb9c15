import uuid
from datetime import date

from sqlalchemy import Index
from sqlmodel import Field

from tac_api.db import RecordFields


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
    lives_with: str = Field(max_length=16)
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
