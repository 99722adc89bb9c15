"""Prison events applied to her case: what the queue's consumer calls for each message.

One transaction per message, her row locked first (two consumers handling two events about her
run one after the other), and the event's row in the inbox (`prison_event`, unique by its
fingerprint) written with what it changed: delivery at least once changes nothing twice, and an
older movement arriving after a newer one changes nothing at all.

What each event does to her case:

- `received` into a prison the service works in, other than hers: a transfer, as a PATCH of
  her prison is (`mothers.service.change_her_record`); received while released: she is back
  in custody (active; her record flagged for review).
- `received` into a prison it does not work in (added to the prisons, not served): she is
  recorded there, `transferred`; the sending prison keeps its summary (no handover task); her
  record is flagged for review.
- `released` for good (RELEASED, RELEASED_TO_HOSPITAL): status `released` and the day, her
  support open. A release to another prison, to court or on temporary licence changes nothing.
- `updated` with SENTENCE among its categories: her record flagged for review (once while open).
  The event names what changed, not the new values; the detailUrl (prisoner search) is not
  fetched: the flag asks a person to check.
- `merged`: `merge.apply_merge`.

A transfer or a release flags her future arrangements that depend on where she is (visits,
hearings, meetings) for review; none is cancelled. Every change is audited as made by the
events' own caller (`schemas.EVENT_SOURCE`), and her children's authorities are told as after a
PATCH (`mother.transferred`, `mother.released`).
"""

import uuid
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.changes import service as changes
from tac_api.db import REQUEST_ID, insert_for, utcnow
from tac_api.events import schemas
from tac_api.events.models import PrisonEvent
from tac_api.events.schemas import (
    EVENT_SOURCE,
    MERGED,
    RECEIVED,
    RELEASED,
    UPDATED,
    Delivered,
    DomainEvent,
    parse_message,
)
from tac_api.flags.service import BY_EVENT, raise_by_event, raise_flag
from tac_api.hearings.models import CourtHearing
from tac_api.meetings.models import Meeting
from tac_api.mothers.models import Mother, PrisonNumberAlias, PrisonStay
from tac_api.mothers.service import MOTHERS, change_her_record
from tac_api.reference.models import Prison
from tac_api.visits.models import ContactVisit
from tac_api.visits.schemas import OPEN_VISIT_STATUSES


class Outcome(StrEnum):
    applied = "applied"
    # Its fingerprint is in the inbox already: delivered (or published) again.
    duplicate = "duplicate"
    # Older than a movement already applied to her: stored, nothing changed.
    superseded = "superseded"
    # About no one the service knows, or a type it does not consume: nothing stored.
    ignored = "ignored"


MOVEMENTS = (RECEIVED, RELEASED)
# Releases that end her custody. A release to another prison (TRANSFERRED: the `received`
# that follows says where), to court (SENT_TO_COURT) or on temporary licence
# (TEMPORARY_ABSENCE_RELEASE) changes nothing: she is still in custody, and still the
# prison's.
FINAL_RELEASES = frozenset({"RELEASED", "RELEASED_TO_HOSPITAL"})
NOT_RELEASES = frozenset({"TRANSFERRED", "SENT_TO_COURT", "TEMPORARY_ABSENCE_RELEASE"})
SENTENCE = "SENTENCE"
SENTENCE_CHANGED = (
    "NOMIS changed her sentence or release dates; check her earliest release date and release plan."
)
# What to check on each kind of arrangement, after she moves or is released.
ARRANGEMENTS = {
    "contact_visit": ("contact visit", "where it happens, her escort and its supervision"),
    "court_hearing": ("court hearing", "how she attends: her escort, or the video link"),
    "meeting": ("meeting", "how she joins: the video link or platform she can use now"),
}


