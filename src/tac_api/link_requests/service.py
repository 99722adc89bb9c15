"""Link requests: the one scoped statement, holding what an authority pushes for a mother it is
not linked to, the prison side's decision, and their expiry.

An authority is linked to a mother while it has a child of hers: a child it synced and the
prison side confirmed, or one the prison side recorded in that authority itself. Anything else
it pushes for her is held here, and answered the same way whether or not the service knows the
prison number it named (same status, same body, same statements): the answer must not tell an
authority which prison numbers exist.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.service import emit
from tac_api.db import among, utcnow
from tac_api.errors import Conflict
from tac_api.link_requests.models import LinkRequest
from tac_api.mothers.models import Mother
from tac_api.mothers.service import mother_named, prison_numbers
from tac_api.resources import Resource
from tac_api.scope import link_request_visible

REQUEST_TABLE = LinkRequest.__table__
LINK_REQUESTS = Resource(
    kind="link_request",
    model=LinkRequest,
    label="link request",
    order=(LinkRequest.created_at, LinkRequest.id),
    # The mother its prison number names, as the prison side is shown her: the asking
    # authority is shown no one, and its reads are about no one it may know.
    subject="mother_id",
    subject_shown=True,
    path="/v1/sync/link-requests",
)


class LinkDeclined(Conflict):
    slug = "link-declined"
    title = "The prison side declined this link"


DECLINED = (
    "the prison side declined to link this child to the mother you named: check her prison "
    "number (naming another asks again), or ask her prison's social worker"
)


# Held by the sync push ------------------------------------------------------------------------


@dataclass
class Asked:
    """One pushed child for a mother the authority is not linked to (or a number no one has)."""

    external_id: str
    mother_prison_number: str
    child: dict[str, Any]  # the sync body as JSON, less the ids
    request: dict[str, Any] | None = None  # after `hold`: the request as it now is
    problem: Conflict | None = None


async def held(
    session: AsyncSession, authority: str, external_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The authority's requests for these children, locked: two pushes of one child at once
    must not both make a request."""
    if not external_ids:
        return {}
    result = await session.execute(
        select(REQUEST_TABLE)
        .where(
            REQUEST_TABLE.c.local_authority_code == authority,
            among(session, REQUEST_TABLE.c.external_id, list(external_ids)),
        )
        .with_for_update()
    )
    return {row.external_id: dict(row._mapping) for row in result}


