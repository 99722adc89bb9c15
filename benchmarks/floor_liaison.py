"""The same-work floors of the four liaison reads: her chronology, the week's court hearings,
releases due and her evidence bundle, answered over the bare asyncpg pool, no ORM.

Each does what tac-api does for a prison social worker (or an admin) on that URL: the API client
by the SHA-256 of its token (not revoked, not expired), the same GCRA rate-limit upsert, the
scoped data in ONE hand-written statement (where tac-api runs one per source, or one for the rows
and one for their children), and one audit insert naming every record shown, with the actions,
resource types, ids and subjects tac-api writes (a 404 and a 403 are audited too, as tac-api's
failure rows; a 429 is not). The answers are tac-api's JSON, status codes and headers.

PostgreSQL only: the targets are PostgreSQL, so on SQLite the floor does not serve these paths
(`liaison_router` gives an empty router). Not implemented, as not benchmarked: local-authority
callers (tac-api's reduced views; they get 403 here), `cursor`, the chronology's `child_id` and
`kind` filters, the bundle's HTML, and tac-api's 422s for malformed parameters.

`check_liaison_answers(api, floor, seeded)` compares the two servers' answers (benchmarks.run
calls it before measuring); `python -m benchmarks.floor_liaison` seeds a database of its own,
starts both servers, and checks them.
"""

import hashlib
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http import HTTPStatus
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from benchmarks.floor import (
    AUDIT_COLUMNS,
    CALLER_SQL_PG,
    CASE_READERS,
    RATE_LIMIT_SQL_PG,
    SECURITY_HEADERS,
    WINDOW,
    PostgresStore,
    flags_on,
    flags_shown,
    json_response,
    problem,
    utcnow,
)
from benchmarks.stack import BenchError, Seeded, Server, get

# Constants shared with tac-api (not its code paths): the order a bundle lists its totals in.
from tac_api.evidence.schemas import CATEGORY_LABELS, PREPARED_BY
from tac_api.pagination import encode_cursor
from tac_api.release.schemas import PATHWAYS

# One audit row per (action, resource type, record, subject); outcome as tac_api.audit.schemas.
Event = tuple[str, str, uuid.UUID | None, uuid.UUID | None]
AUDIT_SQL = (
    f"INSERT INTO audit_event ({AUDIT_COLUMNS}) "
    "SELECT $1, $2, $3, $4, $5, $6, e.action, e.resource_type, e.resource_id, e.subject_id "
    "FROM unnest($7::text[], $8::text[], $9::uuid[], $10::uuid[]) "
    "AS e(action, resource_type, resource_id, subject_id)"
)
CHALLENGE = {"www-authenticate": "Bearer"}
PRISON_SIDE = CASE_READERS  # admin and the prison social worker: release plans due are theirs


@dataclass
class Answer:
    """What a read found: the response, and what it showed (or failed to show) for the audit."""

    response: Response
    events: list[Event]
    outcome: str = "succeeded"


Read = Callable[[Any, Any, str], Awaitable[Answer]]  # (connection, caller, request id)


