"""The service's own changes out to the estate's SNS topic, as HMPPS domain events.

Every change the services `emit` has a row in the outbox (`service_event`), written in the
change's own transaction, in position order (`tac_api.changes.service`). A pass of the publisher:

1. locks its topic's cursor (`event_publication`, FOR UPDATE on PostgreSQL: a second publisher
   waits for the first to finish its pass, then starts after it; made on first use);
2. reads the next events after the cursor, each with her prison number as it is now (a merge
   may have changed it since the change was made);
3. publishes them, ten to a PublishBatch, in order;
4. moves the cursor past what SNS took, and commits.

Delivery is at least once: a publisher that stops between 3 and 4 (or whose commit fails)
publishes the same batch again on its next pass, and nothing is ever skipped. Each event's
`additionalInformation.eventId` is the same every time it is published: a consumer drops one it
has had. An event carries ids and codes only: never a name, nor any free text.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tac_api.config import Settings
from tac_api.db import UK, insert_for, utcnow
from tac_api.events.aws import client, in_thread
from tac_api.events.models import EventPublication, ServiceEvent
from tac_api.mothers.models import Mother

log = logging.getLogger("tac_api.events")

EVENTS_PER_PASS = 100  # read, published and the cursor moved in one transaction
SNS_BATCH = 10  # the most a PublishBatch takes
EVENT_TYPE_PREFIX = "tac."
# The estate writes occurredAt in UK time, with its offset (`2024-06-14T09:07:15.624796+01:00`).
RETRY_MAX_SECONDS = 300.0

# One fixed sentence per type: what happened, never to whom.
DESCRIPTIONS = {
    "court-hearing.created": "A court hearing was added to a mother's case",
    "court-hearing.updated": "A court hearing's details were changed",
    "court-hearing.outcome-recorded": "A court hearing's outcome was recorded",
    "court-hearing.adjourned": "A court hearing was adjourned to a new date",
    "court-hearing.vacated": "A court hearing was vacated",
    "court-hearing.cancelled": "A court hearing was cancelled",
    "meeting.created": "A meeting about a mother's children was added to her case",
    "meeting.updated": "A meeting's details were changed",
    "meeting.adjourned": "A meeting was adjourned to a new date",
    "meeting.vacated": "A meeting was vacated",
    "meeting.cancelled": "A meeting was cancelled",
    "contact-visit.created": "A contact visit was requested",
    "contact-visit.updated": "A contact visit's details were changed",
    "contact-visit.status-changed": "A contact visit's status changed",
    "contact-visit.outcome-recorded": "A contact visit's outcome was recorded",
    "parenting-assessment.created": "A parenting assessment was requested",
    "parenting-assessment.updated": "A parenting assessment's details were changed",
    "parenting-assessment.deleted": "A parenting assessment was deleted",
    "evidence.added": "Evidence of a mother's progress was added",
    "evidence.updated": "Evidence of a mother's progress was changed",
    "evidence.deleted": "Evidence of a mother's progress was deleted",
    "release-plan.created": "A mother's release plan was started",
    "release-plan.updated": "A mother's release plan was changed",
    "mother.transferred": "A mother was moved to another prison",
    "mother.released": "A mother was released",
    "mother.release-date-changed": "A mother's release date changed",
}


def description(event_type: str, resource_type: str) -> str:
    """The type's sentence; for a type not listed yet, one said of its kind of record."""
    return DESCRIPTIONS.get(event_type) or f"A {resource_type.replace('_', ' ')} record changed"


@cache
def _paths() -> dict[str, str]:
    """Where each kind of record is read in the API, by its `resource_type` (the resource
    descriptions' own paths; a release plan is read through its mother). The one map."""
    from tac_api.assessments.service import ASSESSMENTS
    from tac_api.evidence.service import EVIDENCE
    from tac_api.hearings.service import HEARINGS
    from tac_api.meetings.service import MEETINGS
    from tac_api.mothers.service import MOTHERS
    from tac_api.release.service import RELEASE_PLANS
    from tac_api.visits.service import VISITS

    paths = {
        resource.kind: f"{resource.path}/{{resource_id}}"
        for resource in (ASSESSMENTS, EVIDENCE, HEARINGS, MEETINGS, MOTHERS, VISITS)
    }
    paths[RELEASE_PLANS.kind] = f"{MOTHERS.path}/{{mother_id}}/release-plan"
    return paths


