import uuid

from fastapi import APIRouter, Request, Response, status

from tac_api import printing
from tac_api.documents import answer
from tac_api.errors import COMMON_PROBLEMS, WRITE_PROBLEMS
from tac_api.evidence import document, service
from tac_api.evidence.schemas import (
    EvidenceBundle,
    EvidenceCreate,
    EvidencePublic,
    EvidenceUpdate,
)
from tac_api.flags.service import flagged, with_flags
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import CaseReader, IdempotencyClaim, PrisonSide
from tac_api.preconditions import IF_MATCH_PROBLEMS, IfMatchHeader
from tac_api.resources import get_visible
from tac_api.routing import (
    answer_changed,
    answer_created,
    answer_erased,
    page_shown,
    show_visible,
)
from tac_api.session import SessionDep
from tac_api.tasks.service import record_erased

router = APIRouter(tags=["Evidence"], responses=COMMON_PROBLEMS)


@router.post(
    "/v1/mothers/{mother_id}/evidence",
    status_code=status.HTTP_201_CREATED,
    summary="Record evidence of her rehabilitation",
    responses=WRITE_PROBLEMS,
)
async def create_evidence(
    mother_id: uuid.UUID,
    body: EvidenceCreate,
    caller: PrisonSide,
    claim: IdempotencyClaim,
    session: SessionDep,
    response: Response,
) -> EvidencePublic:
    item = await service.create_evidence(session, caller, mother_id, body)
    answer_created(session, response, service.EVIDENCE, item)
    return await flagged(session, caller, service.EVIDENCE.kind, service.to_public(item), new=True)


@router.get("/v1/mothers/{mother_id}/evidence", summary="Her evidence, in date order")
async def list_evidence(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    paging: PagingQuery,
) -> Page[EvidencePublic]:
    await get_visible(session, caller, MOTHERS, mother_id)
    statement = service.search(caller, mother_id)
    items, cursor = await page_shown(session, service.EVIDENCE, statement, paging)
    shown = [service.to_public(item) for item in items]
    await with_flags(session, caller, service.EVIDENCE.kind, shown)
    return Page[EvidencePublic](items=shown, next_cursor=cursor)


@router.get("/v1/evidence/{evidence_id}", summary="One item of evidence")
async def get_evidence(
    evidence_id: uuid.UUID, caller: CaseReader, session: SessionDep, response: Response
) -> EvidencePublic:
    item = await show_visible(session, caller, service.EVIDENCE, evidence_id, response)
    return await flagged(session, caller, service.EVIDENCE.kind, service.to_public(item))


@router.patch(
    "/v1/evidence/{evidence_id}", summary="Change an item of evidence", responses=WRITE_PROBLEMS
)
async def update_evidence(
    evidence_id: uuid.UUID,
    body: EvidenceUpdate,
    caller: PrisonSide,
    session: SessionDep,
    response: Response,
    if_match: IfMatchHeader = None,
) -> EvidencePublic:
    item, changed = await service.update_evidence(session, caller, evidence_id, body, if_match)
    answer_changed(session, response, service.EVIDENCE, item, changed)
    return await flagged(session, caller, service.EVIDENCE.kind, service.to_public(item))


@router.delete(
    "/v1/evidence/{evidence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an item of evidence recorded in error",
    responses=IF_MATCH_PROBLEMS,
)
async def delete_evidence(
    evidence_id: uuid.UUID, caller: PrisonSide, session: SessionDep, if_match: IfMatchHeader = None
) -> None:
    item = await service.delete_evidence(session, caller, evidence_id, if_match)
    answer_erased(session, service.EVIDENCE, item)
    await record_erased(session, caller, (service.EVIDENCE.kind, item.id))


@router.get(
    "/v1/mothers/{mother_id}/evidence-bundle",
    summary="Her evidence in date order with totals, as JSON or as a printable document",
    description="What a court or local authority is given to read: her name, date of birth and "
    "prison number (not to a local authority: null), the court's case numbers of her "
    "proceedings, every item of evidence in date order (ongoing items as ongoing), totals per "
    "category (items, hours recorded, and how many items have no hours recorded), when it was "
    "generated, and who prepared it. Ask for HTML with `Accept: text/html` or `?format=html`, "
    "for PDF (A4) with `Accept: application/pdf` or `?format=pdf` (`?format=` wins over the "
    "header). Reading it is recorded as a disclosure.",
    responses=printing.responses("Her evidence bundle"),
)
async def get_evidence_bundle(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    request: Request,
    response: Response,
    format: printing.FormatQuery = None,
) -> EvidenceBundle:
    # Put together to be handed on: a disclosure of her and of each item, not a consultation
    # (the service notes it, or writes it with the read on PostgreSQL).
    found = await service.bundle(session, caller, mother_id)
    response.headers["Vary"] = "Accept"
    wanted = printing.wanted(request, format)
    if wanted == "json":
        return found
    page = document.render(found, await answer.preparer(session, caller), found.generated_at)
    return await answer.document(  # type: ignore[return-value]
        wanted, page, "evidence-bundle", mother_id, found.generated_at
    )
