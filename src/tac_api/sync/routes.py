from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.children import service as children
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS, InvalidInput, problem_body
from tac_api.hearings import service as hearings
from tac_api.hearings.schemas import CourtHearingPublic
from tac_api.http import set_etag
from tac_api.link_requests import service as link_requests
from tac_api.link_requests.schemas import LinkRequestForAuthority, for_authority
from tac_api.meetings import service as meetings
from tac_api.meetings.schemas import MeetingPublic
from tac_api.notice import late_notice_days
from tac_api.pipeline import AuthoritySystem, IdempotencyClaim
from tac_api.resources import Resource
from tac_api.session import SessionDep
from tac_api.sync import children as pushed_children
from tac_api.sync import service
from tac_api.sync.schemas import (
    BATCH_LIMIT,
    BATCH_PATH,
    EXTERNAL_ID_PATTERN,
    SyncBatchResult,
    SyncChild,
    SyncChildBatchItem,
    SyncCourtHearing,
    SyncedChild,
    SyncMeeting,
)

router = APIRouter(tags=["Sync"], responses=COMMON_PROBLEMS)

ExternalIdPath = Annotated[
    str,
    Path(
        pattern=EXTERNAL_ID_PATTERN,
        description="Your own id for the record: letters, digits and . _ : - (at most 64).",
    ),
]
IfMatchSync = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=256,
        description="Optional: change the record only if it is still at this ETag (412 if not, "
        "or if there is no such record yet).",
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=256,
        description="`*`: create only; 412 if the record already exists (or, given ETags, if it "
        "is at one of them).",
    ),
]


def created_or_updated(model: type[Any]) -> dict[int | str, dict[str, Any]]:
    """A PUT by the authority's id answers 201 or 200, with the record either way."""
    return {
        status.HTTP_201_CREATED: {"description": "Created", "model": model},
        status.HTTP_200_OK: {"description": "Updated, or unchanged (the same body again)"},
    }


PENDING = {
    status.HTTP_202_ACCEPTED: {
        "description": "Pending (`Sync-Result: pending`): your authority has no confirmed child "
        "of the mother named, so the child is held as your link request until her prison's "
        "social worker confirms it; the body is your request (the same whether or not the "
        "service knows the prison number). The change feed tells you the decision.",
        "model": LinkRequestForAuthority,
    }
}


def _answer(response: Response, result: str, location: str, version: int) -> None:
    response.status_code = status.HTTP_201_CREATED if result == "created" else status.HTTP_200_OK
    response.headers["Location"] = location
    response.headers["Sync-Result"] = result
    set_etag(response, version)


@router.put(
    "/v1/sync/children/{external_id}",
    summary="Create or update one of your authority's children, by your own id",
    responses={**WRITE_PROBLEMS, **created_or_updated(SyncedChild), **PENDING},
)
async def put_child(
    external_id: ExternalIdPath,
    body: SyncChild,
    caller: AuthoritySystem,
    session: SessionDep,
    response: Response,
    if_match: IfMatchSync = None,
    if_none_match: IfNoneMatch = None,
) -> SyncedChild | LinkRequestForAuthority:
    """Idempotent: the same body twice leaves one record, answers the same, and the second
    time changes nothing (`Sync-Result: unchanged`). Her prison number links the child to her
    once your authority is linked to her (a child of hers confirmed by the prison side, or
    recorded by it in your authority); until then the child is held as a link request (202,
    `Sync-Result: pending`), as it is for a prison number no mother has: you see your request,
    and nothing of her. A declined request answers 409 while you name the same prison number.
    A field your system has never sent for this child keeps what the prison side recorded
    (`kept_from_prison_record`)."""
    # Only what was sent counts as sent: a field left to its default is not the authority's.
    sent = body.model_dump(exclude_unset=True)
    item = pushed_children.ChildItem(0, SyncChildBatchItem(external_id=external_id, **sent))
    (outcome,) = await pushed_children.upsert_children(
        session, caller, [item], if_match=if_match, if_none_match=if_none_match
    )
    if outcome.problem is not None:
        raise outcome.problem
    if outcome.request is not None:
        request = outcome.request
        asked = {**request, "mother_id": outcome.mother_id}
        audit.collected(session, link_requests.LINK_REQUESTS, asked)
        response.status_code = status.HTTP_202_ACCEPTED
        response.headers["Location"] = f"/v1/sync/link-requests/{request['id']}"
        response.headers["Sync-Result"] = "pending"
        return for_authority(request)
    row = pushed_children.outcome_row(outcome)
    _audit_pushed(session, children.CHILDREN, outcome.result, row)
    _answer(response, outcome.result, children.CHILDREN.location_of(row), row["version"])
    return SyncedChild(
        **children.to_public(caller, row).model_dump(), kept_from_prison_record=outcome.kept
    )


BATCH_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SyncChildBatch"}}},
}


