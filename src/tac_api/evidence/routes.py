import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse

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


def wants_html(request: Request, format: str | None) -> bool:
    """`?format=` decides; otherwise the Accept header, when it prefers HTML to JSON (as a
    browser's does). Anything else, `*/*` included, gets JSON."""
    if format is not None:
        return format == "html"
    html = json = 0.0
    for part in request.headers.get("accept", "").split(","):
        media_type, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media_type = media_type.strip().lower()
        if media_type == "text/html":
            html = max(html, quality)
        elif media_type in ("application/json", "*/*", "application/*"):
            json = max(json, quality)
    return html > json


BUNDLE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "Her evidence bundle: JSON by default; a printable HTML document with "
        "`Accept: text/html` or `?format=html`.",
        "content": {
            "text/html": {
                "schema": {"type": "string"},
                "example": '<!DOCTYPE html><html lang="en-GB">...</html>',
            }
        },
    }
}


@router.get(
    "/v1/mothers/{mother_id}/evidence-bundle",
    summary="Her evidence in date order with totals, as JSON or as a printable document",
    description="What a court or local authority is given to read: her name, prison number, "
    "every item of evidence in date order, totals per category (items and hours), when it was "
    "generated, and who prepared it. Ask for HTML with `Accept: text/html` or "
    "`?format=html` (`?format=` wins over the header). Reading it is recorded as a disclosure.",
    responses=BUNDLE_RESPONSES,
)
async def get_evidence_bundle(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    request: Request,
    response: Response,
    format: Annotated[
        Literal["json", "html"] | None,
        Query(description="`html` for the printable document; JSON otherwise."),
    ] = None,
) -> EvidenceBundle:
    # Put together to be handed on: a disclosure of her and of each item, not a consultation
    # (the service notes it, or writes it with the read on PostgreSQL).
    found = await service.bundle(session, caller, mother_id)
    response.headers["Vary"] = "Accept"
    if not wants_html(request, format):
        return found
    return HTMLResponse(  # type: ignore[return-value]
        document.render(found),
        headers={
            "Content-Security-Policy": document.CONTENT_SECURITY_POLICY,
            "Content-Disposition": f'inline; filename="evidence-bundle-{mother_id}.html"',
            "Vary": "Accept",
        },
    )
