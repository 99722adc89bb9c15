"""One history shape: a hearing's amendments and a child's history say who made a change and
when as a visit's status changes do (changed_at, changed_by_client_id, changed_by_name,
changed_by_role); changed_by_client_id may be null everywhere (a change made by the service
itself, such as demo data).

Revision ID: 9f6dcbaeba36
Revises: 683c7b25b05f
Create Date: 2026-12-05 03:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9f6dcbaeba36"
down_revision: str | None = "683c7b25b05f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table's columns as they were named, and as every history names them now.
RENAMED = {
    "court_hearing_amendment": {
        "amended_at": "changed_at",
        "client_id": "changed_by_client_id",
        "client_name": "changed_by_name",
        "role": "changed_by_role",
    },
    "child_history": {
        "client_id": "changed_by_client_id",
        "client_name": "changed_by_name",
        "role": "changed_by_role",
    },
}
TYPES = {
    # As the tables hold them: alembic's batch mode cannot rename a column given sqlmodel's
    # decorated types (UTCDateTime, AutoString).
    "amended_at": sa.DateTime(timezone=True),
    "client_id": sa.Uuid(),
    "client_name": sa.String(length=200),
    "role": sa.String(length=32),
}
# Each table's ordering index, by the names of its columns before and after.
ORDER_INDEX = {
    "court_hearing_amendment": (
        "ix_court_hearing_amendment_order",
        ["court_hearing_id", "amended_at", "id"],
        ["court_hearing_id", "changed_at", "id"],
    ),
    "child_history": (
        "ix_child_history_order",
        ["child_id", "changed_at", "id"],
        ["child_id", "changed_at", "id"],
    ),
}


def upgrade() -> None:
    for table, columns in RENAMED.items():
        index, _, after = ORDER_INDEX[table]
        # Dropped and made again after the copy SQLite makes of the table (batch mode knows a
        # renamed column by its old name until then).
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
            for old, new in columns.items():
                batch_op.alter_column(
                    old,
                    new_column_name=new,
                    existing_type=TYPES[old],
                    existing_nullable=False,
                    nullable=old == "client_id",
                )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(index, after, unique=False)


def downgrade() -> None:
    # The old tables cannot say "made by the service itself": refuse rather than make a client up.
    bind = op.get_bind()
    for table in RENAMED:
        unnamed = bind.scalar(
            sa.text(f"SELECT count(*) FROM {table} WHERE changed_by_client_id IS NULL")
        )
        if unnamed:
            raise RuntimeError(
                f"{unnamed} rows of {table} were made by no client (demo data): delete them "
                "before downgrading."
            )
    for table, columns in RENAMED.items():
        index, before, _ = ORDER_INDEX[table]
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
            for old, new in columns.items():
                batch_op.alter_column(
                    new,
                    new_column_name=old,
                    existing_type=TYPES[old],
                    existing_nullable=old == "client_id",
                    nullable=False,
                )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(index, before, unique=False)
