"""Delivering change events to the webhooks: in order per webhook, signed, retried, given up.

Any number of API processes (and `tac-api webhooks run`) may deliver from the same database.
A dispatcher claims webhooks with work to do (`FOR UPDATE SKIP LOCKED`, then a lease with a
token), so no two deliver to one webhook at once; the lease, not a row lock, keeps the claim,
because no transaction may stay open across an HTTP call. Each attempt is three steps:

1. a short transaction: the webhook's next event (its pending delivery, or a new one from its
   cursor), the attempt counted, its retry time set and the disclosure written to the audit
   trail, all before anything is sent (a process that dies mid-call leaves a delivery that
   is simply tried again later);
2. the address looked up and checked again (its name may have been repointed since), and the POST
   to the address checked, with no transaction and no connection held;
3. a short transaction recording the answer.

A webhook's events go out one at a time in position order: a later event waits while an earlier
one is retried, until it is delivered or given up (`failed`), so a receiver that applies them in
turn never sees them out of order, and one dead receiver cannot hold up the others. Delivery is
at least once: a receiver should ignore an event id it has already had.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tac_api import __version__
from tac_api.audit.models import AuditEvent
from tac_api.audit.schemas import Action, Outcome
from tac_api.changes.models import ChangeEvent
from tac_api.changes.schemas import to_public
from tac_api.config import Settings
from tac_api.db import utcnow
from tac_api.metrics.figures import WEBHOOK_DELIVERIES
from tac_api.webhooks.addresses import Refused, Resolver, Rules, system_resolver
from tac_api.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger("tac_api.webhooks")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
USER_AGENT = f"tac-api-webhooks/{__version__}"
# Who the audit trail says the events were disclosed to: the webhook, by its id.
AUDIT_ROLE = "webhook"
SCAN = 200  # events read at a time when looking past those of types a webhook did not ask for
EVENTS_PER_CLAIM = 50  # then the claim is given back, so that a busy webhook cannot hog a process
CLAIMS_PER_PASS = 20
CONCURRENT_WEBHOOKS = 8  # receivers posted to at once by one process (PostgreSQL)

Random = Callable[[], float]


@dataclass(frozen=True)
class Attempt:
    webhook_id: uuid.UUID
    delivery_id: uuid.UUID
    number: int
    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer at all
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.error is None


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`TAC-Signature`: HMAC-SHA256 with the shared secret over `<timestamp>.<raw body>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def retry_delay(attempts: int, settings: Settings, rng: Random = random.random) -> timedelta:
    """The wait after `attempts` failed attempts: doubling from the base up to the cap, then
    anywhere in its upper half, so that receivers coming back up are not hit all at once."""
    ceiling = min(
        settings.webhook_retry_max_seconds,
        settings.webhook_retry_base_seconds * 2 ** (attempts - 1),
    )
    return timedelta(seconds=ceiling / 2 + rng() * ceiling / 2)


def lease_for(settings: Settings) -> timedelta:
    """Long enough for one attempt and its two transactions, renewed at every attempt."""
    return timedelta(seconds=2 * settings.webhook_timeout_seconds + 30)


def new_client(settings: Settings) -> httpx.AsyncClient:
    # Redirects are not followed: the address was checked, its target was not.
    # Proxy variables are honoured: an egress proxy is how production should reach receivers.
    # No connection is kept for the next attempt: each connects to the address just checked, and
    # a connection (pooled by IP) verified for one host name is never reused for another.
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def _has_work(now: datetime) -> ColumnElement[bool]:
    """A retry that is due, or (with nothing pending) an event after its cursor."""
    pending = select(WebhookDelivery.id).where(
        WebhookDelivery.webhook_id == Webhook.id, WebhookDelivery.status == PENDING
    )
    due = pending.where(WebhookDelivery.next_attempt_at <= now)
    newer = select(ChangeEvent.position).where(
        ChangeEvent.local_authority_code == Webhook.local_authority_code,
        ChangeEvent.position > Webhook.cursor_position,
    )
    return or_(due.exists(), and_(~pending.exists(), newer.exists()))


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> tuple[list[uuid.UUID], uuid.UUID]:
    token = uuid.uuid4()
    async with sessionmaker() as session, session.begin():
        statement = (
            select(Webhook.id)
            .where(
                Webhook.active,
                or_(Webhook.lease_token.is_(None), Webhook.lease_expires_at < now),
                _has_work(now),
            )
            # The one served longest ago first.
            .order_by(Webhook.lease_expires_at.asc().nulls_first(), Webhook.id)
            .limit(CLAIMS_PER_PASS)
            # Another process's claim in progress is skipped, not waited for (PostgreSQL; SQLite
            # has one writer at a time anyway).
            .with_for_update(skip_locked=True, of=Webhook)
        )
        claimed = list(await session.scalars(statement))
        if claimed:
            await session.execute(
                update(Webhook)
                .where(Webhook.id.in_(claimed))
                .values(lease_token=token, lease_expires_at=now + lease_for(settings))
            )
    return claimed, token


async def release(
    sessionmaker: async_sessionmaker[AsyncSession],
    claimed: list[uuid.UUID],
    token: uuid.UUID,
    now: datetime,
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Webhook)
            .where(Webhook.id.in_(claimed), Webhook.lease_token == token)
            .values(lease_token=None, lease_expires_at=now)  # when it was last served
        )


async def _next_delivery(
    session: AsyncSession, webhook: Webhook, now: datetime
) -> WebhookDelivery | None:
    """A new delivery for the next event of its types after its cursor; the cursor moves past
    the events of other types on the way."""
    while True:
        rows = (
            await session.execute(
                select(ChangeEvent.position, ChangeEvent.event_id, ChangeEvent.event_type)
                .where(
                    ChangeEvent.local_authority_code == webhook.local_authority_code,
                    ChangeEvent.position > webhook.cursor_position,
                )
                .order_by(ChangeEvent.position)
                .limit(SCAN)
            )
        ).all()
        if not rows:
            return None
        for row in rows:
            if webhook.event_types is None or row.event_type in webhook.event_types:
                webhook.cursor_position = row.position
                delivery = WebhookDelivery(
                    webhook_id=webhook.id,
                    event_position=row.position,
                    event_id=row.event_id,
                    event_type=row.event_type,
                    created_at=now,
                    next_attempt_at=now,
                )
                session.add(delivery)
                await session.flush()
                return delivery
        webhook.cursor_position = rows[-1].position


def _finish(delivery: WebhookDelivery, status: str, now: datetime, error: str | None) -> None:
    delivery.status = status
    delivery.finished_at = now
    delivery.next_attempt_at = None
    delivery.error = error


class PassFailed(Exception):
    """Delivering to some webhooks failed in a pass (each logged); the others went ahead."""

    def __init__(self, webhooks: int) -> None:
        super().__init__(f"delivering to {webhooks} webhook(s) failed: see the log above")


GIVEN_UP = object()  # no attempt made, but the webhook's next event may go


async def _prepare(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    webhook_id: uuid.UUID,
    token: uuid.UUID,
    now: datetime,
    rng: Random,
) -> Attempt | object | None:
    """Step 1: the next attempt for this webhook, counted and audited before it is sent.
    None: nothing to send now (nothing new, a retry not yet due, or the claim lost)."""
    async with sessionmaker() as session, session.begin():
        webhook = await session.scalar(
            select(Webhook)
            .where(Webhook.id == webhook_id, Webhook.lease_token == token)
            .with_for_update()
        )
        if webhook is None or not webhook.active:
            return None
        webhook.lease_expires_at = now + lease_for(settings)
        delivery = await session.scalar(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == PENDING)
            .order_by(WebhookDelivery.event_position)
            .limit(1)
        )
        if delivery is None:
            delivery = await _next_delivery(session, webhook, now)
        if delivery is None or (
            delivery.next_attempt_at is not None and delivery.next_attempt_at > now
        ):
            return None
        if delivery.attempts >= settings.webhook_max_attempts:
            # The last attempt's answer was never recorded (its process stopped mid-call).
            _finish(delivery, FAILED, now, "gave up: no answer recorded for the last attempt")
            return GIVEN_UP
        event = await session.scalar(
            select(ChangeEvent).where(ChangeEvent.position == delivery.event_position)
        )
        if event is None:
            _finish(delivery, FAILED, now, "the event was erased with its case; not sent")
            return GIVEN_UP
        delivery.attempts += 1
        delivery.last_attempt_at = now
        # Set before sending: should this process stop mid-call, the attempt is retried then.
        delivery.next_attempt_at = now + retry_delay(delivery.attempts, settings, rng)
        body = to_public(event).model_dump_json().encode()
        await session.execute(
            insert(AuditEvent.__table__),
            {
                "occurred_at": now,
                "request_id": delivery.id.hex,  # the delivery's id: ties the row to its listing
                "client_id": webhook.id,
                "client_name": f"webhook of {webhook.local_authority_code}",
                "role": AUDIT_ROLE,
                "action": Action.disclose.value,
                "resource_type": event.resource_type,
                "resource_id": event.resource_id,
                "subject_id": event.mother_id,
                "outcome": Outcome.succeeded.value,
            },
        )
        timestamp = int(now.timestamp())
        return Attempt(
            webhook_id=webhook.id,
            delivery_id=delivery.id,
            number=delivery.attempts,
            url=webhook.url,
            body=body,
            headers={
                "Content-Type": "application/json",
                "TAC-Event-ID": str(event.event_id),
                "TAC-Event-Type": event.event_type,
                "TAC-Delivery-ID": str(delivery.id),
                "TAC-Delivery-Attempt": str(delivery.attempts),
                "TAC-Signature": signature(webhook.secret, timestamp, body),
            },
        )


def _describe(exc: Exception) -> str:
    """A short reason, never the exception's text (it could carry anything the receiver sent)."""
    if isinstance(exc, httpx.ConnectError):
        return "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the receiver broke off the HTTP exchange"
    return f"could not send ({type(exc).__name__})"


