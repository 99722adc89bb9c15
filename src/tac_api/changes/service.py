"""The outbox behind the change feed and the webhooks: what services say they changed, written
with the change itself, one row per local authority it concerns; and the feed that reads it.
Beside it, the service's own outbox for the estate's topic (`service_event`, published by
`tac_api.events.publisher`): one row per change, whoever it concerns.

Services `emit` as they change things; the events wait on the session (like the audit trail's)
and `write_pending` writes them just before the request commits, in the request's own
transaction: a change and its events stand or fall together, and a rolled-back request tells
no one anything.
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from tac_api.changes.models import ChangeEvent
from tac_api.children.models import Child
from tac_api.db import fetch_rows, utcnow
from tac_api.errors import InvalidInput
from tac_api.events.models import ServiceEvent
from tac_api.mothers.models import Mother
from tac_api.pagination import decode_cursor

PENDING = "change_events_pending"  # session.info: the events this transaction has to write
# PostgreSQL advisory lock key held from the events' insert to the commit (see `_in_order`).
CHANGE_FEED_LOCK = 0x7AC1
# A position is a BIGINT: a larger "cursor" is not one the feed gave out.
LARGEST_POSITION = 2**63 - 1


@dataclass(frozen=True, slots=True)
class PendingEvent:
    event_type: str
    resource_type: str
    resource_id: uuid.UUID
    mother_id: uuid.UUID | None
    # None: an event about her (a transfer, her release): every child of hers concerns it.
    child_ids: frozenset[uuid.UUID] | None
    data: dict[str, Any]
    # Set: told to this authority alone, whoever's children she has (see `emit`).
    local_authority_code: str | None = None
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=utcnow)


def emit(
    session: AsyncSession,
    event_type: str,
    resource_type: str,
    resource_id: uuid.UUID,
    mother_id: uuid.UUID | None,
    child_ids: Iterable[uuid.UUID] | None = None,
    data: Mapping[str, Any] | None = None,
    *,
    to_authority: str | None = None,
) -> None:
    """Note a change, to be told to the local authorities it concerns when the request commits.

    `child_ids`: the children the change concerns; their authorities are told, each of its own
    children only. None for a change about the mother herself (a transfer, her release, her
    release date, her evidence and release plan): every authority with a child of hers is told.
    `data`: what an authority needs to act on it (dates, codes, status, which fields changed),
    never more than it can read itself through GET, and never another authority's children.
    `to_authority`: an answer to that authority alone (its link request decided), listing
    `child_ids` as given (its own), with `mother_id` None when it may not know her.
    """
    pending: list[PendingEvent] = session.info.setdefault(PENDING, [])
    pending.append(
        PendingEvent(
            event_type=event_type,
            resource_type=resource_type,
            resource_id=resource_id,
            mother_id=mother_id,
            child_ids=None if child_ids is None else frozenset(child_ids),
            data={key: plain(value) for key, value in (data or {}).items()},
            local_authority_code=to_authority,
        )
    )


def plain(value: Any) -> Any:
    """A value as the API shows it, for an event's JSON (times in UTC, as `...Z`)."""
    if isinstance(value, datetime):
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return utc.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def snapshot(record: Any, fields: Iterable[str]) -> dict[str, Any]:
    """These fields of a record (a model or a mapping), as an event carries them."""
    if isinstance(record, Mapping):
        return {name: plain(record.get(name)) for name in fields}
    return {name: plain(getattr(record, name)) for name in fields}


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """`after`, with `changed`: the names of the fields whose value is not what it was."""
    changed = [name for name, value in after.items() if before.get(name) != value]
    return {**after, "changed": changed}


# Writing ------------------------------------------------------------------------------------


async def write_pending(session: AsyncSession) -> None:
    """Write the events this transaction emitted: one query to find the authorities each
    concerns, for all of them, then one insert for every row (never a statement per event).
    The request's session calls this last, just before its commit."""
    if session.info.get(PENDING):
        await session.run_sync(_write_pending)


@event.listens_for(Session, "before_commit")
def _written_before_commit(session: Session) -> None:
    """Whatever else commits a session that emitted events (a command, a test calling a
    service) writes them too: a committed change is never left untold."""
    if session.info.get(PENDING):
        _write_pending(session)


def _write_pending(session: Session) -> None:
    pending: list[PendingEvent] = session.info.pop(PENDING, [])
    mother_ids = {e.mother_id for e in pending if e.mother_id is not None}
    rows = _rows(pending, _children_of_mothers(session, mother_ids))
    published = _published_rows(pending)
    if not rows and not published:
        return
    # Both outboxes are read by position from a cursor: both need positions visible in order.
    _in_order(session)
    if rows:  # none when it concerns no authority: nobody to tell
        session.execute(insert(ChangeEvent.__table__), rows)
    if published:
        session.execute(insert(ServiceEvent.__table__), published)