def detail_url(settings: Settings, resource_type: str, resource_id: Any, mother_id: Any) -> str:
    """Where the record is read in the API (a kind not mapped yet: her record)."""
    template = _paths().get(resource_type)
    if template is None and mother_id is not None:
        template, resource_id = _paths()["mother"], mother_id
    path = (template or "").format(resource_id=resource_id, mother_id=mother_id)
    return settings.public_url.rstrip("/") + path


def occurred_at(moment: datetime) -> str:
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return utc.astimezone(UK).isoformat()


def message(row: Any, settings: Settings) -> dict[str, Any]:
    """An outbox row (with her prison number now, `prison_number`) as the estate's event."""
    additional: dict[str, Any] = {
        "eventId": str(row.event_id),
        "resourceType": row.resource_type,
        "resourceId": str(row.resource_id),
    }
    event: dict[str, Any] = {
        "eventType": EVENT_TYPE_PREFIX + row.event_type,
        "version": 1,
        "description": description(row.event_type, row.resource_type),
        "detailUrl": detail_url(settings, row.resource_type, row.resource_id, row.mother_id),
        "occurredAt": occurred_at(row.occurred_at),
        "additionalInformation": additional,
    }
    if row.mother_id is not None:
        additional["motherId"] = str(row.mother_id)
        if row.prison_number is not None:
            additional["nomsNumber"] = row.prison_number
            event["personReference"] = {
                "identifiers": [{"type": "NOMS", "value": row.prison_number}]
            }
    return event


class PublishFailed(Exception):
    """The topic refused or could not be reached: what was not published waits for the next
    pass (said without SNS's own words, which could echo a message)."""


class NoTopic(ValueError):
    def __init__(self) -> None:
        super().__init__("TAC_EVENTS_TOPIC_ARN is not set: there is no topic to publish to")


@dataclass(frozen=True)
class Sent:
    through: int | None  # the last position of the run SNS took from the start, if any
    failure: str | None


async def _publish(sns: Any, topic_arn: str, events: Sequence[tuple[int, dict[str, Any]]]) -> Sent:
    """Publish in order, ten at a time; stop at the first that fails."""
    through: int | None = None
    for start in range(0, len(events), SNS_BATCH):
        batch = events[start : start + SNS_BATCH]
        entries = [
            {
                "Id": str(position),
                "Message": json.dumps(event, separators=(",", ":")),
                "MessageAttributes": {
                    "eventType": {"DataType": "String", "StringValue": event["eventType"]}
                },
            }
            for position, event in batch
        ]
        try:
            answer = await in_thread(
                sns.publish_batch, TopicArn=topic_arn, PublishBatchRequestEntries=entries
            )
        except Exception as exc:
            return Sent(through, f"the topic could not be reached ({type(exc).__name__})")
        failed = {int(entry["Id"]) for entry in answer.get("Failed", [])}
        for position, _ in batch:
            if position in failed:
                codes = sorted({str(entry.get("Code")) for entry in answer["Failed"]})
                return Sent(through, f"the topic refused events ({', '.join(codes)})")
            through = position
    return Sent(through, None)


async def _locked_cursor(session: AsyncSession, topic_arn: str) -> int:
    """The topic's last published position, its row locked to the commit (PostgreSQL: another
    publisher's pass waits here, then reads the cursor as this one leaves it). Made at the
    outbox's start on first use."""
    locked = (
        select(EventPublication.last_position)
        .where(EventPublication.topic_arn == topic_arn)
        .with_for_update()
    )
    last = await session.scalar(locked)
    if last is None:
        insert = insert_for(session)
        await session.execute(
            insert(EventPublication.__table__)  # type: ignore[arg-type]
            .values(topic_arn=topic_arn, last_position=0)
            .on_conflict_do_nothing()  # another publisher's first pass made it first
        )
        last = await session.scalar(locked)
    assert last is not None
    return last


