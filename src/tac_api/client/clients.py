"""The two clients: the same methods, one sending with httpx.Client, the other awaited with
httpx.AsyncClient. What a method sends and how its answer is read is in `core`, once."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from tac_api.changes.schemas import ChangeEventPublic
from tac_api.client import core
from tac_api.client.core import UNSET, Call, Core, Retry, SyncBatchAnswer, Synced
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
    SyncChild,
    SyncChildBatchItem,
    SyncCourtHearing,
    SyncedChild,
    SyncMeeting,
)

T = TypeVar("T")
ChildBody = SyncChild | Mapping[str, Any]
BatchItem = SyncChildBatchItem | Mapping[str, Any]
HearingBody = SyncCourtHearing | Mapping[str, Any]
MeetingBody = SyncMeeting | Mapping[str, Any]
WebhookId = uuid.UUID | str
DEFAULT_FEED_PAGE = 100


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class _Connection(Generic[HttpT, TransportT]):
    """What both clients hold: the service's address, token and retry policy (`Core`), and the
    httpx client that sends for them."""

    _http_class: type[HttpT]

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        transport: TransportT | None = None,
    ) -> None:
        self._core = Core(
            base_url,
            token,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
        )
        self._http: HttpT = self._http_class(
            base_url=self._core.base_url,
            headers=self._core.headers,
            timeout=timeout,
            transport=transport,
        )


class TacSyncClient(_Connection[httpx.Client, httpx.BaseTransport]):
    """A local authority's system talking to tac-api's sync endpoints (role `la_system`).

    Bodies may be the service's own models (`SyncChild`, ...) or plain dicts; a dict is sent as it
    is, and the service says what is wrong with it. Answers are the service's models. A refusal
    raises a subclass of `ApiProblem` (`InvalidRequest`, `PreconditionFailed`, ...) carrying
    the problem details; no answer at all, after the retries, raises `ConnectionFailed`.

    Retries (`retries` times at most, waiting `backoff` seconds, doubled each time, or what the
    service's Retry-After says): see `core.RetryPolicy`. Every POST carries an Idempotency-Key,
    the same on every attempt, so a batch that landed before its answer was lost is replayed,
    not applied twice.
    """

    _http_class = httpx.Client
    _sleep = staticmethod(time.sleep)

    def _run(self, call: Call[T]) -> T:
        return self._core.run(self._http, call, self._sleep)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # Pushing the authority's records, by its own ids.

    def put_child(
        self,
        external_id: str,
        child: ChildBody,
        *,
        if_match: str | int | None = None,
        create_only: bool = False,
    ) -> Synced[SyncedChild | LinkRequestForAuthority]:
        """Create or replace one child (`PUT /v1/sync/children/{external_id}`): (result, child).
        `if_match`: only if still at that ETag or version; `create_only`: only if new.
        Result `pending` (not an error): the mother is not yet linked to your authority, and the
        record is your link request holding the child until her prison confirms it."""
        return self._run(core.put_child(external_id, child, if_match, create_only))

    def link_requests(
        self,
        *,
        status: LinkRequestStatus | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[LinkRequestForAuthority]:
        """Your authority's link requests (children held until the prison side confirms), a
        page at a time."""
        return self._run(core.link_requests(status, cursor, limit))

    def batch_children(
        self, items: Sequence[BatchItem], *, idempotency_key: str | None = None
    ) -> SyncBatchAnswer:
        """Up to 1,000 children at once, a result per item. Without a key, a new one (uuid4) is
        made; keep `answer.idempotency_key` to send the same batch again safely."""
        return self._run(core.batch_children(items, idempotency_key))

    def put_court_hearing(
        self, external_id: str, hearing: HearingBody, *, if_match: str | int | None = None
    ) -> Synced[CourtHearingPublic]:
        """Create or replace a court hearing about the authority's children."""
        return self._run(core.put_court_hearing(external_id, hearing, if_match))

    def put_meeting(
        self, external_id: str, meeting: MeetingBody, *, if_match: str | int | None = None
    ) -> Synced[MeetingPublic]:
        """Create or replace a meeting invitation about the authority's children."""
        return self._run(core.put_meeting(external_id, meeting, if_match))

    # Reading what changed.

    def changes(self, after: str | None = None, *, limit: int = DEFAULT_FEED_PAGE) -> ChangeFeed:
        """One page of the change feed after `after` (from the start when None)."""
        return self._run(core.changes(after, limit))

    def iter_changes(
        self, after: str | None = None, *, limit: int = DEFAULT_FEED_PAGE
    ) -> Iterator[ChangeEventPublic]:
        """Every event after `after`, page by page, until caught up. Save each event's `cursor`
        once it is dealt with, and resume from the last one saved."""
        while True:
            page = self.changes(after, limit=limit)
            yield from page.items
            if core.caught_up(page, limit):
                return
            after = page.next_cursor

    # Webhooks.

    def create_webhook(
        self,
        url: str,
        *,
        description: str | None = None,
        event_types: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookWithSecret:
        """Register an address for the authority's events. The answer's `secret` is shown this
        once: keep it to check each delivery's signature (`verify_signature`)."""
        return self._run(core.create_webhook(url, description, event_types, idempotency_key))

    def webhooks(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[WebhookPublic]:
        """The authority's webhooks, a page at a time."""
        return self._run(core.webhooks(cursor, limit))

    def get_webhook(self, webhook_id: WebhookId) -> WebhookPublic:
        return self._run(core.get_webhook(webhook_id))

    def update_webhook(
        self,
        webhook_id: WebhookId,
        *,
        if_match: str | int,
        url: str = UNSET,
        description: str | None = UNSET,
        active: bool = UNSET,
        event_types: Sequence[str] | None = UNSET,
    ) -> WebhookPublic:
        """Change the fields given (`active=False` pauses it). `if_match`: its ETag or version."""
        changes = {
            "url": url,
            "description": description,
            "active": active,
            "event_types": event_types,
        }
        return self._run(core.update_webhook(webhook_id, if_match, changes))

    def rotate_webhook_secret(
        self, webhook_id: WebhookId, *, if_match: str | int, idempotency_key: str | None = None
    ) -> WebhookWithSecret:
        """A new secret, shown this once; the old one stops signing at once. `if_match`: its
        ETag or version."""
        return self._run(core.rotate_webhook_secret(webhook_id, if_match, idempotency_key))

    def delete_webhook(self, webhook_id: WebhookId, *, if_match: str | int) -> None:
        """Remove it and its delivery history. `if_match`: its ETag or version. A retry after a
        lost answer may meet NotFound."""
        self._run(core.delete_webhook(webhook_id, if_match))

    def deliveries(
        self,
        webhook_id: WebhookId,
        *,
        status: DeliveryStatus | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[WebhookDeliveryPublic]:
        """What was sent to the webhook, newest first, with its attempts."""
        return self._run(core.deliveries(webhook_id, status, cursor, limit))


class AsyncTacSyncClient(_Connection[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """`TacSyncClient`'s methods, awaited (`iter_changes` is an async iterator)."""

    _http_class = httpx.AsyncClient

    _sleep = staticmethod(asyncio.sleep)

    async def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            answer: httpx.Response | httpx.TransportError
            try:
                answer = await self._http.request(**self._core.request_args(call))
            except httpx.TransportError as error:
                answer = error
            outcome = self._core.settle(call, attempt, answer)
            if not isinstance(outcome, Retry):
                return outcome
            await self._sleep(outcome.seconds)
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def put_child(
        self,
        external_id: str,
        child: ChildBody,
        *,
        if_match: str | int | None = None,
        create_only: bool = False,
    ) -> Synced[SyncedChild | LinkRequestForAuthority]:
        return await self._run(core.put_child(external_id, child, if_match, create_only))

    async def link_requests(
        self,
        *,
        status: LinkRequestStatus | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[LinkRequestForAuthority]:
        return await self._run(core.link_requests(status, cursor, limit))

    async def batch_children(
        self, items: Sequence[BatchItem], *, idempotency_key: str | None = None
    ) -> SyncBatchAnswer:
        return await self._run(core.batch_children(items, idempotency_key))

    async def put_court_hearing(
        self, external_id: str, hearing: HearingBody, *, if_match: str | int | None = None
    ) -> Synced[CourtHearingPublic]:
        return await self._run(core.put_court_hearing(external_id, hearing, if_match))

    async def put_meeting(
        self, external_id: str, meeting: MeetingBody, *, if_match: str | int | None = None
    ) -> Synced[MeetingPublic]:
        return await self._run(core.put_meeting(external_id, meeting, if_match))

    async def changes(
        self, after: str | None = None, *, limit: int = DEFAULT_FEED_PAGE
    ) -> ChangeFeed:
        return await self._run(core.changes(after, limit))

    async def iter_changes(
        self, after: str | None = None, *, limit: int = DEFAULT_FEED_PAGE
    ) -> AsyncIterator[ChangeEventPublic]:
        while True:
            page = await self.changes(after, limit=limit)
            for event in page.items:
                yield event
            if core.caught_up(page, limit):
                return
            after = page.next_cursor

    async def create_webhook(
        self,
        url: str,
        *,
        description: str | None = None,
        event_types: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> WebhookWithSecret:
        return await self._run(core.create_webhook(url, description, event_types, idempotency_key))

    async def webhooks(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[WebhookPublic]:
        return await self._run(core.webhooks(cursor, limit))

    async def get_webhook(self, webhook_id: WebhookId) -> WebhookPublic:
        return await self._run(core.get_webhook(webhook_id))

    async def update_webhook(
        self,
        webhook_id: WebhookId,
        *,
        if_match: str | int,
        url: str = UNSET,
        description: str | None = UNSET,
        active: bool = UNSET,
        event_types: Sequence[str] | None = UNSET,
    ) -> WebhookPublic:
        changes = {
            "url": url,
            "description": description,
            "active": active,
            "event_types": event_types,
        }
        return await self._run(core.update_webhook(webhook_id, if_match, changes))

    async def rotate_webhook_secret(
        self, webhook_id: WebhookId, *, if_match: str | int, idempotency_key: str | None = None
    ) -> WebhookWithSecret:
        return await self._run(core.rotate_webhook_secret(webhook_id, if_match, idempotency_key))

    async def delete_webhook(self, webhook_id: WebhookId, *, if_match: str | int) -> None:
        await self._run(core.delete_webhook(webhook_id, if_match))

    async def deliveries(
        self,
        webhook_id: WebhookId,
        *,
        status: DeliveryStatus | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[WebhookDeliveryPublic]:
        return await self._run(core.deliveries(webhook_id, status, cursor, limit))


# One description of each method, read by help() and editors for both clients.
for _name, _method in vars(TacSyncClient).items():
    _twin = vars(AsyncTacSyncClient).get(_name)
    if callable(_method) and _twin is not None and _twin.__doc__ is None:
        _twin.__doc__ = _method.__doc__
