"""Rows written straight to the database, below the API: for worlds whose records another
package's routes make (groups, onward referrals), or whose dates lie in a past the API refuses
(allocations ended long ago, a worker who left)."""

from typing import Any

from sqlalchemy import insert
from sqlmodel import SQLModel

from tests.support.api import Api


def row(model: type[SQLModel], **fields: Any) -> dict[str, Any]:
    """One row of `model` with its defaults (id, timestamps, version) and `fields`."""
    made = model(**fields)
    return {column.name: getattr(made, column.name) for column in model.__table__.columns}  # type: ignore[attr-defined]


def write(api: Api, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert the rows, in one transaction."""
    if not rows:
        return

    async def insert_all() -> None:
        async with api.client.app.state.engine.begin() as connection:  # type: ignore[attr-defined]
            await connection.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]

    api.client.portal.call(insert_all)  # type: ignore[union-attr]
