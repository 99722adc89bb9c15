"""Idempotency keys for every POST (draft-ietf-httpapi-idempotency-key-header).

A POST sent with `Idempotency-Key` is claimed for its client before the route runs, on the short
gate connection the caller was admitted on (tac_api.pipeline), for a route that declares
`IdempotencyClaim` (idempotency.steps): one row per client and key, held
by one attempt at a time, in the database so that every API process agrees. Then:

- the route succeeds: the key is marked completed in the request's own transaction, just before
  its commit (session.py), so the change and the key's completion stand or fall together; the
  answer (status, body, Content-Type, Location, ETag) is stored right after the commit, before
  it is sent (middleware.IdempotentAnswers);
- the route fails (4xx, 5xx: its transaction is rolled back): the claim is deleted, so the client
  may try again with the same key, with the same request or a corrected one;
- the same request again: the stored answer, with `Idempotent-Replayed: true`; nothing runs, and
  the audit trail records the records it shows as disclosed again. Unless the caller can no
  longer see one of them (`scope.first_unseen`): then 404, as a fresh read would answer;
- the same key with another request: 422; while the first attempt is still running: 409 with
  Retry-After.

A claim whose attempt never finished (its process died, and its transaction with its connection)
may be taken over once older than TAC_IDEMPOTENCY_LOCK_SECONDS. That cannot run a change twice:
completing needs the attempt to still hold the key, checked in its own transaction, so of two
attempts at most one commits (on PostgreSQL the row lock taken by the completing UPDATE makes a
takeover wait for that transaction's end, and then find the key completed). A key that completed
but whose answer was never stored (the process died between the commit and storing it) is not run
again either: a retry is told that the first request completed.

Keys last TAC_IDEMPOTENCY_KEY_HOURS from their first use; an expired key is a new key. Expired
keys, with the answers they hold, are purged after each completed idempotent POST and by
`tac-api retention run --apply`.
"""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from fastapi import Request, Response
from sqlalchemy import ColumnElement, Row, Table, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tac_api import scope
from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller
from tac_api.db import insert_for, utcnow
from tac_api.errors import Conflict, NotFound, Problem, problems
from tac_api.idempotency.models import IdempotencyKey
from tac_api.metrics.figures import IDEMPOTENCY_CONFLICTS

log = logging.getLogger("tac_api.idempotency")

KEY_HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
CLAIM = "idempotency_claim"  # request.state: the key this request holds
# What a client reads from a created record's answer besides its body.
KEPT_HEADERS = frozenset({"content-type", "location", "etag"})
MAX_KEY_LENGTH = 255
RETRY_AFTER_SECONDS = 1  # a request normally finishes well within a second

_PRINTABLE = re.compile(r"[ -~]+")
# The draft's key is a Structured Field string ("..." with \" and \\ escaped); many clients send
# a bare value instead. Both are accepted: "abc" and abc are the same key.
_SF_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])+)"')
_SF_ESCAPE = re.compile(r"\\(.)")

_table: Table = IdempotencyKey.__table__  # type: ignore[assignment]


class InvalidIdempotencyKey(Problem):
    status = 400
    slug = "idempotency-key-invalid"
    title = "Idempotency-Key is not valid"


class IdempotencyKeyReused(Problem):
    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key already used for another request"


class IdempotencyKeyInUse(Conflict):
    slug = "idempotency-key-in-use"
    title = "A request with this Idempotency-Key is in progress"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class IdempotentRequestCompleted(Conflict):
    slug = "idempotency-key-completed"
    title = "The request with this Idempotency-Key was completed"


class AnswerReplayed(Exception):  # not an error: the route is skipped, not failed
    """The stored answer to this key's first request, to be sent again instead of running it."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body


async def replay(request: Request, exc: Exception) -> Response:
    """The exception handler that sends a stored answer again."""
    assert isinstance(exc, AnswerReplayed)
    headers = {**exc.headers, REPLAYED_HEADER: "true"}
    return Response(exc.body, status_code=exc.status, headers=headers)


@dataclass
class Claim:
    """The key a request holds, and whether its transaction has committed."""

    client_id: uuid.UUID
    key: str
    attempt_id: uuid.UUID
    committed: bool = False


def key_of(request: Request) -> str | None:
    """The request's Idempotency-Key, if it sent one; 400 if it is not one."""
    values = request.headers.getlist(KEY_HEADER)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidIdempotencyKey("Send one Idempotency-Key header, not several.")
    value = values[0]
    if len(value) > MAX_KEY_LENGTH or not _PRINTABLE.fullmatch(value):
        raise InvalidIdempotencyKey(
            f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters."
        )
    quoted = _SF_STRING.fullmatch(value)
    return _SF_ESCAPE.sub(r"\1", quoted.group(1)) if quoted else value


