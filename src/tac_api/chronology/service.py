"""Her chronology: every dated event of her case, from every liaison record, in order.

Each kind of record is a `Source`: its description (`Resource`: its table, its scope, the
children it concerns) where it has one, and the events one row makes. A chronology costs two
statements per source (the rows, then their children), however long it is.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.models import ParentingAssessment
from tac_api.assessments.service import ASSESSMENTS
from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.chronology.schemas import Chronology, ChronologyEvent, ChronologyKind
from tac_api.communications.models import Communication
from tac_api.communications.service import COMMUNICATIONS
from tac_api.evidence.models import Evidence
from tac_api.evidence.service import EVIDENCE
from tac_api.hearings.models import CourtHearing, Proceedings
from tac_api.hearings.proceedings import PROCEEDINGS
from tac_api.hearings.service import HEARINGS
from tac_api.meetings.models import Meeting
from tac_api.meetings.service import MEETINGS
from tac_api.mothers.models import PrisonStay
from tac_api.mothers.service import MOTHERS
from tac_api.release.models import ReleasePlan
from tac_api.resources import Resource, children_of, get_visible
from tac_api.scope import child_visible, release_plan_visible
from tac_api.visits.models import ContactVisit
from tac_api.visits.service import VISITS

When = date | datetime | None
Event = tuple[When, ChronologyKind, str]


def said(code: str | None) -> str:
    """A code as words: `interim_care_order` -> `interim care order`."""
    return (code or "").replace("_", " ")


@dataclass(frozen=True)
class Source:
    resource_type: str
    model: Any
    visible: Callable[[Caller], ColumnElement[bool]]
    events: Callable[[Any], Iterable[Event]]
    # Its description, if it has one: the children it concerns come from it.
    resource: Resource[Any] | None = None

    @classmethod
    def of(cls, resource: Resource[Any], events: Callable[[Any], Iterable[Event]]) -> "Source":
        return cls(resource.kind, resource.model, resource.visible, events, resource)

    @property
    def concerns_children(self) -> bool:
        return self.resource is not None and self.resource.children is not None


def _stay(stay: PrisonStay) -> Iterable[Event]:
    yield stay.arrived_on, "custody", f"Held at {stay.prison_code}"
    if stay.left_on:
        yield stay.left_on, "custody", f"Left {stay.prison_code}"


def _proceedings(proceedings: Proceedings) -> Iterable[Event]:
    yield proceedings.issued_on, "proceedings", f"Proceedings issued at {proceedings.court_name}"


def _hearing(hearing: CourtHearing) -> Iterable[Event]:
    summary = f"{said(hearing.hearing_type).capitalize()} hearing at {hearing.court_name}"
    if hearing.attended is True:
        summary += f"; she attended ({said(hearing.attended_how)})"
    elif hearing.attended is False:
        summary += f"; she did not attend ({said(hearing.barrier)})"
    if hearing.order_made:
        summary += f"; order: {said(hearing.order_made)}"
    yield hearing.starts_at, "court_hearing", summary


def _meeting(meeting: Meeting) -> Iterable[Event]:
    summary = f"{said(meeting.meeting_type).capitalize()} ({said(meeting.platform)})"
    if meeting.attended is True:
        summary += "; she attended"
    elif meeting.attended is False:
        summary += f"; she did not attend ({said(meeting.barrier)})"
    yield meeting.starts_at, "meeting", summary


def _visit(visit: ContactVisit) -> Iterable[Event]:
    when = visit.scheduled_at or visit.created_at
    yield when, "contact_visit", f"{said(visit.visit_type).capitalize()}: {said(visit.status)}"


def _assessment(assessment: ParentingAssessment) -> Iterable[Event]:
    model = said(assessment.model).upper() if assessment.model == "pams" else said(assessment.model)
    yield (
        assessment.requested_on,
        "parenting_assessment",
        f"Parenting assessment ({model}) requested by the {said(assessment.requested_by)}",
    )
    if assessment.started_on:
        yield assessment.started_on, "parenting_assessment", "Parenting assessment started"
    if assessment.completed_on:
        outcome = said(assessment.outcome)
        yield assessment.completed_on, "parenting_assessment", f"Parenting assessment: {outcome}"


def _evidence(item: Evidence) -> Iterable[Event]:
    done = " completed" if item.completed_on else " started"
    yield (
        item.completed_on or item.started_on,
        "evidence",
        f"{said(item.category).capitalize()}: {item.title}{done}",
    )


def _release(plan: ReleasePlan) -> Iterable[Event]:
    if plan.expected_release_date:
        yield plan.expected_release_date, "release", "Expected release"


def _communication(communication: Communication) -> Iterable[Event]:
    if communication.kind == "life_story_contribution":
        yield communication.occurred_at, "life_story", "Life story work contribution"
        return
    yield (
        communication.occurred_at,
        "communication",
        f"Relayed from {said(communication.from_party)} to {said(communication.to_party)}"
        f" by {said(communication.channel)}",
    )


SOURCES = (
    # Her stays: visible with her (checked first), so no scope of their own.
    Source("prison_stay", PrisonStay, lambda _: true(), _stay),
    Source.of(PROCEEDINGS, _proceedings),
    Source.of(HEARINGS, _hearing),
    Source.of(MEETINGS, _meeting),
    Source.of(VISITS, _visit),
    Source.of(ASSESSMENTS, _assessment),
    Source.of(EVIDENCE, _evidence),
    Source("release_plan", ReleasePlan, release_plan_visible, _release),
    Source.of(COMMUNICATIONS, _communication),
)


def _on(when: date | datetime) -> tuple[date, datetime | None]:
    if isinstance(when, datetime):
        return when.date(), when
    return when, None


async def _events_of(
    session: AsyncSession,
    caller: Caller,
    source: Source,
    mother_id: uuid.UUID,
    child_id: uuid.UUID | None,
) -> list[ChronologyEvent]:
    statement = select(source.model).where(
        source.model.mother_id == mother_id, source.visible(caller)
    )
    if child_id is not None:
        if not source.concerns_children:
            return []  # hers alone: it names no child
        assert source.resource is not None and source.resource.children is not None
        links = source.resource.children
        statement = statement.where(
            exists().where(links.record_id == source.model.id, links.child_id == child_id)
        )
    rows = list(await session.scalars(statement))
    if not rows:
        return []
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    if source.concerns_children:
        assert source.resource is not None
        # Another authority's children are not named to a local authority.
        children = await children_of(session, caller, source.resource, [row.id for row in rows])
    events = []
    for row in rows:
        for when, kind, summary in source.events(row):
            if when is None:
                continue
            on, at = _on(when)
            events.append(
                ChronologyEvent(
                    on=on,
                    at=at,
                    kind=kind,
                    summary=summary,
                    resource_type=source.resource_type,
                    resource_id=row.id,
                    child_ids=children.get(row.id, []),
                )
            )
    return events


async def chronology(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    child_id: uuid.UUID | None,
    kinds: set[str] | None,
) -> Chronology:
    await get_visible(session, caller, MOTHERS, mother_id)
    if child_id is not None:
        # Only a child of hers the caller may see: the filter must not find another
        # authority's child's events for a local authority.
        hers = select(Child.id).where(
            Child.id == child_id, Child.mother_id == mother_id, child_visible(caller)
        )
        if await session.scalar(hers) is None:
            return Chronology(mother_id=mother_id, events=[])
    events: list[ChronologyEvent] = []
    for source in SOURCES:
        events += await _events_of(session, caller, source, mother_id, child_id)
    if kinds:
        events = [event for event in events if event.kind in kinds]
    # Dated events (no time) come first on their day; then by time, then as the sources list them.
    events.sort(key=lambda e: (e.on, e.at is not None, e.at.timestamp() if e.at else 0.0))
    return Chronology(mother_id=mother_id, events=events)
