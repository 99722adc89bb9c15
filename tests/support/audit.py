"""Reading the audit trail a request wrote, and an app whose audit writes can be made to fail."""

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tac_api.config import Settings
from tac_api.main import create_app
from tests.support.api import Api
from tests.support.sql import db_id

COLUMNS = "client_name, role, action, resource_type, resource_id, subject_id, outcome"


def trail(api: Api, response: Any) -> list[tuple[Any, ...]]:
    """The audit rows a response's request wrote, ids as strings."""
    rows = api.sql(
        f"SELECT {COLUMNS} FROM audit_event WHERE request_id = :r ORDER BY id",
        r=response.headers["X-Request-ID"],
    )
    return [tuple(_plain(v) for v in row) for row in rows]


def _plain(value: Any) -> Any:
    """UUIDs as their canonical text (SQLite hands raw SQL back 32 hex digits)."""
    if isinstance(value, uuid.UUID) or (isinstance(value, str) and len(value) == 32):
        return str(uuid.UUID(str(value)))
    return value


def audit_of(api: Api, record_id: str) -> list[tuple[str, str, str]]:
    """Every row naming this record, oldest first: (action, resource type, outcome)."""
    rows = api.sql(
        "SELECT action, resource_type, outcome FROM audit_event WHERE resource_id = :id "
        "ORDER BY id",
        id=db_id(api, record_id),
    )
    return [tuple(row) for row in rows]


async def audit_fails(*_: Any) -> None:
    raise RuntimeError("audit write failed")


def failing_app(api: Api) -> TestClient:
    """An app of its own, whose errors answer 500 rather than reach the test."""
    app = create_app(Settings(database_url=api.database_url, rate_limit_per_minute=0))
    return TestClient(app, raise_server_exceptions=False)
