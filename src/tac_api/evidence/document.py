"""The evidence bundle as a printable HTML document, for a court or a local authority to read.

A small template of our own rather than a template engine: every value that comes from a record
passes through `_text` (html.escape, quotes included) on its way in, and nothing else is put into
the page. Names like Siân O'Connor, or a title someone typed with `<` in it, print as typed.
"""

from datetime import date
from html import escape

from tac_api.evidence.schemas import CATEGORY_LABELS, EvidenceBundle, EvidencePublic

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

# No scripts, no fetches: a document to read and print. Sent with a CSP that allows only this.
STYLE = """
body { font-family: Georgia, "Times New Roman", serif; color: #111; margin: 2em auto;
       max-width: 60em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #999; }
dl.who { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.who dt { font-weight: bold; }
dl.who dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.95em; }
th, td { border: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.number, th.number { text-align: right; }
tfoot td { font-weight: bold; }
footer { margin-top: 2em; font-size: 0.9em; color: #333; }
@media print {
  body { margin: 0; max-width: none; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
}
""".strip()
NOTHING = "\N{EN DASH}"  # an empty cell, as printed
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
)


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def long_date(value: date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def hours_text(value: float | None) -> str:
    if value is None:
        return NOTHING
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _verification(item: EvidencePublic) -> str:
    if item.verified_by is None or item.verified_on is None:
        return "Not verified"
    return (
        f"{_text(item.verified_by.name)}, {_text(item.verified_by.role)}, "
        f"on {_text(long_date(item.verified_on))}"
    )


def _item_row(item: EvidencePublic) -> str:
    completed = long_date(item.completed_on) if item.completed_on else NOTHING
    return (
        "<tr>"
        f"<td>{_text(long_date(item.started_on))}</td>"
        f"<td>{_text(completed)}</td>"
        f"<td>{_text(CATEGORY_LABELS[item.category])}</td>"
        f"<td>{_text(item.title)}</td>"
        f"<td>{_text(item.provider or NOTHING)}</td>"
        f'<td class="number">{_text(hours_text(item.hours))}</td>'
        f"<td>{_verification(item)}</td>"
        "</tr>"
    )


def render(bundle: EvidenceBundle) -> str:
    """The whole document, as one string."""
    mother = bundle.mother
    name = f"{mother.first_name} {mother.last_name}"
    if bundle.items:
        items = (
            "<table><thead><tr><th>Started</th><th>Completed</th><th>Category</th>"
            '<th>What</th><th>Provider</th><th class="number">Hours</th><th>Verified</th>'
            "</tr></thead><tbody>"
            + "".join(_item_row(item) for item in bundle.items)
            + "</tbody></table>"
        )
    else:
        items = "<p>No evidence has been recorded.</p>"
    totals = "".join(
        f"<tr><td>{_text(CATEGORY_LABELS[total.category])}</td>"
        f'<td class="number">{_text(total.count)}</td>'
        f'<td class="number">{_text(hours_text(total.hours))}</td></tr>'
        for total in bundle.totals
    )
    generated = bundle.generated_at
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence of rehabilitation: {_text(name)}</title>
<style>
{STYLE}
</style>
</head>
<body>
<header>
<h1>Evidence of rehabilitation</h1>
<dl class="who">
<dt>Name</dt><dd>{_text(name)}</dd>
<dt>Prison number</dt><dd>{_text(mother.prison_number)}</dd>
<dt>Prison</dt><dd>{_text(mother.prison_name)}</dd>
</dl>
</header>
<main>
<section>
<h2>Evidence, in date order</h2>
{items}
</section>
<section>
<h2>Totals</h2>
<table>
<thead><tr><th>Category</th><th class="number">Items</th><th class="number">Hours</th></tr></thead>
<tbody>{totals}</tbody>
<tfoot><tr><td>All evidence</td><td class="number">{_text(bundle.total.count)}</td>
<td class="number">{_text(hours_text(bundle.total.hours))}</td></tr></tfoot>
</table>
</section>
</main>
<footer>
<p>Prepared by {_text(bundle.prepared_by)}. Generated on {_text(long_date(generated.date()))}
at {_text(f"{generated:%H:%M}")} UTC.</p>
</footer>
</body>
</html>
"""
