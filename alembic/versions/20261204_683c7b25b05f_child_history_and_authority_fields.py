"""A child's history (every change: who, when, from which side, each field before and after),
the fields an authority's system has sent for each child (its PUT owns those, and no other), and
lives_with that may be null (a confidentially placed child moved to another authority).

Revision ID: 683c7b25b05f
Revises: 5c1e7a9d2b40
Create Date: 2026-12-04 23:10:00.000000

"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "683c7b25b05f"
down_revision: str | None = "5c1e7a9d2b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every field of a child's record an authority's system can send (tac_api.children.schemas.
# ChildDetails), as it stood when this migration was written.
SENT_BEFORE = [
    "carer",
    "contact_arrangement",
    "contact_arrangement_reason",
    "date_of_birth",
    "expected_date",
    "first_name",
    "last_name",
    "legal_status",
    "lives_with",
    "placement_confidential",
    "placement_type",
    "sex",
    "social_worker",
]


def upgrade() -> None:
    op.create_table(
        "child_history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("client_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column(
            "local_authority_code", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False
        ),
        sa.Column("placement_confidential", sa.Boolean(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["child.id"],
            name=op.f("fk_child_history_child_id_child"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_history")),
    )
    with op.batch_alter_table("child_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_child_history_order", ["child_id", "changed_at", "id"], unique=False
        )

    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("authority_fields", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.alter_column(
            "lives_with", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
        )
    # A child the authority already syncs was synced under the old rule, where its PUT owned
    # every field (a field left out was cleared): it keeps owning them all.
    # A constant of this file's, so safe to write into the statement (a literal suits both the
    # JSON column of PostgreSQL and the text of SQLite).
    op.execute(
        f"UPDATE child SET authority_fields = '{json.dumps(SENT_BEFORE)}' "
        "WHERE external_id IS NOT NULL"
    )
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.alter_column("authority_fields", existing_type=sa.JSON(), server_default=None)


def downgrade() -> None:
    # The old schema cannot say "not recorded": refuse rather than make a placement up.
    unrecorded = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM child WHERE lives_with IS NULL")
    )
    if unrecorded:
        raise RuntimeError(
            f"{unrecorded} children have no lives_with (moved to another authority while "
            "placed confidentially): record it for each before downgrading."
        )
    with op.batch_alter_table("child", schema=None) as batch_op:
        batch_op.alter_column(
            "lives_with", existing_type=sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False
        )
        batch_op.drop_column("authority_fields")

    with op.batch_alter_table("child_history", schema=None) as batch_op:
        batch_op.drop_index("ix_child_history_order")

    op.drop_table("child_history")
