"""A release plan's history: every change to the plan, who made it and when, each field before
and after (whether the plan was complete among them), so that the reports count a plan complete
or not as it stood at a period's end. Plans made before it have none: they count as they stand.

Revision ID: f7d9b1c3e5a8
Revises: a7b9c1d3e5f7
Create Date: 2026-12-06 08:21:31.436204

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "f7d9b1c3e5a8"
down_revision: str | None = "a7b9c1d3e5f7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "release_plan_history",
        sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("changed_by_client_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("changed_by_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("release_plan_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_plan_id"],
            ["release_plan.id"],
            name=op.f("fk_release_plan_history_release_plan_id_release_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_plan_history")),
    )
    op.create_index(
        "ix_release_plan_history_order",
        "release_plan_history",
        ["release_plan_id", "changed_at", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_release_plan_history_order", table_name="release_plan_history")
    op.drop_table("release_plan_history")