async def _send(
    client: httpx.AsyncClient, attempt: Attempt, rules: Rules, seconds: float
) -> Answer:
    """Step 2: the address checked again, then the POST to the address checked (never a second
    lookup, that a name server could answer differently). Only the status is read; the answer's
    body is never kept."""
    try:
        destination = await rules.check(attempt.url)
        request = destination.request(client, attempt.body, attempt.headers)
        async with asyncio.timeout(seconds):
            answer = await client.send(request, stream=True)
            await answer.aclose()
        status = answer.status_code
    except Refused as refused:
        return Answer(None, f"not sent: the url {refused.reason}")
    except (TimeoutError, httpx.TimeoutException):
        return Answer(None, f"no answer within {seconds:g} s")
    except Exception as exc:
        return Answer(None, _describe(exc))
    if 200 <= status < 300:
        return Answer(status, None)
    if 300 <= status < 400:
        return Answer(status, f"HTTP {status}: redirects are not followed")
    return Answer(status, f"HTTP {status}")


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    attempt: Attempt,
    answer: Answer,
    now: datetime,
) -> bool:
    """Step 3: the answer. True when the delivery is finished and the next event may go."""
    values: dict[str, object] = {"response_status": answer.status, "error": answer.error}
    finished = answer.delivered or attempt.number >= settings.webhook_max_attempts
    if finished:
        values |= {
            "status": DELIVERED if answer.delivered else FAILED,
            "finished_at": now,
            "next_attempt_at": None,
        }
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == attempt.delivery_id,
                WebhookDelivery.status == PENDING,
                WebhookDelivery.attempts == attempt.number,
            )
            .values(**values)
        )
    recorded = result.rowcount == 1  # type: ignore[attr-defined]
    if recorded:
        outcome = "delivered" if answer.delivered else "given_up" if finished else "retrying"
        WEBHOOK_DELIVERIES.labels(outcome).inc()
    # No row: someone else has moved it on (this process's claim ran out): leave it to them.
    return finished and recorded


