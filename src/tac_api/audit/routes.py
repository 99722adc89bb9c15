import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tac_api.audit import service
from tac_api.audit.models import AuditEvent
from tac_api.audit.schemas import Action, AuditEventPublic
from tac_api.errors import COMMON_PROBLEMS, InvalidInput
from tac_api.pagination import Page, PageQuery, fetch_page
from tac_api.pipeline import AuditReader
from tac_api.schemas import IsoDatetime
from tac_api.session import SessionDep

router = APIRouter(prefix="/v1/audit", tags=["Audit"], responses=COMMON_PROBLEMS)
ORDER = [AuditEvent.id]


@router.get("", summary="Who did what with whose records, oldest first")
async def list_audit_events(
    caller: AuditReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    subject_id: Annotated[
        uuid.UUID | None,
        Query(description="A mother (everything about her case) or any one record's id."),
    ] = None,
    client: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="A client's id or name."),
    ] = None,
    occurred_from: Annotated[
        IsoDatetime | None, Query(alias="from", description="From this time (inclusive).")
    ] = None,
    occurred_to: Annotated[
        IsoDatetime | None, Query(alias="to", description="Up to this time (exclusive).")
    ] = None,
) -> Page[AuditEventPublic]:
    if occurred_from and occurred_to and occurred_to <= occurred_from:
        raise InvalidInput("to", "must be after from", location="query")
    statement = service.search(subject_id, client, occurred_from, occurred_to)
    events, cursor = await fetch_page(session, statement, ORDER, page, request, response)
    # Reading the trail is itself on the trail: whose records an auditor looked into.
    service.record(session, Action.consult, "audit", None, subject_id)
    return Page[AuditEventPublic](
        items=[AuditEventPublic.model_validate(e) for e in events], next_cursor=cursor
    )
