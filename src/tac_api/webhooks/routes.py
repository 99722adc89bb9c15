import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from tac_api.auth.schemas import Caller, Role
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.http import set_etag
from tac_api.pagination import Page, PageQuery
from tac_api.pipeline import IdempotencyClaim, requires
from tac_api.preconditions import IF_MATCH_PROBLEMS, IfMatchHeader
from tac_api.resources import get_visible, page_of
from tac_api.routing import answer_changed, answer_created, answer_erased
from tac_api.schemas import LocalAuthorityCode
from tac_api.session import SessionDep
from tac_api.webhooks import service
from tac_api.webhooks.addresses import Rules
from tac_api.webhooks.schemas import (
    DeliveryStatus,
    WebhookCreate,
    WebhookDeliveryPublic,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/v1/sync/webhooks", tags=["Sync"], responses=COMMON_PROBLEMS)

# A local authority's system (and an admin, for any authority). A webhook names no one, so its
# reads leave no audit rows; setting one up, changing or removing it does, since it decides
# where personal data goes. What each delivery disclosed is audited by the dispatcher.
WebhookKeeper = Annotated[Caller, Depends(requires(Role.la_system, personal_data=False))]


def _address_rules(request: Request) -> Rules:
    return Rules.of(request.app.state.settings, request.app.state.resolver)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an address to be sent your authority's changes as they happen",
    description="Events from now on (the change feed has what came before), one POST each, "
    "signed with the shared secret in this answer: it is shown this once. See the README for "
    "the headers and how to check the signature.",
    responses=WRITE_PROBLEMS,
)
async def create_webhook(
    body: WebhookCreate,
    caller: WebhookKeeper,
    claim: IdempotencyClaim,
    session: SessionDep,
    request: Request,
    response: Response,
) -> WebhookWithSecret:
    webhook = await service.create_webhook(session, caller, body, _address_rules(request))
    answer_created(session, response, service.WEBHOOKS, webhook)
    return service.with_secret(webhook)


@router.get("", summary="Your authority's webhooks (an admin: every authority's)")
async def list_webhooks(
    caller: WebhookKeeper,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    local_authority_code: Annotated[
        LocalAuthorityCode | None, Query(description="This authority's only.")
    ] = None,
) -> Page[WebhookPublic]:
    statement = service.search(caller, local_authority_code)
    webhooks, cursor = await page_of(session, service.WEBHOOKS, statement, page, request, response)
    return Page[WebhookPublic](items=[service.to_public(w) for w in webhooks], next_cursor=cursor)


@router.get("/{webhook_id}", summary="One webhook (never its secret)")
async def get_webhook(
    webhook_id: uuid.UUID, caller: WebhookKeeper, session: SessionDep, response: Response
) -> WebhookPublic:
    webhook = await get_visible(session, caller, service.WEBHOOKS, webhook_id)
    set_etag(response, webhook.version)
    return service.to_public(webhook)


@router.patch(
    "/{webhook_id}",
    summary="Change a webhook: its address, the types of event, or pause it",
    responses=WRITE_PROBLEMS,
)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    caller: WebhookKeeper,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchHeader = None,
) -> WebhookPublic:
    webhook, changed = await service.update_webhook(
        session, caller, webhook_id, body, if_match, _address_rules(request)
    )
    answer_changed(session, response, service.WEBHOOKS, webhook, changed)
    return service.to_public(webhook)


@router.post(
    "/{webhook_id}/secret",
    summary="Replace the shared secret: the new one signs from the next attempt on",
    description="The answer shows the new secret, this once; the old one stops at once. "
    "Deliveries the receiver refuses meanwhile are retried. It needs If-Match, as every change "
    "does: of two systems rotating at once, the second is told (412) rather than left holding a "
    "secret that no longer signs.",
    responses={**WRITE_PROBLEMS, **IF_MATCH_PROBLEMS},
)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID,
    caller: WebhookKeeper,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> WebhookWithSecret:
    webhook = await service.rotate_secret(session, caller, webhook_id, if_match)
    answer_changed(session, response, service.WEBHOOKS, webhook, changed=True)
    return service.with_secret(webhook)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a webhook and its delivery history",
    responses=IF_MATCH_PROBLEMS,
)
async def delete_webhook(
    webhook_id: uuid.UUID,
    caller: WebhookKeeper,
    session: SessionDep,
    if_match: IfMatchHeader = None,
) -> None:
    webhook = await service.delete_webhook(session, caller, webhook_id, if_match)
    answer_erased(session, service.WEBHOOKS, webhook)


@router.get(
    "/{webhook_id}/deliveries",
    summary="What was sent to a webhook, newest first: attempts, answers and retries",
)
async def list_webhook_deliveries(
    webhook_id: uuid.UUID,
    caller: WebhookKeeper,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    delivery_status: Annotated[
        DeliveryStatus | None, Query(alias="status", description="Only these.")
    ] = None,
) -> Page[WebhookDeliveryPublic]:
    webhook = await get_visible(session, caller, service.WEBHOOKS, webhook_id)
    deliveries, cursor = await service.delivery_page(
        session, webhook.id, delivery_status, page, request, response
    )
    return Page[WebhookDeliveryPublic](
        items=[WebhookDeliveryPublic.model_validate(d) for d in deliveries], next_cursor=cursor
    )
