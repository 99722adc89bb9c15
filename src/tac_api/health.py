from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from tac_api.errors import Problem, problems
from tac_api.migrations import SCHEMA_BEHIND, schema_behind

router = APIRouter(tags=["Health"])


class Health(BaseModel):
    status: str


class DatabaseUnavailable(Problem):
    status = 503


class SchemaNotReady(Problem):
    status = 503
    slug = "schema-behind"
    title = "The database schema is behind this version"


@router.get("/health", summary="The process is up")
async def get_health() -> Health:
    return Health(status="ok")


@router.get(
    "/health/ready",
    summary="The database answers, with the schema this version needs",
    responses=problems(503),
)
async def get_readiness(request: Request) -> Health:
    state = request.app.state
    behind = False
    try:
        async with state.engine.connect() as connection:
            if state.schema_current:
                await connection.execute(text("SELECT 1"))
            else:
                behind = await connection.run_sync(schema_behind)
    except Exception as exc:  # any failure to reach the database means not ready
        raise DatabaseUnavailable("The database cannot be reached.") from exc
    if behind:
        raise SchemaNotReady(SCHEMA_BEHIND[0].upper() + SCHEMA_BEHIND[1:] + ".")
    # Schemas only move forward under a running API: once current, only reachability is asked.
    state.schema_current = True
    return Health(status="ready")
