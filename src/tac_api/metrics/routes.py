"""`GET /metrics`: Prometheus' text format, for the `monitoring` role and admins.

A role rather than a port of its own: one port to run and secure, and the token, its expiry and
its revocation work as every client's do (`tac-api clients create --role monitoring`). The page
holds counts and ages, never a person: no audit event. A scrape counts against its client's rate
limit like any request (every 15 s is 4 a minute, far inside it).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from tac_api.auth.schemas import Caller, Role
from tac_api.errors import problems
from tac_api.metrics import service
from tac_api.pipeline import requires
from tac_api.session import SessionDep

router = APIRouter(tags=["Monitoring"], responses=problems(401, 403, 422))

MetricsReader = Annotated[Caller, Depends(requires(Role.monitoring, personal_data=False))]


@router.get(
    "/metrics",
    summary="Figures for Prometheus",
    description="Requests by route template, method and status; latency; the database pool; "
    "rate-limited requests; idempotency conflicts; webhook deliveries; the age of the oldest "
    "pending webhook delivery; change-feed and event-publishing lag. Under several worker "
    'processes, every process\'s figures added up. See README, "Metrics".',
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus' text exposition format (version 0.0.4).",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def get_metrics(_: MetricsReader, session: SessionDep, request: Request) -> Response:
    page = await service.page(session, request.app.state.settings)
    return Response(page, media_type=service.CONTENT_TYPE)
