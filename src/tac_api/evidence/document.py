"""The evidence bundle as papers a court or a local authority reads (HTML, and PDF from it).

Built on the shared document (`tac_api.documents.page`): the same header as her chronology
(name, date of birth, prison number, the court's case numbers, who prepared it and when), every
value escaped on its way in. One rule for hours not recorded, in the list and in the totals: an
item without hours says "Not recorded" (never 0 or a blank), and a total is the hours recorded
with the number of items that have none said beside it.
"""

from datetime import datetime

from tac_api.documents.page import (
    NOTHING,
    Column,
    Html,
    document,
    join,
    long_date,
    prepared_line,
    section,
    table,
    tag,
    who_she_is,
)
from tac_api.evidence.schemas import CATEGORY_LABELS, EvidenceBundle, EvidencePublic

NOT_RECORDED = "Not recorded"
ONGOING = "Ongoing: started, not completed"


def hours_text(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def item_hours(item: EvidencePublic) -> str:
    return NOT_RECORDED if item.hours is None else hours_text(item.hours)


def total_hours(hours: float, not_recorded: int, count: int) -> str:
    """The hours recorded, and how many items have none: never a 0 standing for unknown."""
    if not_recorded == 0:
        return hours_text(hours)
    if not_recorded == count:
        return NOT_RECORDED
    items = "item" if not_recorded == 1 else "items"
    return f"{hours_text(hours)}, and {not_recorded} {items} not recorded"


def _verification(item: EvidencePublic) -> str:
    if item.verified_by is None or item.verified_on is None:
        return "Not verified"
    return f"{item.verified_by.name}, {item.verified_by.role}, on {long_date(item.verified_on)}"


def _item_row(item: EvidencePublic) -> tuple[str, ...]:
    return (
        long_date(item.started_on),
        long_date(item.completed_on) if item.completed_on else ONGOING,
        CATEGORY_LABELS[item.category],
        item.title,
        item.provider or NOTHING,
        item_hours(item),
        _verification(item),
    )


ITEM_COLUMNS = (
    Column("Started", 12),
    Column("Completed", 12),
    Column("Category", 12),
    Column("What", 22),
    Column("Provider", 13),
    Column("Hours", 9, number=True),
    Column("Verified", 20),
)
TOTAL_COLUMNS = (
    Column("Category", 45),
    Column("Items", 15, number=True),
    Column("Hours", 40, number=True),
)


def _foot(bundle: EvidenceBundle) -> Html:
    total = bundle.total
    hours = total_hours(total.hours, total.hours_not_recorded, total.count)
    return tag(
        "tr",
        join(
            [
                tag("td", "All evidence"),
                tag("td", total.count, "number"),
                tag("td", hours, "number"),
            ]
        ),
    )


def render(bundle: EvidenceBundle, prepared_by: str, generated_at: datetime) -> str:
    """The whole document, as one string."""
    mother = bundle.mother
    name = f"{mother.first_name} {mother.last_name}"
    # A local authority's bundle has neither her date of birth nor her prison number: left out.
    facts = [
        *who_she_is(
            mother.first_name, mother.last_name, mother.date_of_birth, mother.prison_number
        ),
        ("Prison", mother.prison_name),
        ("Court case number", ", ".join(bundle.case_numbers) or NOT_RECORDED),
    ]
    if bundle.items:
        items: Html = table(ITEM_COLUMNS, [_item_row(item) for item in bundle.items])
    else:
        items = tag("p", "No evidence has been recorded.")
    totals = table(
        TOTAL_COLUMNS,
        [
            (
                CATEGORY_LABELS[total.category],
                str(total.count),
                total_hours(total.hours, total.hours_not_recorded, total.count),
            )
            for total in bundle.totals
        ],
        _foot(bundle),
    )
    note = tag(
        "p",
        "Hours not recorded are not counted as 0: each total is the hours recorded, and says "
        "how many items have none. Evidence recorded by Together a Chance.",
        "note",
    )
    return document(
        "Evidence of rehabilitation",
        name,
        facts,
        prepared_line(prepared_by, generated_at),
        section("Evidence, in date order", items),
        section("Totals", totals, note),
    )
