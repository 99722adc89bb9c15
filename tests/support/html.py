"""Reading the tables of a rendered report."""

from html.parser import HTMLParser


class Rows(HTMLParser):
    """Table rows with a data-key: their cells' text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self.key: str | None = None
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.key = dict(attrs).get("data-key")
            if self.key:
                self.rows[self.key] = []
        elif tag in ("th", "td") and self.key:
            self.rows[self.key].append("")
        elif tag == "svg":
            self.svgs += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self.key = None

    def handle_data(self, data: str) -> None:
        if self.key and self.rows[self.key]:
            self.rows[self.key][-1] += data