async def handle_message(sessionmaker: async_sessionmaker[AsyncSession], body: str) -> Outcome:
    """Apply one message from the queue to her case, in one transaction, and say how it went.

    Raises `schemas.MalformedEvent` for a message that is not an event (the consumer leaves it
    to the dead-letter queue); anything else raised is a transient failure, to be retried."""
    delivered = parse_message(body)
    if delivered.event.event_type not in schemas.CONSUMED:
        return Outcome.ignored
    try:
        async with sessionmaker() as session:
            # What the audit rows (and histories) say the change came in: the event itself.
            session.info[REQUEST_ID] = delivered.fingerprint
            outcome = await _apply(session, delivered)
            # Committed whatever the outcome: an ignored merge may still have moved referrals
            # from the removed number to the kept one (an ignored or duplicate event wrote
            # nothing, so its commit is empty).
            await audit.write_pending_as(session, EVENT_SOURCE, delivered.fingerprint)
            await changes.write_pending(session)
            await session.commit()
            return outcome
    except IntegrityError:
        # The same event, applied meanwhile by another consumer: its row won the fingerprint.
        # Anything else that broke a constraint is retried.
        async with sessionmaker() as session:
            if await _seen(session, delivered.fingerprint):
                return Outcome.duplicate
        raise


async def _apply(session: AsyncSession, delivered: Delivered) -> Outcome:
    event = delivered.event
    if event.event_type == MERGED:
        return await _merge(session, delivered)
    number = event.noms_number
    mother = await _find_her(session, number) if number else None
    if mother is None:
        return Outcome.ignored
    if await _seen(session, delivered.fingerprint):
        return Outcome.duplicate
    outcome = Outcome.applied
    day = event.occurred_at_utc.date()
    categories = event.additional_information.categories_changed
    if event.event_type in MOVEMENTS and await _overtaken(session, mother.id, event):
        outcome = Outcome.superseded
    elif event.event_type == RECEIVED:
        await _received(session, mother, event, day)
    elif event.event_type == RELEASED:
        await _released(session, mother, event, day)
    elif event.event_type == UPDATED and SENTENCE in categories:
        await _flag_her(session, mother, SENTENCE_CHANGED, unless="open")
    # An update of other categories (personal details, location in the prison...): nothing of
    # hers here follows them; the event is kept, applied.
    await _store(session, delivered, mother.id, outcome)
    return outcome


async def _merge(session: AsyncSession, delivered: Delivered) -> Outcome:
    """Merges are not ordered by occurredAt: a merge applies whenever it arrives."""
    # Imported here: the merge's module is another change's; this one imports without it.
    from tac_api.events import merge

    if await _seen(session, delivered.fingerprint):
        return Outcome.duplicate
    mother_id = await merge.apply_merge(session, delivered)
    if mother_id is None:
        return Outcome.ignored
    await _store(session, delivered, mother_id, Outcome.applied)
    return Outcome.applied


# -- Her, and what her case already reflects -------------------------------------------------


async def _find_her(session: AsyncSession, number: str) -> Mother | None:
    """Her, by her own prison number or one merged into it, her row locked until the commit."""
    mother = await session.scalar(
        select(Mother).where(Mother.prison_number == number).with_for_update(of=Mother)
    )
    if mother is not None:
        return mother
    return await session.scalar(
        select(Mother)
        .join(PrisonNumberAlias, PrisonNumberAlias.mother_id == Mother.id)
        .where(PrisonNumberAlias.prison_number == number)
        .with_for_update(of=Mother)
    )


async def _seen(session: AsyncSession, fingerprint: str) -> bool:
    found = await session.scalar(
        select(PrisonEvent.id).where(PrisonEvent.fingerprint == fingerprint)
    )
    return found is not None


def _moves_her(event_type: str, reason: str | None) -> bool:
    """Whether a received or released event sets where she is: every received does; a release
    only for good (one to another prison, to court or on licence changes nothing)."""
    return event_type == RECEIVED or reason in FINAL_RELEASES


