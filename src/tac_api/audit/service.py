"""The audit trail: what each request did with personal data, written with the request's own work.

Routes say what they disclosed or changed (`record`, `record_many`); the session dependency
writes it in the request's transaction, just before the commit (for reads: before the response
leaves). A request that fails writes one row saying so, in a transaction of its own, since its
own was rolled back.
"""

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request
from sqlalchemy import CTE, Select, bindparam, insert, literal_column, null, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tac_api.audit.models import AuditEvent
from tac_api.audit.schemas import Action, Outcome, outcome_of
from tac_api.auth.schemas import Caller
from tac_api.db import REQUEST_ID, driver_connection, transaction_driver, utcnow

if TYPE_CHECKING:
    from tac_api.resources import Resource

log = logging.getLogger("tac_api.audit")

PENDING = "audit_pending"  # session.info: events this request has to write
AUDITED = "audited"  # session.info: the route said what it did (possibly with nothing to list)

Pending = tuple[Action, str, uuid.UUID | None, uuid.UUID | None]


def record(
    session: AsyncSession,
    action: Action,
    resource_type: str,
    resource_id: uuid.UUID | None,
    subject_id: uuid.UUID | None = None,
) -> None:
    """Note one act on one record, to be written with the request's own work."""
    record_many(session, action, resource_type, [(resource_id, subject_id)])


def record_many(
    session: AsyncSession,
    action: Action,
    resource_type: str,
    records: Iterable[tuple[uuid.UUID | None, uuid.UUID | None]],
) -> None:
    """Note an act on each of these (record id, subject id) pairs; none is fine (an empty list
    disclosed nothing), but the route has still said what it did."""
    pending: list[Pending] = session.info.setdefault(PENDING, [])
    pending.extend((action, resource_type, rid, sid) for rid, sid in records)
    session.info[AUDITED] = True


def consulted(session: AsyncSession, resource: "Resource[Any]", records: Iterable[Any]) -> None:
    """These records were shown (none is fine: an empty page disclosed nothing, but said so)."""
    _noted(session, Action.consult, resource, records)


def collected(session: AsyncSession, resource: "Resource[Any]", record: Any) -> None:
    _noted(session, Action.collect, resource, [record])


def altered(
    session: AsyncSession, resource: "Resource[Any]", record: Any, changed: object = True
) -> None:
    """A change; one that changed nothing (`changed` empty) only showed the record as it was,
    and is recorded as what it was: a consultation."""
    _noted(session, Action.alter if changed else Action.consult, resource, [record])


def erased(session: AsyncSession, resource: "Resource[Any]", record: Any) -> None:
    _noted(session, Action.erase, resource, [record])


def combined(session: AsyncSession, resource: "Resource[Any]", records: Iterable[Any]) -> None:
    """These records were put together into one picture (her family, her chronology)."""
    _noted(session, Action.combine, resource, records)


def disclosed(session: AsyncSession, resource: "Resource[Any]", records: Iterable[Any]) -> None:
    """These records were handed over whole (her subject access export, a bundle)."""
    _noted(session, Action.disclose, resource, records)


def _noted(
    session: AsyncSession, action: Action, resource: "Resource[Any]", records: Iterable[Any]
) -> None:
    """The audit trail's names for a record come from its description: its kind, and the
    mother it is about."""
    record_many(
        session,
        action,
        resource.kind,
        ((resource.id_of(r), resource.subject_of(r)) for r in records),
    )


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", None) or uuid.uuid4().hex


def caller_of(request: Request) -> Caller | None:
    return getattr(request.state, "caller", None)


def _rows(
    events: list[Pending], request_id: str, caller: Caller, outcome: Outcome
) -> list[dict[str, Any]]:
    occurred_at = utcnow()
    return [
        {
            "occurred_at": occurred_at,
            "request_id": request_id,
            "client_id": caller.client_id,
            "client_name": caller.name,
            "role": caller.role.value,
            "action": action.value,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "subject_id": subject_id,
            "outcome": outcome.value,
        }
        for action, resource_type, resource_id, subject_id in events
    ]


# One statement for every event of a request, however many: a list page is one round trip.
_INSERT_UNNEST = """
INSERT INTO audit_event (occurred_at, request_id, client_id, client_name, role, outcome,
                         action, resource_type, resource_id, subject_id)
SELECT $1, $2, $3, $4, $5, $6, e.action, e.resource_type, e.resource_id, e.subject_id
FROM unnest($7::text[], $8::text[], $9::uuid[], $10::uuid[])
     AS e(action, resource_type, resource_id, subject_id)
"""


