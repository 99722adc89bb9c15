"""A printable document, as one string of HTML: a header about her, sections of tables.

A small template of our own rather than a template engine: text is escaped unless it is `Html`
(markup this module made), so a value from a record can only ever print as typed. Names like
Siân O'Connor, or a title someone typed as `<script>`, come out as text. No scripts, no
fetches, no style attributes: the page is sent with a policy that allows its one style sheet
(by hash) and nothing else.
"""

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from zoneinfo import ZoneInfo

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
NOTHING = "\N{EN DASH}"  # an empty cell, as printed
UK = ZoneInfo("Europe/London")


class Html(str):
    """Markup made here: put into a page as it is. Anything else is text, and is escaped."""


def text(value: object) -> Html:
    return Html(escape(str(value), quote=True))


def html(value: object) -> Html:
    """Markup as it is, text escaped."""
    return value if isinstance(value, Html) else text(value)


def join(parts: Iterable[object], separator: str = "") -> Html:
    return Html(separator.join(html(part) for part in parts))


def tag(name: str, content: object = "", css_class: str | None = None) -> Html:
    """One element with its content (escaped unless it is markup). `name` and `css_class` are
    this module's callers' own words, never a record's."""
    opening = f'<{name} class="{css_class}">' if css_class else f"<{name}>"
    return Html(f"{opening}{html(content)}</{name}>")


def long_date(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def who_she_is(
    first_name: str, last_name: str, date_of_birth: date | None, prison_number: str | None
) -> list[tuple[str, object]]:
    """The header's first facts: her name, then her date of birth and prison number where the
    reader may know them. None: left out (a local authority knows of her only her name,
    prison, status and release date; the prison side and, through it, a court know more)."""
    facts: list[tuple[str, object]] = [("Name", f"{first_name} {last_name}")]
    if date_of_birth is not None:
        facts.append(("Date of birth", long_date(date_of_birth)))
    if prison_number is not None:
        facts.append(("Prison number", prison_number))
    return facts


def prepared_line(by: str, moment: datetime) -> str:
    """Who prepared a document and when, in UK time (the time the court keeps), said so."""
    local = moment.astimezone(UK)
    return f"Prepared by {by} on {long_date(local.date())} at {local:%H:%M} (UK time)"


# A4, printed: her name and the document's title on every page, and the page's number of all.
# The running header's text comes from the page's own header (`string-set`), never from a value
# written into the style sheet. Screens get the same page, narrower margins.
STYLE = """
@page { size: A4; margin: 22mm 16mm 20mm 16mm;
  @top-left { content: string(running); font-size: 8.5pt; color: #444; }
  @bottom-right { content: "Page " counter(page) " of " counter(pages); font-size: 8.5pt;
    color: #444; }
  @bottom-left { content: string(prepared); font-size: 8.5pt; color: #444; } }
html { font-family: "DejaVu Serif", Georgia, "Times New Roman", serif; color: #111;
  line-height: 1.35; }
body { margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 1.5em; margin: 0 0 0.3em; string-set: running content(text); }
h2 { font-size: 1.15em; margin-top: 1.4em; border-bottom: 1px solid #999;
  break-after: avoid; }
dl.about { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.15em 1em;
  margin: 0.5em 0 1em; }
dl.about dt { font-weight: bold; }
dl.about dd { margin: 0; }
p.prepared { string-set: prepared content(text); }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: 0.92em; }
th, td { border: 1px solid #999; padding: 0.3em 0.45em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.number, th.number { text-align: right; }
tfoot td { font-weight: bold; }
p.note { font-size: 0.9em; color: #333; }
* { overflow-wrap: anywhere; word-break: normal; }
WIDTHS
@media print {
  body { margin: 0; max-width: none; padding: 0; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
}
""".strip().replace("WIDTHS", " ".join(f"col.w{n} {{ width: {n}%; }}" for n in range(5, 101, 5)))
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# What the page may do: show itself with its own style sheet. No script of any kind runs (a
# value that got past the escaping could not run either), nothing is fetched, nothing sent.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'none'; style-src 'sha256-{STYLE_HASH}'; "
    "img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Column:
    heading: str
    # A share of the table's width, so that a long word wraps in its own column.
    width: int
    number: bool = False


def table(columns: Sequence[Column], rows: Iterable[Sequence[object]], footer: object = "") -> Html:
    """A table; each cell text (escaped) or markup. `footer`: rows of markup for a tfoot."""
    total = sum(column.width for column in columns)
    # Widths by class (in steps of 5%): the policy allows no style attribute.
    colgroup = tag(
        "colgroup",
        join(
            Html(f'<col class="w{max(1, round(20 * column.width / total)) * 5}">')
            for column in columns
        ),
    )
    head = join(
        tag("th", column.heading, "number" if column.number else None) for column in columns
    )
    body = join(
        tag(
            "tr",
            join(
                tag("td", cell, "number" if column.number else None)
                for column, cell in zip(columns, row, strict=True)
            ),
        )
        for row in rows
    )
    foot = tag("tfoot", footer) if footer else ""
    return tag("table", join([colgroup, tag("thead", tag("tr", head)), tag("tbody", body), foot]))


def about(facts: Sequence[tuple[str, object]]) -> Html:
    """Who the document is about: name, date of birth, numbers."""
    return tag(
        "dl", join(join([tag("dt", name), tag("dd", value)]) for name, value in facts), "about"
    )


def section(heading: str, *content: object) -> Html:
    return tag("section", join([tag("h2", heading), *content]))


def document(
    title: str, her_name: str, facts: Sequence[tuple[str, object]], prepared: str, *body: object
) -> str:
    """The whole page. `title` (ours) and `her_name` head every printed page; `prepared`: the
    line saying who prepared it and when, under the header and at the foot of every page."""
    heading = f"{title}: {her_name}"
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text(heading)}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
{tag("h1", heading)}
{about(facts)}
{tag("p", prepared, "prepared")}
</header>
<main>
{join(body, chr(10))}
</main>
</body>
</html>
"""
