"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy per request)."""

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tac_api.errors import SECURITY_HEADERS, problem_response
from tac_api.metrics.figures import record_request


class BodySizeLimit:
    """Refuse request bodies over the limit with 413, whether or not Content-Length is honest.

    FastAPI's own `max_body_size` answers text/plain; every error here is problem+json.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger_for: dict[str, int] | None = None
    ) -> None:
        """`larger_for`: exact paths allowed a larger body (a sync batch of a thousand items)."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger_for = larger_for or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger_for.get(scope["path"], self.max_bytes)
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > max_bytes:
                    await self._refuse(scope, receive, send, max_bytes)
                    return
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked:  # no body, or one whose declared length the server holds it to
            await self.app(scope, receive, send)
            return
        seen = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    # Answer now, and tell the app the client has gone so it stops reading.
                    refused = True
                    await self._refuse(scope, receive, send, max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        response = problem_response(
            413, f"Request bodies are limited to {max_bytes} bytes.", instance=scope["path"]
        )
        await response(scope, receive, send)


_SECURITY_HEADERS = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + _SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)


REQUEST_ID_HEADER = b"x-request-id"
CORRELATION_ID_HEADER = b"x-correlation-id"
# What a caller's own id may be: short, and nothing that could break a log line or a header.
CALLERS_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
access_log = logging.getLogger("tac_api.access")


def callers_id(scope: Scope) -> str | None:
    """The caller's `X-Request-ID`, if sent once and made only of the allowed characters;
    anything else is ignored, never refused."""
    sent = [value for name, value in scope["headers"] if name == REQUEST_ID_HEADER]
    if len(sent) == 1 and CALLERS_ID.fullmatch(sent[0]):
        return sent[0].decode("ascii")
    return None


class RequestContext:
    """Give every request an id of ours (returned as `X-Request-ID`, written on its audit rows),
    and log one structured line per request when it ends.

    The audit trail holds our id only: one sent by the caller could carry a name into it, or
    pose as another request's. A caller's own id that fits `CALLERS_ID` is kept beside ours as
    the correlation id (answered as `X-Correlation-ID`, logged as `correlation_id`), so that an
    authority's sync run can be traced through our logs.

    The line holds ids only: the path (whose ids are UUIDs), never the query string, which can
    carry a name being searched for.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        correlation_id = callers_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["correlation_id"] = correlation_id
        ids = [(REQUEST_ID_HEADER, request_id.encode())]
        if correlation_id is not None:
            ids.append((CORRELATION_ID_HEADER, correlation_id.encode()))
        # None until an answer starts: a request cancelled first (its client gone, the shutdown's
        # grace over) was answered nothing, and is counted as such, not as a 500.
        status: int | None = None

        async def with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *ids]
            await send(message)

        try:
            await self.app(scope, receive, with_request_id)
        except Exception:
            # Raised before an answer: Starlette's outermost middleware answers it 500.
            if status is None:
                status = 500
            raise
        finally:
            seconds = time.perf_counter() - started
            record_request(scope, status, seconds)
            caller = state.get("caller")
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "correlation_id": correlation_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client_id": str(caller.client_id) if caller else None,
                    "role": caller.role.value if caller else None,
                },
            )
