"""Change feed positions are never handed out twice on SQLite: change_event's INTEGER primary
key becomes AUTOINCREMENT (without it, SQLite numbers a new row from the highest rowid left, so
erasing the latest events would reuse their positions and a feed reader standing there would
skip new events). PostgreSQL's BIGSERIAL never goes back: nothing to do there.

Revision ID: 34401ca8beab
Revises: 90093ce34bff
Create Date: 2026-11-23 06:27:58.462746

"""

from collections.abc import Sequence

from alembic import op

revision: str = "34401ca8beab"
down_revision: str | None = "90093ce34bff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _recreate(autoincrement: bool) -> None:
    # SQLite cannot alter a primary key: the table is copied into a new one, positions kept.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "change_event", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