async def deliver_to(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient,
    webhook_id: uuid.UUID,
    token: uuid.UUID,
    now: datetime,
    rng: Random,
    *,
    resolver: Resolver = system_resolver,
    stop: asyncio.Event | None = None,
) -> int:
    """This webhook's events in order, until one must wait for a retry, or until `stop` is set
    (the process is stopping: the attempt under way ends, no other starts): the attempts made."""
    rules = Rules.of(settings, resolver)
    sent = 0
    for _ in range(EVENTS_PER_CLAIM):
        if stop is not None and stop.is_set():
            break
        attempt = await _prepare(sessionmaker, settings, webhook_id, token, now, rng)
        if attempt is None:
            break
        if not isinstance(attempt, Attempt):  # given up without an attempt, and committed
            WEBHOOK_DELIVERIES.labels("given_up").inc()
            continue
        answer = await _send(client, attempt, rules, settings.webhook_timeout_seconds)
        sent += 1
        if not await _record(sessionmaker, settings, attempt, answer, now):
            break
    return sent


async def dispatch_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    client: httpx.AsyncClient | None = None,
    *,
    now: datetime | None = None,
    rng: Random = random.random,
    resolver: Resolver = system_resolver,
    strict: bool = False,
    stop: asyncio.Event | None = None,
) -> int:
    """One pass: claim the webhooks with something due, deliver to each in order, give them
    back. `now` decides what is due (tests move time on instead of sleeping), `resolver` how
    host names are looked up (tests answer themselves). Returns the number of attempts made;
    with `strict` (a one-off pass, whose caller must learn of it), raises PassFailed when
    delivering to any webhook failed. `stop` set: each webhook's attempt under way is the
    last, and the claims are given back at once (a stopping process must not keep its leases
    for a whole pass, up to EVENTS_PER_CLAIM slow receivers' answers each)."""
    now = now or utcnow()
    own_client = client is None
    http = client or new_client(settings)
    try:
        claimed, token = await claim(sessionmaker, settings, now)
        if not claimed:
            return 0
        # SQLite has one writer: webhooks one after the other there.
        bind = sessionmaker.kw.get("bind")
        sqlite = bind is not None and bind.dialect.name == "sqlite"
        limit = asyncio.Semaphore(1 if sqlite else CONCURRENT_WEBHOOKS)
        failed: list[uuid.UUID] = []

        async def deliver(webhook_id: uuid.UUID) -> int:
            async with limit:
                try:
                    return await deliver_to(
                        sessionmaker,
                        settings,
                        http,
                        webhook_id,
                        token,
                        now,
                        rng,
                        resolver=resolver,
                        stop=stop,
                    )
                except Exception:
                    log.exception("delivering to webhook %s failed; it is tried again", webhook_id)
                    failed.append(webhook_id)
                    return 0

        try:
            sent = sum(await asyncio.gather(*(deliver(webhook_id) for webhook_id in claimed)))
        finally:
            await release(sessionmaker, claimed, token, now)
        if strict and failed:
            raise PassFailed(len(failed))
        return sent
    finally:
        if own_client:
            await http.aclose()


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event,
    resolver: Resolver = system_resolver,
) -> None:
    """Deliver until `stop` is set: again at once after a pass that sent something, otherwise
    after TAC_WEBHOOK_POLL_SECONDS."""
    told = asyncio.create_task(_say_when_told(stop))
    try:
        async with new_client(settings) as client:
            while not stop.is_set():
                sent = 0
                try:
                    sent = await dispatch_once(
                        sessionmaker, settings, client, resolver=resolver, stop=stop
                    )
                except Exception:
                    log.exception(
                        "webhook delivery pass failed; trying again after the poll interval"
                    )
                if not sent:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), settings.webhook_poll_seconds)
    finally:
        if stop.is_set():
            await told  # said at once, whichever woke first
        else:
            told.cancel()


async def _say_when_told(stop: asyncio.Event) -> None:
    # An operator watching a slow stop (and a test) sees when delivery was told: from then on
    # no attempt starts, while the one under way may take up to TAC_WEBHOOK_TIMEOUT_SECONDS.
    await stop.wait()
    log.info("webhook delivery told to stop: the attempts under way finish, no other starts")
