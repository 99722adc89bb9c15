from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from tac_api.errors import Problem, problems

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class DatabaseUnavailable(Problem):
    status = 503


@router.get("/health", summary="The process is up")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/health/ready",
    summary="The database answers",
    responses=problems(503),
)
async def ready(request: Request) -> Health:
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means not ready
        raise DatabaseUnavailable("The database cannot be reached.") from exc
    return Health(status="ready")
