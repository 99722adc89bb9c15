"""What both clients share: every operation as a `Call` (the request, and how to read its
answer), and the rule for trying again. The sync and async clients only send and wait."""

import email.utils
import logging
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Literal, NamedTuple, TypeVar, cast
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from tac_api import __version__
from tac_api.client.errors import ConnectionFailed, UnexpectedAnswer, problem_of
from tac_api.client.models import (
    ChangeFeed,
    DeliveryStatus,
    WebhookDeliveryPublic,
    WebhookPublic,
    WebhookWithSecret,
)
from tac_api.hearings.schemas import CourtHearingPublic
from tac_api.link_requests.schemas import LinkRequestForAuthority, LinkRequestStatus
from tac_api.meetings.schemas import MeetingPublic
from tac_api.pagination import Page
from tac_api.sync.schemas import (
    BATCH_LIMIT,
    BATCH_PATH,
    SyncBatchResult,
    SyncChild,
    SyncChildBatchItem,
    SyncCourtHearing,
    SyncedChild,
    SyncMeeting,
)

log = logging.getLogger("tac_api.client")

T = TypeVar("T")
R = TypeVar("R")
ModelT = TypeVar("ModelT", bound=BaseModel)

# pending: a child held as the authority's link request until the prison side confirms it (not
# a failure: the change feed says when it is decided).
SyncResult = Literal["created", "updated", "unchanged", "pending"]
IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Methods that may be sent again after the server might have acted on them: GET reads, PUT and
# DELETE leave the same state however often they run. A POST joins them when it carries an
# Idempotency-Key (every POST this client sends does). PATCH does not: it always sends If-Match,
# so a second attempt after a lost answer would only meet 412, which hides what happened.
SAFE_TO_REPEAT = frozenset({"GET", "PUT", "DELETE"})
# A gateway's answers for an upstream that failed, restarted or timed out.
GATEWAY_FAILURES = frozenset({502, 503, 504})


class Synced(NamedTuple, Generic[R]):
    """A PUT by the authority's own id: what it did (`Sync-Result`) and the record as it is now
    (for a pending child, the authority's link request holding it)."""

    result: SyncResult
    record: R

    @property
    def pending(self) -> bool:
        return self.result == "pending"


class SyncBatchAnswer(SyncBatchResult):
    """The batch's results, with the Idempotency-Key it was sent under (keep it to send the same
    batch again) and whether the service replayed its first answer to that key."""

    idempotency_key: str
    replayed: bool


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()  # a PATCH field left out, as opposed to one set to null


@dataclass(frozen=True)
class Call(Generic[T]):
    """One operation: the request (body encoded once, so that every attempt sends the same
    bytes under the same Idempotency-Key) and how to read a successful answer."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    ok: frozenset[int] = frozenset({200})
    content: bytes | None = None
    params: Mapping[str, str | int] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def safe_to_repeat(self) -> bool:
        return self.method in SAFE_TO_REPEAT or IDEMPOTENCY_KEY in self.headers


@dataclass(frozen=True)
class Retry:
    seconds: float


@dataclass(frozen=True)
class RetryPolicy:
    """When to send a request again, and after how long.

    Sent again: on no answer (connection refused or lost, a timeout) and on a gateway's 502, 503
    or 504, when the request is safe to repeat; on 429 (refused before anything ran) and on 409
    with Retry-After (another attempt under the same Idempotency-Key is still running), always.
    Never on any other 4xx: sending it again would be refused again.
    """

    retries: int = 4
    backoff: float = 0.5  # seconds before the first retry; doubled each time, with jitter
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is given up on, not slept through

    def after_error(
        self, call: Call[Any], attempt: int, error: httpx.TransportError
    ) -> float | None:
        if attempt >= self.retries or isinstance(error, httpx.UnsupportedProtocol):
            return None
        never_sent = isinstance(
            error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
        )
        if not (never_sent or call.safe_to_repeat):
            return None
        return self._backoff(attempt)

    def after_response(
        self, call: Call[Any], attempt: int, response: httpx.Response
    ) -> float | None:
        if attempt >= self.retries:
            return None
        status = response.status_code
        retry_after = _retry_after(response)
        if status == 429 or (status == 409 and retry_after is not None):
            pass
        elif not (status in GATEWAY_FAILURES and call.safe_to_repeat):
            return None
        if retry_after is None:
            return self._backoff(attempt)
        return retry_after if retry_after <= self.max_retry_after else None

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.backoff * 2**attempt)
        # Anywhere in the upper half: clients that failed together do not all come back at once.
        return ceiling / 2 + random.random() * ceiling / 2


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Core:
    """Settings and the steps of sending a Call that do not depend on sync or async."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        retries: int,
        backoff: float,
        max_backoff: float,
        max_retry_after: float,
    ) -> None:
        if not token:
            raise ValueError("a token is required (tac-api clients create ... --role la_system)")
        self.base_url = base_url.rstrip("/")
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"tac-api-client/{__version__}",
        }
        self.policy = RetryPolicy(retries, backoff, max_backoff, max_retry_after)

    def request_args(self, call: Call[Any]) -> dict[str, Any]:
        headers = dict(call.headers)
        if call.content is not None:
            headers["Content-Type"] = "application/json"
        return {
            "method": call.method,
            "url": call.path,
            "content": call.content,
            "params": dict(call.params) or None,
            "headers": headers,
        }

    def settle(
        self, call: Call[T], attempt: int, answer: httpx.Response | httpx.TransportError
    ) -> T | Retry:
        """The result of a successful answer, the wait before the next attempt, or the error."""
        if isinstance(answer, httpx.TransportError):
            delay = self.policy.after_error(call, attempt, answer)
            if delay is None:
                raise ConnectionFailed(
                    f"{call.method} {call.path}: no answer from {self.base_url} after "
                    f"{attempt + 1} attempt(s): {type(answer).__name__}"
                ) from answer
            reason = type(answer).__name__
        elif answer.status_code in call.ok:
            try:
                return call.read(answer)
            except (ValidationError, ValueError, KeyError) as exc:
                raise UnexpectedAnswer(
                    f"{call.method} {call.path}: the {answer.status_code} answer is not what "
                    f"the contract says ({type(exc).__name__})"
                ) from None
        else:
            delay = self.policy.after_response(call, attempt, answer)
            if delay is None:
                raise problem_of(answer)
            reason = str(answer.status_code)
        log.warning(
            "%s %s: %s; trying again in %.1f s (retry %d of %d)",
            call.method,
            call.path,
            reason,
            delay,
            attempt + 1,
            self.policy.retries,
        )
        return Retry(delay)

    def run(self, http: httpx.Client, call: Call[T], sleep: Callable[[float], None]) -> T:
        """Make the call on a blocking client, trying again as `settle` says."""
        attempt = 0
        while True:
            answer: httpx.Response | httpx.TransportError
            try:
                answer = http.request(**self.request_args(call))
            except httpx.TransportError as error:
                answer = error
            outcome = self.settle(call, attempt, answer)
            if not isinstance(outcome, Retry):
                return outcome
            sleep(outcome.seconds)
            attempt += 1


