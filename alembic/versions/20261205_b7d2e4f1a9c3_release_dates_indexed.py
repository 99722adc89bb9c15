"""Release dates indexed: the releases due list reads a window of her plan's expected release
date and, for mothers without one, of her earliest release date; each is now an index range
rather than a look at every mother held and every plan.

Revision ID: b7d2e4f1a9c3
Revises: 9f6dcbaeba36
Create Date: 2026-12-05 22:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7d2e4f1a9c3"
down_revision: str | None = "9f6dcbaeba36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_release_plan_expected_release_date", "release_plan", ["expected_release_date"]
    )
    op.create_index("ix_mother_earliest_release_date", "mother", ["earliest_release_date"])


def downgrade() -> None:
    op.drop_index("ix_mother_earliest_release_date", table_name="mother")
    op.drop_index("ix_release_plan_expected_release_date", table_name="release_plan")
