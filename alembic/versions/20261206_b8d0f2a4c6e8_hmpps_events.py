"""HMPPS domain events: the prison events applied to a mother's case (prison_event), the numbers
NOMIS merged into hers (prison_number_alias), the service's own events waiting for the estate's
topic (service_event) and how far publishing got (event_publication); and which prisons the
service works in (prison.served: a prison an event names may be one it does not).

Revision ID: b8d0f2a4c6e8
Revises: f7d9b1c3e5a8
Create Date: 2026-12-06 10:53:31.400275

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "b8d0f2a4c6e8"
down_revision: str | None = "f7d9b1c3e5a8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_publication",
        sa.Column("topic_arn", sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("topic_arn", name=op.f("pk_event_publication")),
    )
    op.create_table(
        "prison_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("occurred_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_prison_event_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prison_event")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_prison_event_fingerprint")),
    )
    with op.batch_alter_table("prison_event", schema=None) as batch_op:
        batch_op.create_index("ix_prison_event_mother", ["mother_id", "occurred_at"], unique=False)

    op.create_table(
        "prison_number_alias",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("prison_number", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=False),
        sa.Column("merged_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_prison_number_alias_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prison_number_alias")),
        sa.UniqueConstraint("prison_number", name=op.f("uq_prison_number_alias_prison_number")),
    )
    with op.batch_alter_table("prison_number_alias", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prison_number_alias_mother_id"), ["mother_id"], unique=False
        )

    op.create_table(
        "service_event",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("occurred_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("mother_id", sa.Uuid(), nullable=True),
        sa.Column("resource_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mother_id"],
            ["mother.id"],
            name=op.f("fk_service_event_mother_id_mother"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_service_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_service_event_event_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_event_mother_id"), ["mother_id"], unique=False)

    with op.batch_alter_table("prison", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("served", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    # The prisons shipped before are the service's own (the reference data says so from now on).
    op.execute("UPDATE prison SET served = true WHERE code IN ('EWI', 'SDI')")


def downgrade() -> None:
    with op.batch_alter_table("prison", schema=None) as batch_op:
        batch_op.drop_column("served")

    with op.batch_alter_table("service_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_event_mother_id"))

    op.drop_table("service_event")
    with op.batch_alter_table("prison_number_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prison_number_alias_mother_id"))

    op.drop_table("prison_number_alias")
    with op.batch_alter_table("prison_event", schema=None) as batch_op:
        batch_op.drop_index("ix_prison_event_mother")

    op.drop_table("prison_event")
    op.drop_table("event_publication")
