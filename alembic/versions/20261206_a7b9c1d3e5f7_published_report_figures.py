"""Reports' figures as first published: a quarter's figure, once published after the quarter
ended, is read back rather than drawn again, so that no later change to a record moves it.

Revision ID: a7b9c1d3e5f7
Revises: f3c5e7a9b1d4
Create Date: 2026-12-06 08:26:30.881279

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "a7b9c1d3e5f7"
down_revision: str | None = "f3c5e7a9b1d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "published_figure",
        sa.Column("population", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("quarter", sa.Date(), nullable=False),
        sa.Column("figure_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("suppressed", sa.Boolean(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "population", "quarter", "figure_key", name=op.f("pk_published_figure")
        ),
    )


def downgrade() -> None:
    op.drop_table("published_figure")
