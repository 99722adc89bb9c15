"""When she was released (mother.released_on): the day of the prison's release event that set
her status to released. Not the planned date (earliest_release_date), which stays as it was.

Revision ID: a1e3c5f7b9d2
Revises: b8d0f2a4c6e8
Create Date: 2026-12-06 11:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a1e3c5f7b9d2"
down_revision: str | None = "b8d0f2a4c6e8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mother", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mother", schema=None) as batch_op:
        batch_op.drop_column("released_on")