def _batch_items(raw: bytes) -> list[Any]:
    """The batch's envelope: read here rather than by FastAPI, so that one bad item fails
    alone instead of failing the whole request."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput("body", "is not valid JSON") from exc
    if not isinstance(body, dict) or set(body) != {"items"}:
        raise InvalidInput("body", "send an object with one field, items")
    items = body["items"]
    if not isinstance(items, list) or not 1 <= len(items) <= BATCH_LIMIT:
        raise InvalidInput("items", f"send a list of 1 to {BATCH_LIMIT} children")
    return items


@router.post(
    BATCH_PATH,
    summary=f"Create or update up to {BATCH_LIMIT} of your authority's children at once",
    response_model=SyncBatchResult,
    responses=WRITE_PROBLEMS,
    openapi_extra={"requestBody": BATCH_BODY},
)
async def sync_children(
    request: Request, caller: AuthoritySystem, claim: IdempotencyClaim, session: SessionDep
) -> Response:
    """Each item is a PUT of one child (`external_id` inside it) and gets its own result:
    created, updated, unchanged, pending (held as your link request, with its
    `link_request_id`, as the PUT's 202), or failed with a problem naming its index. One bad
    item does not spoil the others; sending the same batch again changes nothing. Send an
    `Idempotency-Key` so that a retry after a lost answer replays it."""
    items, failed = pushed_children.parse_items(_batch_items(await request.body()))
    outcomes = sorted(
        [*failed, *await pushed_children.upsert_children(session, caller, items)],
        key=lambda outcome: outcome.index,
    )
    # The answer names ids and versions only: what was written is what is recorded. One act
    # for many records (and none for a batch that wrote nothing): by kind, in bulk.
    for result, action in (("created", Action.collect), ("updated", Action.alter)):
        audit.record_many(
            session,
            action,
            children.CHILDREN.kind,
            ((o.row["id"], o.row["mother_id"]) for o in outcomes if o.result == result and o.row),
        )
    audit.record_many(
        session,
        Action.collect,
        link_requests.LINK_REQUESTS.kind,
        ((o.request["id"], o.mother_id) for o in outcomes if o.request and o.result == "pending"),
    )
    counts = dict.fromkeys(("created", "updated", "unchanged", "pending", "failed"), 0)
    results = []
    for outcome in outcomes:
        counts[outcome.result] += 1
        results.append(
            {
                "index": outcome.index,
                "external_id": outcome.external_id,
                "result": outcome.result,
                "id": str(outcome.row["id"]) if outcome.row else None,
                "version": outcome.row["version"] if outcome.row else None,
                "link_request_id": str(outcome.request["id"])
                if outcome.request and outcome.result == "pending"
                else None,
                "kept_from_prison_record": outcome.kept,
                "problem": _problem(outcome, request) if outcome.problem else None,
            }
        )
    # Built here and sent as it is: a thousand results validated again on the way out would
    # cost more than writing them did. tests/test_sync.py holds it to SyncBatchResult.
    return Response(orjson.dumps({**counts, "results": results}), media_type="application/json")


def _problem(outcome: pushed_children.ChildOutcome, request: Request) -> dict[str, Any]:
    problem = outcome.problem
    assert problem is not None
    return problem_body(
        problem.status,
        f"item {outcome.index}: {problem.detail}",
        slug=problem.slug,
        title=problem.title,
        errors=problem.errors,
        instance=request.url.path,
    )


@router.put(
    "/v1/sync/court-hearings/{external_id}",
    summary="Create or update a court hearing about your children, by your own id",
    responses={**WRITE_PROBLEMS, **created_or_updated(CourtHearingPublic)},
)
async def put_court_hearing(
    external_id: ExternalIdPath,
    body: SyncCourtHearing,
    caller: AuthoritySystem,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchSync = None,
) -> CourtHearingPublic:
    """Idempotent, like the children's PUT. A moved date is kept in the hearing's amendments;
    how she attends and the outcome stay the prison side's. A hearing that will not go ahead:
    `status` (adjourned, vacated, cancelled) with who decided and why; adjourned, naming the
    new hearing by your id (`adjourned_to_external_id`), pushed first under that id."""
    result, hearing, child_ids = await service.put_court_hearing(
        session, caller, external_id, body, if_match
    )
    _audit_pushed(session, hearings.HEARINGS, result, hearing)
    _answer(response, result, hearings.HEARINGS.location_of(hearing), hearing.version)
    earlier = await hearings.adjourned_from(session, hearing.id)
    return hearings.to_public(hearing, child_ids, late_notice_days(request), earlier)


@router.put(
    "/v1/sync/meetings/{external_id}",
    summary="Create or update a meeting invitation about your children, by your own id",
    responses={**WRITE_PROBLEMS, **created_or_updated(MeetingPublic)},
)
async def put_meeting(
    external_id: ExternalIdPath,
    body: SyncMeeting,
    caller: AuthoritySystem,
    session: SessionDep,
    request: Request,
    response: Response,
    if_match: IfMatchSync = None,
) -> MeetingPublic:
    """Idempotent, like the children's PUT. Whether she attended stays the prison side's. A
    meeting that will not go ahead: `status` (adjourned, vacated, cancelled) with who decided
    and why; adjourned, naming the new meeting by your id (`adjourned_to_external_id`), pushed
    first under that id."""
    result, meeting = await service.put_meeting(session, caller, external_id, body, if_match)
    _audit_pushed(session, meetings.MEETINGS, result, meeting)
    _answer(response, result, meetings.MEETINGS.location_of(meeting), meeting.version)
    [shown] = await meetings.public_page(
        session, caller, [meeting], late_notice_days=late_notice_days(request)
    )
    return shown


def _audit_pushed(session: AsyncSession, resource: Resource[Any], result: str, record: Any) -> None:
    """A push that created the record collected it; one that changed nothing only showed it
    (the answer still shows the record: a consultation of it)."""
    if result == "created":
        audit.collected(session, resource, record)
    else:
        audit.altered(session, resource, record, changed=result == "updated")
