"""Webhooks: the one scoped statement, the rules of an address, and the deliveries' history."""

import secrets
import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.models import ChangeEvent
from tac_api.changes.schemas import cursor_of
from tac_api.db import touch
from tac_api.errors import InvalidInput
from tac_api.pagination import PageParams, decode_cursor, page_of
from tac_api.preconditions import check_if_match
from tac_api.reference.models import LocalAuthority
from tac_api.resources import Resource, apply_changes, get_visible, list_visible
from tac_api.webhooks import addresses
from tac_api.webhooks.addresses import Rules
from tac_api.webhooks.models import Webhook, WebhookDelivery
from tac_api.webhooks.schemas import (
    DeliveryStatus,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)

SECRET_PREFIX = "tac_whsec_"

WEBHOOKS = Resource(
    kind="webhook",
    model=Webhook,
    label="webhook",
    order=(Webhook.created_at, Webhook.id),
    subject=None,
    path="/v1/sync/webhooks",
)


def to_public(webhook: Webhook) -> WebhookPublic:
    return WebhookPublic.model_validate(
        {**webhook.model_dump(exclude={"secret"}), "cursor": cursor_of(webhook.cursor_position)}
    )


def with_secret(webhook: Webhook) -> WebhookWithSecret:
    return WebhookWithSecret.model_validate(
        {**to_public(webhook).model_dump(), "secret": webhook.secret}
    )


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)  # 256 random bits


async def check_url(url: str, rules: Rules) -> None:
    """The address's rules, its host name looked up now (see addresses): 422 naming `url`."""
    try:
        await rules.check(url)
    except addresses.Refused as refused:
        raise InvalidInput("url", refused.reason) from None


def _unique(event_types: list[str] | None) -> list[str] | None:
    return list(dict.fromkeys(event_types)) if event_types is not None else None


async def _authority_of(session: AsyncSession, caller: Caller, named: str | None) -> str:
    if caller.is_admin:
        if named is None:
            raise InvalidInput("local_authority_code", "name the authority it is for")
        found = await session.scalar(
            select(LocalAuthority.dfe_number).where(LocalAuthority.dfe_number == named)
        )
        if found is None:
            raise InvalidInput("local_authority_code", "is not a local authority's DfE number")
        return named
    assert caller.local_authority_code is not None
    if named is not None and named != caller.local_authority_code:
        raise InvalidInput("local_authority_code", "a local authority registers its own only")
    return caller.local_authority_code


async def create_webhook(
    session: AsyncSession, caller: Caller, data: WebhookCreate, rules: Rules
) -> Webhook:
    # Looked up before anything is read: no transaction waits on a name server.
    await check_url(data.url, rules)
    authority = await _authority_of(session, caller, data.local_authority_code)
    # From the latest event on: history is the change feed's to serve, not a flood of deliveries.
    latest = await session.scalar(
        select(func.max(ChangeEvent.position)).where(ChangeEvent.local_authority_code == authority)
    )
    webhook = Webhook(
        local_authority_code=authority,
        url=data.url,
        description=data.description,
        event_types=_unique(data.event_types),
        secret=new_secret(),
        cursor_position=latest or 0,
        created_by_client_id=caller.client_id,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def update_webhook(
    session: AsyncSession,
    caller: Caller,
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    if_match: str | None,
    rules: Rules,
) -> tuple[Webhook, dict[str, Any]]:
    """The webhook changed, and what changed (nothing: as it was, its version kept)."""
    changes = data.changes()
    if "url" in changes:
        # Looked up before the webhook is locked: no row waits on a name server.
        await check_url(changes["url"], rules)
    webhook = await get_visible(session, caller, WEBHOOKS, webhook_id, for_update=True)
    check_if_match(if_match, webhook.version)
    if "event_types" in changes:
        changes["event_types"] = _unique(changes["event_types"])
    changed = apply_changes(webhook, changes)
    await session.flush()
    return webhook, changed


async def rotate_secret(
    session: AsyncSession, caller: Caller, webhook_id: uuid.UUID, if_match: str | None
) -> Webhook:
    """A new secret, used from the next attempt on; the old one stops signing at once."""
    webhook = await get_visible(session, caller, WEBHOOKS, webhook_id, for_update=True)
    check_if_match(if_match, webhook.version)
    webhook.secret = new_secret()
    touch(webhook)
    await session.flush()
    return webhook


async def delete_webhook(
    session: AsyncSession, caller: Caller, webhook_id: uuid.UUID, if_match: str | None
) -> Webhook:
    webhook = await get_visible(session, caller, WEBHOOKS, webhook_id, for_update=True)
    check_if_match(if_match, webhook.version)
    # Its deliveries go with it (they say nothing without it); the audit trail keeps what was sent.
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    await session.execute(delete(Webhook).where(Webhook.id == webhook.id))
    return webhook


def search(caller: Caller, local_authority_code: str | None) -> Select[Any]:
    statement = list_visible(caller, WEBHOOKS)
    if local_authority_code is not None:
        statement = statement.where(Webhook.local_authority_code == local_authority_code)
    return statement


def deliveries(webhook_id: uuid.UUID, status: DeliveryStatus | None) -> Select[Any]:
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return statement


async def delivery_page(
    session: AsyncSession,
    webhook_id: uuid.UUID,
    status: DeliveryStatus | None,
    page: PageParams,
    request: Request,
    response: Response,
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first (the events' order, from the latest): what went wrong lately is on page 1."""
    statement = deliveries(webhook_id, status)
    if page.cursor:
        (before,) = decode_cursor(page.cursor, [WebhookDelivery.event_position])
        statement = statement.where(WebhookDelivery.event_position < before)
    statement = statement.order_by(WebhookDelivery.event_position.desc()).limit(page.limit + 1)
    rows = list(await session.scalars(statement))
    return page_of(rows, page, lambda delivery: delivery.event_position, request, response)