async def write_pending(session: AsyncSession, request: Request) -> None:
    """Write what the route recorded, in the session's transaction (or, for a read, at once)."""
    caller = caller_of(request)
    if caller is None:
        session.info.pop(PENDING, None)
        return
    await write_pending_as(session, caller, request_id_of(request))


async def write_pending_as(session: AsyncSession, caller: Caller, request_id: str) -> None:
    """Write what was recorded as done by `caller`: a request's caller, or the service's own
    for work no request asked for (a prison event applied, `events.schemas.EVENT_SOURCE`)."""
    events: list[Pending] = session.info.pop(PENDING, [])
    if not events:
        return
    # PostgreSQL: straight to the driver (a read's went there too; a write's are in its
    # transaction), one statement for a thousand rows as for one.
    driver = await driver_connection(session) or await transaction_driver(session)
    if driver is not None:
        await driver.execute(
            _INSERT_UNNEST,
            utcnow(),
            request_id,
            caller.client_id,
            caller.name,
            caller.role.value,
            Outcome.succeeded.value,
            [e[0].value for e in events],
            [e[1] for e in events],
            [e[2] for e in events],
            [e[3] for e in events],
        )
        return
    await session.execute(
        insert(AuditEvent.__table__), _rows(events, request_id, caller, Outcome.succeeded)
    )


ACTION_FOR_METHOD = {
    "GET": Action.consult,
    "HEAD": Action.consult,
    "POST": Action.collect,
    "PUT": Action.alter,
    "PATCH": Action.alter,
    "DELETE": Action.erase,
}
# Routes whose act is not the one their method suggests.
ACTION_FOR_ROUTE = {
    "/v1/mothers/{mother_id}/family": Action.combine,
    "/v1/mothers/{mother_id}/chronology": Action.combine,
    "/v1/mothers/{mother_id}/subject-access-export": Action.disclose,
    "/v1/subject-access-export": Action.disclose,
    "/v1/referrals/{referral_id}/decision": Action.alter,
    "/v1/referrals/{referral_id}/support-closure": Action.alter,
    "/v1/mothers/{mother_id}/evidence-bundle": Action.disclose,
    "/v1/contact-visits/{contact_visit_id}/status": Action.alter,
    "/v1/mothers/{mother_id}/support-plan/agreement": Action.alter,
    "/v1/consents/{consent_id}/withdrawal": Action.alter,
    "/v1/sync/changes": Action.disclose,
}
RESOURCE_FOR_SEGMENT = {
    "mothers": "mother",
    "children": "child",
    "practitioners": "practitioner",
    "parenting-assessments": "parenting_assessment",
    "release-plans": "release_plan",
    "meetings": "meeting",
    "contact-visits": "contact_visit",
    "court-hearings": "court_hearing",
    "referrals": "referral",
    "referral-funnel": "referral_funnel",
}


def attempted(request: Request) -> Pending:
    """What a failed request was trying to do, from its route: the act, and the record named."""
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    action = ACTION_FOR_ROUTE.get(template) or ACTION_FOR_METHOD.get(request.method, Action.consult)
    params = request.path_params
    resource_type, resource_id = "", None
    for name, value in params.items():
        if name.endswith("_id"):
            resource_type, resource_id = name.removesuffix("_id"), value
    if not resource_type:
        segments = [part for part in template.split("/") if part and part != "v1"]
        first = segments[0] if segments else "unknown"
        resource_type = RESOURCE_FOR_SEGMENT.get(first, first)[:40]
    subject_id = params.get("mother_id")
    return action, resource_type, _uuid_or_none(resource_id), _uuid_or_none(subject_id)


def _uuid_or_none(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID) or value is None:
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def write_failure(
    sessionmaker: async_sessionmaker[AsyncSession], request: Request, status: int
) -> None:
    """One row for a request that failed after its caller was known, in its own transaction.

    If the database itself is what failed, this fails too: that is logged, and the request's
    own error is what the caller sees.
    """
    caller = caller_of(request)
    # A refusal for going over the rate limit touched no personal data, and a client hammering
    # the API must not turn each refused request into a write.
    if caller is None or status == 429:
        return
    try:
        async with sessionmaker() as session, session.begin():
            rows = _rows([attempted(request)], request_id_of(request), caller, outcome_of(status))
            await session.execute(insert(AuditEvent.__table__), rows)
    except Exception:
        log.exception("could not write the audit event for a failed request")


