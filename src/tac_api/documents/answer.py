"""What the caller asked for (JSON, HTML or PDF), the PDF made from the HTML, and the answer.

The PDF is the HTML page printed by WeasyPrint: one template for both. WeasyPrint fetches
nothing (the page links to nothing, and its fetcher refuses anything all the same), and runs in
a worker thread: a long chronology takes a moment to lay out, and other requests go on.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from tac_api.auth.schemas import Caller
from tac_api.documents.page import CONTENT_SECURITY_POLICY
from tac_api.reference.models import LocalAuthority
from tac_api.staff.service import entry_signed_in_as

Format = Literal["json", "html", "pdf"]
HTML, PDF = "text/html", "application/pdf"
# Ties go to the first: JSON stays the default, and a browser asking for anything gets HTML.
_OFFERED: tuple[tuple[Format, frozenset[str]], ...] = (
    ("json", frozenset({"application/json", "*/*", "application/*"})),
    ("html", frozenset({HTML, "text/*"})),
    ("pdf", frozenset({PDF})),
)

FormatQuery = Annotated[
    Format | None,
    Query(
        description="`html` or `pdf` for the printable document; JSON otherwise. Wins over "
        "the Accept header."
    ),
]


def wanted(request: Request, format: Format | None) -> Format:
    """`?format=` decides; otherwise the Accept header's most preferred of JSON, HTML and PDF
    (a browser's prefers HTML). Anything else, or nothing, gets JSON: as the evidence bundle
    always has, an Accept the API cannot meet is answered in its default, not refused."""
    if format is not None:
        return format
    quality: dict[Format, float] = {}
    for part in request.headers.get("accept", "").split(","):
        media_type, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        media_type = media_type.strip().lower()
        for offered, media_types in _OFFERED:
            if media_type in media_types:
                quality[offered] = max(quality.get(offered, 0.0), weight)
    best: Format = "json"
    for offered, _ in _OFFERED:
        if quality.get(offered, 0.0) > quality.get(best, 0.0):
            best = offered
    return best


def responses(what: str) -> dict[int | str, dict[str, object]]:
    """The OpenAPI answer of a route that also answers as a document."""
    return {
        200: {
            "description": f"{what}: JSON by default; a printable document as HTML with "
            "`Accept: text/html` or `?format=html`, as PDF (A4) with `Accept: application/pdf` "
            "or `?format=pdf`.",
            "content": {
                HTML: {
                    "schema": {"type": "string"},
                    "example": '<!DOCTYPE html><html lang="en-GB">...</html>',
                },
                PDF: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


def pdf(page: str) -> bytes:
    """The page printed on A4 (its own @page rules), by WeasyPrint."""
    # Heavy to import: loaded when a PDF is first asked for, not with the app.
    from weasyprint import HTML as Printable
    from weasyprint import URLFetcher

    nothing = URLFetcher(allowed_protocols=frozenset())  # every URL refused, data: too
    return Printable(string=page, url_fetcher=nothing).write_pdf()


async def preparer(session: AsyncSession, caller: Caller) -> str:
    """Who prepared a document: the caller's name in the staff directory if she has an entry,
    else the name her client was registered with. Her own entry, read for her: not audited."""
    entry = await entry_signed_in_as(session, caller)
    return entry.name if entry is not None else caller.name


async def authority_names(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """The names of these local authorities (reference data), by DfE number: none asked, no
    statement."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await session.execute(
        select(LocalAuthority.dfe_number, LocalAuthority.name).where(
            LocalAuthority.dfe_number.in_(wanted)  # type: ignore[attr-defined]
        )
    )
    return {code: name for code, name in rows.all()}


async def document(
    format: Format, page: str, name: str, mother_id: uuid.UUID, generated_at: datetime
) -> Response:
    """The document as HTML or PDF. Its file name holds no one's name (a name is personal data,
    and file names end up in download folders, proxies' logs and e-mails): what it is, her id
    and when it was made, e.g. `chronology-<her id>-20261206-0930.pdf`."""
    stamp = f"{generated_at:%Y%m%d-%H%M}"
    extension = format
    if format == "pdf":
        body: str | bytes = await run_in_threadpool(pdf, page)
        media_type = PDF
    else:
        body, media_type = page, f"{HTML}; charset=utf-8"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "Content-Disposition": f'inline; filename="{name}-{mother_id}-{stamp}.{extension}"',
            "Vary": "Accept",
        },
    )