def refusal(
    request: Request,
    status: int,
    detail: str,
    request_id: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """tac-api's problem answer (tac_api.errors), title and instance included."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers={**SECURITY_HEADERS, **(headers or {}), "x-request-id": request_id},
    )


def not_found(request: Request, mother_id: uuid.UUID, request_id: str) -> Response:
    detail = f"No mother with id {mother_id} is visible to you."
    return refusal(request, 404, detail, request_id)


async def write_audit(
    connection: Any, caller: Any, request_id: str, outcome: str, events: list[Event]
) -> None:
    await connection.execute(
        AUDIT_SQL,
        utcnow(),
        request_id,
        caller["id"],
        caller["name"],
        caller["role"],
        outcome,
        [event[0] for event in events],
        [event[1] for event in events],
        [event[2] for event in events],
        [event[3] for event in events],
    )


class Reads:
    """The request steps every liaison read shares, on one pooled connection, no transaction
    (tac-api's reads run in autocommit too): caller, rate limit (counted before the role is
    checked, as tac-api's pipeline does), role, the read, its audit insert."""

    def __init__(self, store: PostgresStore, rate_limit_per_minute: int) -> None:
        self.store = store
        self.interval = WINDOW / rate_limit_per_minute if rate_limit_per_minute else 0.0

    async def answer(
        self, request: Request, allowed: frozenset[str], attempted: Event, read: Read
    ) -> Response:
        """`attempted`: the failure row tac-api writes when the caller may not read this."""
        request_id = uuid.uuid4().hex
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            detail = "Send an API token as 'Authorization: Bearer <token>'."
            return refusal(request, 401, detail, request_id, CHALLENGE)
        token_hash = hashlib.sha256(token.strip().encode()).hexdigest()
        async with self.store.pool.acquire() as connection:
            caller = await connection.fetchrow(CALLER_SQL_PG, token_hash, utcnow())
            if caller is None:
                detail = "This token is not valid, has expired or has been revoked."
                return refusal(request, 401, detail, request_id, CHALLENGE)
            limit = (str(caller["id"]), time.time(), self.interval, WINDOW)
            if await connection.fetchval(RATE_LIMIT_SQL_PG, *limit) is None:
                return problem(
                    429, "This client has used its requests for now.", {"retry-after": "1"}
                )
            if caller["role"] not in allowed:
                await write_audit(connection, caller, request_id, "refused", [attempted])
                detail = f"The {caller['role']} role may not use this operation."
                return refusal(request, 403, detail, request_id)
            found = await read(connection, caller, request_id)
            if found.events:  # before the answer leaves
                await write_audit(connection, caller, request_id, found.outcome, found.events)
            return found.response


# -- Her chronology ----------------------------------------------------------------------------


def _said(column: str) -> str:
    """A code as words, as tac_api.chronology.service.said: `interim_care_order` -> ..."""
    return f"replace(coalesce({column}, ''), '_', ' ')"


def _capitalised(expression: str) -> str:
    """Python's str.capitalize: the first letter up, the rest down."""
    return f"(upper(left({expression}, 1)) || lower(substr({expression}, 2)))"


def _children(link_table: str, record_column: str) -> str:
    return (
        f"ARRAY(SELECT l.child_id FROM {link_table} l WHERE l.{record_column} = r.id "
        "ORDER BY l.child_id)"
    )


NO_CHILDREN = "'{}'::uuid[]"
DAY_OF = "(({at}) AT TIME ZONE 'UTC')::date"  # a timed event's day, in UTC as tac-api's


def _timed(
    source: int, at: str, kind: str, summary: str, table: str, children: str, n: int = 0
) -> str:
    return (
        f"SELECT {source} AS source, {n} AS n, r.id, {DAY_OF.format(at=at)} AS on_, "
        f"{at} AS at, {kind} AS kind, {summary} AS summary, {children} AS child_ids "
        f"FROM {table} r WHERE r.mother_id = (SELECT id FROM her) AND {at} IS NOT NULL"
    )


def _dated(source: int, kind: str, events: list[tuple[str, str]], table: str, children: str) -> str:
    values = ", ".join(
        f"({n}, {day}, {summary}, '{kind}')" for n, (day, summary) in enumerate(events)
    )
    return (
        f"SELECT {source} AS source, e.n, r.id, e.on_, NULL::timestamptz AS at, "
        f"e.kind, e.summary, {children} AS child_ids "
        f"FROM {table} r CROSS JOIN LATERAL (VALUES {values}) AS e(n, on_, summary, kind) "
        "WHERE r.mother_id = (SELECT id FROM her) AND e.on_ IS NOT NULL"
    )


_MODEL = f"CASE WHEN r.model = 'pams' THEN upper({_said('r.model')}) ELSE {_said('r.model')} END"
# In tac_api.chronology.service.SOURCES' order: an event's place among its day's equals.
RESOURCE_TYPES = (
    "prison_stay",
    "proceedings",
    "court_hearing",
    "meeting",
    "contact_visit",
    "parenting_assessment",
    "evidence",
    "release_plan",
    "communication",
    "group_attendance",
    "task",
    "review_flag",
)
_SOURCES = [
    _dated(
        0,
        "custody",
        [
            ("r.arrived_on", "'Held at ' || r.prison_code"),
            ("r.left_on", "'Left ' || r.prison_code"),
        ],
        "prison_stay",
        NO_CHILDREN,
    ),
    _dated(
        1,
        "proceedings",
        [("r.issued_on", "'Proceedings issued at ' || r.court_name")],
        "proceedings",
        _children("proceedings_child", "proceedings_id"),
    ),
    _timed(
        2,
        "r.starts_at",
        "'court_hearing'",
        f"{_capitalised(_said('r.hearing_type'))} || ' hearing at ' || r.court_name || "
        f"CASE r.attended WHEN true THEN '; she attended (' || {_said('r.attended_how')} || ')' "
        f"WHEN false THEN '; she did not attend (' || {_said('r.barrier')} || ')' ELSE '' END || "
        f"CASE WHEN coalesce(r.order_made, '') <> '' "
        f"THEN '; order: ' || {_said('r.order_made')} ELSE '' END",
        "court_hearing",
        _children("court_hearing_child", "court_hearing_id"),
    ),
    _timed(
        3,
        "r.starts_at",
        "'meeting'",
        f"{_capitalised(_said('r.meeting_type'))} || ' (' || {_said('r.platform')} || ')' || "
        "CASE r.attended WHEN true THEN '; she attended' "
        f"WHEN false THEN '; she did not attend (' || {_said('r.barrier')} || ')' ELSE '' END",
        "meeting",
        _children("meeting_child", "meeting_id"),
    ),
    _timed(
        4,
        "coalesce(r.scheduled_at, r.created_at)",
        "'contact_visit'",
        f"{_capitalised(_said('r.visit_type'))} || ': ' || {_said('r.status')}",
        "contact_visit",
        _children("contact_visit_child", "contact_visit_id"),
    ),
    _dated(
        5,
        "parenting_assessment",
        [
            (
                "r.requested_on",
                f"'Parenting assessment (' || {_MODEL} || ') requested by the ' || "
                f"{_said('r.requested_by')}",
            ),
            ("r.started_on", "'Parenting assessment started'"),
            ("r.completed_on", f"'Parenting assessment: ' || {_said('r.outcome')}"),
        ],
        "parenting_assessment",
        _children("parenting_assessment_child", "parenting_assessment_id"),
    ),
    _dated(
        6,
        "evidence",
        [
            (
                "coalesce(r.completed_on, r.started_on)",
                f"{_capitalised(_said('r.category'))} || ': ' || r.title || "
                "CASE WHEN r.completed_on IS NOT NULL THEN ' completed' ELSE ' started' END",
            )
        ],
        "evidence",
        NO_CHILDREN,
    ),
    _dated(
        7,
        "release",
        [("r.expected_release_date", "'Expected release'")],
        "release_plan",
        NO_CHILDREN,
    ),
    _timed(
        8,
        "r.occurred_at",
        "CASE WHEN r.kind = 'life_story_contribution' THEN 'life_story' ELSE 'communication' END",
        "CASE WHEN r.kind = 'life_story_contribution' THEN 'Life story work contribution' "
        f"ELSE 'Relayed from ' || {_said('r.from_party')} || ' to ' || {_said('r.to_party')} || "
        f"' by ' || {_said('r.channel')} END",
        "communication",
        _children("communication_child", "communication_id"),
    ),
    # Her rows of group registers, with the session's day and activity: that she attended.
    _dated(
        9,
        "group_session",
        [("r.held_on", "'Attended a group session: ' || r.activity")],
        "(SELECT a.id, a.mother_id, g.held_on, g.activity FROM group_attendance a "
        "JOIN group_session g ON g.id = a.group_session_id)",
        NO_CHILDREN,
    ),
    # Tasks on her case: made (when its history says), then due while open, or done.
    _timed(10, "r.changed_at", "'task'", "'Task made: ' || r.title", "task", NO_CHILDREN),
    _dated(
        10,
        "task",
        [
            ("CASE WHEN r.done_on IS NULL THEN r.due_on END", "'Task due: ' || r.title"),
            ("r.done_on", "'Task done: ' || r.title"),
        ],
        "task",
        NO_CHILDREN,
    ),
    # Flags for review: raised, then cleared.
    _timed(
        11,
        "r.raised_at",
        "'review_flag'",
        f"'Flagged for review (' || {_said('r.resource_type')} || ') by ' || r.raised_by_name "
        "|| ': ' || r.reason",
        "review_flag",
        NO_CHILDREN,
    ),
    _timed(
        11,
        "r.cleared_at",
        "'review_flag'",
        f"'Flag for review cleared (' || {_said('r.resource_type')} || ')' || "
        "coalesce(' by ' || r.cleared_by_name, '')",
        "review_flag",
        NO_CHILDREN,
        n=1,
    ),
]
# $1 her id, $2 the caller's prison (NULL: an admin). Her row first (source -1) says she is
# visible even with no event; then every event, in tac-api's order: by day, dated before timed,
# by time, then by source as tac-api lists them, then by the row's events in their own order.
CHRONOLOGY_SQL = (
    "WITH her AS (SELECT id FROM mother WHERE id = $1 AND ($2::varchar IS NULL OR "
    "prison_code = $2)) "
    "SELECT -1 AS source, 0 AS n, id, NULL::date AS on_, NULL::timestamptz AS at, "
    "NULL::text AS kind, NULL::text AS summary, NULL::uuid[] AS child_ids FROM her "
    + "".join(f"UNION ALL ({source}) " for source in _SOURCES)
)
CHRONOLOGY_SQL = (
    f"SELECT * FROM ({CHRONOLOGY_SQL}) AS event "
    "ORDER BY on_ NULLS FIRST, at IS NOT NULL, at, source, id, n"
)


async def chronology(reads: Reads, request: Request, mother_id: uuid.UUID) -> Response:
    async def read(connection: Any, caller: Any, request_id: str) -> Answer:
        rows = await connection.fetch(CHRONOLOGY_SQL, mother_id, caller["prison_code"])
        if not rows:
            return Answer(
                not_found(request, mother_id, request_id),
                [("combine", "mother", mother_id, mother_id)],
                "not_found",
            )
        events = [
            {
                "on": row["on_"],
                "at": row["at"],
                "kind": row["kind"],
                "summary": row["summary"],
                "resource_type": RESOURCE_TYPES[row["source"]],
                "resource_id": row["id"],
                "child_ids": row["child_ids"],
            }
            for row in rows[1:]
        ]
        # Her, and each record shown once (a record with several events is one record).
        shown = {(event["resource_type"], event["resource_id"]) for event in events}
        audit: list[Event] = [("combine", "mother", mother_id, mother_id)]
        audit += [("combine", kind, record, mother_id) for kind, record in shown]
        body = {"mother_id": mother_id, "events": events}
        # Vary: the chronology is a document too (HTML, PDF) by Accept.
        return Answer(json_response(body, {"vary": "Accept", "x-request-id": request_id}), audit)

    return await reads.answer(
        request, CASE_READERS, ("combine", "mother", mother_id, mother_id), read
    )


# -- Her evidence bundle -----------------------------------------------------------------------

# $1 her id, $2 the caller's prison (NULL: an admin). Her, her prison's name, and her evidence
# in date order; a row with no item when she has none.
BUNDLE_SQL = (
    "SELECT m.first_name, m.last_name, m.date_of_birth, m.prison_number, m.prison_code, "
    "p.name AS prison_name, "
    # The court's case numbers for the header, and their proceedings for the audit trail.
    "ARRAY(SELECT pr.id FROM proceedings pr WHERE pr.mother_id = m.id "
    "AND pr.case_number IS NOT NULL ORDER BY pr.issued_on, pr.id) AS case_ids, "
    "ARRAY(SELECT pr.case_number FROM proceedings pr WHERE pr.mother_id = m.id "
    "AND pr.case_number IS NOT NULL ORDER BY pr.issued_on, pr.id) AS case_numbers, "
    "e.id, e.created_at, e.updated_at, e.version, e.category, e.title, e.provider, "
    "e.started_on, e.completed_on, e.hours, e.verified_by_name, e.verified_by_role, "
    "e.verified_on "
    "FROM mother m JOIN prison p ON p.code = m.prison_code "
    "LEFT JOIN evidence e ON e.mother_id = m.id "
    "WHERE m.id = $1 AND ($2::varchar IS NULL OR m.prison_code = $2) "
    "ORDER BY e.started_on, e.id"
)
CENT = Decimal("0.01")


async def evidence_bundle(reads: Reads, request: Request, mother_id: uuid.UUID) -> Response:
    async def read(connection: Any, caller: Any, request_id: str) -> Answer:
        rows = await connection.fetch(BUNDLE_SQL, mother_id, caller["prison_code"])
        if not rows:
            return Answer(
                not_found(request, mother_id, request_id),
                [("disclose", "mother", mother_id, mother_id)],
                "not_found",
            )
        her = rows[0]
        items = []
        counts: dict[str, int] = {}
        hours: dict[str, Decimal] = {}
        unknown: dict[str, int] = {}
        for row in rows:
            if row["id"] is None:  # she has no evidence
                continue
            category, given = row["category"], row["hours"]
            counts[category] = counts.get(category, 0) + 1
            hours[category] = hours.get(category, Decimal(0)) + (given or 0)
            unknown[category] = unknown.get(category, 0) + (given is None)
            verifier = None
            if row["verified_by_name"]:
                verifier = {"name": row["verified_by_name"], "role": row["verified_by_role"] or ""}
            items.append(
                {
                    "id": row["id"],
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                    "version": row["version"],
                    "mother_id": mother_id,
                    "category": category,
                    "title": row["title"],
                    "provider": row["provider"],
                    "started_on": row["started_on"],
                    "completed_on": row["completed_on"],
                    "hours": None if given is None else float(given),
                    "verified_by": verifier,
                    "verified_on": row["verified_on"],
                }
            )
        body = {
            "mother": {
                "id": mother_id,
                "first_name": her["first_name"],
                "last_name": her["last_name"],
                "date_of_birth": her["date_of_birth"],
                "prison_number": her["prison_number"],
                "prison_code": her["prison_code"],
                "prison_name": her["prison_name"],
            },
            "case_numbers": list(dict.fromkeys(her["case_numbers"])),
            "items": items,
            "totals": [
                {
                    "category": category,
                    "count": counts[category],
                    "hours": float(hours[category].quantize(CENT)),
                    "hours_not_recorded": unknown[category],
                }
                for category in CATEGORY_LABELS
                if category in counts
            ],
            "total": {
                "count": len(items),
                "hours": float(sum(hours.values(), Decimal(0)).quantize(CENT)),
                "hours_not_recorded": sum(unknown.values()),
            },
            "generated_at": utcnow(),
            "prepared_by": PREPARED_BY,
        }
        audit: list[Event] = [("disclose", "mother", mother_id, mother_id)]
        audit += [("disclose", "evidence", item["id"], mother_id) for item in items]
        audit += [("disclose", "proceedings", case, mother_id) for case in her["case_ids"]]
        headers = {"vary": "Accept", "x-request-id": request_id}
        return Answer(json_response(body, headers), audit)

    return await reads.answer(
        request, CASE_READERS, ("disclose", "mother", mother_id, mother_id), read
    )


# -- The week's court hearings -----------------------------------------------------------------


def filtered(
    select: str, always: str, conditions: list[tuple[str, Any]], order: str
) -> tuple[str, list[Any]]:
    """The statement with the conditions whose value is given (numbered in turn) and the page's
    row count last: one SQL text per combination, each prepared once by asyncpg. A catch-all
    `($1 IS NULL OR ...)` would do in one text, but once PostgreSQL switches to its generic
    plan (after five runs) it can no longer seek the index on the window: 20 ms a page instead
    of 0.5 here. tac-api's SQLAlchemy statements carry only the filters given too."""
    given = [(condition, value) for condition, value in conditions if value is not None]
    where = [always] + [condition.format(f"${n}") for n, (condition, _) in enumerate(given, 1)]
    sql = f"{select} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ${len(given) + 1}"
    return sql, [value for _, value in given]


HEARINGS_SELECT = (
    "SELECT h.id, h.created_at, h.updated_at, h.version, h.mother_id, h.proceedings_id, "
    "h.court_name, h.court_code, h.hearing_type, h.starts_at, h.notified_at, "
    "h.attendance_mode, h.social_worker_attends, h.outcome_recorded_at, h.attended, "
    "h.attended_how, h.barrier, h.barrier_detail, h.order_made, h.order_detail, "
    "h.status, h.status_decided_by, h.status_reason, h.status_changed_at, h.adjourned_to_id, "
    "(SELECT e.id FROM court_hearing e WHERE e.adjourned_to_id = h.id) AS adjourned_from_id, "
    "ARRAY(SELECT l.child_id FROM court_hearing_child l WHERE l.court_hearing_id = h.id "
    "ORDER BY l.child_id) AS child_ids, "
    # Its open flags for review, shown to the prison side (the floor's callers).
    f"{flags_on('postgresql', 'court_hearing', 'h.id')} "
    "FROM court_hearing h JOIN mother m ON m.id = h.mother_id"
)
DAY = timedelta(days=1)


def _utc(value: str | None) -> datetime | None:
    """A time given to the API, read as UTC when it has no offset (tac_api.schemas)."""
    if value is None:
        return None
    given = datetime.fromisoformat(value)
    return given.replace(tzinfo=UTC) if given.tzinfo is None else given.astimezone(UTC)


def _next_link(request: Request, last_id: Any, limit: int) -> tuple[str, str]:
    """The cursor after this row, and its RFC 8288 Link header (tac_api.pagination)."""
    cursor = encode_cursor((last_id,))
    url = request.url.include_query_params(cursor=cursor, limit=limit)
    return cursor, f'<{url}>; rel="next"'


async def court_hearings(
    reads: Reads,
    request: Request,
    late_notice_days: int,
    prison_code: str | None,
    start: str | None,
    end: str | None,
    limit: int,
) -> Response:
    async def read(connection: Any, caller: Any, request_id: str) -> Answer:
        sql, arguments = filtered(
            HEARINGS_SELECT,
            "true",
            [
                ("m.prison_code = {}", caller["prison_code"]),  # none: an admin
                ("m.prison_code = {}", prison_code),  # the prison asked for
                ("h.starts_at >= {}", _utc(start)),
                ("h.starts_at < {}", _utc(end)),
            ],
            "h.starts_at, h.id",
        )
        rows = await connection.fetch(sql, *arguments, limit + 1)
        headers = {"x-request-id": request_id}
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor, headers["link"] = _next_link(request, rows[-1]["id"], limit)
        items = []
        for row in rows:
            notice = max(0, (row["starts_at"] - row["notified_at"]) // DAY)
            outcome = None
            if row["outcome_recorded_at"] is not None:
                outcome = {
                    "attended": row["attended"],
                    "attended_how": row["attended_how"],
                    "barrier": row["barrier"],
                    "barrier_detail": row["barrier_detail"],
                    "order_made": row["order_made"],
                    "order_detail": row["order_detail"],
                    "recorded_at": row["outcome_recorded_at"],
                }
            items.append(
                {
                    "id": row["id"],
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                    "version": row["version"],
                    "mother_id": row["mother_id"],
                    "flags_for_review": flags_shown(row),
                    "child_ids": row["child_ids"],
                    "proceedings_id": row["proceedings_id"],
                    "court_name": row["court_name"],
                    "court_code": row["court_code"],
                    "hearing_type": row["hearing_type"],
                    "starts_at": row["starts_at"],
                    "notified_at": row["notified_at"],
                    "notice_days": notice,
                    "late_notice": notice < late_notice_days,
                    "attendance_mode": row["attendance_mode"],
                    "social_worker_attends": row["social_worker_attends"],
                    "outcome": outcome,
                    "status": row["status"],
                    "status_decided_by": row["status_decided_by"],
                    "status_reason": row["status_reason"],
                    "status_changed_at": row["status_changed_at"],
                    "adjourned_to_id": row["adjourned_to_id"],
                    "adjourned_from_id": row["adjourned_from_id"],
                }
            )
        audit = [("consult", "court_hearing", row["id"], row["mother_id"]) for row in rows]
        audit += [
            ("consult", "review_flag", flag["id"], row["mother_id"])
            for row, item in zip(rows, items, strict=True)
            for flag in item["flags_for_review"]
        ]
        body = {"items": items, "next_cursor": next_cursor}
        return Answer(json_response(body, headers), audit)

    return await reads.answer(request, CASE_READERS, ("consult", "court_hearing", None, None), read)


# -- Releases due without a complete plan ------------------------------------------------------

# Her plan's gaps counted in lateral joins, once per mother in the window.
RELEASES_DUE_SELECT = (
    "SELECT m.id AS mother_id, m.prison_number, m.first_name, m.last_name, m.prison_code, "
    "coalesce(p.expected_release_date, m.earliest_release_date) AS release_date, "
    "p.expected_release_date, p.id AS release_plan_id, p.accommodation_status, "
    "coalesce(w.outstanding, 0) AS pathways_outstanding, coalesce(a.open, 0) AS open_actions "
    "FROM mother m LEFT JOIN release_plan p ON p.mother_id = m.id "
    "LEFT JOIN LATERAL (SELECT count(*) AS outstanding FROM release_plan_pathway w "
    "WHERE w.release_plan_id = p.id AND w.status NOT IN ('complete', 'not_needed')) w ON true "
    "LEFT JOIN LATERAL (SELECT count(*) AS open FROM release_plan_action a "
    "WHERE a.release_plan_id = p.id AND a.done_on IS NULL) a ON true"
)
RELEASE_DATE = "coalesce(p.expected_release_date, m.earliest_release_date)"
# Still held, and without a complete plan (the rule of tac_api.release.service.missing).
DUE = (
    "m.status = 'active' AND (p.id IS NULL OR p.accommodation_status NOT IN "
    "('settled', 'approved_premises') OR w.outstanding > 0 OR a.open > 0)"
)


async def releases_due(
    reads: Reads, request: Request, prison_code: str | None, within_days: int, limit: int
) -> Response:
    async def read(connection: Any, caller: Any, request_id: str) -> Answer:
        today = date.today()
        window = (today, today + timedelta(days=within_days))
        sql, arguments = filtered(
            RELEASES_DUE_SELECT,
            DUE,
            [
                ("m.prison_code = {}", caller["prison_code"]),  # none: an admin
                ("m.prison_code = {}", prison_code),  # the prison asked for
                (f"{RELEASE_DATE} >= {{}}", window[0]),
                (f"{RELEASE_DATE} <= {{}}", window[1]),
            ],
            "release_date, m.id",
        )
        rows = await connection.fetch(sql, *arguments, limit + 1)
        headers = {"x-request-id": request_id}
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor, headers["link"] = _next_link(request, rows[-1]["mother_id"], limit)
        items = []
        audit: list[Event] = []
        for row in rows:
            plan = row["release_plan_id"]
            items.append(
                {
                    "mother_id": row["mother_id"],
                    "prison_number": row["prison_number"],
                    "first_name": row["first_name"],
                    "last_name": row["last_name"],
                    "prison_code": row["prison_code"],
                    "release_date": row["release_date"],
                    "release_date_from": "release_plan"
                    if row["expected_release_date"] is not None
                    else "earliest_release_date",
                    "days_to_release": (row["release_date"] - today).days,
                    "release_plan_id": plan,
                    "accommodation_status": row["accommodation_status"],
                    "pathways_outstanding": row["pathways_outstanding"]
                    if plan is not None
                    else len(PATHWAYS),
                    "open_actions": row["open_actions"],
                }
            )
            audit.append(("consult", "mother", row["mother_id"], row["mother_id"]))
        audit += [
            ("consult", "release_plan", row["release_plan_id"], row["mother_id"])
            for row in rows
            if row["release_plan_id"] is not None
        ]
        body = {"items": items, "next_cursor": next_cursor}
        return Answer(json_response(body, headers), audit)

    return await reads.answer(request, PRISON_SIDE, ("consult", "release_plan", None, None), read)


def serves_liaison_reads(database_url: str) -> bool:
    """Whether the floor answers the four liaison reads on this database (PostgreSQL only)."""
    return database_url.startswith(("postgresql", "postgres:"))


# -- The router --------------------------------------------------------------------------------


def liaison_router(store: Any, settings: Any) -> APIRouter:
    """The four reads at tac-api's paths, for floor.py's app; none on SQLite (see above)."""
    router = APIRouter()
    if not isinstance(store, PostgresStore):
        return router
    reads = Reads(store, settings.rate_limit_per_minute)
    late_notice_days: int = settings.late_notice_days
    Limit = Annotated[int, Query(ge=1, le=200)]

    @router.get("/v1/mothers/{mother_id}/chronology")
    async def get_chronology(mother_id: uuid.UUID, request: Request) -> Response:
        return await chronology(reads, request, mother_id)

    @router.get("/v1/mothers/{mother_id}/evidence-bundle")
    async def get_evidence_bundle(mother_id: uuid.UUID, request: Request) -> Response:
        return await evidence_bundle(reads, request, mother_id)

    @router.get("/v1/court-hearings")
    async def list_court_hearings(
        request: Request,
        prison_code: Annotated[str | None, Query(pattern=r"^[A-Z]{3,8}$")] = None,
        start: Annotated[str | None, Query(alias="from")] = None,
        end: Annotated[str | None, Query(alias="to")] = None,
        limit: Limit = 50,
    ) -> Response:
        return await court_hearings(
            reads, request, late_notice_days, prison_code, start, end, limit
        )

    @router.get("/v1/release-plans/due")
    async def list_due_release_plans(
        request: Request,
        prison_code: Annotated[str | None, Query(pattern=r"^[A-Z]{3,8}$")] = None,
        within_days: Annotated[int, Query(ge=0, le=730)] = 84,
        limit: Limit = 50,
    ) -> Response:
        return await releases_due(reads, request, prison_code, within_days, limit)

    return router


# -- The same answers, checked -----------------------------------------------------------------

COMPARED_HEADERS = (
    "content-type",
    "etag",
    "link",
    "vary",
    "cache-control",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "content-security-policy",
    "strict-transport-security",
)
# Her records, counted: the sample includes the mothers with the most, where order matters most.
BUSIEST_SQL = """
SELECT m.id::text FROM mother m
WHERE m.prison_code = $1
ORDER BY (SELECT count(*) FROM court_hearing r WHERE r.mother_id = m.id)
       + (SELECT count(*) FROM meeting r WHERE r.mother_id = m.id)
       + (SELECT count(*) FROM contact_visit r WHERE r.mother_id = m.id)
       + (SELECT count(*) FROM parenting_assessment r WHERE r.mother_id = m.id)
       + (SELECT count(*) FROM evidence r WHERE r.mother_id = m.id)
       + (SELECT count(*) FROM communication r WHERE r.mother_id = m.id)
       + (SELECT count(*) FROM proceedings r WHERE r.mother_id = m.id) DESC, m.id
LIMIT $2
"""
AUDITED_SQL = """
SELECT request_id, client_id, client_name, role, outcome, action, resource_type,
       resource_id, subject_id
FROM audit_event WHERE request_id = ANY($1::varchar[])
"""


def liaison_paths(
    seeded: Seeded, busiest: list[str], sample: int, role: str
) -> list[tuple[str, str, int]]:
    """(read, path, expected status) for a caller of this role: the benchmarked URLs and a
    few neighbours of each, for the busiest mothers and a random sample."""
    rng = random.Random(14)
    today = date.today()
    week = today + timedelta(days=7)
    mothers = busiest + rng.sample(seeded.ewi_ids, min(sample, len(seeded.ewi_ids)))
    hers = ("chronology", "evidence-bundle")
    cases = [(read, f"/v1/mothers/{mother}/{read}", 200) for mother in mothers for read in hers]
    # Another prison's mothers: out of a prison social worker's scope, so 404; an admin's, 200.
    elsewhere = 200 if role == "admin" else 404
    cases += [
        (read, f"/v1/mothers/{other}/{read}", elsewhere)
        for other in seeded.other_ids[:3]
        for read in hers
    ]
    for start, end, limit in (
        (today, week, None),  # the benchmarked week ahead
        (today, week, 200),
        (today - timedelta(days=30), today, 7),
    ):
        path = f"/v1/court-hearings?prison_code=EWI&from={start}&to={end}"
        cases.append(("court-hearings", path + (f"&limit={limit}" if limit else ""), 200))
    for days, limit in ((84, None), (84, 200), (365, 13), (0, None)):
        path = f"/v1/release-plans/due?prison_code=EWI&within_days={days}"
        cases.append(("releases-due", path + (f"&limit={limit}" if limit else ""), 200))
    if role not in CASE_READERS:  # a governor: figures only, no person
        cases = [(read, path, 403) for read, path, _ in cases]
    return cases


async def _database_rows(url: str, sql: str, *arguments: Any) -> list[Any]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(sql, *arguments))
    finally:
        await connection.close()


def _audited(url: str, request_ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
    import asyncio

    found: dict[str, list[tuple[Any, ...]]] = {request_id: [] for request_id in request_ids}
    for row in asyncio.run(_database_rows(url, AUDITED_SQL, request_ids)):
        found[row["request_id"]].append(tuple(row.values())[1:])
    return {request_id: sorted(rows, key=str) for request_id, rows in found.items()}


def _equal_times_apart(event: dict[str, Any]) -> tuple[Any, ...]:
    """A chronology's order, with its events of one day (or one time) from one source put in
    their records' order. tac-api fetches each source's rows with no ORDER BY, so among those
    it keeps the database's scan order (with the seed's letters all created at one instant,
    that shows); the floor orders them by record id. Sorting both lists by this key (stably:
    one record's events keep their order) compares everything else exactly. Once tac-api
    orders each source's rows by id, this can go and the lists compare as they come."""
    source = RESOURCE_TYPES.index(event["resource_type"])
    return (event["on"], event["at"] is not None, event["at"] or "", source, event["resource_id"])


def _first_difference(api: Any, floor: Any, where: str = "") -> str:
    """Where two parsed answers first part: what a reader of the failure needs to see."""
    if isinstance(api, dict) and isinstance(floor, dict) and api.keys() == floor.keys():
        for key in api:
            if api[key] != floor[key]:
                return _first_difference(api[key], floor[key], f"{where}.{key}")
    if isinstance(api, list) and isinstance(floor, list) and len(api) == len(floor):
        for position, (one, other) in enumerate(zip(api, floor, strict=True)):
            if one != other:
                return _first_difference(one, other, f"{where}[{position}]")
    return f"  at {where or 'the top'}:\n  tac-api: {api!r:.800}\n  floor:   {floor!r:.800}"


def check_liaison_answers(
    api: Server,
    floor: Server,
    seeded: Seeded,
    *,
    sample: int = 20,
    role: str = "prison_social_worker",
) -> None:
    """The liaison floors must do tac-api's job: for each sampled URL the same status, the same
    JSON (a bundle's generated_at aside: it is the time of the answer), the same headers, and
    the same audit rows (action, kind, record, subject, outcome, caller). Raises BenchError on
    the first difference; warns when a read was empty everywhere (then it proves little)."""
    import asyncio

    if not serves_liaison_reads(seeded.url):
        return
    busiest = [row[0] for row in asyncio.run(_database_rows(seeded.url, BUSIEST_SQL, "EWI", 5))]
    cases = liaison_paths(seeded, busiest, sample, role)
    shown: dict[str, int] = {}
    pairs = []
    reordered = 0  # chronologies alike once equal times of one source are put in id order
    for read, path, expected in cases:
        answers = [get(server.port, path, seeded.token) for server in (api, floor)]
        (api_status, api_headers, api_body), (floor_status, floor_headers, floor_body) = answers
        if api_status != expected or floor_status != expected:
            raise BenchError(
                f"{path}: expected {expected}, tac-api said {api_status} {api_body[:300]!r}, "
                f"floor said {floor_status} {floor_body[:300]!r}"
            )
        api_json, floor_json = json.loads(api_body), json.loads(floor_body)
        if "generated_at" in api_json:  # the time of each answer: close, not equal
            made = [datetime.fromisoformat(j.pop("generated_at")) for j in (api_json, floor_json)]
            if abs(made[0] - made[1]) > timedelta(minutes=1):
                raise BenchError(f"{path}: generated_at {made[0]} and {made[1]}")
        if "events" in api_json and "events" in floor_json:
            as_they_came = api_json["events"] == floor_json["events"]
            for answer in (api_json, floor_json):
                answer["events"].sort(key=_equal_times_apart)
            reordered += not as_they_came and api_json["events"] == floor_json["events"]
        if api_json != floor_json:
            difference = _first_difference(api_json, floor_json)
            raise BenchError(f"{path}: the floor's JSON differs from tac-api's\n{difference}")
        for header in COMPARED_HEADERS:
            # A next link names the server it was asked of: the same but for the port.
            api_value = (api_headers.get(header) or "").replace(f":{api.port}/", ":PORT/")
            floor_value = (floor_headers.get(header) or "").replace(f":{floor.port}/", ":PORT/")
            if api_value != floor_value:
                raise BenchError(
                    f"{path}: header {header}: tac-api {api_headers.get(header)!r}, "
                    f"floor {floor_headers.get(header)!r}"
                )
        listed = api_json.get("events", api_json.get("items", [])) if expected == 200 else []
        shown[read] = shown.get(read, 0) + len(listed)
        pairs.append((path, api_headers["x-request-id"], floor_headers["x-request-id"]))
    # Nobody, and a token that is no one's: 401 alike (and no audit row: no caller is known).
    for _, path, _ in cases[:1] + cases[-1:]:
        for token in (None, "not-a-token-of-anyone"):
            answers = [get(server.port, path, token) for server in (api, floor)]
            (api_status, api_headers, api_body), (floor_status, floor_headers, floor_body) = answers
            alike = json.loads(api_body) == json.loads(floor_body) and all(
                api_headers.get(header) == floor_headers.get(header)
                for header in ("www-authenticate", *COMPARED_HEADERS)
            )
            if not (api_status == floor_status == 401 and alike):
                raise BenchError(
                    f"{path} with token {token!r}: tac-api said {api_status} {api_body[:300]!r}, "
                    f"floor said {floor_status} {floor_body[:300]!r}"
                )
    audited = _audited(seeded.url, [request_id for _, *ids in pairs for request_id in ids])
    for path, api_request, floor_request in pairs:
        if audited[api_request] != audited[floor_request]:
            raise BenchError(
                f"{path}: the floor's audit rows differ from tac-api's\n"
                f"  tac-api: {audited[api_request][:5]}\n  floor:   {audited[floor_request][:5]}"
            )
    counts = ", ".join(f"{read} {count}" for read, count in shown.items())
    print(
        f"  liaison floors ({role}): same status, JSON, headers and audit rows for "
        f"{len(cases)} sampled requests (records shown: {counts})"
    )
    if reordered:
        print(
            f"  ({reordered} chronologies alike only once events at one time from one source "
            "were put in id order: tac-api leaves those in the database's scan order)"
        )
    for read, count in shown.items():
        if not count and role in CASE_READERS:
            print(f"  WARNING: {read} was empty in every sampled answer: the seed gives it nothing")


# -- Standalone: seed, serve both, check, and (optionally) measure -----------------------------


async def _other_clients(url: str) -> dict[str, str]:
    """An admin's token and a governor's, for the checks of the other roles."""
    from tac_api.auth.schemas import Role
    from tac_api.auth.service import create_client
    from tac_api.config import Settings
    from tac_api.db import make_engine, sessionmaker_for

    engine = make_engine(Settings(database_url=url), pool=False)
    tokens = {}
    try:
        async with sessionmaker_for(engine)() as session, session.begin():
            for role, prison in ((Role.admin, None), (Role.governor, "EWI")):
                name = f"liaison-floor-{role.value}-{uuid.uuid4().hex[:8]}"
                _, tokens[role.value] = await create_client(
                    session, name=name, role=role, prison_code=prison
                )
    finally:
        await engine.dispose()
    return tokens


def main() -> None:
    """Seed a PostgreSQL database of its own (TAC_BENCH_DATABASE, default
    tac_bench_liaison_floors), start tac-api and the floor on it, check the liaison answers, and
    with --duration measure each read on both servers (A-B-B-A halves, as benchmarks.run)."""
    import argparse
    import asyncio
    import contextlib
    import dataclasses
    import os
    from pathlib import Path

    from benchmarks.load import LoadResult, run_load
    from benchmarks.stack import (
        DEFAULT_POSTGRES_URL,
        VAR,
        create_postgres,
        drop_postgres,
        seed_database,
        start_servers,
    )

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--mothers", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=0.0, help="seconds per read and server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sample", type=int, default=20, help="random mothers checked")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", help="a JSON file of a database seeded before (see --keep)")
    args = parser.parse_args()
    admin_url = os.environ.get("TAC_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    database = os.environ.get("TAC_BENCH_DATABASE", "tac_bench_liaison_floors")
    if args.reuse:
        saved = json.loads(Path(args.reuse).read_text())
        seeded = Seeded(saved["url"], saved["token"], saved["ewi"], saved["other"], 0.0)
    else:
        seeded = seed_database(create_postgres(admin_url, database), args.mothers, 2026)
        if args.keep:
            kept = VAR / f"{database}.json"
            saved = {"url": seeded.url, "token": seeded.token}
            kept.write_text(json.dumps({**saved, "ewi": seeded.ewi_ids, "other": seeded.other_ids}))
            print(f"  seeded {database}, kept: --reuse {kept}")
    try:
        with contextlib.ExitStack() as stack:
            api, floor = start_servers(stack, "liaison", seeded.url)
            check_liaison_answers(api, floor, seeded, sample=args.sample)
            for role, token in asyncio.run(_other_clients(seeded.url)).items():
                as_role = dataclasses.replace(seeded, token=token)
                check_liaison_answers(api, floor, as_role, sample=5, role=role)
            if args.duration:
                today = date.today()
                week = today + timedelta(days=7)
                reads = {
                    "chronology": [f"/v1/mothers/{m}/chronology" for m in seeded.ewi_ids],
                    "week's hearings": [
                        f"/v1/court-hearings?prison_code=EWI&from={today}&to={week}"
                    ],
                    "evidence bundle": [f"/v1/mothers/{m}/evidence-bundle" for m in seeded.ewi_ids],
                    "releases due": ["/v1/release-plans/due?prison_code=EWI&within_days=84"],
                }
                headers = {"Authorization": f"Bearer {seeded.token}", "Accept": "application/json"}
                for read, paths in reads.items():
                    parts: dict[str, list[LoadResult]] = {"tac-api": [], "floor": []}
                    for server in (api, floor, floor, api):
                        assert server.process is not None
                        parts[server.name].append(
                            run_load(
                                port=server.port,
                                paths=paths,
                                headers=headers,
                                connections=args.connections,
                                warmup=1.0,
                                duration=args.duration / 2,
                                server_pid=server.process.pid,
                                database=seeded.url.rsplit("/", 1)[-1],
                            )
                        )
                    results = {name: LoadResult.combine(runs) for name, runs in parts.items()}
                    line = [f"  {read:<16}"]
                    for name, result in results.items():
                        ms = result.server_cpu / result.rate * 1000 if result.rate else 0.0
                        line.append(
                            f"{name} {result.rate:7.0f} req/s {ms:5.2f} CPU ms/req "
                            f"(db {result.database_cpu:.0%}, other {result.other_cpu:.0%}, "
                            f"errors {result.errors})"
                        )
                        if result.errors:
                            line.append(
                                f"  statuses {dict(result.statuses)}, failures {result.failures}, "
                                f"{'; '.join(result.samples)[:300]}"
                            )
                    api_result, floor_result = results["tac-api"], results["floor"]
                    ratio = api_result.rate / floor_result.rate if floor_result.rate else 0.0
                    cpu_api = api_result.server_cpu / api_result.rate if api_result.rate else 0.0
                    cpu_floor = (
                        floor_result.server_cpu / floor_result.rate if floor_result.rate else 0.0
                    )
                    line.append(
                        f"ratio req/s {ratio:.2f}, CPU per request tac-api/floor "
                        f"{cpu_api / cpu_floor if cpu_floor else 0.0:.2f}"
                    )
                    print("\n    ".join(line), flush=True)
    finally:
        if not args.reuse and not args.keep:
            drop_postgres(admin_url, database)


if __name__ == "__main__":
    main()
