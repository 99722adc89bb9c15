"""Health, as the API's own probes ask it (`/health`, `/health/ready`) and as the estate's do
(`/health/liveness`, `/health/readiness`, `/info`). None needs a token.

Only the database decides readiness: the estate's queue can be down while the API serves (a
prison event waits on the queue, or in its dead-letter queue), so its state shows in `/health`'s
details and never takes the API out of service."""

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from tac_api import __version__
from tac_api.config import Settings
from tac_api.errors import DatabaseUnavailable, Problem, problems
from tac_api.events.aws import client, in_thread
from tac_api.migrations import SCHEMA_BEHIND, schema_behind

router = APIRouter(tags=["Health"])


class QueueState(BaseModel):
    """What /health saw of a queue, at most TAC_EVENTS_HEALTH_CACHE_SECONDS ago."""

    name: str = Field(description="The queue's name (the last part of its URL).")
    reachable: bool = Field(description="False: no answer within TAC_EVENTS_HEALTH_SECONDS.")
    messages_waiting: int | None = Field(
        default=None,
        description="Messages waiting to be received (on a dead-letter queue: dead letters).",
    )
    messages_in_flight: int | None = Field(
        default=None, description="Messages received and not yet deleted nor back on the queue."
    )


class Health(BaseModel):
    status: str


class HealthDetails(Health):
    events_queue: QueueState | None = Field(
        default=None, description="The queue of prison events, when TAC_EVENTS_QUEUE_URL is set."
    )
    events_dead_letter_queue: QueueState | None = Field(
        default=None,
        description="Its dead-letter queue, when TAC_EVENTS_DEAD_LETTER_QUEUE_URL is set: "
        "`messages_waiting` are the events that could not be applied.",
    )


class Build(BaseModel):
    name: str = "tac-api"
    version: str = Field(description="The package's version.")
    id: str | None = Field(default=None, description="The build's id (TAC_BUILD_ID), if set.")


class Commit(BaseModel):
    id: str


class Git(BaseModel):
    commit: Commit


class Info(BaseModel):
    build: Build
    git: Git | None = Field(default=None, description="The commit built (TAC_GIT_COMMIT), if set.")


class SchemaNotReady(Problem):
    status = 503
    slug = "schema-behind"
    title = "The database schema is behind this version"


ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]


class QueueWatch:
    """The queues' state for /health: one bounded look at a time, shown again for a while, so
    that however often /health is asked (and however long the queue takes to answer) it costs
    SQS one call per queue per TAC_EVENTS_HEALTH_CACHE_SECONDS and a request never hangs."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sqs: Any = None  # made on first use, off the event loop (boto3 reads files)
        self.lock = asyncio.Lock()
        self.seen: tuple[float, dict[str, QueueState | None]] | None = None

    def _fresh(self) -> dict[str, QueueState | None] | None:
        if self.seen is None:
            return None
        at, states = self.seen
        return states if time.monotonic() - at < self.settings.events_health_cache_seconds else None

    async def states(self) -> dict[str, QueueState | None]:
        if (states := self._fresh()) is not None:
            return states
        async with self.lock:  # others wait for this look rather than make their own
            if (states := self._fresh()) is not None:
                return states
            queue, dead = await asyncio.gather(
                self._look(self.settings.events_queue_url),
                self._look(self.settings.events_dead_letter_queue_url),
            )
            states = {"events_queue": queue, "events_dead_letter_queue": dead}
            self.seen = (time.monotonic(), states)
            return states

    async def _look(self, url: str | None) -> QueueState | None:
        if not url:
            return None
        name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or url
        try:
            if self.sqs is None:  # made here: a malformed endpoint is "not reachable" too
                quick = self.settings.events_health_seconds
                self.sqs = await in_thread(client, self.settings, "sqs", quick=quick)
            async with asyncio.timeout(self.settings.events_health_seconds):
                answer = await in_thread(
                    self.sqs.get_queue_attributes, QueueUrl=url, AttributeNames=ATTRIBUTES
                )
            counts = answer["Attributes"]
            return QueueState(
                name=name,
                reachable=True,
                messages_waiting=int(counts["ApproximateNumberOfMessages"]),
                messages_in_flight=int(counts["ApproximateNumberOfMessagesNotVisible"]),
            )
        except Exception:  # down, refused, timed out, not found: all say "not reachable"
            return QueueState(name=name, reachable=False)


def _queue_watch(app: FastAPI) -> QueueWatch | None:
    settings: Settings = app.state.settings
    if not settings.events_queue_url:
        return None
    watch: QueueWatch | None = getattr(app.state, "queue_watch", None)
    if watch is None:
        watch = app.state.queue_watch = QueueWatch(settings)
    return watch


@router.get(
    "/health",
    summary="The process is up; the estate's queue as last seen",
    response_model_exclude_none=True,
)
async def get_health(request: Request) -> HealthDetails:
    watch = _queue_watch(request.app)
    if watch is None:
        return HealthDetails(status="ok")
    return HealthDetails(status="ok", **await watch.states())


@router.get("/health/liveness", summary="The process answers (the database is not asked)")
async def get_liveness() -> Health:
    return Health(status="UP")


@router.get(
    "/health/ready",
    summary="The database answers, with the schema this version needs",
    responses=problems(503),
)
async def get_readiness(request: Request) -> Health:
    await _database_ready(request.app)
    return Health(status="ready")


@router.get(
    "/health/readiness",
    summary="The database answers, with the schema this version needs (the estate's probe)",
    description="As `/health/ready`. The estate's queue is not asked: a queue that is down "
    "shows in `/health` and never takes the API out of service.",
    responses=problems(503),
)
async def get_readiness_probe(request: Request) -> Health:
    await _database_ready(request.app)
    return Health(status="UP")


@router.get("/info", summary="Which build this is", response_model_exclude_none=True)
async def get_info(request: Request) -> Info:
    settings: Settings = request.app.state.settings
    git = Git(commit=Commit(id=settings.git_commit)) if settings.git_commit else None
    return Info(build=Build(version=__version__, id=settings.build_id), git=git)


async def _database_ready(app: Any) -> None:
    """503 unless the database answers with a schema this version can use."""
    state = app.state
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
