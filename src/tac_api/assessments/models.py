import uuid
from datetime import date

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from tac_api.db import RecordFields


class ParentingAssessment(RecordFields, table=True):
    """An assessment of her parenting (PAMS, ParentAssess...), often carried out in prison."""

    __tablename__ = "parenting_assessment"
    __table_args__ = (
        # Lists are in the order assessments were asked for: every page an index seek.
        Index("ix_parenting_assessment_order", "requested_on", "id"),
        # Reports count the assessments completed in a period.
        Index("ix_parenting_assessment_completed_on", "completed_on"),
    )

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE", index=True)
    requested_by: str = Field(max_length=16)
    requested_on: date
    requesting_local_authority_code: str | None = Field(
        default=None, foreign_key="local_authority.dfe_number", max_length=3
    )
    assessor_name: str = Field(max_length=120)
    assessor_organisation: str | None = Field(default=None, max_length=200)
    model: str = Field(max_length=16)
    model_other: str | None = Field(default=None, max_length=200)
    started_on: date | None = None
    completed_on: date | None = None
    outcome: str | None = Field(default=None, max_length=16)


class ParentingAssessmentChild(SQLModel, table=True):
    """The children an assessment concerns: what a local authority's view of it follows."""

    __tablename__ = "parenting_assessment_child"

    parenting_assessment_id: uuid.UUID = Field(
        foreign_key="parenting_assessment.id", primary_key=True, ondelete="CASCADE"
    )
    child_id: uuid.UUID = Field(
        foreign_key="child.id", primary_key=True, ondelete="CASCADE", index=True
    )


class ParentingAssessmentRecipient(SQLModel, table=True):
    """Who the assessment's report was shared with, in the order given."""

    __tablename__ = "parenting_assessment_recipient"

    parenting_assessment_id: uuid.UUID = Field(
        foreign_key="parenting_assessment.id", primary_key=True, ondelete="CASCADE"
    )
    position: int = Field(primary_key=True)
    role: str = Field(max_length=32)
    name: str | None = Field(default=None, max_length=200)