# The operations -----------------------------------------------------------------------------


def _segment(value: str | uuid.UUID) -> str:
    # The service refuses ids outside its pattern; quoting keeps a bad one from changing the path.
    return quote(str(value), safe="-._~:")


def _json(value: Any) -> bytes:
    # A model sends the fields set on it, not its defaults: a field an authority's system has
    # never sent keeps what the prison side recorded, so a default must not count as sent.
    if isinstance(value, BaseModel):
        return value.model_dump_json(exclude_unset=True).encode()
    return to_json(value)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    return value


def _model(kind: type[BaseModel]) -> Callable[[httpx.Response], Any]:
    return lambda response: kind.model_validate_json(response.content)


def _synced(
    kind: type[BaseModel], pending: type[BaseModel] | None = None
) -> Callable[[httpx.Response], Synced[Any]]:
    """`pending`: what a 202 with `Sync-Result: pending` holds, where a push may be held."""

    def read(response: httpx.Response) -> Synced[Any]:
        result = response.headers["Sync-Result"]
        if pending is not None and result == "pending" and response.status_code == 202:
            return Synced("pending", pending.model_validate_json(response.content))
        if result not in ("created", "updated", "unchanged") or response.status_code == 202:
            raise ValueError("Sync-Result")
        return Synced(cast(SyncResult, result), kind.model_validate_json(response.content))

    return read


def _etag(if_match: str | int) -> str:
    return f'"{if_match}"' if isinstance(if_match, int) else if_match


def _conditions(if_match: str | int | None, create_only: bool = False) -> dict[str, str]:
    headers = {"If-Match": _etag(if_match)} if if_match is not None else {}
    if create_only:
        headers["If-None-Match"] = "*"
    return headers


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def put_child(
    external_id: str,
    child: SyncChild | Mapping[str, Any],
    if_match: str | int | None,
    create_only: bool,
) -> Call[Synced[SyncedChild | LinkRequestForAuthority]]:
    return Call(
        "PUT",
        f"/v1/sync/children/{_segment(external_id)}",
        _synced(SyncedChild, pending=LinkRequestForAuthority),
        ok=frozenset({200, 201, 202}),
        content=_json(child),
        headers=_conditions(if_match, create_only),
    )


def batch_children(
    items: Sequence[SyncChildBatchItem | Mapping[str, Any]], idempotency_key: str | None
) -> Call[SyncBatchAnswer]:
    if not 1 <= len(items) <= BATCH_LIMIT:
        raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} children, not {len(items)}")
    key = idempotency_key or new_idempotency_key()

    def read(response: httpx.Response) -> SyncBatchAnswer:
        result = SyncBatchResult.model_validate_json(response.content)
        replayed = response.headers.get(REPLAYED, "").lower() == "true"
        return SyncBatchAnswer(**dict(result), idempotency_key=key, replayed=replayed)

    return Call(
        "POST",
        BATCH_PATH,
        read,
        content=_json({"items": [_plain(item) for item in items]}),
        headers={IDEMPOTENCY_KEY: key},
    )


