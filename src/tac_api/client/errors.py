"""What the client raises: the service's problem+json as a typed exception, or why no answer came.

Messages carry the status, the problem's title and detail, and the request id, never a request
or response body: the service's details echo no input, and a body may hold personal data.
"""

from http import HTTPStatus

import httpx
from pydantic import ValidationError

from tac_api.errors import FieldError, ProblemDetails


class TacApiError(Exception):
    """Anything the client could not do."""


class ConnectionFailed(TacApiError):
    """No answer from the service (connection refused or lost, timeout), after the retries."""


class UnexpectedAnswer(TacApiError):
    """A success status whose body or headers are not what the contract says."""


class ApiProblem(TacApiError):
    """The service refused the request: its RFC 9457 problem details, typed."""

    def __init__(self, problem: ProblemDetails, *, request_id: str | None = None) -> None:
        self.problem = problem
        self.request_id = request_id
        message = f"{problem.status} {problem.title}: {problem.detail}"
        super().__init__(f"{message} (request id {request_id})" if request_id else message)

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def title(self) -> str:
        return self.problem.title

    @property
    def detail(self) -> str:
        return self.problem.detail

    @property
    def type(self) -> str:
        return self.problem.type

    @property
    def errors(self) -> list[FieldError]:
        return self.problem.errors or []


class AuthenticationFailed(ApiProblem):
    """401: the token is unknown, expired or revoked."""


class NotAllowed(ApiProblem):
    """403: this client's role may not use the operation."""


class NotFound(ApiProblem):
    """404: no such record, or not one of this authority's (the service does not say which)."""


class Conflict(ApiProblem):
    """409: conflicts with the current state (or an Idempotency-Key's first request)."""


class PreconditionFailed(ApiProblem):
    """412: the record is not at the ETag sent in If-Match (or If-None-Match: * and it exists)."""


class InvalidRequest(ApiProblem):
    """422: the request breaks a rule; `errors` names each field."""


class RateLimited(ApiProblem):
    """429: the client's requests per minute are used up, still after the retries."""


class ServerError(ApiProblem):
    """5xx: the service, or a proxy in front of it, failed."""


_BY_STATUS: dict[int, type[ApiProblem]] = {
    401: AuthenticationFailed,
    403: NotAllowed,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    422: InvalidRequest,
    429: RateLimited,
}


def problem_of(response: httpx.Response) -> ApiProblem:
    """The typed error for a failed answer, whether or not its body is problem+json (a proxy's
    502 page is not)."""
    try:
        problem = ProblemDetails.model_validate_json(response.content)
    except ValidationError:
        status = response.status_code
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        problem = ProblemDetails(
            type="about:blank",
            title=phrase,
            status=status,
            detail=f"The server answered {status} without a problem description.",
        )
    status = response.status_code
    kind = ServerError if status >= 500 else _BY_STATUS.get(status, ApiProblem)
    return kind(problem, request_id=response.headers.get("x-request-id"))
