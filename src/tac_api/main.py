"""The application: routers, error handlers, middleware and the database engine's lifetime."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic.json_schema import models_json_schema

from tac_api import __version__
from tac_api.api_names import TAGS, operation_id
from tac_api.assessments.routes import router as assessments_router
from tac_api.audit.routes import router as audit_router
from tac_api.auth.dependencies import BEARER_SCHEME
from tac_api.auth.oidc import OidcVerifier
from tac_api.changes.routes import router as changes_router
from tac_api.children.routes import router as children_router
from tac_api.chronology.routes import router as chronology_router
from tac_api.communications.routes import router as communications_router
from tac_api.config import Settings, get_settings
from tac_api.consents.routes import router as consents_router
from tac_api.costs.routes import router as costs_router
from tac_api.db import load_models, make_engine, sessionmaker_for, transactional
from tac_api.docs import install_docs
from tac_api.errors import ProblemDetails, install_handlers, problems
from tac_api.events import consumer, publisher
from tac_api.evidence.routes import router as evidence_router
from tac_api.flags.routes import router as flags_router
from tac_api.groups.routes import router as groups_router
from tac_api.health import router as health_router
from tac_api.hearings.routes import router as hearings_router
from tac_api.idempotency import steps as idempotency
from tac_api.idempotency.service import document_key_header
from tac_api.link_requests.routes import router as link_requests_router
from tac_api.meetings.routes import router as meetings_router
from tac_api.metrics import service as metrics
from tac_api.metrics.routes import router as metrics_router
from tac_api.middleware import BodySizeLimit, RequestContext, SecurityHeaders
from tac_api.mothers.routes import router as mothers_router
from tac_api.organisations.routes import router as organisations_router
from tac_api.practitioners.routes import router as practitioners_router
from tac_api.reference.routes import router as reference_router
from tac_api.referrals.routes import router as referrals_router
from tac_api.release.routes import router as release_router
from tac_api.reports.routes import router as reports_router
from tac_api.reviews.routes import router as reviews_router
from tac_api.staff.routes import router as staff_router
from tac_api.subject_access.routes import router as subject_access_router
from tac_api.support_plans.routes import router as support_plans_router
from tac_api.sync.routes import router as sync_router
from tac_api.sync.schemas import BATCH_PATH, SyncChildBatch
from tac_api.tasks.routes import router as tasks_router
from tac_api.transfers.routes import router as transfers_router
from tac_api.visits.routes import router as visits_router
from tac_api.webhooks import dispatcher
from tac_api.webhooks.addresses import Resolver, system_resolver
from tac_api.webhooks.routes import router as webhooks_router
from tac_api.worklist.routes import router as worklist_router

DESCRIPTION = """\
Case liaison for Together a Chance: mothers in custody at HMP Eastwood Park and HMP Send, their
children, and the people and decisions around them.