def _put_synced(
    collection: str,
    external_id: str,
    body: BaseModel | Mapping[str, Any],
    if_match: str | int | None,
    public: type[ModelT],
) -> Call[Synced[ModelT]]:
    """Create or replace one of the authority's records by its own id (200 or 201)."""
    return Call(
        "PUT",
        f"/v1/sync/{collection}/{_segment(external_id)}",
        _synced(public),
        ok=frozenset({200, 201}),
        content=_json(body),
        headers=_conditions(if_match),
    )


def put_court_hearing(
    external_id: str, hearing: SyncCourtHearing | Mapping[str, Any], if_match: str | int | None
) -> Call[Synced[CourtHearingPublic]]:
    return _put_synced("court-hearings", external_id, hearing, if_match, CourtHearingPublic)


def put_meeting(
    external_id: str, meeting: SyncMeeting | Mapping[str, Any], if_match: str | int | None
) -> Call[Synced[MeetingPublic]]:
    return _put_synced("meetings", external_id, meeting, if_match, MeetingPublic)


def changes(after: str | None, limit: int) -> Call[ChangeFeed]:
    params: dict[str, str | int] = {"limit": limit}
    if after is not None:
        params["after"] = after
    return Call("GET", "/v1/sync/changes", _model(ChangeFeed), params=params)


def link_requests(
    status: LinkRequestStatus | None, cursor: str | None, limit: int | None
) -> Call[Page[LinkRequestForAuthority]]:
    return Call(
        "GET",
        "/v1/sync/link-requests",
        _model(Page[LinkRequestForAuthority]),
        params=_page_params(cursor, limit, status=status),
    )


def caught_up(page: ChangeFeed, limit: int) -> bool:
    """A page shorter than asked for: nothing more for now."""
    return len(page.items) < limit


def _page_params(cursor: str | None, limit: int | None, **more: str | None) -> dict[str, Any]:
    given = {"cursor": cursor, "limit": limit, **more}
    return {name: value for name, value in given.items() if value is not None}


def create_webhook(
    url: str,
    description: str | None,
    event_types: Sequence[str] | None,
    idempotency_key: str | None,
) -> Call[WebhookWithSecret]:
    body: dict[str, Any] = {"url": url}
    if description is not None:
        body["description"] = description
    if event_types is not None:
        body["event_types"] = list(event_types)
    return Call(
        "POST",
        "/v1/sync/webhooks",
        _model(WebhookWithSecret),
        ok=frozenset({201}),
        content=_json(body),
        headers={IDEMPOTENCY_KEY: idempotency_key or new_idempotency_key()},
    )


def webhooks(cursor: str | None, limit: int | None) -> Call[Page[WebhookPublic]]:
    return Call(
        "GET", "/v1/sync/webhooks", _model(Page[WebhookPublic]), params=_page_params(cursor, limit)
    )


def get_webhook(webhook_id: uuid.UUID | str) -> Call[WebhookPublic]:
    return Call("GET", f"/v1/sync/webhooks/{_segment(webhook_id)}", _model(WebhookPublic))


def update_webhook(
    webhook_id: uuid.UUID | str, if_match: str | int, changes: Mapping[str, Any]
) -> Call[WebhookPublic]:
    body = {name: value for name, value in changes.items() if value is not UNSET}
    return Call(
        "PATCH",
        f"/v1/sync/webhooks/{_segment(webhook_id)}",
        _model(WebhookPublic),
        content=_json(body),
        headers={"If-Match": _etag(if_match)},
    )


def rotate_webhook_secret(
    webhook_id: uuid.UUID | str, if_match: str | int, idempotency_key: str | None
) -> Call[WebhookWithSecret]:
    return Call(
        "POST",
        f"/v1/sync/webhooks/{_segment(webhook_id)}/secret",
        _model(WebhookWithSecret),
        headers={
            "If-Match": _etag(if_match),
            IDEMPOTENCY_KEY: idempotency_key or new_idempotency_key(),
        },
    )


def delete_webhook(webhook_id: uuid.UUID | str, if_match: str | int) -> Call[None]:
    return Call(
        "DELETE",
        f"/v1/sync/webhooks/{_segment(webhook_id)}",
        lambda response: None,
        ok=frozenset({204}),
        headers={"If-Match": _etag(if_match)},
    )


def deliveries(
    webhook_id: uuid.UUID | str,
    status: DeliveryStatus | None,
    cursor: str | None,
    limit: int | None,
) -> Call[Page[WebhookDeliveryPublic]]:
    return Call(
        "GET",
        f"/v1/sync/webhooks/{_segment(webhook_id)}/deliveries",
        _model(Page[WebhookDeliveryPublic]),
        params=_page_params(cursor, limit, status=status),
    )