# The longest one PublishBatch may take (one attempt): a slow SNS fails the pass, which is
# retried later, rather than hold the cursor's lock (and a connection) while it answers.
PUBLISH_TIMEOUT_SECONDS = 5.0


def publishing_client(settings: Settings) -> Any:
    return client(settings, "sns", quick=PUBLISH_TIMEOUT_SECONDS)


async def publish_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    sns: Any = None,
    *,
    limit: int = EVENTS_PER_PASS,
) -> int:
    """One pass: the next events after the topic's cursor, published, and the cursor moved past
    them. Returns how many were published; raises PublishFailed (after moving the cursor past
    any that went) when the topic refused one or could not be reached."""
    topic_arn = settings.events_topic_arn
    if not topic_arn:
        raise NoTopic()
    sns = sns or publishing_client(settings)
    async with sessionmaker() as session, session.begin():
        last = await _locked_cursor(session, topic_arn)
        rows = (
            await session.execute(
                select(*ServiceEvent.__table__.c, Mother.prison_number)
                .outerjoin(Mother, Mother.id == ServiceEvent.mother_id)
                .where(ServiceEvent.position > last)  # type: ignore[operator]
                .order_by(ServiceEvent.position)
                .limit(limit)
            )
        ).all()
        if not rows:
            return 0
        sent = await _publish(
            sns, topic_arn, [(row.position, message(row, settings)) for row in rows]
        )
        if sent.through is not None:
            await session.execute(
                update(EventPublication)
                .where(
                    EventPublication.topic_arn == topic_arn,
                    # Never back (two publishers on SQLite, which cannot lock the row).
                    EventPublication.last_position < sent.through,
                )
                .values(last_position=sent.through, published_at=utcnow())
            )
    published = sum(1 for row in rows if sent.through is not None and row.position <= sent.through)
    if sent.failure is not None:
        raise PublishFailed(f"{published} of {len(rows)} events published: {sent.failure}")
    return published


async def prune(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime | None = None,
) -> int:
    """Delete the outbox's events published to this topic more than
    TAC_EVENTS_PUBLISHED_KEEP_DAYS ago. One not yet published stays, however old."""
    if not settings.events_topic_arn:
        raise NoTopic()
    before = (now or utcnow()) - timedelta(days=settings.events_published_keep_days)
    published_through = (
        select(EventPublication.last_position)
        .where(EventPublication.topic_arn == settings.events_topic_arn)
        .scalar_subquery()
    )
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(ServiceEvent).where(
                ServiceEvent.position <= published_through,  # type: ignore[operator]
                ServiceEvent.occurred_at < before,  # type: ignore[operator]
            )
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def retry_delay(failures: int, settings: Settings) -> float:
    """The wait after `failures` passes in a row that could not publish: the poll interval,
    doubling, capped at five minutes (the topic is coming back; no need to hammer it)."""
    return min(RETRY_MAX_SECONDS, settings.events_publish_poll_seconds * 2 ** (failures - 1))


PRUNE_EVERY = timedelta(hours=1)


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    stop: asyncio.Event,
    sns: Any = None,
) -> None:
    """Publish until `stop` is set: again at once after a full pass, otherwise after
    TAC_EVENTS_PUBLISH_POLL_SECONDS; while the topic (or the database) is down, logged and
    retried after a wait that doubles up to five minutes. Published events are pruned hourly."""
    if not settings.events_topic_arn:
        raise NoTopic()
    sns = sns or publishing_client(settings)
    failures = 0
    pruned_at: datetime | None = None
    while not stop.is_set():
        published = 0
        try:
            published = await publish_once(sessionmaker, settings, sns)
            failures = 0
            if pruned_at is None or utcnow() - pruned_at >= PRUNE_EVERY:
                pruned_at = utcnow()
                await prune(sessionmaker, settings)
        except Exception as exc:
            failures += 1
            wait = retry_delay(failures, settings)
            reason = str(exc) if isinstance(exc, PublishFailed) else type(exc).__name__
            log.warning("publishing events failed (%s); trying again in %g s", reason, wait)
        if published >= EVENTS_PER_PASS:
            continue
        delay = (
            retry_delay(failures, settings) if failures else settings.events_publish_poll_seconds
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