async def hold(
    session: AsyncSession,
    authority: str,
    requested_by: str,
    asked: list[Asked],
    known: dict[str, dict[str, Any]],
) -> None:
    """Make or update each child's request (one INSERT, one UPDATE, whatever the number).

    A repeat push of the same child updates its pending request. A declined one stays declined
    while the authority names the same prison number; naming another asks again.
    """
    now = utcnow()
    created, changed = [], []
    for item in asked:
        current = known.get(item.external_id)
        same_mother = current is not None and (
            current["mother_prison_number"] == item.mother_prison_number
        )
        # What the push asks, as a pending request holds it (a new one, or one asked again).
        asking = {
            "updated_at": now,
            "mother_prison_number": item.mother_prison_number,
            "requested_by": requested_by,
            "status": "pending",
            "child": item.child,
            "decided_at": None,
            "decided_by": None,
            "reason": None,
            "child_id": None,
        }
        if current is None:
            row = {
                "id": uuid.uuid4(),
                "created_at": now,
                "version": 1,
                "local_authority_code": authority,
                "external_id": item.external_id,
                **asking,
            }
            created.append(row)
        elif current["status"] == "declined" and same_mother:
            item.problem, item.request = LinkDeclined(DECLINED), current
            continue
        elif current["status"] == "pending" and same_mother and current["child"] == item.child:
            row = current
        else:  # changed, or asked again (naming another mother, or a confirmed child since gone)
            asked_again = current["status"] != "pending"
            row = {
                **current,
                "created_at": now if asked_again else current["created_at"],
                "version": current["version"] + 1,
                **asking,
            }
            changed.append(row)
        item.request = row
    if created:
        try:
            await session.execute(insert(REQUEST_TABLE), created)
        except IntegrityError as exc:
            raise Conflict(
                "Another request pushed some of these children at the same moment; send them "
                "again (a request already made is updated, not made twice)."
            ) from exc
    if changed:
        columns = [name for name in changed[0] if name != "id"]
        statement = (
            update(REQUEST_TABLE)
            .where(REQUEST_TABLE.c.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        await session.execute(
            statement,
            [{"row_id": row["id"], **{f"new_{n}": row[n] for n in columns}} for row in changed],
        )


async def fulfilled(
    session: AsyncSession, known: dict[str, dict[str, Any]], external_ids: Sequence[str]
) -> None:
    """Children that linked at once (the authority has since been confirmed for her, or the
    prison side recorded one of hers in it): their open requests have nothing left to ask."""
    done = [
        known[external_id]["id"]
        for external_id in external_ids
        if external_id in known and known[external_id]["status"] != "confirmed"
    ]
    if done:
        await session.execute(delete(REQUEST_TABLE).where(among(session, REQUEST_TABLE.c.id, done)))


# Read and decided by the prison side ----------------------------------------------------------


def search(caller: Caller, status: str | None) -> Select[Any]:
    """Requests visible to the caller, each with the mother its prison number names (if any:
    her own number, or one merged into hers)."""
    statement = select(
        LinkRequest, mother_named(LinkRequest.mother_prison_number).label("mother_id")
    ).where(link_request_visible(caller))
    if status is not None:
        statement = statement.where(LinkRequest.status == status)
    return statement


def id_of(row: Any) -> uuid.UUID:
    """The request a listed row holds: a cursor names it by id alone."""
    return row[0].id


async def get_link_request(
    session: AsyncSession, caller: Caller, link_request_id: uuid.UUID, *, for_update: bool = False
) -> tuple[LinkRequest, uuid.UUID | None]:
    """The request, and the mother it names (None while no mother has the number); 404 when it
    is out of the caller's sight."""
    statement = search(caller, None).where(LinkRequest.id == link_request_id)
    if for_update:
        statement = statement.with_for_update(of=LinkRequest)
    row = (await session.execute(statement)).first()
    if row is None:
        raise LINK_REQUESTS.not_found(link_request_id)
    return row[0], row[1]


def _decide(request: LinkRequest, caller: Caller, status: str, reason: str | None) -> None:
    if request.status != "pending":
        raise Conflict(f"This request is already {request.status}.")
    now = utcnow()
    request.status, request.reason = status, reason
    request.decided_at, request.decided_by = now, caller.name
    request.updated_at, request.version = now, request.version + 1


async def confirm(
    session: AsyncSession, caller: Caller, link_request_id: uuid.UUID, reason: str | None
) -> tuple[LinkRequest, uuid.UUID, dict[str, Any]]:
    """Link the authority to her: the child is made exactly as a take-up by sync makes it (the
    sync service's own path, every rule of a child's record included). The request, its child,
    and the mother's id."""
    # Imported here: sync's push path holds requests through this module.
    from tac_api.sync import children as sync

    request, mother_id = await get_link_request(session, caller, link_request_id, for_update=True)
    if request.status == "pending" and mother_id is None:
        raise Conflict(
            "No mother with this prison number is recorded: record her first, then confirm "
            "(or decline the request)."
        )
    _decide(request, caller, "confirmed", reason)
    # Written before sync's path reads the authority's requests: confirmed, it is no open
    # request for that path to clear away.
    await session.flush()
    assert mother_id is not None and request.child is not None
    mother = await session.get(Mother, mother_id)
    assert mother is not None
    outcome = await sync.confirmed_child(
        session,
        caller,
        request.local_authority_code,
        sync.SyncChildBatchItem.model_validate(
            {
                **request.child,
                "external_id": request.external_id,
                "mother_prison_number": mother.prison_number,
            }
        ),
    )
    if outcome.problem is not None:
        raise outcome.problem
    child = sync.outcome_row(outcome)
    request.child, request.child_id = None, child["id"]
    await session.flush()
    emit(
        session,
        "link-request.confirmed",
        "link_request",
        request.id,
        mother_id,
        [child["id"]],
        {"external_id": request.external_id, "status": "confirmed", "child_id": child["id"]},
        to_authority=request.local_authority_code,
    )
    return request, mother_id, child


async def decline(
    session: AsyncSession, caller: Caller, link_request_id: uuid.UUID, reason: str
) -> tuple[LinkRequest, uuid.UUID | None]:
    """Refuse the link. What the authority pushed goes (it was never the service's to keep);
    the authority is told that it was declined, and nothing of her."""
    request, mother_id = await get_link_request(session, caller, link_request_id, for_update=True)
    _decide(request, caller, "declined", reason)
    request.child = None
    await session.flush()
    _tell_authority(session, request, "declined")
    return request, mother_id


def _tell_authority(session: AsyncSession, request: Any, status: str) -> None:
    emit(
        session,
        f"link-request.{status}",
        "link_request",
        request.id,
        None,  # not hers to learn: the authority only learns that its request went no further
        [],
        {"external_id": request.external_id, "status": status},
        to_authority=request.local_authority_code,
    )


# Expiry ---------------------------------------------------------------------------------------


def _expired(as_of: datetime, expiry_days: int) -> ColumnElement[bool]:
    """Pending for longer than the expiry period, or decided longer ago than that."""
    cutoff = as_of - timedelta(days=expiry_days)
    return or_(
        and_(LinkRequest.status == "pending", LinkRequest.created_at < cutoff),
        and_(LinkRequest.status != "pending", LinkRequest.decided_at < cutoff),
    )


async def count_expired(session: AsyncSession, as_of: datetime, expiry_days: int) -> int:
    found = await session.scalars(select(LinkRequest.id).where(_expired(as_of, expiry_days)))
    return len(found.all())


async def erase_expired(
    session: AsyncSession, as_of: datetime, expiry_days: int
) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """Erase the expired requests; each pending one's authority is told it expired. The
    (request, mother it named, if any) pairs erased, for the audit trail."""
    erased = (
        await session.execute(
            delete(LinkRequest)
            .where(_expired(as_of, expiry_days))
            .returning(
                LinkRequest.id,
                LinkRequest.local_authority_code,
                LinkRequest.external_id,
                LinkRequest.mother_prison_number,
                LinkRequest.status,
            )
        )
    ).all()
    if not erased:
        return []
    numbers = sorted({row.mother_prison_number for row in erased})
    named = prison_numbers()
    mothers = dict(
        (
            await session.execute(
                select(named.c.prison_number, named.c.mother_id).where(
                    among(session, named.c.prison_number, numbers)
                )
            )
        ).all()
    )
    for row in erased:
        if row.status == "pending":
            _tell_authority(session, row, "expired")
    return [(row.id, mothers.get(row.mother_prison_number)) for row in erased]