def search(
    subject_id: uuid.UUID | None,
    client: str | None,
    occurred_from: datetime | None,
    occurred_to: datetime | None,
) -> Select[Any]:
    """The trail, newest first. A subject matches as the case's subject or as the record itself
    (a child's own id finds what was done with the child's record)."""
    statement = select(AuditEvent)
    if subject_id is not None:
        statement = statement.where(
            or_(AuditEvent.subject_id == subject_id, AuditEvent.resource_id == subject_id)
        )
    if client:
        client_id = _uuid_or_none(client)
        statement = statement.where(
            AuditEvent.client_id == client_id
            if client_id is not None
            else AuditEvent.client_name == client
        )
    if occurred_from is not None:
        statement = statement.where(AuditEvent.occurred_at >= occurred_from)
    if occurred_to is not None:
        statement = statement.where(AuditEvent.occurred_at < occurred_to)
    return statement


# -- A read and its audit trail in one statement (PostgreSQL) ----------------------------------


@dataclass(frozen=True)
class Consulted:
    """Records that a read's rows show, for the audit trail: their kind (`Resource.kind`), and
    the names of the row's columns holding a record's id and its subject's (None: no one's).
    `once`: the record is on every row, and audited once (her record, on each child's row)."""

    kind: str
    id: str
    subject: str | None
    once: bool = False


_CONSULTED_BY = (
    "audit_occurred_at",
    "audit_request_id",
    "audit_client_id",
    "audit_client_name",
    "audit_role",
)


def consulting(
    shown: CTE,
    consulted: Sequence[Consulted],
    order: Sequence[str] = (),
    limit: Any = None,
    action: Action = Action.consult,
) -> CTE:
    """The audit rows for what the rows of `shown` show (consulted, succeeded), as a
    data-modifying CTE for the statement that reads `shown` (`Select.add_cte`): the read and its
    audit trail in one statement, one round trip. PostgreSQL only (SQLite has no such CTE).

    The rows written are the ones `consulted` would note after the read, in the same order:
    `order` (names of `shown`'s columns) is the order the rows are shown in, and only the first
    `limit` rows are shown (a bound parameter or a number; None: every row), so that a page's
    look-ahead row is not audited. `action`: what the read did with them, if more than consult
    them (her chronology combines her records, a bundle discloses them). Its parameters come
    from `consulting_params`.
    """
    table = AuditEvent.__table__
    by = [
        bindparam(name, type_=table.c[name.removeprefix("audit_")].type) for name in _CONSULTED_BY
    ]
    parts = []
    for part in consulted:
        subject = shown.c[part.subject] if part.subject else null()
        rows = (
            select(
                *by,
                literal_column(f"'{Outcome.succeeded.value}'"),
                literal_column(f"'{action.value}'"),
                # Our own kind names, never input.
                literal_column(f"'{part.kind}'"),
                shown.c[part.id],
                subject,
            )
            .where(shown.c[part.id].is_not(None))
            .order_by(*(shown.c[name] for name in order))
        )
        # Written out, not bound: fetch_rows sends only the parameters it was given by name.
        shown_limit = literal_column("1") if part.once else limit
        parts.append(rows if shown_limit is None else rows.limit(shown_limit))
    # Each part in its order, one after the other: the rows are numbered as noted.
    rows_written = parts[0] if len(parts) == 1 else union_all(*parts)
    names = [name.removeprefix("audit_") for name in _CONSULTED_BY]
    names += ["outcome", "action", "resource_type", "resource_id", "subject_id"]
    return insert(table).from_select(names, rows_written).cte("written")


def consulting_params(session: AsyncSession, caller: Caller) -> dict[str, Any]:
    """Who consulted, and when, for a statement with `consulting` in it; and the request's
    audit noted as said (`AUDITED`, nothing pending): the session writes no more for it."""
    session.info[AUDITED] = True
    return {
        "audit_occurred_at": utcnow(),
        "audit_request_id": session.info[REQUEST_ID],
        "audit_client_id": caller.client_id,
        "audit_client_name": caller.name,
        "audit_role": caller.role.value,
    }
