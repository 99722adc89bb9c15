"""Reading the papers a court reads: an HTML document's tables, and what its PDF prints.

No PDF reader is among the project's packages: a PDF's pages are counted from its own objects
(in its compressed object streams, as WeasyPrint writes them), and what is printed on them is
read from WeasyPrint's layout of the same HTML (its document API), page by page: the running
header and the page numbers included."""

import re
import zlib
from html.parser import HTMLParser
from typing import Any


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def cells(page: str, table: int = 0) -> list[list[str]]:
    """One table's rows (its heading row first), each cell's text as a reader sees it."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables[table]


def pdf_pages(body: bytes) -> int:
    """How many pages a PDF has: its /Type /Page objects, in the file or in its object
    streams."""
    assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF")
    found = [body]
    for match in re.finditer(rb"/ObjStm.*?stream\r?\n", body, re.S):
        start = match.end()
        end = body.index(b"endstream", start)
        found.append(zlib.decompress(body[start:end].rstrip(b"\r\n")))
    return sum(len(re.findall(rb"/Type\s*/Page(?![a-z])", part)) for part in found)


def _texts(box: Any) -> list[str]:
    shown = [box.text] if hasattr(box, "text") else []
    for child in getattr(box, "children", None) or []:
        shown += _texts(child)
    return shown


def printed(page: str) -> list[str]:
    """What each printed page shows (WeasyPrint's layout of the HTML), as one string a page."""
    from weasyprint import HTML

    document = HTML(string=page).render()
    return [" ".join(_texts(laid_out._page_box)) for laid_out in document.pages]
