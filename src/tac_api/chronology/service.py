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
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.service import ASSESSMENTS
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.children.models import Child
from tac_api.chronology.schemas import Chronology, ChronologyEvent, ChronologyKind
from tac_api.communications.service import COMMUNICATIONS
from tac_api.db import fetch_rows
from tac_api.evidence.service import EVIDENCE
from tac_api.hearings.proceedings import PROCEEDINGS
from tac_api.hearings.service import HEARINGS
from tac_api.meetings.service import MEETINGS
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.mothers.service import MOTHERS
from tac_api.release.models import ReleasePlan
from tac_api.resources import Resource
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


@cache
def _layout() -> dict[str, Any]:
    """Every column any source's events read, by name, with its type: each branch of the UNION
    has them all, in this order, NULL where its table has no such column. Two tables' columns of
    one name must agree on their type, or the union could not hold both."""
    layout: dict[str, Any] = {}
    for source in SOURCES:
        for name in source.columns:
            column_type = getattr(source.model, name).type
            known = layout.setdefault(name, column_type)
            assert type(known) is type(column_type), f"{name}: {known!r} and {column_type!r}"
    return layout


def _nothing(name: str, column_type: Any) -> ColumnElement[Any]:
    # Typed, as PostgreSQL resolves a union of untyped NULLs as text, and SQLAlchemy reads the
    # union's values (dates and times on SQLite) by the types of its first branch.
    return cast(null(), column_type).label(name)


def _branch(
    number: int,
    table: Any,
    values: Mapping[str, ColumnElement[Any]],
    child_id: ColumnElement[Any] | None = None,
) -> Select[Any]:
    """One branch of the union: which source it is, the record's id and created_at, the
    layout's columns (its own where it has them), and a child it concerns (or NULL)."""
    columns: list[ColumnElement[Any]] = [
        literal_column(str(number), Integer).label("source"),
        table.id.label("id"),
        table.created_at.label("created_at"),
    ]
    columns += [
        values[name].label(name) if name in values else _nothing(name, column_type)
        for name, column_type in _layout().items()
    ]
    columns.append(
        child_id.label("child_id")
        if child_id is not None
        else _nothing("child_id", Child.__table__.c.id.type)
    )
    return select(*columns)


def _source_branch(role: Role, number: int, source: Source, for_child: bool) -> Select[Any]:
    """Her records of one source under their own scope; a record concerning children comes as
    one row per child shown to the caller (a local authority: its own children only)."""
    model = source.model
    own = {name: getattr(model, name) for name in source.columns}
    mother_id = bindparam("mother_id")
    if not source.concerns_children:
        return _branch(number, model, own).where(model.mother_id == mother_id, source.visible(role))
    assert source.resource is not None and source.resource.children is not None
    links = source.resource.children
    # A derived table of its own: the scope conditions' own subqueries name the link table and
    # child, and must not be correlated with the ones joined here.
    shown = (
        select(links.record_id.label("record_id"), links.child_id.label("child_id"))
        .join(Child, Child.id == links.child_id)
        .where(shown_with_their_mother(role))
        .subquery()
    )
    statement = (
        _branch(number, model, own, shown.c.child_id)
        .select_from(model)
        .outerjoin(shown, shown.c.record_id == model.id)
        .where(model.mother_id == mother_id, source.visible(role))
    )
    if for_child:
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


@cache
def _statement(role: Role, for_child: bool) -> CompoundSelect:
    """Her chronology's one statement for a role: her row, the child's (with the filter), and
    every source's rows (with the filter: those of the sources that concern children)."""
    mother_id = bindparam("mother_id")
    branches = [
        _branch(HER, Mother, {}).where(Mother.id == mother_id, mother_visible(role)),
    ]
    if for_child:
        # Only a child of hers the caller may see: the filter must not find another
        # authority's child's events for a local authority.
        branches.append(
            _branch(THE_CHILD, Child, {}).where(
                Child.id == bindparam("child_id"),
                Child.mother_id == mother_id,
                child_visible(role),
            )
        )
    branches += [
        _source_branch(role, number, source, for_child)
        for number, source in enumerate(SOURCES)
        if source.concerns_children or not for_child  # hers alone: it names no child
    ]
    return union_all(*branches)


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored is UTC (as the answer's type says).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _event_order(event: ChronologyEvent) -> tuple[date, bool, float]:
    # Dated events (no time) come first on their day; then by time.
    return event.on, event.at is not None, event.at.timestamp() if event.at else 0.0


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
    rows = await fetch_rows(session, _statement(caller.role, child_id is not None), params)
    seen_her = seen_the_child = False
    # Each record once, with the children it concerns: (source, id) -> (its row, children).
    records: dict[tuple[int, uuid.UUID], tuple[Row, list[uuid.UUID]]] = {}
    for row in rows:
        number = row["source"]
        if number == HER:
            seen_her = True
        elif number == THE_CHILD:
            seen_the_child = True
        else:
            found = records.setdefault((number, row["id"]), (row, []))
            if row["child_id"] is not None:
                found[1].append(row["child_id"])
    if not seen_her:
        raise MOTHERS.not_found(mother_id)
    if child_id is not None and not seen_the_child:
        records = {}
    # As the sources list them, each source's records in the order they were recorded: the
    # order of events on the same day at the same time.
    ordered = sorted(
        records.items(), key=lambda item: (item[0][0], item[1][0]["created_at"], item[0][1])
    )
    events: list[ChronologyEvent] = []
    for (number, record_id), (row, children) in ordered:
        source = SOURCES[number]
        children.sort()
        for when, kind, summary in source.events(row):
            if when is None or (kinds and kind not in kinds):
                continue
            timed = isinstance(when, datetime)
            # Built, not validated: every value is already of its field's type (a time in UTC).
            events.append(
                ChronologyEvent.model_construct(
                    on=when.date() if timed else when,
                    at=_utc(when) if timed else None,
                    kind=kind,
                    summary=summary,
                    resource_type=source.resource_type,
                    resource_id=record_id,
                    child_ids=children,
                )
            )
    events.sort(key=_event_order)
    return Chronology.model_construct(mother_id=mother_id, events=events)
