"""The programme's own work: referrals to engagement and support, the staff directory and
allocations, her co-produced support plan and its versions, reviews with outcomes, ratings and
relationships, pregnancies and births, and her consent to share with a local authority.

New tables only: nothing existing changes, and downgrade drops them.

Revision ID: c3e5a7b9d1f2
Revises: b7d2e4f1a9c3
Create Date: 2026-12-06 00:06:23.327657

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "c3e5a7b9d1f2"
down_revision: str | None = "b7d2e4f1a9c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("changed_by_client_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=False),
        sa.Column(
            "local_authority_code", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False
        ),
        sa.Column("covers_plan", sa.Boolean(), nullable=False),
        sa.Column("covers_reviews", sa.Boolean(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_authority_code"],
            ["local_authority.dfe_number"],
            name=op.f("fk_consent_local_authority_code_local_authority"),
        ),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_consent_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_mother_authority", ["mother_id", "local_authority_code"], unique=False
        )

    op.create_table(
        "pregnancy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=False),
        sa.Column("known_on", sa.Date(), nullable=False),
        sa.Column("at_referral", sa.Boolean(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_pregnancy_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pregnancy")),
    )
    with op.batch_alter_table("pregnancy", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pregnancy_mother_order", ["mother_id", "known_on", "id"], unique=False
        )

    op.create_table(
        "referral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prison_code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("referred_by_id", sa.Uuid(), nullable=True),
        sa.Column("prison_number", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("pregnant", sa.Boolean(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("mother_id", sa.Uuid(), nullable=True),
        sa.Column("first_contact_on", sa.Date(), nullable=True),
        sa.Column("engaged_on", sa.Date(), nullable=True),
        sa.Column("support_closed_on", sa.Date(), nullable=True),
        sa.Column(
            "support_closed_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
        ),
        sa.Column(
            "support_closed_note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_referral_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prison_code"], ["prison.code"], name=op.f("fk_referral_prison_code_prison")
        ),
        sa.ForeignKeyConstraint(
            ["referred_by_id"],
            ["practitioner.id"],
            name=op.f("fk_referral_referred_by_id_practitioner"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_mother_id"), ["mother_id"], unique=False)
        batch_op.create_index("ix_referral_prison_number", ["prison_number"], unique=False)
        batch_op.create_index(
            "ix_referral_prison_order", ["prison_code", "received_on", "id"], unique=False
        )

    op.create_table(
        "review",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("milestone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "mental_health_support", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column(
            "employment_or_learning", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column("children_with_her", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "positive_social_worker_feedback",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
        ),
        sa.Column(
            "stable_housing_or_finances",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
        ),
        sa.Column(
            "family_relationships_improved",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
        ),
        sa.Column(
            "contact_with_child", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        ),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_review_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
    )
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_mother_order", ["mother_id", "held_on", "id"], unique=False
        )

    op.create_table(
        "staff_member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prison_code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("identity_subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("api_client_id", sa.Uuid(), nullable=True),
        sa.Column("signs_in_as", sa.Uuid(), nullable=True),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["api_client.id"],
            name=op.f("fk_staff_member_api_client_id_api_client"),
        ),
        sa.ForeignKeyConstraint(
            ["prison_code"], ["prison.code"], name=op.f("fk_staff_member_prison_code_prison")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_member")),
        sa.UniqueConstraint("signs_in_as", name=op.f("uq_staff_member_signs_in_as")),
    )
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.create_index(
            "ix_staff_member_prison_order", ["prison_code", "name", "id"], unique=False
        )

    op.create_table(
        "support_plan",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("agreed_version", sa.Integer(), nullable=True),
        sa.Column("agreed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_support_plan_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_plan")),
        sa.UniqueConstraint("mother_id", name=op.f("uq_support_plan_mother_id")),
    )
    op.create_table(
        "allocation",
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("changed_by_client_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=False),
        sa.Column("staff_member_id", sa.Uuid(), nullable=False),
        sa.Column("allocated_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("end_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_allocation_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_allocation_staff_member_id_staff_member"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation")),
    )
    with op.batch_alter_table("allocation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_allocation_mother_order", ["mother_id", "allocated_on", "id"], unique=False
        )
        batch_op.create_index(
            "ix_allocation_worker_open", ["staff_member_id", "ended_on"], unique=False
        )
        batch_op.create_index(
            "uq_allocation_one_open",
            ["mother_id"],
            unique=True,
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        )

    op.create_table(
        "birth",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pregnancy_id", sa.Uuid(), nullable=False),
        sa.Column("born_on", sa.Date(), nullable=False),
        sa.Column("baby_went", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["child.id"], name=op.f("fk_birth_child_id_child"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["pregnancy_id"],
            ["pregnancy.id"],
            name=op.f("fk_birth_pregnancy_id_pregnancy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_birth")),
    )
    with op.batch_alter_table("birth", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_birth_child_id"), ["child_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_birth_pregnancy_id"), ["pregnancy_id"], unique=False)

    op.create_table(
        "review_rating",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("area", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review.id"],
            name=op.f("fk_review_rating_review_id_review"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_rating")),
    )
    with op.batch_alter_table("review_rating", schema=None) as batch_op:
        batch_op.create_index("uq_review_rating", ["review_id", "area"], unique=True)

    op.create_table(
        "review_relationship",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["practitioner_id"],
            ["practitioner.id"],
            name=op.f("fk_review_relationship_practitioner_id_practitioner"),
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["review.id"],
            name=op.f("fk_review_relationship_review_id_review"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_relationship")),
    )
    with op.batch_alter_table("review_relationship", schema=None) as batch_op:
        batch_op.create_index(
            "uq_review_relationship", ["review_id", "practitioner_id"], unique=True
        )

    op.create_table(
        "support_plan_area",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("support_plan_id", sa.Uuid(), nullable=False),
        sa.Column("area", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("chosen_by_her", sa.Boolean(), nullable=False),
        sa.Column("goal", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("goal_written_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("steps", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("steps_written_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("who_helps", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("rating_at_start", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["support_plan_id"],
            ["support_plan.id"],
            name=op.f("fk_support_plan_area_support_plan_id_support_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_plan_area")),
    )
    with op.batch_alter_table("support_plan_area", schema=None) as batch_op:
        batch_op.create_index("uq_support_plan_area", ["support_plan_id", "area"], unique=True)

    op.create_table(
        "support_plan_version",
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("changed_by_client_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("support_plan_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["support_plan_id"],
            ["support_plan.id"],
            name=op.f("fk_support_plan_version_support_plan_id_support_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_plan_version")),
    )
    with op.batch_alter_table("support_plan_version", schema=None) as batch_op:
        batch_op.create_index("uq_support_plan_version", ["support_plan_id", "number"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("support_plan_version", schema=None) as batch_op:
        batch_op.drop_index("uq_support_plan_version")

    op.drop_table("support_plan_version")
    with op.batch_alter_table("support_plan_area", schema=None) as batch_op:
        batch_op.drop_index("uq_support_plan_area")

    op.drop_table("support_plan_area")
    with op.batch_alter_table("review_relationship", schema=None) as batch_op:
        batch_op.drop_index("uq_review_relationship")

    op.drop_table("review_relationship")
    with op.batch_alter_table("review_rating", schema=None) as batch_op:
        batch_op.drop_index("uq_review_rating")

    op.drop_table("review_rating")
    with op.batch_alter_table("birth", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_birth_pregnancy_id"))
        batch_op.drop_index(batch_op.f("ix_birth_child_id"))

    op.drop_table("birth")
    with op.batch_alter_table("allocation", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_allocation_one_open",
            sqlite_where=sa.text("ended_on IS NULL"),
            postgresql_where=sa.text("ended_on IS NULL"),
        )
        batch_op.drop_index("ix_allocation_worker_open")
        batch_op.drop_index("ix_allocation_mother_order")

    op.drop_table("allocation")
    op.drop_table("support_plan")
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_member_prison_order")

    op.drop_table("staff_member")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_index("ix_review_mother_order")

    op.drop_table("review")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_prison_order")
        batch_op.drop_index("ix_referral_prison_number")
        batch_op.drop_index(batch_op.f("ix_referral_mother_id"))

    op.drop_table("referral")
    with op.batch_alter_table("pregnancy", schema=None) as batch_op:
        batch_op.drop_index("ix_pregnancy_mother_order")

    op.drop_table("pregnancy")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_mother_authority")

    op.drop_table("consent")
