"""The worklist's indexes: what needs action is a few rows in a long history, each kind now an
index range rather than a look at every row: hearings whose outcome is not recorded, visits
with no outcome (awaiting approval, or held and not written up), open tasks by when due.

Revision ID: f3c5e7a9b1d4
Revises: e5a7c9e1f3b4
Create Date: 2026-12-06 05:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3c5e7a9b1d4"
down_revision: str | None = "e5a7c9e1f3b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = {
    "ix_court_hearing_awaiting_outcome": (
        "court_hearing",
        "starts_at",
        "outcome_recorded_at IS NULL",
    ),
    "ix_contact_visit_no_outcome": ("contact_visit", "status", "outcome IS NULL"),
    "ix_task_open_due": ("task", "due_on", "done_on IS NULL"),
}


def upgrade() -> None:
    for name, (table, column, where) in PARTIAL.items():
        op.create_index(
            name,
            table,
            [column],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, (table, _, _) in reversed(PARTIAL.items()):
        op.drop_index(name, table_name=table)
