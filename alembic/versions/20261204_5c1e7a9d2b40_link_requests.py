"""Link requests: a local authority asking to be linked to a mother it has no confirmed child of,
held until the prison side confirms or declines; change events that name no mother (an
authority told its request was declined or expired).

No backfill: an authority is linked to a mother while it has a child of hers, so the children
already recorded are the confirmed links.

Revision ID: 5c1e7a9d2b40
Revises: 30b16e2a4410
Create Date: 2026-12-04 23:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "5c1e7a9d2b40"
down_revision: str | None = "30b16e2a4410"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite rebuilds the table to change a column; its positions must keep never going back.
CHANGE_EVENT_KWARGS = {"sqlite_autoincrement": True}


def upgrade() -> None:
    op.create_table(
        "link_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "local_authority_code", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False
        ),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "mother_prison_number", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False
        ),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("child", sa.JSON(), nullable=True),
        sa.Column("decided_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("child_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_authority_code"],
            ["local_authority.dfe_number"],
            name=op.f("fk_link_request_local_authority_code_local_authority"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_request")),
    )
    with op.batch_alter_table("link_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_link_request_prison_number", ["mother_prison_number"], unique=False
        )
        batch_op.create_index(
            "uq_link_request_external_id", ["local_authority_code", "external_id"], unique=True
        )

    with op.batch_alter_table(
        "change_event", schema=None, table_kwargs=CHANGE_EVENT_KWARGS
    ) as batch_op:
        batch_op.alter_column("mother_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    # Events that name no mother cannot be kept where every event names one.
    op.execute("DELETE FROM change_event WHERE mother_id IS NULL")
    with op.batch_alter_table(
        "change_event", schema=None, table_kwargs=CHANGE_EVENT_KWARGS
    ) as batch_op:
        batch_op.alter_column("mother_id", existing_type=sa.Uuid(), nullable=False)

    with op.batch_alter_table("link_request", schema=None) as batch_op:
        batch_op.drop_index("uq_link_request_external_id")
        batch_op.drop_index("ix_link_request_prison_number")

    op.drop_table("link_request")
