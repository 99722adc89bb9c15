"""Her chronology as a court reads it: a significant-events chronology (date, event, source,
significance), headed by who she is, the court's case numbers, and who prepared it and when.

Built from what `service.chronology` read, and nothing read again: the events, her particulars
and each record's fields (`service.Read`). Each kind of record says where its events came from
and why each matters; a kind this module does not know (a new source of events) prints its
summary, as the kind of record it is, with nothing claimed for its significance.
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, get_args

from tac_api.chronology.schemas import Chronology, ChronologyEvent, ChronologyKind
from tac_api.chronology.service import LIFE_STORY, Read, said
from tac_api.documents.page import (
    NOTHING,
    UK,
    Column,
    document,
    join,
    long_date,
    prepared_line,
    section,
    table,
    tag,
    who_she_is,
)
from tac_api.hearings.proceedings import twenty_six_week_date

PRISON_SIDE = "recorded by the prison social worker"
# Another authority's system sent it: named to the prison side and to that authority only.
ANOTHER_AUTHORITY = "a local authority"

# What each kind of record is, as its source column names it.
RECORDS = {
    "prison_stay": "Prison stay",
    "proceedings": "Care proceedings",
    "court_hearing": "Court hearing",
    "meeting": "Meeting",
    "contact_visit": "Contact visit",
    "parenting_assessment": "Parenting assessment",
    "evidence": "Evidence of rehabilitation",
    "release_plan": "Release plan",
    "communication": "Communication log",
    "group_attendance": "Group session register",
}
CALLED_OFF = {"adjourned": "Adjourned", "vacated": "Vacated", "cancelled": "Cancelled"}

Fields = Mapping[str, Any]
Significance = Callable[[ChronologyEvent, Fields], list[str]]


def _when(event: ChronologyEvent) -> str:
    """Its day, and its time in UK time where it has one (a hearing listed at 10:00 is at
    10:00 to the court, whatever the season). A time UK time cannot say (at the very edge of
    the calendar: a record kept before times were checked) is printed in UTC: the page is
    printed, never refused."""
    if event.at is None:
        return long_date(event.on)
    try:
        local, zone = event.at.astimezone(UK), ""
    except (OverflowError, ValueError):
        local, zone = event.at.astimezone(UTC), " UTC"
    return f"{long_date(local.date())}, {local:%H:%M}{zone}"


def _attendance(fields: Fields, starts: datetime | None) -> list[str]:
    status = fields.get("status")
    if status in CALLED_OFF:
        return [f"{CALLED_OFF[status]}: did not go ahead as listed"]
    if fields.get("attended") is True:
        how = said(fields.get("attended_how"))
        return [f"She attended ({how})" if how else "She attended"]
    if fields.get("attended") is False:
        barrier = said(fields.get("barrier"))
        return [f"She did not attend: {barrier}" if barrier else "She did not attend"]
    if starts is not None and starts < datetime.now(starts.tzinfo):
        return ["Her attendance is not recorded"]
    return ["Listed; not yet held"]


def _hearing(event: ChronologyEvent, fields: Fields) -> list[str]:
    shown = _attendance(fields, event.at)
    if fields.get("order_made"):
        shown.insert(0, f"Order made: {said(fields['order_made'])}")
    return shown


def _meeting(event: ChronologyEvent, fields: Fields) -> list[str]:
    return _attendance(fields, event.at)


def _stay(event: ChronologyEvent, fields: Fields) -> list[str]:
    if event.summary.startswith("Left"):
        return [f"No longer held at {fields.get('prison_code') or 'this prison'}"]
    return ["Where she is held from this date"]


def _proceedings(event: ChronologyEvent, fields: Fields) -> list[str]:
    added = fields.get("extension_weeks") or 0
    ends = twenty_six_week_date(fields.get("issued_on") or event.on, added)
    shown = [f"Care proceedings issued: 26 weeks run to {long_date(ends)}"]
    if added:
        shown[0] += f" (extended by {added} week{'' if added == 1 else 's'})"
    if fields.get("case_number"):
        shown.append(f"Case number {fields['case_number']}")
    return shown


def _visit(event: ChronologyEvent, fields: Fields) -> list[str]:
    shown = []
    if fields.get("visit_type") == "final_contact_before_adoption":
        shown.append("Final contact before adoption")
    status = fields.get("status")
    if status == "held":
        outcome = said(fields.get("outcome"))
        shown.append(f"Held: {outcome}" if outcome else "Held")
    elif status in ("cancelled", "refused"):
        shown.append(f"{said(status).capitalize()}: did not take place")
    elif status:
        shown.append(f"{said(status).capitalize()}; not yet held")
    return shown


def _assessment(event: ChronologyEvent, fields: Fields) -> list[str]:
    if event.on == fields.get("completed_on") and event.summary.startswith("Parenting assessment:"):
        outcome = said(fields.get("outcome"))
        return [f"Assessment completed; outcome: {outcome}" if outcome else "Assessment completed"]
    if event.on == fields.get("started_on") and event.summary.endswith("started"):
        return ["Assessment under way" if not fields.get("completed_on") else "Assessment began"]
    return [f"Assessment requested by the {said(fields.get('requested_by'))}"]


def _evidence(event: ChronologyEvent, fields: Fields) -> list[str]:
    if fields.get("completed_on"):
        return ["Completed: evidence of change"]
    return ["Ongoing: started, not completed"]


def _release(event: ChronologyEvent, fields: Fields) -> list[str]:
    return ["Expected date of release"]


def _communication(event: ChronologyEvent, fields: Fields) -> list[str]:
    if fields.get("kind") == LIFE_STORY:
        return ["Contributes to the child's life story"]
    return ["Information passed between the parties"]


def _group(event: ChronologyEvent, fields: Fields) -> list[str]:
    return ["She took part in a group session"]


SIGNIFICANCE: dict[str, Significance] = {
    "prison_stay": _stay,
    "proceedings": _proceedings,
    "court_hearing": _hearing,
    "meeting": _meeting,
    "contact_visit": _visit,
    "parenting_assessment": _assessment,
    "evidence": _evidence,
    "release_plan": _release,
    "communication": _communication,
    "group_attendance": _group,
}


def source_of(
    event: ChronologyEvent,
    fields: Fields,
    authorities: Mapping[str, str],
    reader_authority: str | None = None,
) -> str:
    """The kind of record, and where it came from: a local authority's system for what it
    pushed; the prison side for the rest. `reader_authority`: the local authority reading it
    (None: the prison side), who is told the name of no other authority."""
    record = RECORDS.get(event.resource_type) or said(event.resource_type).capitalize()
    pushed_by = fields.get("external_authority_code")
    if pushed_by:
        if reader_authority is not None and pushed_by != reader_authority:
            return f"{record}; sent by {ANOTHER_AUTHORITY} (its case system)"
        authority = authorities.get(pushed_by, f"local authority {pushed_by}")
        return f"{record}; sent by {authority} (its case system)"
    if event.resource_type in RECORDS:
        return f"{record}; {PRISON_SIDE}"
    return record


def significance_of(event: ChronologyEvent, fields: Fields) -> str:
    telling = SIGNIFICANCE.get(event.resource_type)
    if telling is None:
        return NOTHING
    return "; ".join(telling(event, fields)) or NOTHING


def authorities_named(read: Read, reader_authority: str | None = None) -> set[str]:
    """The local authorities whose systems sent a record shown, for their names: to a local
    authority reading it (`reader_authority`), its own only."""
    codes = {
        code for fields in read.records.values() if (code := fields.get("external_authority_code"))
    }
    return codes if reader_authority is None else codes & {reader_authority}


def case_numbers(found: Chronology, read: Read, kinds: set[str]) -> str:
    """The court's case numbers of the proceedings this chronology shows (all of them, in
    order); said plainly when there are none, or when the selection leaves proceedings out."""
    if kinds and "proceedings" not in kinds:
        return "Not shown: this chronology leaves out her proceedings"
    numbers = dict.fromkeys(
        read.records[(event.resource_type, event.resource_id)].get("case_number")
        for event in found.events
        if event.resource_type == "proceedings"
    )
    shown = [number for number in numbers if number]
    return ", ".join(shown) if shown else "Not recorded"


# The service's own working notes on her case: in her chronology for the prison side, but not
# events of her case a court's chronology holds, unless asked for by kind.
WORKING_NOTES = frozenset({"task", "review_flag"})
EVENTS_OF_HER_CASE = frozenset(get_args(ChronologyKind)) - WORKING_NOTES


def render(
    found: Chronology,
    read: Read,
    *,
    kinds: set[str],
    child_named: bool,
    prepared_by: str,
    generated_at: datetime,
    authorities: Mapping[str, str],
    reader_authority: str | None = None,
) -> str:
    """`reader_authority`: the local authority reading it, None for the prison side."""
    her = read.her
    name = f"{her['first_name']} {her['last_name']}"
    selection = []
    if child_named:
        selection.append("only the events that concern one of her children")
    if kinds:
        selection.append("only these kinds of event: " + ", ".join(said(k) for k in sorted(kinds)))
    facts: Sequence[tuple[str, object]] = [
        # A local authority's papers leave out her date of birth and prison number.
        *who_she_is(
            her["first_name"],
            her["last_name"],
            None if reader_authority else her["date_of_birth"],
            None if reader_authority else her["prison_number"],
        ),
        ("Held at", her["prison_code"]),
        ("Court case number", case_numbers(found, read, kinds)),
        (
            "Selection",
            "; ".join(selection).capitalize()
            if selection
            else "Every event of her case (the service's own tasks and flags for review are not "
            "events of her case: ask for them by kind)",
        ),
    ]
    rows = []
    for event in found.events:
        fields = read.records.get((event.resource_type, event.resource_id), {})
        rows.append(
            (
                _when(event),
                event.summary,
                source_of(event, fields, authorities, reader_authority),
                significance_of(event, fields),
            )
        )
    columns = (
        Column("Date", 16),
        Column("Event", 36),
        Column("Source", 22),
        Column("Significance", 26),
    )
    events = (
        table(columns, rows)
        if rows
        else tag("p", "No event of her case is recorded in this selection.")
    )
    note = tag(
        "p",
        "Times are UK time. Each event is told from the service's records as they stood when "
        "this chronology was prepared.",
        "note",
    )
    return document(
        "Chronology of significant events",
        name,
        facts,
        prepared_line(prepared_by, generated_at),
        section("Events, oldest first", join([events, note])),
    )