async def _overtaken(session: AsyncSession, mother_id: uuid.UUID, event: DomainEvent) -> bool:
    """Older than the newest movement applied to her (a late "released" must not undo a newer
    "received"). At the same moment, a different event (another fingerprint) still applies."""
    applied = await session.execute(
        select(PrisonEvent.occurred_at, PrisonEvent.event_type, PrisonEvent.details)
        .where(
            PrisonEvent.mother_id == mother_id,
            PrisonEvent.event_type.in_(MOVEMENTS),
            PrisonEvent.outcome == Outcome.applied.value,
            PrisonEvent.occurred_at > event.occurred_at_utc,
        )
        .order_by(PrisonEvent.occurred_at.desc())
    )
    return any(_moves_her(row.event_type, (row.details or {}).get("reason")) for row in applied)


# -- What each event does ----------------------------------------------------------------------


async def _received(session: AsyncSession, mother: Mother, event: DomainEvent, day: date) -> None:
    code = event.additional_information.prison_id
    if code is None:
        return  # received, but nowhere named: nothing to record
    prison = await _prison(session, code)
    was, from_code = mother.status, mother.prison_code
    wanted: dict[str, Any] = {"prison_code": code}
    if was != "closed":  # a case the service closed stays closed: only where she is changes
        wanted["status"] = "active" if prison.served else "transferred"
    on = await _move_day(session, mother, day)
    changed = await _change(session, mother, wanted, on=on, handover=prison.served)
    reason = event.additional_information.reason or "not given"
    where = code if prison.name == code else f"{prison.name} ({code})"
    if was == "released":
        await _flag_her(
            session,
            mother,
            f"NOMIS received her back into custody at {where} on {day} (reason {reason}): "
            "check her release plan, her children's arrangements and her support.",
        )
    if not prison.served and changed:
        await _flag_her(
            session,
            mother,
            f"NOMIS transferred her to {where}, a prison this service does not work in, on "
            f"{day}: the summary of her case is kept by {from_code}; decide whether her support "
            "goes on and how.",
        )
    if "prison_code" in changed:
        happened = f"She was received into {where} from {from_code} on {day} (a prison event)"
        await _flag_arrangements(session, mother.id, day, happened)


async def _released(session: AsyncSession, mother: Mother, event: DomainEvent, day: date) -> None:
    reason = event.additional_information.reason
    if reason in NOT_RELEASES:
        return  # still in custody: see NOT_RELEASES
    if reason not in FINAL_RELEASES:  # UNKNOWN, or a reason new to the estate
        await _flag_her(
            session,
            mother,
            f"NOMIS released her with reason {reason or 'not given'}: check whether she is "
            "still in custody and correct her status.",
            unless="open",
        )
        return
    wanted: dict[str, Any] = {"released_on": day}
    if mother.status != "closed":
        wanted["status"] = "released"  # her support stays open: only closing ends it
    changed = await _change(session, mother, wanted, on=day)
    if "status" in changed:
        happened = f"She was released from {mother.prison_code} on {day} (a prison event)"
        await _flag_arrangements(session, mother.id, day, happened)


async def _change(
    session: AsyncSession,
    mother: Mother,
    wanted: dict[str, Any],
    *,
    on: date,
    handover: bool = True,
) -> dict[str, Any]:
    """Her record changed as a PATCH changes it (a new prison is a transfer; her children's
    authorities told), audited as the event's. `handover`: whether the receiving prison is one
    the service works in, to get a handover task."""
    changed = await change_her_record(
        session, EVENT_SOURCE, mother, wanted, on=on, handover=handover
    )
    if changed:
        audit.altered(session, MOTHERS, mother, changed)
    return changed


async def _move_day(session: AsyncSession, mother: Mother, day: date) -> date:
    """The day she moved: the event's, but never before her current stay began (an event
    reported late must not end a stay before it started)."""
    began = await session.scalar(
        select(func.max(PrisonStay.arrived_on)).where(PrisonStay.mother_id == mother.id)
    )
    return max(day, began) if began is not None else day


