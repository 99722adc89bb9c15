"""Domain errors and the one place they become RFC 9457 problem+json answers."""

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from tac_api.db import DATABASE_ERRORS, unavailable

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("tac_api")


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",  # case data must not sit in shared or browser caches
    "referrer-policy": "no-referrer",
    # Nothing here belongs in a frame; HSTS is ignored over plain HTTP, kept behind TLS.
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "strict-transport-security": "max-age=63072000",
}


class Problem(Exception):
    """A failure the caller can act on. Services raise these; one handler renders them."""

    status: int = 400
    slug: str | None = None  # None: the status code says it all ("about:blank")
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers


class NotFound(Problem):
    status = 404


class Unauthenticated(Problem):
    status = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(Problem):
    status = 403


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = "Conflicts with the current state"


class InvalidInput(Problem):
    """Input that is well-formed but breaks a rule (a date order, an unknown code)."""

    status = 422
    slug = "validation"
    title = "Request is not valid"

    def __init__(self, field: str, message: str, *, location: str = "body") -> None:
        super().__init__(
            f"{field}: {message}",
            errors=[{"location": location, "field": field, "message": message}],
        )

    @classmethod
    def raise_any(cls, problems: list[tuple[str, str]], location: str = "body") -> None:
        """Raise one answer listing every (field, message) broken, if there are any."""
        if problems:
            error = cls(*problems[0], location=location)
            error.errors = [{"location": location, "field": f, "message": m} for f, m in problems]
            error.detail = "; ".join(f"{f}: {m}" for f, m in problems)
            raise error


class TooManyRequests(Problem):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"This client has used its requests for now; retry in {retry_after_seconds} s.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


# A restart of PostgreSQL takes seconds; a client that waits this long and retries finds it
# back, or asks again, without hammering a service that cannot answer.
DATABASE_RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(Problem):
    """The database cannot be used now (down, restarting, unreachable, every connection busy):
    nothing was done, and the same request may be sent again (with its Idempotency-Key)."""

    status = 503
    slug = "database-unavailable"
    title = "The database is unavailable"

    def __init__(self, detail: str = "The database cannot be reached.") -> None:
        super().__init__(detail, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


class PreconditionRequired(Problem):
    status = 428
    slug = "precondition-required"
    title = "If-Match header required"


class PreconditionFailed(Problem):
    status = 412
    slug = "precondition-failed"
    title = "Record has changed since you read it"


def problem_body(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    instance: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:tac-api:problem:{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **kwargs: Any
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, **kwargs),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def field_name(loc: tuple[Any, ...]) -> str:
    """`carer.name`, `child_ids.0`: where in a body a value failed. Body models label the members
    of a union "" (tac_api.schemas), so that the member a value failed as is not named."""
    return ".".join(str(part) for part in loc if part != "")


def _field_path(loc: tuple[Any, ...]) -> tuple[str, str]:
    location = str(loc[0]) if loc else "body"
    field = field_name(loc[1:]) or location
    return location, field


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        exc.status,
        exc.detail,
        slug=exc.slug,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
        instance=request.url.path,
    )


def _without_null_alternatives(errors: Sequence[Any]) -> list[Any]:
    """A PATCH's field is `X | SkipJsonSchema[None]`: a value that is not a valid X also fails
    as null ("Input should be None"), which says nothing the X's own error does not."""
    located = [tuple(error.get("loc", ())) for error in errors]

    def explained_otherwise(index: int) -> bool:
        loc = located[index]
        return any(i != index and other[: len(loc)] == loc for i, other in enumerate(located))

    return [
        error
        for index, error in enumerate(errors)
        if error.get("type") != "none_required" or not explained_otherwise(index)
    ]


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in _without_null_alternatives(exc.errors()):
        location, field = _field_path(tuple(error.get("loc", ())))
        # Echo no input back: it may be personal data, and problem bodies end up in logs.
        errors.append({"location": location, "field": field, "message": error.get("msg", "")})
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(
        422,
        summary or "The request is not valid.",
        slug="validation",
        title="Request is not valid",
        errors=errors,
        instance=request.url.path,
    )


def allowed_methods(app: Any, path: str) -> list[str]:
    """Every method any route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for context in iter_route_contexts(app.routes):
        if context.path and context.methods and compile_path(context.path)[0].match(path):
            methods |= set(context.methods)
    return sorted(methods)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
    return problem_response(exc.status_code, detail, headers=headers, instance=request.url.path)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 for a database that cannot be used now (`db.unavailable`); anything else the
    database refused (a statement that is wrong, a constraint no service turned into a domain
    error) is a bug, raised on to `_on_unexpected`: 500, with its stack logged."""
    if not unavailable(exc):
        raise exc
    # One line, no stack: while the database is down every request says the same thing.
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.url.path,
        type(exc).__name__,
        extra={"request_id": getattr(request.state, "request_id", None)},
    )
    return await _on_problem(
        request, DatabaseUnavailable("The database is unavailable; nothing was done. Retry later.")
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    correlation_id = getattr(request.state, "correlation_id", None)
    log.exception(
        "unhandled error on %s %s",
        request.method,
        request.url.path,
        extra={"request_id": request_id, "correlation_id": correlation_id},
    )
    # Starlette answers unhandled errors outside every middleware: add what they would have.
    ids = {"x-request-id": request_id, "x-correlation-id": correlation_id}
    return problem_response(
        500,
        "Something went wrong on our side; it has been logged.",
        headers={
            **SECURITY_HEADERS,
            **{name: value for name, value in ids.items() if value},
            # Starlette raises the error on to the server after this answer, and the server
            # then drops the connection: said here, a keep-alive client opens a new one for
            # its next request instead of sending it into a closed socket.
            "connection": "close",
        },
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    # Inside the middleware (unlike Exception's handler): a 503 carries the request id and the
    # security headers, and keeps its connection open.
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)


class FieldError(BaseModel):
    location: str
    field: str
    message: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting the problem+json answers an operation can give."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }


# What any authenticated operation can answer.
COMMON_PROBLEMS = problems(401, 403, 404, 413, 422)
WRITE_PROBLEMS = problems(400, 409, 412, 428)  # 400: a body that is not JSON at all
