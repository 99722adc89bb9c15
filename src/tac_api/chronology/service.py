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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    True_,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.service import ASSESSMENTS
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.children.models import Child
from tac_api.chronology.schemas import Chronology, ChronologyKind
from tac_api.communications.service import COMMUNICATIONS
from tac_api.db import fetch_rows
from tac_api.evidence.service import EVIDENCE
from tac_api.hearings.proceedings import PROCEEDINGS
from tac_api.hearings.service import HEARINGS
from tac_api.meetings.service import MEETINGS
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.mothers.service import MOTHERS
from tac_api.release.models import ReleasePlan
from tac_api.resources import ChildLinks, Resource
from tac_api.scope import (
    Rule,
    child_visible,
    concerning_child,
    mother_visible,
    release_plan_visible,
    shown_with_their_mother,
)
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
    # Its description, if it has one: the children it concerns come from it.
    resource: Resource[Any] | None = None

    @classmethod
    def of(
        cls,
        resource: Resource[Any],
        columns: tuple[str, ...],
        events: Callable[[Row], Iterable[Event]],
    ) -> "Source":
        return cls(resource.kind, resource.model, resource.visible, columns, events, resource)

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


def _hearing(hearing: Row) -> Iterable[Event]:
    summary = f"{said(hearing['hearing_type']).capitalize()} hearing at {hearing['court_name']}"
    if hearing["attended"] is True:
        summary += f"; she attended ({said(hearing['attended_how'])})"
    elif hearing["attended"] is False:
        summary += f"; she did not attend ({said(hearing['barrier'])})"
    if hearing["order_made"]:
        summary += f"; order: {said(hearing['order_made'])}"
    yield hearing["starts_at"], "court_hearing", summary


def _meeting(meeting: Row) -> Iterable[Event]:
    summary = f"{said(meeting['meeting_type']).capitalize()} ({said(meeting['platform'])})"
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
    if communication["kind"] == "life_story_contribution":
        yield communication["occurred_at"], "life_story", "Life story work contribution"
        return
    yield (
        communication["occurred_at"],
        "communication",
        f"Relayed from {said(communication['from_party'])} to {said(communication['to_party'])}"
        f" by {said(communication['channel'])}",
    )


SOURCES = (
    # Her stays: visible with her (checked in the same statement), so no scope of their own.
    Source(
        "prison_stay",
        PrisonStay,
        lambda _: true(),
        ("arrived_on", "left_on", "prison_code"),
        _stay,
    ),
    Source.of(PROCEEDINGS, ("issued_on", "court_name"), _proceedings),
    Source.of(
        HEARINGS,
        (
            "hearing_type",
            "court_name",
            "attended",
            "attended_how",
            "barrier",
            "order_made",
            "starts_at",
        ),
        _hearing,
    ),
    Source.of(MEETINGS, ("meeting_type", "platform", "attended", "barrier", "starts_at"), _meeting),
    Source.of(VISITS, ("scheduled_at", "visit_type", "status"), _visit),
    Source.of(
        ASSESSMENTS,
        ("model", "requested_on", "requested_by", "started_on", "completed_on", "outcome"),
        _assessment,
    ),
    Source.of(EVIDENCE, ("completed_on", "started_on", "category", "title"), _evidence),
    Source(
        "release_plan",
        ReleasePlan,
        release_plan_visible,
        ("expected_release_date",),
        _release,
    ),
    Source.of(
        COMMUNICATIONS, ("kind", "occurred_at", "from_party", "to_party", "channel"), _communication
    ),
)

# The rows that are not a source's: her own (found only if the caller may see her), and, with
# the child filter, the child's (found only if the child is hers and the caller may see it).
HER = -1
THE_CHILD = -2


def _kind_of(column: Any) -> str:
    """Which slot of the union a column's values go in: by what they are, not their table."""
    affinity = column.type._type_affinity
    for kind, base in (("time", DateTime), ("date", Date), ("flag", Boolean), ("text", String)):
        if issubclass(affinity, base):
            return kind
    raise TypeError(f"{column}: no slot for a {column.type!r}")


