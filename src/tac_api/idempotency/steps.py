"""The idempotency claim as a step of the request pipeline, and its wiring into the app.

Where the pieces are (all in this package):
- `steps` (here): the step a POST route declares (`claim: IdempotencyClaim`), the check that a
  route declared it, and `install`, which adds what follows to the app;
- `service`: claiming a key before the route runs, completing it in the route's transaction,
  releasing it when the route fails, replaying a stored answer, purging expired keys;
- `middleware.IdempotentAnswers`: storing a completed request's answer on its way out.
`session.get_session` calls `service.complete` before its commit and `service.release` after a
failure: the request's one transaction is where a key's completion stands or falls.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.idempotency import service
from tac_api.idempotency.middleware import IdempotentAnswers
from tac_api.metrics.figures import IDEMPOTENCY_CONFLICTS, IDEMPOTENCY_REPLAYS


def idempotency_claim() -> None:
    """Declares that the route's `Idempotency-Key` is claimed before it runs.

    The claim itself is made by the caller step (`pipeline`), on the short connection the caller
    was admitted on, so that a write never holds two connections and a POST without the header
    costs nothing; this marker is how that step knows the route asked for it.
    """


IdempotencyClaim = Annotated[None, Depends(idempotency_claim)]


def _declares(dependant: Dependant) -> bool:
    return any(sub.call is idempotency_claim or _declares(sub) for sub in dependant.dependencies)


# By id(route) (routes are not hashable), keeping the route alive so that its id is never reused.
_declared: dict[int, tuple[APIRoute, bool]] = {}


def declares_claim(route: object) -> bool:
    if not isinstance(route, APIRoute):
        return False
    known = _declared.get(id(route))
    if known is None:
        known = _declared[id(route)] = (route, _declares(route.dependant))
    return known[1]


async def claim_if_declared(request: Request, gate: AsyncSession, caller: Caller) -> None:
    """The claim step: only for a route that declares it (and only when the header is sent)."""
    if not declares_claim(request.scope.get("route")):
        return
    # Counted here, where every claim's outcome passes (/metrics): only a refusal or a replay
    # costs the count, on its way out.
    try:
        await service.claim(request, gate, caller)
    except service.AnswerReplayed:
        IDEMPOTENCY_REPLAYS.inc()
        raise
    except service.IdempotencyKeyInUse:
        IDEMPOTENCY_CONFLICTS.labels("in_progress").inc()
        raise
    except service.IdempotentRequestCompleted:
        IDEMPOTENCY_CONFLICTS.labels("completed").inc()
        raise
    except service.IdempotencyKeyReused:
        IDEMPOTENCY_CONFLICTS.labels("reused").inc()
        raise


def install(app: FastAPI) -> None:
    """A replayed answer is sent instead of running the route; a completed one is kept."""
    app.add_exception_handler(service.AnswerReplayed, service.replay)
    app.add_middleware(IdempotentAnswers)  # innermost: it keeps the route's own answer