Errors are RFC 9457 `application/problem+json`. Lists are keyset-paginated (`limit`, `cursor`,
`Link: rel="next"`). Every record has an `ETag`; every change to one (`PATCH`, `DELETE`, a status
change) needs `If-Match`. Every `POST` takes an optional `Idempotency-Key`, which makes retrying it
safe.
"""


def _openapi_with_problems(app: FastAPI) -> dict[str, Any]:
    """The generated schema, plus the problem+json model every error response refers to, and
    no trace of FastAPI's default (plain JSON) validation error, which this API never sends."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    _, definitions = models_json_schema(
        # The sync batch's body is read by its route (one bad item fails alone), so FastAPI
        # does not see its model: the contract is given it here.
        [(ProblemDetails, "serialization"), (SyncChildBatch, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in definitions["$defs"].items():
        schemas.setdefault(name, definition)  # FastAPI's rendering of a shared model stands
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schema["components"]["securitySchemes"] = {"HTTPBearer": BEARER_SCHEME}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and _needs_token(route.dependant):
            for method in route.methods:
                operation = schema["paths"][context.path][method.lower()]
                operation["security"] = [{"HTTPBearer": []}]
                # The caller dependency that reads the token also counts the client's rate
                # limit (pipeline): every such operation can answer 429.
                operation["responses"].setdefault("429", RATE_LIMITED)
                # Admitting the caller asks the database: every such operation can answer 503.
                operation["responses"].setdefault("503", DATABASE_UNAVAILABLE)
    document_key_header(schema)
    app.openapi_schema = schema
    return schema


RATE_LIMITED: dict[str, Any] = {
    **problems(429)[429],
    "description": "This client has used its requests for now (TAC_RATE_LIMIT_PER_MINUTE); "
    "retry after the seconds in Retry-After. Nothing was done.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before the next request is accepted.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}

DATABASE_UNAVAILABLE: dict[str, Any] = {
    **problems(503)[503],
    "description": "The database cannot be used now (down, restarting, or every connection "
    "busy); nothing was done. Retry after the seconds in Retry-After, with the same "
    "Idempotency-Key for a POST.",
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


def _needs_token(dependant: Dependant) -> bool:
    return any(
        hasattr(sub.call, "allowed_roles") or _needs_token(sub) for sub in dependant.dependencies
    )


def create_app(settings: Settings | None = None, resolver: Resolver | None = None) -> FastAPI:
    """`resolver`: how webhooks' host names are looked up (the system's, unless a test says)."""
    settings = settings or get_settings()
    resolver = resolver or system_resolver
    # At start, not in a background task no one watches.
    if settings.events_publish and not settings.events_topic_arn:
        raise publisher.NoTopic()
    if settings.events_consume and not settings.events_queue_url:
        raise ValueError("TAC_EVENTS_CONSUME is on but TAC_EVENTS_QUEUE_URL is not set")
    load_models()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything loaded at start-up (routes, models, compiled schemas) lives as long as the
        # process: move it out of the collector's way, so collections scan only request garbage.
        gc.freeze()
        stop = asyncio.Event()
        delivering = (
            asyncio.create_task(
                dispatcher.run(app.state.sessionmaker, settings, stop, app.state.resolver)
            )
            if settings.webhook_dispatch
            else None
        )
        publishing = (
            asyncio.create_task(publisher.run(app.state.sessionmaker, settings, stop))
            if settings.events_publish
            else None
        )
        consuming = (
            asyncio.create_task(consumer.run(app.state.sessionmaker, settings, stop))
            if settings.events_consume
            else None
        )
        try:
            yield
        finally:
            if publishing is not None:
                stop.set()
                # A pass cut short publishes its events again next time: nothing is lost.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(publishing, 10)
            if consuming is not None:
                stop.set()
                # A long poll under way ends within TAC_EVENTS_WAIT_SECONDS; a message handled
                # but not yet deleted comes back, harmlessly.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(consuming, settings.events_wait_seconds + 5)
            if delivering is not None:
                stop.set()
                # An attempt cut short is counted and retried later: waiting is a courtesy.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(delivering, settings.webhook_timeout_seconds + 5)
            await app.state.engine.dispose()
            metrics.process_stopped()

    app = FastAPI(
        title="tac-api",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        # FastAPI's pages load from a CDN: /docs is served whole by docs.py, and ReDoc not at all.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # Only the tests of report counting set this: the true counts, unperturbed (never from
    # the environment, so no deployment can publish them).
    app.state.exact_report_figures = False
    app.state.resolver = resolver
    # Creating the engine connects to nothing; the pool fills on first use.
    app.state.engine = make_engine(settings, pool=settings.database_pool, autocommit=True)
    app.state.sessionmaker = sessionmaker_for(transactional(app.state.engine))
    app.state.read_sessionmaker = sessionmaker_for(app.state.engine, read_only=True)
    app.state.schema_current = False  # until /health/ready has seen it (then kept: see there)
    # Made now, so that a missing or broken JWKS file stops the start rather than every request.
    app.state.oidc_verifier = OidcVerifier(settings) if settings.trusted_issuers() else None
    install_handlers(app)
    for router in (
        health_router,
        metrics_router,
        reference_router,
        mothers_router,
        children_router,
        practitioners_router,
        release_router,
        communications_router,
        assessments_router,
        evidence_router,
        referrals_router,
        reviews_router,
        meetings_router,
        visits_router,
        hearings_router,
        support_plans_router,
        consents_router,
        staff_router,
        groups_router,
        reports_router,
        chronology_router,
        changes_router,
        audit_router,
        subject_access_router,
        sync_router,
        link_requests_router,
        webhooks_router,
        costs_router,
        organisations_router,
        worklist_router,
        tasks_router,
        flags_router,
        transfers_router,
    ):
        app.include_router(router)
    install_docs(app)
    app.openapi = lambda: _openapi_with_problems(app)  # type: ignore[method-assign]
    idempotency.install(app)  # first: its middleware is the innermost
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger_for={BATCH_PATH: settings.max_batch_body_bytes},
    )
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "Idempotent-Replayed",
                "Link",
                "Location",
                "Retry-After",
                "X-Correlation-ID",
                "X-Request-ID",
            ],
        )
    app.add_middleware(RequestContext)  # outermost: even a refused body gets a request id
    return app
