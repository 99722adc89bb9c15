import uuid

from sqlmodel import Field

from tac_api.db import RecordFields


class Practitioner(RecordFields, table=True):
    """A professional or carer in the community around a mother and her children."""

    __tablename__ = "practitioner"

    role: str = Field(max_length=32)
    name: str = Field(max_length=120, index=True)
    organisation: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    local_authority_code: str | None = Field(
        default=None, foreign_key="local_authority.dfe_number", max_length=3
    )


class PractitionerLink(RecordFields, table=True):
    """Who works with her, and for which child (none: with the mother herself)."""

    __tablename__ = "practitioner_link"

    practitioner_id: uuid.UUID = Field(foreign_key="practitioner.id", index=True)
    mother_id: uuid.UUID = Field(foreign_key="mother.id", index=True, ondelete="CASCADE")
    child_id: uuid.UUID | None = Field(
        default=None, foreign_key="child.id", index=True, ondelete="CASCADE"
    )
