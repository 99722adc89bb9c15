"""Her chronology: every dated event of her case, from every liaison record, in order.

Each kind of record is a `Source`: its description (`Resource`: its table, its scope, the
children it concerns) where it has one, the columns its events are told from, and the events one
row makes. A chronology is one statement, however long it is and whatever it holds: every
source's rows under its own scope, with the children each concerns as one row per child, and her
own row (the check that the caller may see her) all in one UNION ALL. It is built once per role
(and once more for the child filter), and read as plain rows: no record is loaded as an object.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, get_args

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Date,
    DateTime,
    Executable,
    Integer,
    Select,
    String,
    True_,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.service import ASSESSMENTS
from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.children.models import Child
from tac_api.chronology.schemas import Chronology, ChronologyKind
from tac_api.communications.service import COMMUNICATIONS
from tac_api.db import fetch_rows
from tac_api.evidence.service import EVIDENCE
from tac_api.flags.service import FLAGS
from tac_api.groups.models import GroupAttendance, GroupSession
from tac_api.groups.service import ATTENDANCE as GROUP_ATTENDANCE
from tac_api.hearings.models import Proceedings, ProceedingsExtension
from tac_api.hearings.proceedings import PROCEEDINGS
from tac_api.hearings.service import HEARINGS
from tac_api.meetings.service import MEETINGS
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.mothers.service import MOTHERS
from tac_api.release.models import ReleasePlan
from tac_api.resources import ChildLinks, Resource, audits_in_one
from tac_api.scope import (
    Rule,
    child_visible,
    concerning_child,
    mother_visible,
    release_plan_visible,
    shown_with_their_mother,
)
from tac_api.tasks.service import TASKS
from tac_api.visits.service import VISITS

When = date | datetime | None
Event = tuple[When, ChronologyKind, str]
Row = Mapping[str, Any]


def said(code: str | None) -> str:
    """A code as words: `interim_care_order` -> `interim care order`."""
    return (code or "").replace("_", " ")


@dataclass(frozen=True)
class Source:
    resource_type: str
    model: Any
    visible: Rule
    # The columns its events are told from (a row holds these, its id and its created_at).
    columns: tuple[str, ...]
    events: Callable[[Row], Iterable[Event]]
    # `events` said in SQL, for the audit trail written by the read itself: for each kind of
    # event, when a record has one (a dated event of that kind). It must say what `events`
    # says: a record is audited when it shows an event (tests compare the two paths' rows).
    shows: Callable[[Any], Mapping[ChronologyKind, ColumnElement[bool]]]
    # Its description, if it has one: the children it concerns come from it.
    resource: Resource[Any] | None = None
    # Another table its events are told from too (her row of a register: the session's day and
    # activity), and how its row is found from the record's; a column named in `columns` is
    # the record's own if it has one, else this table's.
    joined: Any = None
    joined_on: Callable[[], ColumnElement[bool]] | None = None
    # Values its events are told from that are no table's column (the weeks a court added to
    # proceedings), by name: each a correlated subquery on the record's row.
    computed: tuple[tuple[str, Callable[[], ColumnElement[Any]]], ...] = ()

    @classmethod
    def of(
        cls,
        resource: Resource[Any],
        columns: tuple[str, ...],
        events: Callable[[Row], Iterable[Event]],
        shows: Callable[[Any], Mapping[ChronologyKind, ColumnElement[bool]]],
        **joined: Any,
    ) -> "Source":
        return cls(
            resource.kind,
            resource.model,
            resource.visible,
            columns,
            events,
            shows,
            resource,
            **joined,
        )

    def column(self, name: str) -> Any:
        for computed_name, value in self.computed:
            if computed_name == name:
                return value()
        if self.joined is not None and not hasattr(self.model, name):
            return getattr(self.joined, name)
        return getattr(self.model, name)

    @property
    def concerns_children(self) -> bool:
        return self.resource is not None and self.resource.children is not None


def _stay(stay: Row) -> Iterable[Event]:
    yield stay["arrived_on"], "custody", f"Held at {stay['prison_code']}"
    if stay["left_on"]:
        yield stay["left_on"], "custody", f"Left {stay['prison_code']}"


def _proceedings(proceedings: Row) -> Iterable[Event]:
    yield (
        proceedings["issued_on"],
        "proceedings",
        f"Proceedings issued at {proceedings['court_name']}",
    )


def _not_going_ahead(record: Row) -> str:
    """ "; vacated (decided by the court)": a hearing or meeting that did not go ahead, with who
    decided (the reason is the record's to show); nothing for one still scheduled."""
    if record["status"] in (None, "scheduled"):
        return ""
    who = record["status_decided_by"]
    decided = ""
    if who:
        decided = " (decided by another)" if who == "other" else f" (decided by the {said(who)})"
    onward = " to a new date" if record["status"] == "adjourned" else ""
    return f"; {record['status']}{onward}{decided}"


def _hearing(hearing: Row) -> Iterable[Event]:
    summary = f"{said(hearing['hearing_type']).capitalize()} hearing at {hearing['court_name']}"
    summary += _not_going_ahead(hearing)
    if hearing["attended"] is True:
        summary += f"; she attended ({said(hearing['attended_how'])})"
    elif hearing["attended"] is False:
        summary += f"; she did not attend ({said(hearing['barrier'])})"
    if hearing["order_made"]:
        summary += f"; order: {said(hearing['order_made'])}"
    yield hearing["starts_at"], "court_hearing", summary


def _meeting(meeting: Row) -> Iterable[Event]:
    summary = f"{said(meeting['meeting_type']).capitalize()} ({said(meeting['platform'])})"
    summary += _not_going_ahead(meeting)
    if meeting["attended"] is True:
        summary += "; she attended"
    elif meeting["attended"] is False:
        summary += f"; she did not attend ({said(meeting['barrier'])})"
    yield meeting["starts_at"], "meeting", summary


def _visit(visit: Row) -> Iterable[Event]:
    when = visit["scheduled_at"] or visit["created_at"]
    yield (
        when,
        "contact_visit",
        f"{said(visit['visit_type']).capitalize()}: {said(visit['status'])}",
    )


def _assessment(assessment: Row) -> Iterable[Event]:
    model = assessment["model"]
    named = said(model).upper() if model == "pams" else said(model)
    yield (
        assessment["requested_on"],
        "parenting_assessment",
        f"Parenting assessment ({named}) requested by the {said(assessment['requested_by'])}",
    )
    if assessment["started_on"]:
        yield assessment["started_on"], "parenting_assessment", "Parenting assessment started"
    if assessment["completed_on"]:
        outcome = said(assessment["outcome"])
        yield (
            assessment["completed_on"],
            "parenting_assessment",
            f"Parenting assessment: {outcome}",
        )


def _evidence(item: Row) -> Iterable[Event]:
    done = " completed" if item["completed_on"] else " started"
    yield (
        item["completed_on"] or item["started_on"],
        "evidence",
        f"{said(item['category']).capitalize()}: {item['title']}{done}",
    )


def _release(plan: Row) -> Iterable[Event]:
    if plan["expected_release_date"]:
        yield plan["expected_release_date"], "release", "Expected release"


def _communication(communication: Row) -> Iterable[Event]:
    if communication["kind"] == LIFE_STORY:
        yield communication["occurred_at"], "life_story", "Life story work contribution"
        return
    yield (
        communication["occurred_at"],
        "communication",
        f"Relayed from {said(communication['from_party'])} to {said(communication['to_party'])}"
        f" by {said(communication['channel'])}",
    )


def _group_attendance(row: Row) -> Iterable[Event]:
    # That she attended, never what she said: no check-in or check-out reaches her chronology.
    yield row["held_on"], "group_session", f"Attended a group session: {row['activity']}"


def _task(task: Row) -> Iterable[Event]:
    # Made, then due while open, then done: the prison side's work on her case.
    # Made when its history says (`changed_at`: who made it and when).
    yield task["changed_at"], "task", f"Task made: {task['title']}"
    if task["done_on"]:
        yield task["done_on"], "task", f"Task done: {task['title']}"
    else:
        yield task["due_on"], "task", f"Task due: {task['title']}"


def _flag(flag: Row) -> Iterable[Event]:
    flagged = said(flag["resource_type"])
    yield (
        flag["raised_at"],
        "review_flag",
        f"Flagged for review ({flagged}) by {flag['raised_by_name']}: {flag['reason']}",
    )
    if flag["cleared_at"]:
        yield (
            flag["cleared_at"],
            "review_flag",
            f"Flag for review cleared ({flagged})"
            + (f" by {flag['cleared_by_name']}" if flag["cleared_by_name"] else ""),
        )


def _extension_weeks() -> ColumnElement[Any]:
    """The weeks the court added to these proceedings' 26 (0 when none): their 26-week date."""
    added = func.coalesce(func.sum(ProceedingsExtension.weeks), literal_column("0", Integer))
    return cast(
        select(added)
        .where(ProceedingsExtension.proceedings_id == Proceedings.id)
        .scalar_subquery(),
        Integer,
    )


def _dated(*columns: Any) -> ColumnElement[bool]:
    """Whether any of these dates is there: an event is told from the first that is."""
    return or_(*(column.is_not(None) for column in columns))


LIFE_STORY = "life_story_contribution"


def _communication_shows(model: Any) -> Mapping[ChronologyKind, ColumnElement[bool]]:
    told = model.occurred_at.is_not(None)
    life_story = literal_column(f"'{LIFE_STORY}'", String)  # written out, as every constant
    return {
        "life_story": and_(model.kind == life_story, told),
        "communication": and_(model.kind.is_distinct_from(life_story), told),
    }


SOURCES = (
    # Her stays: visible with her (checked in the same statement), so no scope of their own.
    Source(
        "prison_stay",
        PrisonStay,
        lambda _: true(),
        ("arrived_on", "left_on", "prison_code"),
        _stay,
        lambda m: {"custody": _dated(m.arrived_on, m.left_on)},
    ),
    Source.of(
        PROCEEDINGS,
        ("issued_on", "court_name", "case_number", "extension_weeks"),
        _proceedings,
        lambda m: {"proceedings": _dated(m.issued_on)},
        computed=(("extension_weeks", _extension_weeks),),
    ),
    Source.of(
        HEARINGS,
        (
            "external_authority_code",  # a local authority's system pushed it (the papers say)
            "hearing_type",
            "court_name",
            "attended",
            "attended_how",
            "barrier",
            "order_made",
            "starts_at",
            "status",
            "status_decided_by",
        ),
        _hearing,
        lambda m: {"court_hearing": _dated(m.starts_at)},
    ),
    Source.of(
        MEETINGS,
        (
            "meeting_type",
            "platform",
            "attended",
            "barrier",
            "starts_at",
            "status",
            "status_decided_by",
            "external_authority_code",
        ),
        _meeting,
        lambda m: {"meeting": _dated(m.starts_at)},
    ),
    Source.of(
        VISITS,
        ("scheduled_at", "visit_type", "status", "outcome"),
        _visit,
        lambda m: {"contact_visit": _dated(m.scheduled_at, m.created_at)},
    ),
    Source.of(
        ASSESSMENTS,
        ("model", "requested_on", "requested_by", "started_on", "completed_on", "outcome"),
        _assessment,
        lambda m: {"parenting_assessment": _dated(m.requested_on, m.started_on, m.completed_on)},
    ),
    Source.of(
        EVIDENCE,
        ("completed_on", "started_on", "category", "title"),
        _evidence,
        lambda m: {"evidence": _dated(m.completed_on, m.started_on)},
    ),
    Source(
        "release_plan",
        ReleasePlan,
        release_plan_visible,
        ("expected_release_date",),
        _release,
        lambda m: {"release": _dated(m.expected_release_date)},
    ),
    Source.of(
        COMMUNICATIONS,
        ("kind", "occurred_at", "from_party", "to_party", "channel"),
        _communication,
        _communication_shows,
    ),
    Source.of(
        GROUP_ATTENDANCE,
        ("held_on", "activity"),
        _group_attendance,
        lambda _: {"group_session": GroupSession.held_on.is_not(None)},
        joined=GroupSession,
        joined_on=lambda: GroupSession.id == GroupAttendance.group_session_id,
    ),
    # The prison side's own work on her case: no local authority's chronology shows it.
    Source.of(
        TASKS, ("title", "due_on", "done_on", "changed_at"), _task, lambda m: {"task": true()}
    ),
    Source.of(
        FLAGS,
        ("resource_type", "reason", "raised_by_name", "cleared_by_name", "raised_at", "cleared_at"),
        _flag,
        lambda m: {"review_flag": true()},
    ),
)

# The rows that are not a source's: her own (found only if the caller may see her), and, with
# the child filter, the child's (found only if the child is hers and the caller may see it).
HER = -1
THE_CHILD = -2


def _kind_of(column: Any) -> str:
    """Which slot of the union a column's values go in: by what they are, not their table."""
    affinity = column.type._type_affinity
    kinds = (
        ("time", DateTime),
        ("date", Date),
        ("flag", Boolean),
        ("number", Integer),
        ("text", String),
    )
    for kind, base in kinds:
        if issubclass(affinity, base):
            return kind
    raise TypeError(f"{column}: no slot for a {column.type!r}")


@cache
def _slots() -> dict[str, Any]:
    """The union's columns beside the source, id, created_at and children: as many slots of
    each kind (text, date, time, flag, number) as the source with most of that kind needs, each with
    the type its values are read as. Few and narrow: PostgreSQL plans a union of wide rows
    much more slowly, and plans it for each execution until it settles on a generic plan
    (and for every one with the driver's statement cache off)."""
    needed: dict[str, int] = {}
    types: dict[str, Any] = {"text": String()}
    her = [getattr(Mother, name) for name in HER_PARTICULARS]
    for columns in [her, *([s.column(name) for name in s.columns] for s in SOURCES)]:
        counts: dict[str, int] = {}
        for column in columns:
            kind = _kind_of(column)
            counts[kind] = counts.get(kind, 0) + 1
            types.setdefault(kind, column.type)  # UTCDateTime: SQLite's times read as UTC
        for kind, count in counts.items():
            needed[kind] = max(needed.get(kind, 0), count)
    return {f"{kind}_{n}": types[kind] for kind in sorted(needed) for n in range(needed[kind])}


@cache
def _slots_of(source: Source) -> tuple[tuple[str, str], ...]:
    """(column, slot) for each column its events read: its columns of a kind in order."""
    return _placed(source.columns, source.column)


def _placed(names: Iterable[str], column_of: Callable[[str], Any]) -> tuple[tuple[str, str], ...]:
    taken: dict[str, int] = {}
    placed = []
    for name in names:
        kind = _kind_of(column_of(name))
        placed.append((name, f"{kind}_{taken.get(kind, 0)}"))
        taken[kind] = taken.get(kind, 0) + 1
    return tuple(placed)


# Her own row (the check that the caller may see her) tells who she is, for the papers a court
# reads: their header, from the one statement.
HER_PARTICULARS = ("first_name", "last_name", "prison_number", "date_of_birth", "prison_code")


@cache
def _her_slots() -> tuple[tuple[str, str], ...]:
    return _placed(HER_PARTICULARS, lambda name: getattr(Mother, name))


def _nothing(name: str, column_type: Any) -> ColumnElement[Any]:
    # Typed: PostgreSQL resolves a union of untyped NULLs as text, and SQLAlchemy reads the
    # union's values (dates and times on SQLite) by the types of its first branch.
    return cast(null(), column_type).label(name)


def _branch(
    number: int,
    table: Any,
    values: Mapping[str, ColumnElement[Any]],
    child_ids: ColumnElement[Any],
    shown: ColumnElement[bool] | None = None,
) -> Select[Any]:
    """One branch of the union: which source it is, the record's id and created_at, the slots
    (its own values in some, NULL in the rest), and the children it concerns (or NULL); for
    a statement writing its own audit rows, whether the record shows an event (`shown`)."""
    columns: list[ColumnElement[Any]] = [
        literal_column(str(number), Integer).label("source"),
        table.id.label("id"),
        table.created_at.label("created_at"),
    ]
    columns += [
        values[slot].label(slot) if slot in values else _nothing(slot, slot_type)
        for slot, slot_type in _slots().items()
    ]
    columns.append(child_ids.label("child_ids"))
    if shown is not None:
        columns.append(shown.label("shown"))
    return select(*columns)


def _children_shown(
    dialect: str, role: Role, links: ChildLinks, record_id: Any
) -> ColumnElement[Any]:
    """The children one record concerns that the caller is shown (a local authority: its own
    children only), as one value: an array on PostgreSQL, a comma-separated list on SQLite."""
    child_id = links.child_id
    gathered = (
        func.array_agg(aggregate_order_by(child_id, child_id))
        if dialect == "postgresql"
        else func.group_concat(child_id)
    )
    statement = select(gathered).where(links.record_id == record_id)
    shown = shown_with_their_mother(role)
    if not isinstance(shown, True_):  # everyone's children: no need to look at the child
        statement = statement.join(Child, Child.id == child_id).where(shown)
    return statement.scalar_subquery()


def _shown(source: Source) -> ColumnElement[bool]:
    """Whether a record of this source shows an event of a kind asked for (`kinds`, bound:
    every kind when the caller asked for none)."""
    asked = bindparam("kinds", type_=ARRAY(String()))
    return or_(
        *(
            and_(literal_column(f"'{kind}'", String) == any_(asked), condition)
            for kind, condition in source.shows(source.model).items()
        )
    )


def _source_branch(
    dialect: str, role: Role, number: int, source: Source, for_child: bool, audited: bool
) -> Select[Any]:
    """Her records of one source, under their own scope, with the children each concerns."""
    model = source.model
    own = {slot: source.column(name) for name, slot in _slots_of(source)}
    links = source.resource.children if source.resource is not None else None
    child_ids = (
        _children_shown(dialect, role, links, model.id)
        if links is not None
        else _nothing("child_ids", _child_ids_type(dialect))
    )
    shown = _shown(source) if audited else None
    statement = _branch(number, model, own, child_ids, shown).where(
        model.mother_id == bindparam("mother_id"), source.visible(role)
    )
    if source.joined_on is not None:
        statement = statement.where(source.joined_on())
    if for_child:
        assert links is not None
        statement = statement.where(
            concerning_child(
                role,  # type: ignore[arg-type]  (a role: the child's scope is bound at execution)
                model.id,
                links.record_id,
                links.child_id,
                bindparam("child_id"),  # type: ignore[arg-type]
            )
        )
    return statement


def _her_values() -> dict[str, ColumnElement[Any]]:
    return {slot: getattr(Mother, name) for name, slot in _her_slots()}


def _child_ids_type(dialect: str) -> Any:
    return ARRAY(Uuid()) if dialect == "postgresql" else String()


@cache
def _statement(dialect: str, role: Role, for_child: bool, audited: bool = False) -> CompoundSelect:
    """Her chronology's one statement for a role: her row, the child's (with the filter), and
    every source's rows (with the filter: those of the sources that concern children).
    `audited`: each row also says whether it shows an event (`_shown`), for its audit rows."""
    mother_id = bindparam("mother_id")
    nobody = _nothing("child_ids", _child_ids_type(dialect))
    no_record = cast(null(), Boolean) if audited else None
    branches = [
        _branch(HER, Mother, _her_values(), nobody, no_record).where(
            Mother.id == mother_id, mother_visible(role)
        ),
    ]
    if for_child:
        # Only a child of hers the caller may see: the filter must not find another
        # authority's child's events for a local authority.
        branches.append(
            _branch(THE_CHILD, Child, {}, nobody, no_record).where(
                Child.id == bindparam("child_id"),
                Child.mother_id == mother_id,
                child_visible(role),
            )
        )
    branches += [
        _source_branch(dialect, role, number, source, for_child, audited)
        for number, source in enumerate(SOURCES)
        if source.concerns_children or not for_child  # hers alone: it names no child
    ]
    return union_all(*branches)


@cache
def _statement_combined(role: Role, for_child: bool) -> Select[Any]:
    """`_statement` writing its own audit rows (`audit.consulting`), PostgreSQL only: her
    record, then the records that show an event, by kind of record and id, each as combined;
    the rows the route noted before. None when she is not found (a 404 is the session's to
    audit), and only her when the child asked for is not found (no event is shown)."""
    rows = _statement("postgresql", role, for_child, audited=True).cte("shown")

    def source_is(number: int) -> ColumnElement[bool]:
        # Written out, not bound: fetch_rows sends only the parameters it was given by name.
        return rows.c.source == literal_column(str(number), Integer)

    found = func.bool_or(source_is(HER)).over()
    if for_child:
        found = and_(found, func.bool_or(source_is(THE_CHILD)).over())
    # Per source, a column holding the id of each of its records shown (NULL on other rows):
    # `audit.consulting` writes each such column's ids under that source's kind of record.
    audited = select(
        rows.c.id,
        case((source_is(HER), rows.c.id)).label("her"),
        bindparam("mother_id", type_=Uuid()).label("subject"),
        *(
            case((and_(source_is(number), rows.c.shown, found), rows.c.id)).label(
                f"record_{number}"
            )
            for number in range(len(SOURCES))
        ),
    ).cte("audited")
    by_kind = sorted(range(len(SOURCES)), key=lambda number: SOURCES[number].resource_type)
    combined = [audit.Consulted(MOTHERS.kind, "her", "her", once=True)]
    combined += [
        audit.Consulted(SOURCES[number].resource_type, f"record_{number}", "subject")
        for number in by_kind
    ]
    written = audit.consulting(audited, combined, order=("id",), action=Action.combine)
    return select(rows).add_cte(written)


def _children(value: Any) -> list[uuid.UUID]:
    """The children of a row, in order: an array on PostgreSQL, a list of hex ids on SQLite."""
    if not value:
        return []
    if isinstance(value, str):
        return sorted(uuid.UUID(part) for part in value.split(","))
    return sorted(value)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC (as the answer's type says).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _event_order(event: dict[str, Any]) -> tuple[date, bool, float]:
    # Dated events (no time) come first on their day; then by time.
    at = event["at"]
    return event["on"], at is not None, at.timestamp() if at else 0.0


@dataclass
class Read:
    """What the chronology's statement read beside its events, for the papers a court reads
    (`tac_api.chronology.document`): who she is (`HER_PARTICULARS`), and the fields of each
    record an event is told from, by (resource_type, id). Only records it shows events of."""

    her: dict[str, Any] = field(default_factory=dict)
    records: dict[tuple[str, uuid.UUID], dict[str, Any]] = field(default_factory=dict)


async def chronology(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    child_id: uuid.UUID | None,
    kinds: set[str] | None,
    read: Read | None = None,
) -> Chronology:
    """Her chronology, audited as a combination of her record and of each record it shows an
    event of. On PostgreSQL the statement writes its audit rows itself (see README, "Reads in
    two round trips"); elsewhere they are noted for the session to write. `read`, if given, is
    filled with what the statement read beside the events (for the printed chronology)."""
    params: dict[str, Any] = {"mother_id": mother_id, **scope_params(caller)}
    if child_id is not None:
        params["child_id"] = child_id
    in_one = audits_in_one(session, caller, params)
    if in_one:
        statement: Executable = _statement_combined(caller.role, child_id is not None)
        params["kinds"] = sorted(kinds) if kinds else EVERY_KIND
    else:
        statement = _statement(session.get_bind().dialect.name, caller.role, child_id is not None)
    rows = await fetch_rows(session, statement, params)
    seen_her = seen_the_child = False
    records: list[Row] = []
    for row in rows:
        number = row["source"]
        if number == HER:
            seen_her = True
            if read is not None:
                read.her = {name: row[slot] for name, slot in _her_slots()}
        elif number == THE_CHILD:
            seen_the_child = True
        else:
            records.append(row)
    if not seen_her:
        raise MOTHERS.not_found(mother_id)
    if child_id is not None and not seen_the_child:
        records = []
    # As the sources list them, each source's records in the order they were recorded: the
    # order of events on the same day at the same time.
    records.sort(key=lambda row: (row["source"], row["created_at"], row["id"]))
    events: list[dict[str, Any]] = []
    for row in records:
        source = SOURCES[row["source"]]
        fields = {name: row[slot] for name, slot in _slots_of(source)}
        fields["created_at"] = row["created_at"]
        record_id, children = row["id"], _children(row["child_ids"])
        for when, kind, summary in source.events(fields):
            if when is None or (kinds and kind not in kinds):
                continue
            timed = isinstance(when, datetime)
            events.append(
                {
                    "on": when.date() if timed else when,
                    "at": _utc(when) if timed else None,
                    "kind": kind,
                    "summary": summary,
                    "resource_type": source.resource_type,
                    "resource_id": record_id,
                    "child_ids": children,
                }
            )
            if read is not None:
                read.records[(source.resource_type, record_id)] = fields
    events.sort(key=_event_order)
    if not in_one:
        _note_combined(session, mother_id, events)
    # Validated once, whole: pydantic's core does it faster than building each event in Python.
    return Chronology.model_validate({"mother_id": mother_id, "events": events})


EVERY_KIND = sorted(get_args(ChronologyKind))


def _note_combined(
    session: AsyncSession, mother_id: uuid.UUID, events: list[dict[str, Any]]
) -> None:
    """Her records from every part of the service, put in one order: a combination of her
    record and of each record shown, by kind of record (as `_statement_combined` writes them)."""
    audit.combined(session, MOTHERS, [{"id": mother_id}])
    shown = {(event["resource_type"], event["resource_id"]) for event in events}
    for resource_type in sorted({kind for kind, _ in shown}):
        audit.record_many(
            session,
            Action.combine,
            resource_type,
            sorted((rid, mother_id) for kind, rid in shown if kind == resource_type),
        )
