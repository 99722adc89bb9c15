import uuid

from fastapi import APIRouter, Request, Response, status

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.children import history, service
from tac_api.children.schemas import (
    ChildCreate,
    ChildHistoryEntryPublic,
    ChildPublic,
    ChildUpdate,
    FamilyView,
)
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.flags.service import flagged, with_flags
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PageQuery, fetch_page, link_next
from tac_api.pipeline import CaseReader, ChildRecordKeeper, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IfMatchHeader
from tac_api.resources import get_visible
from tac_api.routing import answer_changed, answer_created, show_visible
from tac_api.session import SessionDep

router = APIRouter(tags=["Children"], responses=COMMON_PROBLEMS)


@router.post(
    "/v1/mothers/{mother_id}/children",
    status_code=status.HTTP_201_CREATED,
    summary="Record one of her children (or a child she is expecting)",
    responses=WRITE_PROBLEMS,
)
async def create_child(
    mother_id: uuid.UUID,
    body: ChildCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> ChildPublic:
    child = await service.create_child(session, caller, mother_id, body)
    answer_created(session, response, service.CHILDREN, child)
    return await flagged(
        session, caller, "child", service.to_public(caller, child.model_dump()), new=True
    )


@router.get("/v1/mothers/{mother_id}/children", summary="Her children that are visible to you")
async def list_children(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
) -> Page[ChildPublic]:
    children, last = await service.children_page(session, caller, mother_id, page)
    await with_flags(session, caller, "child", children)
    return Page[ChildPublic](items=children, next_cursor=link_next(last, page, request, response))


@router.get("/v1/children/{child_id}", summary="One child's record")
async def get_child(
    child_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> ChildPublic:
    child = await show_visible(session, caller, service.CHILDREN, child_id, response)
    return await flagged(session, caller, "child", service.to_public(caller, child.model_dump()))


@router.patch(
    "/v1/children/{child_id}", summary="Change a child's record", responses=WRITE_PROBLEMS
)
async def update_child(
    child_id: uuid.UUID,
    body: ChildUpdate,
    caller: ChildRecordKeeper,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ChildPublic:
    child, changed = await service.update_child(session, caller, child_id, body, if_match)
    answer_changed(session, response, service.CHILDREN, child, changed)
    return await flagged(session, caller, "child", service.to_public(caller, child.model_dump()))


@router.get(
    "/v1/children/{child_id}/history",
    summary="Every change to a child's record: who, when, from which side, each field before "
    "and after",
)
async def list_child_history(
    child_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
) -> Page[ChildHistoryEntryPublic]:
    """Oldest first. A confidential placement's values (lives_with, placement_type, carer) are
    withheld as in the record: from all but the child's own authority, and from that authority
    too when they were another's (a child moved while placed confidentially)."""
    child = await get_visible(session, caller, service.CHILDREN, child_id)
    entries, cursor = await fetch_page(
        session, history.history_of(child.id), history.HISTORY_ORDER, page, request, response
    )
    audit.consulted(session, service.CHILDREN, [child])
    audit.record_many(
        session, Action.consult, "child_history", ((e.id, child.mother_id) for e in entries)
    )
    return Page[ChildHistoryEntryPublic](
        items=history.history_public(caller, child, entries), next_cursor=cursor
    )


@router.get(
    "/v1/mothers/{mother_id}/family",
    summary="Her children across every authority: households, separation, who is involved",
)
async def get_family(mother_id: uuid.UUID, caller: CaseReader, session: SessionDep) -> FamilyView:
    family = await service.family_view(session, caller, mother_id)
    # Her children's records from every authority, put together: a combination of records.
    shown = [*family.children, *family.unborn]
    audit.combined(session, MOTHERS, [{"id": mother_id}])
    audit.combined(session, service.CHILDREN, ({"id": c.id, "mother_id": mother_id} for c in shown))
    return family
