"""Answers that are also printable documents: JSON, an HTML page, or a PDF printed from it.

Shared by every route that answers in all three (her chronology and evidence bundle, the
reports): which one the caller asked for, how OpenAPI says so, the PDF made from the HTML, and
the answer with its headers. The PDF is the HTML page printed by WeasyPrint: one page for both.
WeasyPrint fetches nothing (the pages link to nothing, and its fetcher refuses anything all the
same), and runs in a worker thread: a long document takes a moment to lay out, and other
requests go on.
"""

from typing import Annotated, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

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
    """The page printed by WeasyPrint, on the paper its own @page rules ask for (A4 when they
    say nothing: WeasyPrint's default)."""
    # Heavy to import: loaded when a PDF is first asked for, not with the app.
    from weasyprint import HTML as Printable
    from weasyprint import URLFetcher

    nothing = URLFetcher(allowed_protocols=frozenset())  # every URL refused, data: too
    return Printable(string=page, url_fetcher=nothing).write_pdf()


async def printable(format: Literal["html", "pdf"], page: str, name: str, policy: str) -> Response:
    """The page as HTML or as its PDF, `inline` under the file name `name`.<format>, with the
    page's Content-Security-Policy."""
    if format == "pdf":
        body: str | bytes = await run_in_threadpool(pdf, page)
        media_type = PDF
    else:
        body, media_type = page, f"{HTML}; charset=utf-8"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Security-Policy": policy,
            "Content-Disposition": f'inline; filename="{name}.{format}"',
            "Vary": "Accept",
        },
    )
