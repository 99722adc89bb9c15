"""Reports: when the service began supporting each mother (backfilled from when her record was
made), a visit's reason as a code when it is called off, and the indexes the period reports seek by.

Revision ID: 30b16e2a4410
Revises: 919ce09b21a4
Create Date: 2026-12-03 08:02:49.543504

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "30b16e2a4410"
down_revision: str | None = "919ce09b21a4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_visit", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status_reason_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
        batch_op.create_index("ix_contact_visit_scheduled_at", ["scheduled_at"], unique=False)

    with op.batch_alter_table("contact_visit_status_change", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reason_code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.create_index(
            "ix_contact_visit_status_change_order", ["to_status", "changed_at"], unique=False
        )

    with op.batch_alter_table("mother", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supported_from", sa.Date(), nullable=True))
    # Until now the day her record was made is the best record of when support began: its
    # UTC day, whatever the server's time zone (SQLite keeps the UTC time as text).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE mother SET supported_from = (created_at AT TIME ZONE 'UTC')::date")
    else:
        op.execute("UPDATE mother SET supported_from = date(created_at)")
    with op.batch_alter_table("mother", schema=None) as batch_op:
        batch_op.alter_column("supported_from", existing_type=sa.Date(), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_mother_supported_from"), ["supported_from"], unique=False
        )

    with op.batch_alter_table("parenting_assessment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parenting_assessment_completed_on", ["completed_on"], unique=False
        )

    with op.batch_alter_table("prison_stay", schema=None) as batch_op:
        batch_op.create_index(
            "ix_prison_stay_prison_order", ["prison_code", "arrived_on"], unique=False
        )

    op.create_index(
        "ix_evidence_dated", "evidence", [sa.text("coalesce(completed_on, started_on)")]
    )


def downgrade() -> None:
    op.drop_index("ix_evidence_dated", table_name="evidence")
    with op.batch_alter_table("prison_stay", schema=None) as batch_op:
        batch_op.drop_index("ix_prison_stay_prison_order")

    with op.batch_alter_table("parenting_assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_parenting_assessment_completed_on")

    with op.batch_alter_table("mother", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mother_supported_from"))
        batch_op.drop_column("supported_from")

    with op.batch_alter_table("contact_visit_status_change", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_visit_status_change_order")
        batch_op.drop_column("reason_code")

    with op.batch_alter_table("contact_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_visit_scheduled_at")
        batch_op.drop_column("status_reason_code")