def _children_of_mothers(
    session: Session, mother_ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """Every child of these mothers, with their authority, as this transaction sees them.

    The mothers' rows are share-locked (FOR KEY SHARE: it blocks only her deletion or a
    FOR UPDATE, such as a change to her record) before the feed lock is taken. The events' insert
    takes that same lock for its foreign key; taken there, under the feed lock, it could wait
    for a request that holds her row and is itself waiting for the feed lock: a deadlock.
    """
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {m: [] for m in mother_ids}
    # From her row, so that a mother with no child is locked too: the service's outbox names
    # her whoever her change concerns.
    statement = (
        select(Child.id, Mother.id, Child.local_authority_code)
        .select_from(Mother)
        .outerjoin(Child, Child.mother_id == Mother.id)
        .where(Mother.id.in_(mother_ids))
        .order_by(Mother.id, Child.id)
        .with_for_update(of=Mother, read=True, key_share=True)
    )
    for child_id, mother_id, authority in session.execute(statement):
        if child_id is not None:
            found[mother_id].append((child_id, authority))
    return found


def _rows(
    pending: list[PendingEvent], children: Mapping[uuid.UUID, list[tuple[uuid.UUID, str]]]
) -> list[dict[str, Any]]:
    """One row per event per authority concerned, each listing that authority's children only:
    the named children of hers (a child named who is not hers concerns no one), or for an
    event about her, all of them."""
    rows = []
    for change in pending:
        by_authority: dict[str, list[str]] = {}
        if change.local_authority_code is not None:
            by_authority[change.local_authority_code] = sorted(map(str, change.child_ids or ()))
        else:
            for child_id, authority in children[change.mother_id]:  # type: ignore[index]
                if change.child_ids is None or child_id in change.child_ids:
                    by_authority.setdefault(authority, []).append(str(child_id))
        for authority in sorted(by_authority):
            rows.append(
                {
                    "event_id": change.event_id,
                    "local_authority_code": authority,
                    "event_type": change.event_type,
                    "occurred_at": change.occurred_at,
                    "mother_id": change.mother_id,
                    "resource_type": change.resource_type,
                    "resource_id": change.resource_id,
                    "child_ids": by_authority[authority],
                    "data": change.data,
                }
            )
    return rows


def _published_rows(pending: list[PendingEvent]) -> list[dict[str, Any]]:
    """The service's outbox: one row per change, whoever it concerns, but for an answer to one
    authority alone (its link request decided), which the estate has no business with."""
    return [
        {
            "event_id": change.event_id,
            "event_type": change.event_type,
            "occurred_at": change.occurred_at,
            "mother_id": change.mother_id,
            "resource_type": change.resource_type,
            "resource_id": change.resource_id,
        }
        for change in pending
        if change.local_authority_code is None
    ]


def _in_order(session: Session) -> None:
    """Make event-writing transactions commit in the order of their positions.

    A feed reader resumes after the last position it saw, so a position must never become
    visible after a higher one: otherwise a reader at 102 skips 101, committed a moment later.
    PostgreSQL hands out sequence values at insert, not at commit, so two writers can commit
    out of order. A transaction-level advisory lock taken just before the insert, and released
    by the commit itself, serialises the stretch from taking positions to committing them; the
    next writer can take its positions only once the earlier ones are visible. So every
    snapshot a reader takes holds a prefix of the positions (gaps only where a transaction
    rolled back, and those never fill).

    Why this and not a visibility horizon (reading only below pg_snapshot_xmin): the horizon
    needs each row's transaction id in the table, and holds back every authority's feed while
    any one long transaction runs; the lock costs a writer the wait for another's insert and
    commit, a millisecond or two, and readers never wait. It is taken last, after the audit
    rows and just before the commit, so it is held as briefly as it can be. It is per
    transaction, so it works through PgBouncer's transaction pooling. SQLite has one writer at
    a time already, and its positions never go back (AUTOINCREMENT: see the model).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_FEED_LOCK})


# Reading ------------------------------------------------------------------------------------


def decode_after(after: str | None) -> int:
    """The position a feed cursor stands at (no cursor: before the first event)."""
    if after is None:
        return 0
    refused = InvalidInput("after", "is not a cursor this feed gave out", location="query")
    try:
        (position,) = decode_cursor(after, [ChangeEvent.position])  # type: ignore[list-item]
    except InvalidInput as exc:
        raise refused from exc
    if isinstance(position, bool) or not 0 <= position <= LARGEST_POSITION:
        raise refused
    return int(position)


@cache
def _feed() -> Select[Any]:
    """One authority's events after a position, in order: an index seek on
    ix_change_event_feed (local_authority_code, position). Built once."""
    return (
        select(*ChangeEvent.__table__.c)
        .where(
            ChangeEvent.local_authority_code == bindparam("local_authority_code"),
            ChangeEvent.position > bindparam("after"),  # type: ignore[operator]
        )
        .order_by(ChangeEvent.position)
        .limit(bindparam("limit"))
    )


async def feed(
    session: AsyncSession, local_authority_code: str, after: int, limit: int
) -> tuple[list[ChangeEvent], bool]:
    """The events after `after`, at most `limit`, and whether more are waiting."""
    rows: Sequence[Mapping[str, Any]] = await fetch_rows(
        session,
        _feed(),
        {"local_authority_code": local_authority_code, "after": after, "limit": limit + 1},
    )
    events = [ChangeEvent(**row) for row in rows[:limit]]
    return events, len(rows) > limit