async def request_hash(request: Request, caller: Caller) -> str:
    """What makes a retry the same request: who asks (role and scope, in case they changed),
    method, path, query and body, byte for byte."""
    parts = (
        caller.role.value,
        caller.prison_code or "",
        caller.local_authority_code or "",
        request.method,
        request.scope["path"],
        request.scope.get("query_string", b""),
        await request.body(),  # already read (and kept) by FastAPI for a route with a body
    )
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))  # lengths first: no two splits hash alike
        digest.update(data)
    return digest.hexdigest()


def _this_key(client_id: uuid.UUID, key: str) -> ColumnElement[bool]:
    return (_table.c.client_id == client_id) & (_table.c.key == key)


def _held_by(claim: Claim) -> ColumnElement[bool]:
    return _this_key(claim.client_id, claim.key) & (_table.c.attempt_id == claim.attempt_id)


def held(request: Request) -> Claim | None:
    return getattr(request.state, CLAIM, None)


async def claim(request: Request, gate: AsyncSession, caller: Caller) -> None:
    """Claim a POST's Idempotency-Key for this caller before the route runs.

    `gate` is an autocommit session: the claim is visible to every process at once. Raises
    AnswerReplayed for a retry of a completed request, 422 for another request under the same key,
    409 while the first attempt is running. Without the header: nothing, not even a round trip.
    """
    if request.method != "POST":
        return
    key = key_of(request)
    if key is None:
        return
    settings = request.app.state.settings
    hashed = await request_hash(request, caller)
    insert = insert_for(gate)
    # The row can change between our statements (released, completed, taken over by another
    # process): look again, a few times, then let the client come back.
    for _ in range(3):
        now = utcnow()
        expired_before = now - timedelta(hours=settings.idempotency_key_hours)
        stale_before = now - timedelta(seconds=settings.idempotency_lock_seconds)
        ours = Claim(caller.client_id, key, uuid.uuid4())
        values = {
            "request_hash": hashed,
            "attempt_id": ours.attempt_id,
            "created_at": now,
            "claimed_at": now,
        }
        inserted = await gate.execute(
            insert(_table)
            .values(client_id=caller.client_id, key=key, **values)
            .on_conflict_do_nothing(index_elements=["client_id", "key"])
            .returning(_table.c.attempt_id)
        )
        if inserted.first() is not None:
            setattr(request.state, CLAIM, ours)
            return
        found = (await gate.execute(select(_table).where(_this_key(caller.client_id, key)))).first()
        if found is None:
            continue  # released since our insert: claim it again
        if found.created_at < expired_before:
            # An expired key is a new key, whatever it was used for; unless an attempt is
            # running under it still.
            not_running = or_(
                _table.c.completed_at.is_not(None), _table.c.claimed_at < stale_before
            )
            if await _take_over(
                gate, found, values, (_table.c.created_at < expired_before) & not_running
            ):
                setattr(request.state, CLAIM, ours)
                return
            continue
        if found.request_hash != hashed:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a different request (method, path, query or "
                "body); use a new key for a new request."
            )
        if found.completed_at is not None:
            if found.response_status is not None:
                await _replay(gate, request, caller, found)
            if found.completed_at >= stale_before:  # its answer is being stored now
                raise IdempotencyKeyInUse("The request with this key is finishing; retry shortly.")
            raise IdempotentRequestCompleted(
                "The request with this Idempotency-Key completed and its change was saved, but its "
                "answer was not kept. It will not be run again: read the record instead."
            )
        if found.claimed_at >= stale_before:
            raise IdempotencyKeyInUse("A request with this key is still in progress.")
        # Its attempt never finished: its process died, and nothing of it was committed (or it
        # is only slow, and can no longer complete: see `complete`). Take the key over and run
        # the request, keeping the key's age.
        values["created_at"] = found.created_at
        if await _take_over(gate, found, values, _table.c.completed_at.is_(None)):
            setattr(request.state, CLAIM, ours)
            return
    raise IdempotencyKeyInUse("A request with this key is in progress.")


async def _take_over(
    gate: AsyncSession, found: Row[Any], values: dict[str, Any], condition: ColumnElement[bool]
) -> bool:
    """Hold the key with a new attempt, if the attempt we saw still holds it and `condition`
    still stands; False if another process got there first."""
    statement = (
        update(_table)
        .where(
            _this_key(found.client_id, found.key),
            _table.c.attempt_id == found.attempt_id,
            condition,
        )
        .values(
            **values,
            completed_at=None,
            response_status=None,
            response_headers=None,
            response_body=None,
            disclosed=None,
        )
    )
    return (await gate.execute(statement)).rowcount == 1  # type: ignore[attr-defined]


