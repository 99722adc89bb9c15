import uuid
from datetime import date

from sqlalchemy import Index
from sqlmodel import Field

from tac_api.db import RecordFields


class Review(RecordFields, table=True):
    """A review of her support: due at 3, 6 and 12 months from engagement (`milestone`), or held
    at another time (`other`). Records Step Together's seven outcomes (yes, no, not_known), the
    plan's ratings (one row per area) and how each local authority social worker's relationship
    with her stands (one row each: the prison side's judgement, never shown to an authority)."""

    __tablename__ = "review"
    __table_args__ = (Index("ix_review_mother_order", "mother_id", "held_on", "id"),)

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    held_on: date
    milestone: str = Field(max_length=16)  # three_months, six_months, twelve_months, other
    # Step Together's seven outcomes: yes, no, not_known.
    mental_health_support: str = Field(default="not_known", max_length=16)
    employment_or_learning: str = Field(default="not_known", max_length=16)
    children_with_her: str = Field(default="not_known", max_length=16)
    positive_social_worker_feedback: str = Field(default="not_known", max_length=16)
    stable_housing_or_finances: str = Field(default="not_known", max_length=16)
    family_relationships_improved: str = Field(default="not_known", max_length=16)
    contact_with_child: str = Field(default="not_known", max_length=16)
    summary: str | None = Field(default=None, max_length=4000)


class ReviewRating(RecordFields, table=True):
    """Her rating of one area of her plan at a review, from 1 to 10."""

    __tablename__ = "review_rating"
    __table_args__ = (Index("uq_review_rating", "review_id", "area", unique=True),)

    review_id: uuid.UUID = Field(foreign_key="review.id", ondelete="CASCADE")
    area: str = Field(max_length=40)
    rating: int


class ReviewRelationship(RecordFields, table=True):
    """How the relationship between her and one local authority social worker (a practitioner
    linked to her case) stands at a review: none, antagonistic, fractured, improving, working."""

    __tablename__ = "review_relationship"
    __table_args__ = (Index("uq_review_relationship", "review_id", "practitioner_id", unique=True),)

    review_id: uuid.UUID = Field(foreign_key="review.id", ondelete="CASCADE")
    practitioner_id: uuid.UUID = Field(foreign_key="practitioner.id")
    status: str = Field(max_length=16)


class Pregnancy(RecordFields, table=True):
    """A pregnancy: known at referral or begun while she was engaged, and, for each birth, where
    the baby went (`birth`)."""

    __tablename__ = "pregnancy"
    __table_args__ = (Index("ix_pregnancy_mother_order", "mother_id", "known_on", "id"),)

    mother_id: uuid.UUID = Field(foreign_key="mother.id", ondelete="CASCADE")
    known_on: date
    at_referral: bool  # False: began while she was engaged with the service
    due_on: date | None = None
    # ongoing, born, ended (without a birth)
    outcome: str = Field(default="ongoing", max_length=16)
    ended_on: date | None = None


class Birth(RecordFields, table=True):
    """A baby born of a pregnancy, and where the baby went: with_her_child_in_need,
    with_her_child_protection, with_family, removed, not_decided. The baby's own record, once
    there is one, is a child of hers (`child_id`)."""

    __tablename__ = "birth"

    pregnancy_id: uuid.UUID = Field(foreign_key="pregnancy.id", index=True, ondelete="CASCADE")
    born_on: date
    baby_went: str = Field(default="not_decided", max_length=32)
    child_id: uuid.UUID | None = Field(
        default=None, foreign_key="child.id", index=True, ondelete="SET NULL"
    )
