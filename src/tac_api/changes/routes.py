from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role
from tac_api.changes import service
from tac_api.changes.schemas import ChangeFeed, cursor_of, to_public
from tac_api.errors import COMMON_PROBLEMS, InvalidInput, NotFound
from tac_api.pipeline import requires
from tac_api.reference.models import LocalAuthority
from tac_api.schemas import LocalAuthorityCode
from tac_api.session import SessionDep

router = APIRouter(prefix="/v1/sync", tags=["Sync"], responses=COMMON_PROBLEMS)

# A local authority's people and systems read their own authority's feed; an admin names one.
FeedReader = Annotated[Caller, Depends(requires(Role.la_practitioner, Role.la_system))]


async def _authority_of(session: AsyncSession, caller: Caller, local_authority: str | None) -> str:
    if caller.is_local_authority:
        assert caller.local_authority_code is not None
        if local_authority is not None and local_authority != caller.local_authority_code:
            raise NotFound(
                f"No change feed of local authority {local_authority} is visible to you."
            )
        return caller.local_authority_code
    # An admin reads one authority's feed at a time, as that authority would: there is no
    # feed of everything, which would interleave every authority's children.
    if local_authority is None:
        raise InvalidInput(
            "local_authority", "name the authority whose feed to read", location="query"
        )
    # Known, not necessarily current: an authority merged away keeps its past events.
    if await session.get(LocalAuthority, local_authority) is None:
        raise InvalidInput(
            "local_authority", f"unknown local authority {local_authority!r}", location="query"
        )
    return local_authority


@router.get(
    "/changes",
    summary="Your authority's change feed: what changed about your children, in order",
    description="Every change to a record concerning your children (court hearings, meetings, "
    "contact visits, parenting assessments) or their mother (her transfer, release, release "
    "date, evidence and release plan), oldest first, each once. Poll with `after` set to the "
    "last `next_cursor`: you see every later event exactly once and in order. `child_ids` "
    "lists your own children only. `data` holds the record's codes, dates and status after "
    "the change, and for an update `changed`, the names of those that changed; names and free "
    "text stay in the record (read it by `resource_id`). Types: `court-hearing.created`, "
    "`.updated`, `.outcome-recorded`, `.adjourned`, `.vacated`, `.cancelled`; "
    "`meeting.created`, `.updated`, `.adjourned`, `.vacated`, `.cancelled` (who decided and "
    "when, and an adjournment's new record and date, never the reason); `contact-visit.created`, "
    "`.updated`, `.status-changed`, `.outcome-recorded`; `parenting-assessment.created`, "
    "`.updated`, `.deleted`; `evidence.added`, `.updated`, `.deleted`; `release-plan.created`, "
    "`.updated`; `mother.transferred`, `.released`, `.release-date-changed`; and the decision "
    "on each of your link requests: `link-request.confirmed` (with her `mother_id` and your new "
    "child in `child_ids`), `.declined` and `.expired` (`mother_id` null). An admin names "
    "the authority (`local_authority`). Reading the feed is recorded in the audit trail as a "
    "disclosure of each record shown.",
)
async def list_changes(
    caller: FeedReader,
    session: SessionDep,
    request: Request,
    response: Response,
    after: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=512,
            description="`next_cursor` (or an event's `cursor`) from your last read; "
            "left out: from the first event.",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="Events per page (at most 1000).")
    ] = 100,
    local_authority: Annotated[
        LocalAuthorityCode | None,
        Query(description="The authority's DfE number: required for an admin; yours otherwise."),
    ] = None,
) -> ChangeFeed:
    position = service.decode_after(after)
    authority = await _authority_of(session, caller, local_authority)
    events, more = await service.feed(session, authority, position, limit)
    # Each event discloses the record it is about: one audit row per event, in one statement.
    audit.record_many(session, Action.disclose, "change_event", [])  # said, even if none
    for resource_type in sorted({event.resource_type for event in events}):
        audit.record_many(
            session,
            Action.disclose,
            resource_type,
            ((e.resource_id, e.mother_id) for e in events if e.resource_type == resource_type),
        )
    next_cursor = cursor_of(events[-1].position) if events else (after or cursor_of(position))
    if more:
        next_url = request.url.include_query_params(after=next_cursor, limit=limit)
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return ChangeFeed(items=[to_public(event) for event in events], next_cursor=next_cursor)
