"""Her chronology: every dated event of her case, from every liaison record, in order.

Each kind of record is a `Source`: its table, its own scope (the one place that record is
scoped, reused here), how it links to children, and the events one row makes. A chronology costs
two statements per source (the rows, then their children), however long it is.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.models import ParentingAssessment, ParentingAssessmentChild
from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.chronology.schemas import Chronology, ChronologyEvent, ChronologyKind
from tac_api.communications.models import Communication, CommunicationChild
from tac_api.evidence.models import Evidence
from tac_api.hearings.models import CourtHearing, CourtHearingChild, Proceedings, ProceedingsChild
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.mothers.models import PrisonStay
from tac_api.mothers.service import MOTHERS
from tac_api.release.models import ReleasePlan
from tac_api.resources import get_visible
from tac_api.scope import (
    assessment_visible,
    child_visible,
    communication_visible,
    evidence_visible,
    hearing_visible,
    meeting_visible,
    proceedings_visible,
    release_plan_visible,
    visit_visible,
)
from tac_api.visits.models import ContactVisit, ContactVisitChild

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
    # The association table's (record id, child id) columns; None: the record is hers alone.
    children: tuple[Any, Any] | None = None


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
    Source(
        "proceedings",
        Proceedings,
        proceedings_visible,
        _proceedings,
        (ProceedingsChild.proceedings_id, ProceedingsChild.child_id),
    ),
    Source(
        "court_hearing",
        CourtHearing,
        hearing_visible,
        _hearing,
        (CourtHearingChild.court_hearing_id, CourtHearingChild.child_id),
    ),
    Source(
        "meeting",
        Meeting,
        meeting_visible,
        _meeting,
        (MeetingChild.meeting_id, MeetingChild.child_id),
    ),
    Source(
        "contact_visit",
        ContactVisit,
        visit_visible,
        _visit,
        (ContactVisitChild.contact_visit_id, ContactVisitChild.child_id),
    ),
    Source(
        "parenting_assessment",
        ParentingAssessment,
        assessment_visible,
        _assessment,
        (ParentingAssessmentChild.parenting_assessment_id, ParentingAssessmentChild.child_id),
    ),
    Source("evidence", Evidence, evidence_visible, _evidence),
    Source("release_plan", ReleasePlan, release_plan_visible, _release),
    Source(
        "communication",
        Communication,
        communication_visible,
        _communication,
        (CommunicationChild.communication_id, CommunicationChild.child_id),
    ),
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
        if source.children is None:
            return []  # hers alone: it names no child
        record, child = source.children
        statement = statement.where(exists().where(record == source.model.id, child == child_id))
    rows = list(await session.scalars(statement))
    if not rows:
        return []
    children: dict[uuid.UUID, list[uuid.UUID]] = {}
    if source.children is not None:
        record, child = source.children
        links = select(record, child).where(record.in_([row.id for row in rows]))
        if caller.is_local_authority:  # another authority's children are not named to it
            links = links.join(Child, Child.id == child).where(
                Child.local_authority_code == caller.local_authority_code
            )
        for record_id, linked in (await session.execute(links.order_by(child))).all():
            children.setdefault(record_id, []).append(linked)
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
