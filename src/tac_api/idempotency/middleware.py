"""Keeping the answer to a POST whose Idempotency-Key completed (pure ASGI middleware)."""

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tac_api.idempotency import service
from tac_api.idempotency.service import Claim

log = logging.getLogger("tac_api.idempotency")
_KEY_HEADER = service.KEY_HEADER.encode()


class IdempotentAnswers:
    """Store a completed idempotent POST's answer before it is sent, then purge expired keys.

    The route's answer only exists once FastAPI has serialised it, after the request's session has
    committed (fastapi.routing: the function-scoped dependencies close when the endpoint returns,
    then the response is sent), so it is caught here, on its way out. Innermost: what is kept is
    the route's own answer, without the headers the outer middleware add to every response.
    A POST without the header passes straight through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not any(name == _KEY_HEADER for name, _ in scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        held: list[Message] = []
        completed: Claim | None = None

        async def keep(message: Message) -> None:
            nonlocal completed
            if message["type"] == "http.response.start":
                claim = state.get(service.CLAIM)
                completed = claim if claim is not None and claim.committed else None
            if completed is None:  # failed, or replayed: nothing to keep
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await _store(scope, completed, held)
                for kept in held:
                    await send(kept)

        await self.app(scope, receive, keep)
        if completed is not None:  # after the answer has gone: the client does not wait for it
            await _purge(scope)


async def _store(scope: Scope, claim: Claim, messages: list[Message]) -> None:
    start, bodies = messages[0], messages[1:]
    headers = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in start.get("headers", [])
        if name.decode("latin-1").lower() in service.KEPT_HEADERS
    }
    body = b"".join(message.get("body", b"") for message in bodies)
    try:
        await service.store_answer(
            scope["app"].state.read_sessionmaker, claim, start["status"], headers, body
        )
    except Exception:
        # The change is saved: the client still gets its answer now. A retry is told the first
        # request completed, and nothing runs twice.
        log.exception("could not keep the answer of a completed idempotent request")


async def _purge(scope: Scope) -> None:
    app = scope["app"]
    try:
        async with app.state.read_sessionmaker() as session:
            await service.purge_expired(session, app.state.settings.idempotency_key_hours)
    except Exception:
        log.exception("could not purge expired idempotency keys")