@cache
def _slots() -> dict[str, Any]:
    """The union's columns beside the source, id, created_at and children: as many slots of
    each kind (text, date, time, flag) as the source with most of that kind needs, each with
    the type its values are read as. Few and narrow: PostgreSQL plans a union of wide rows
    much more slowly, and plans it for each execution until it settles on a generic plan
    (and for every one with the driver's statement cache off)."""
    needed: dict[str, int] = {}
    types: dict[str, Any] = {"text": String()}
    for source in SOURCES:
        counts: dict[str, int] = {}
        for name in source.columns:
            column = getattr(source.model, name)
            kind = _kind_of(column)
            counts[kind] = counts.get(kind, 0) + 1
            types.setdefault(kind, column.type)  # UTCDateTime: SQLite's times read as UTC
        for kind, count in counts.items():
            needed[kind] = max(needed.get(kind, 0), count)
    return {f"{kind}_{n}": types[kind] for kind in sorted(needed) for n in range(needed[kind])}


@cache
def _slots_of(source: Source) -> tuple[tuple[str, str], ...]:
    """(column, slot) for each column its events read: its columns of a kind in order."""
    taken: dict[str, int] = {}
    placed = []
    for name in source.columns:
        kind = _kind_of(getattr(source.model, name))
        placed.append((name, f"{kind}_{taken.get(kind, 0)}"))
        taken[kind] = taken.get(kind, 0) + 1
    return tuple(placed)


def _nothing(name: str, column_type: Any) -> ColumnElement[Any]:
    # Typed: PostgreSQL resolves a union of untyped NULLs as text, and SQLAlchemy reads the
    # union's values (dates and times on SQLite) by the types of its first branch.
    return cast(null(), column_type).label(name)


def _branch(
    number: int,
    table: Any,
    values: Mapping[str, ColumnElement[Any]],
    child_ids: ColumnElement[Any],
) -> Select[Any]:
    """One branch of the union: which source it is, the record's id and created_at, the slots
    (its own values in some, NULL in the rest), and the children it concerns (or NULL)."""
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


def _source_branch(
    dialect: str, role: Role, number: int, source: Source, for_child: bool
) -> Select[Any]:
    """Her records of one source, under their own scope, with the children each concerns."""
    model = source.model
    own = {slot: getattr(model, name) for name, slot in _slots_of(source)}
    links = source.resource.children if source.resource is not None else None
    child_ids = (
        _children_shown(dialect, role, links, model.id)
        if links is not None
        else _nothing("child_ids", _child_ids_type(dialect))
    )
    statement = _branch(number, model, own, child_ids).where(
        model.mother_id == bindparam("mother_id"), source.visible(role)
    )
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


def _child_ids_type(dialect: str) -> Any:
    return ARRAY(Uuid()) if dialect == "postgresql" else String()


@cache
def _statement(dialect: str, role: Role, for_child: bool) -> CompoundSelect:
    """Her chronology's one statement for a role: her row, the child's (with the filter), and
    every source's rows (with the filter: those of the sources that concern children)."""
    mother_id = bindparam("mother_id")
    nobody = _nothing("child_ids", _child_ids_type(dialect))
    branches = [
        _branch(HER, Mother, {}, nobody).where(Mother.id == mother_id, mother_visible(role)),
    ]
    if for_child:
        # Only a child of hers the caller may see: the filter must not find another
        # authority's child's events for a local authority.
        branches.append(
            _branch(THE_CHILD, Child, {}, nobody).where(
                Child.id == bindparam("child_id"),
                Child.mother_id == mother_id,
                child_visible(role),
            )
        )
    branches += [
        _source_branch(dialect, role, number, source, for_child)
        for number, source in enumerate(SOURCES)
        if source.concerns_children or not for_child  # hers alone: it names no child
    ]
    return union_all(*branches)


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


async def chronology(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    child_id: uuid.UUID | None,
    kinds: set[str] | None,
) -> Chronology:
    params: dict[str, Any] = {"mother_id": mother_id, **scope_params(caller)}
    if child_id is not None:
        params["child_id"] = child_id
    dialect = session.get_bind().dialect.name
    statement = _statement(dialect, caller.role, child_id is not None)
    rows = await fetch_rows(session, statement, params)
    seen_her = seen_the_child = False
    records: list[Row] = []
    for row in rows:
        number = row["source"]
        if number == HER:
            seen_her = True
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
    events.sort(key=_event_order)
    # Validated once, whole: pydantic's core does it faster than building each event in Python.
    return Chronology.model_validate({"mother_id": mother_id, "events": events})