async def _replay(
    gate: AsyncSession, request: Request, caller: Caller, found: Row[Any]
) -> NoReturn:
    """Check the caller may still see what the answer shows, record the disclosure, then answer
    as the first time. Written now, on the gate: nothing leaves unrecorded, and a failed write
    sends nothing.

    The answer was right when it was made; since then her mother may have been transferred to
    another prison, or a child become another authority's. A fresh read would be 404 then, and so
    is the replay: the key stays completed, and nothing is disclosed.
    """
    disclosed = [
        (resource_type, uuid.UUID(resource_id))
        for resource_type, resource_id, _ in found.disclosed or ()
        if resource_id
    ]
    unseen = await scope.first_unseen(gate, caller, disclosed)
    if unseen is not None:
        kind, record_id = unseen
        raise NotFound(f"No {kind.replace('_', ' ')} with id {record_id} is visible to you.")
    for resource_type, resource_id, subject_id in found.disclosed or ():
        audit.record(
            gate,
            Action.disclose,
            resource_type,
            _uuid_or_none(resource_id),
            _uuid_or_none(subject_id),
        )
    await audit.write_pending(gate, request)
    raise AnswerReplayed(
        found.response_status, found.response_headers or {}, found.response_body or b""
    )


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


async def complete(session: AsyncSession, request: Request) -> None:
    """Mark the request's key completed, in its own transaction, just before the commit.

    If the key is no longer this attempt's (it went stale and a retry took it over), the request
    fails and its transaction rolls back: the retry's is the one change that may commit.
    """
    claim = held(request)
    if claim is None:
        return
    # The records the request's audit events name: what a replay shows again.
    disclosed = list(
        dict.fromkeys(
            (resource_type, _text(resource_id), _text(subject_id))
            for _, resource_type, resource_id, subject_id in session.info.get(audit.PENDING, ())
        )
    )
    result = await session.execute(
        update(_table)
        .where(_held_by(claim), _table.c.completed_at.is_(None))
        .values(completed_at=utcnow(), disclosed=[list(record) for record in disclosed])
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        IDEMPOTENCY_CONFLICTS.labels("taken_over").inc()
        raise IdempotencyKeyInUse(
            "This request took too long and a retry with the same Idempotency-Key took over; "
            "nothing of this one was saved. Retry with the same key for that one's answer."
        )


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def committed(request: Request) -> None:
    claim = held(request)
    if claim is not None:
        claim.committed = True


async def release(sessions: async_sessionmaker[AsyncSession], request: Request) -> None:
    """Let go of the key of a request that failed and saved nothing, so the client can retry.

    `sessions` must be autocommit. A completed key stays completed (a commit that reported an
    error may have happened all the same). If this fails too, the claim goes stale and is taken
    over after the lock timeout.
    """
    claim = held(request)
    if claim is None or claim.committed:
        return
    try:
        async with sessions() as session:
            await session.execute(
                delete(_table).where(_held_by(claim), _table.c.completed_at.is_(None))
            )
    except Exception:
        log.exception("could not release an idempotency key; it is taken over once stale")


async def store_answer(
    sessions: async_sessionmaker[AsyncSession],
    claim: Claim,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Keep a completed request's answer, to send it again to a retry. `sessions`: autocommit."""
    async with sessions() as session:
        await session.execute(
            update(_table)
            .where(_held_by(claim))
            .values(response_status=status, response_headers=headers, response_body=body)
        )


async def purge_expired(session: AsyncSession, hours: int) -> int:
    """Delete the keys older than `hours`, with the answers they hold; how many went."""
    result = await session.execute(delete(_table).where(_table.c.created_at < _expiry(hours)))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def count_expired(session: AsyncSession, hours: int) -> int:
    statement = select(func.count()).select_from(_table).where(_table.c.created_at < _expiry(hours))
    return int(await session.scalar(statement) or 0)


def _expiry(hours: int) -> Any:
    return utcnow() - timedelta(hours=hours)


KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe (draft-ietf-httpapi-idempotency-key-header): a key of your own, "
        "unique per request, such as a UUID: 1 to 255 printable ASCII characters, bare or as a "
        'Structured Field string ("..."); anything else is refused with 400. '
        "A retry with the same key and the same request (method, path, query and body) gets "
        "the first answer again, marked `Idempotent-Replayed: true`, and changes nothing; the "
        "same key with another request gets 422; a retry while the first is still running, "
        "409 with Retry-After. A request that fails saves nothing and frees its key. Keys are "
        "per client and last TAC_IDEMPOTENCY_KEY_HOURS (24 by default)."
    ),
    # Printable ASCII is said in words: as a pattern, schema-driven test tools send its
    # negations, which are not header values at all.
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}
REPLAYED_RESPONSE_HEADER: dict[str, Any] = {
    "description": "`true` when this is the stored answer to an earlier request with the same "
    "Idempotency-Key, sent again.",
    "schema": {"type": "string", "enum": ["true"]},
}


def document_key_header(schema: dict[str, Any]) -> None:
    """Describe the optional Idempotency-Key header, and what it can answer, on every POST."""
    for path_item in schema.get("paths", {}).values():
        operation = path_item.get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(KEY_PARAMETER)
        responses = operation.setdefault("responses", {})
        for status, response in responses.items():
            if status.startswith("2"):
                response.setdefault("headers", {})[REPLAYED_HEADER] = REPLAYED_RESPONSE_HEADER
        for status, response in problems(400, 409, 422).items():
            responses.setdefault(str(status), response)