async def _prison(session: AsyncSession, code: str) -> Prison:
    """The prison by its code; one the service has never heard of is added, not served, named
    by its code (prisons are data that grows). Two consumers adding it at once: one row."""
    prison = await session.get(Prison, code)
    if prison is not None:
        return prison
    await session.execute(
        insert_for(session)(Prison)
        .values(code=code, name=code, served=False)
        .on_conflict_do_nothing(index_elements=["code"])
    )
    found = await session.get(Prison, code)
    assert found is not None
    return found


# -- Flags for review --------------------------------------------------------------------------


async def _flag_her(
    session: AsyncSession, mother: Mother, reason: str, unless: Literal["open"] | None = None
) -> None:
    """Her record flagged for review by the event (`unless="open"`: not while a flag for the
    same reason is still open on it)."""
    await raise_by_event(
        session,
        EVENT_SOURCE,
        mother_id=mother.id,
        record=("mother", mother.id),
        reason=reason,
        unless=unless,
    )


async def _flag_arrangements(
    session: AsyncSession, mother_id: uuid.UUID, day: date, happened: str
) -> None:
    """Each of her arrangements still to come that depends on where she is, flagged for review
    with what happened and what to check; none is cancelled or changed. Visits in an open
    status dated from the event's day on (or not dated yet: still to come); hearings and
    meetings still scheduled that have not happened yet."""
    now = utcnow()
    since = datetime.combine(day, time.min, UTC)
    found: list[tuple[str, uuid.UUID]] = []
    visits = await session.scalars(
        select(ContactVisit.id)
        .where(
            ContactVisit.mother_id == mother_id,
            ContactVisit.status.in_(OPEN_VISIT_STATUSES),
            or_(ContactVisit.scheduled_at.is_(None), ContactVisit.scheduled_at >= since),
        )
        .order_by(ContactVisit.scheduled_at, ContactVisit.id)
    )
    found += [("contact_visit", visit_id) for visit_id in visits]
    hearings = await session.scalars(
        select(CourtHearing.id)
        .where(
            CourtHearing.mother_id == mother_id,
            CourtHearing.status == "scheduled",
            CourtHearing.outcome_recorded_at.is_(None),
            CourtHearing.starts_at >= now,
        )
        .order_by(CourtHearing.starts_at, CourtHearing.id)
    )
    found += [("court_hearing", hearing_id) for hearing_id in hearings]
    meetings = await session.scalars(
        select(Meeting.id)
        .where(
            Meeting.mother_id == mother_id,
            Meeting.status == "scheduled",
            Meeting.attended.is_(None),
            Meeting.starts_at >= now,
        )
        .order_by(Meeting.starts_at, Meeting.id)
    )
    found += [("meeting", meeting_id) for meeting_id in meetings]
    for kind, record_id in found:
        label, check = ARRANGEMENTS[kind]
        await raise_flag(
            session,
            EVENT_SOURCE,
            mother_id=mother_id,
            record=(kind, record_id),
            reason=f"{happened}. Check this {label}: {check}. Nothing was cancelled.",
            source=BY_EVENT,
        )


# -- The inbox ---------------------------------------------------------------------------------


async def _store(
    session: AsyncSession, delivered: Delivered, mother_id: uuid.UUID, outcome: Outcome
) -> None:
    """The event's row in her case, audited as collected: its fingerprint is what makes a
    second delivery a duplicate."""
    event = delivered.event
    row = PrisonEvent(
        fingerprint=delivered.fingerprint,
        mother_id=mother_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at_utc,
        message_id=delivered.message_id[:100] if delivered.message_id else None,
        outcome=outcome.value,
        details=schemas.details(event),
    )
    session.add(row)
    await session.flush()
    audit.record(session, Action.collect, "prison_event", row.id, mother_id)
