"""The staff directory (who she is and how she signs in), her allocations with their history,
and each prison's caseloads against the guide."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Select, Uuid, and_, bindparam, desc, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.models import ApiClient
from tac_api.auth.oidc import OIDC_CLIENT_NAMESPACE
from tac_api.auth.schemas import Caller, Role, role_of, scope_params
from tac_api.config import Settings
from tac_api.db import touch, utcnow
from tac_api.errors import Conflict, InvalidInput, NotFound
from tac_api.history import made_by
from tac_api.mothers.models import Mother
from tac_api.mothers.service import MOTHERS
from tac_api.reference.models import Prison
from tac_api.resources import Resource, apply_changes, get_for_change, get_visible, list_visible
from tac_api.schemas import past_date_problems
from tac_api.staff.caseload import against_guide, placing
from tac_api.staff.models import Allocation, StaffMember
from tac_api.staff.schemas import (
    AllocationEnd,
    AllocationPublic,
    AllocationPut,
    Caseloads,
    StaffMemberCreate,
    StaffMemberUpdate,
)

STAFF = Resource(
    kind="staff_member",
    model=StaffMember,
    label="staff member",
    order=(StaffMember.prison_code, StaffMember.name, StaffMember.id),
    subject=None,  # the directory: about no mother
    path="/v1/staff",
)
ALLOCATIONS = Resource(
    kind="allocation",
    model=Allocation,
    label="allocation",
    # Oldest first; a reallocation on the day the last one began sorts after it (made later).
    order=(Allocation.allocated_on, Allocation.changed_at, Allocation.id),
)

CLOSED = "closed"  # a mother's status once her case is closed: on nobody's caseload
DUPLICATE_SIGN_IN = "Another entry of the directory already signs in as this person."
ONE_WAY = "link her identity provider's subject or an API client, not both"


# -- The directory -------------------------------------------------------------------------


def search(
    caller: Caller, prison_code: str | None, role: str | None, current: bool | None
) -> Select[Any]:
    statement = list_visible(caller, STAFF)
    if prison_code:
        statement = statement.where(StaffMember.prison_code == prison_code)
    if role:
        statement = statement.where(StaffMember.role == role)
    if current is True:
        statement = statement.where(StaffMember.left_on.is_(None))
    elif current is False:
        statement = statement.where(StaffMember.left_on.is_not(None))
    return statement


async def _signs_in_as(
    session: AsyncSession,
    settings: Settings,
    prison_code: str,
    identity_subject: str | None,
    api_client_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """The caller id she gets when she signs in, from the one link she has (None: neither).

    One link at most: `signs_in_as` is one caller id, and "me" and her work are found by it.
    Two links would be two ways in to one entry, and nothing here could check that the subject
    and the client are the same person."""
    if identity_subject is not None and api_client_id is not None:
        raise InvalidInput("api_client_id", ONE_WAY)
    if identity_subject is not None:
        if not settings.oidc_issuer:
            raise InvalidInput(
                "identity_subject",
                "this service trusts no identity provider (TAC_OIDC_ISSUER is not set)",
            )
        # As tac_api.auth.oidc derives the caller id of a token from this issuer and subject.
        return uuid.uuid5(OIDC_CLIENT_NAMESPACE, f"{settings.oidc_issuer}|{identity_subject}")
    if api_client_id is not None:
        # In use: not revoked, not expired (compared in SQL, as admission compares them).
        client = await session.scalar(
            select(ApiClient).where(
                ApiClient.id == api_client_id,
                ApiClient.revoked_at.is_(None),
                or_(ApiClient.expires_at.is_(None), ApiClient.expires_at > utcnow()),
            )
        )
        if client is None:
            raise InvalidInput("api_client_id", "no API client in use with this id")
        # A governor's client sees no one: it could not use her caseload or "me".
        if client.role != Role.prison_social_worker or client.prison_code != prison_code:
            raise InvalidInput(
                "api_client_id",
                f"the client must be a prison social worker's of {prison_code}",
            )
        return client.id
    return None


async def _check_not_taken(
    session: AsyncSession, signs_in_as: uuid.UUID | None, entry_id: uuid.UUID | None
) -> None:
    if signs_in_as is None:
        return
    others = select(StaffMember.id).where(StaffMember.signs_in_as == signs_in_as)
    if entry_id is not None:
        others = others.where(StaffMember.id != entry_id)
    taken = await session.scalar(others.limit(1))
    if taken is not None:
        raise Conflict(DUPLICATE_SIGN_IN)


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent entry signing in as the same person
        raise Conflict(DUPLICATE_SIGN_IN) from exc


async def create_staff_member(
    session: AsyncSession, settings: Settings, data: StaffMemberCreate
) -> StaffMember:
    if await session.get(Prison, data.prison_code) is None:
        raise InvalidInput("prison_code", f"unknown prison {data.prison_code!r}")
    signs_in_as = await _signs_in_as(
        session, settings, data.prison_code, data.identity_subject, data.api_client_id
    )
    await _check_not_taken(session, signs_in_as, None)
    entry = StaffMember(**data.model_dump(), signs_in_as=signs_in_as)
    session.add(entry)
    await _flush(session)
    return entry


async def update_staff_member(
    session: AsyncSession,
    settings: Settings,
    caller: Caller,
    staff_member_id: uuid.UUID,
    data: StaffMemberUpdate,
    if_match: str | None,
) -> tuple[StaffMember, dict[str, Any]]:
    entry = await get_for_change(session, caller, STAFF, staff_member_id, if_match)
    changes = data.changes()
    if "identity_subject" in changes or "api_client_id" in changes:
        # Her sign-in as it will stand: what is sent over what she has.
        subject = changes.get("identity_subject", entry.identity_subject)
        client_id = changes.get("api_client_id", entry.api_client_id)
        changes["signs_in_as"] = await _signs_in_as(
            session, settings, entry.prison_code, subject, client_id
        )
        await _check_not_taken(session, changes["signs_in_as"], entry.id)
    left_on = changes.get("left_on")
    if left_on is not None and left_on != entry.left_on:
        await _check_may_leave(session, entry, left_on)
    changed = apply_changes(entry, changes)
    if changed:
        await _flush(session)
    return entry, changed


async def _check_may_leave(session: AsyncSession, entry: StaffMember, left_on: date) -> None:
    """Leaving is dated, not in the future, and only once no woman is allocated to her: her
    women are reallocated first, so that none drops off every caseload unseen."""
    InvalidInput.raise_any(past_date_problems("left_on", left_on, date.today()))
    still = await session.scalar(
        select(Allocation.id)
        .where(Allocation.staff_member_id == entry.id, Allocation.ended_on.is_(None))
        .limit(1)
    )
    if still is not None:
        raise InvalidInput(
            "left_on", "women are still allocated to her: reallocate them, or end theirs, first"
        )


@cache
def _signed_in_as(role: Role) -> Select[Any]:
    return select(StaffMember).where(
        StaffMember.signs_in_as == bindparam("client_id", type_=Uuid(), required=True),
        STAFF.visible(role),
    )


def signed_in_as(who: Caller | Role) -> Select[Any]:
    """The staff entry the caller signs in as (an API client or an identity provider's sign-in
    alike: both give her the id in `signs_in_as`), if she may see it: for "me", `owner=me`, the
    worklist's `mine`, who prepared a document. Given a role, built once, and `client_id` is
    bound at execution (`db.fetch_rows`)."""
    statement = _signed_in_as(role_of(who))
    if isinstance(who, Role):
        return statement
    return statement.params(client_id=who.client_id, **scope_params(who))


async def entry_signed_in_as(session: AsyncSession, caller: Caller) -> StaffMember | None:
    """`signed_in_as`, read: her entry, or None when she signs in as no one she may see. Her
    own entry, read for her: not audited."""
    return await session.scalar(signed_in_as(caller))


async def me(session: AsyncSession, caller: Caller) -> StaffMember:
    """The entry the caller signs in as, if she may see it (`signed_in_as`)."""
    entry = await entry_signed_in_as(session, caller)
    if entry is None:
        raise NotFound("You are in no staff directory: an admin links your sign-in to your entry.")
    return entry


# -- Allocations ---------------------------------------------------------------------------


async def _latest(session: AsyncSession, mother_id: uuid.UUID) -> Allocation | None:
    """Her latest allocation (her current one, if she has one), locked until the request ends."""
    return await session.scalar(
        select(Allocation)
        .where(Allocation.mother_id == mother_id)
        .order_by(*(desc(column) for column in ALLOCATIONS.order))
        .limit(1)
        .with_for_update()
    )


class Allocated(NamedTuple):
    allocation: Allocation  # her current allocation now
    ended: Allocation | None  # the one it ended, if any
    made: bool  # False: the same worker again, nothing changed


async def allocate(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: AllocationPut
) -> Allocated:
    """Allocate her to a worker from a date: her current allocation ends that day and the new
    one begins, in the request's one transaction. The same worker again changes nothing."""
    # Her row locked: two allocations of her at once queue up rather than race.
    mother = await get_visible(session, caller, MOTHERS, mother_id, for_update=True)
    # Hers locked too: she cannot leave (PATCH left_on, which looks for her open allocations)
    # between this check and the allocation.
    worker = await session.scalar(
        select(StaffMember).where(StaffMember.id == data.staff_member_id).with_for_update()
    )
    if worker is None or worker.prison_code != mother.prison_code or worker.left_on is not None:
        raise InvalidInput("staff_member_id", "no current member of her prison's staff has this id")
    InvalidInput.raise_any(past_date_problems("allocated_on", data.allocated_on, date.today()))
    latest = await _latest(session, mother.id)
    current = latest if latest is not None and latest.ended_on is None else None
    if current is not None and current.staff_member_id == worker.id:
        return Allocated(current, None, made=False)
    if current is not None and data.allocated_on < current.allocated_on:
        raise InvalidInput(
            "allocated_on",
            f"cannot be before her current allocation began ({current.allocated_on})",
        )
    if latest is not None and latest.ended_on is not None and data.allocated_on < latest.ended_on:
        raise InvalidInput(
            "allocated_on", f"cannot be before her last allocation ended ({latest.ended_on})"
        )
    if current is not None:
        current.ended_on = data.allocated_on
        current.end_reason = data.reason
        touch(current)
        await session.flush()  # ended before the new one opens: one open at a time
    allocation = Allocation(
        mother_id=mother.id,
        staff_member_id=worker.id,
        allocated_on=data.allocated_on,
        reason=data.reason,
        **made_by(caller),
    )
    session.add(allocation)
    try:
        await session.flush()
    except IntegrityError as exc:  # allocated at the same moment by someone else
        raise Conflict(
            "She was allocated by someone else at the same moment: read her allocation again."
        ) from exc
    return Allocated(allocation, current, made=True)


async def end_allocation(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: AllocationEnd
) -> Allocation:
    """End her current allocation with no one after it."""
    mother = await get_visible(session, caller, MOTHERS, mother_id, for_update=True)
    latest = await _latest(session, mother.id)
    if latest is None or latest.ended_on is not None:
        raise Conflict("She has no current allocation to end.")
    InvalidInput.raise_any(past_date_problems("ended_on", data.ended_on, date.today()))
    if data.ended_on < latest.allocated_on:
        raise InvalidInput(
            "ended_on", f"cannot be before her current allocation began ({latest.allocated_on})"
        )
    latest.ended_on = data.ended_on
    latest.end_reason = data.reason
    touch(latest)
    await session.flush()
    return latest


def history(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    """Her allocations (a route checks first that the caller may see her: 404 otherwise)."""
    return list_visible(caller, ALLOCATIONS, mother_id=mother_id)


async def workers_of(
    session: AsyncSession, allocations: Sequence[Allocation]
) -> dict[uuid.UUID, StaffMember]:
    """The workers a page of allocations names: one statement, none for an empty page."""
    ids = {allocation.staff_member_id for allocation in allocations}
    if not ids:
        return {}
    rows = await session.scalars(select(StaffMember).where(StaffMember.id.in_(ids)))
    return {worker.id: worker for worker in rows}


def allocation_public(allocation: Allocation, worker: StaffMember) -> AllocationPublic:
    return AllocationPublic.model_validate(
        {
            **allocation.model_dump(),
            "staff_member": {"id": worker.id, "name": worker.name, "role": worker.role},
        }
    )


# -- Caseloads -----------------------------------------------------------------------------


def _prisons_shown(caller: Caller, prison_code: str | None) -> str | None:
    """The prison whose caseloads are asked for (None: an admin's, every prison's). A prison
    social worker sees her own prison's only: another prison reads as not found, as a record out
    of scope does (and as the governor's report answers)."""
    if caller.role is Role.admin:
        return prison_code
    if prison_code is not None and prison_code != caller.prison_code:
        raise NotFound(f"No prison {prison_code} is visible to you.")
    return caller.prison_code


async def caseloads(
    session: AsyncSession, settings: Settings, caller: Caller, prison_code: str | None
) -> Caseloads:
    """Per prison, each of its staff who has not left with her active women (allocated to her,
    held in her prison, case not closed), against the guide; and its active women allocated to
    none of them. Three statements whatever the prisons' sizes: the prisons, their staff, and
    their active women with the allocation that puts each on a caseload, if any."""
    chosen = _prisons_shown(caller, prison_code)
    prisons_query = select(Prison.code, Prison.name).order_by(Prison.code)
    if chosen is not None:
        prisons_query = prisons_query.where(Prison.code == chosen)
    prisons = (await session.execute(prisons_query)).all()
    if chosen is not None and not prisons:
        raise InvalidInput("prison_code", f"unknown prison {chosen!r}", location="query")

    staff_query = (
        select(StaffMember.id, StaffMember.prison_code, StaffMember.name, StaffMember.role)
        .where(StaffMember.left_on.is_(None))
        .order_by(*STAFF.order)
    )
    # The allocation that puts her on a caseload: her open one, to a current worker of the
    # prison she is held in. One to a worker of the prison she has moved from puts her on no
    # one's: she shows as unallocated where she is, for her new prison to allocate.
    placed = (
        select(
            Allocation.id.label("allocation_id"),
            Allocation.mother_id,
            Allocation.staff_member_id,
            Allocation.allocated_on,
            StaffMember.prison_code,
        )
        .join(StaffMember, StaffMember.id == Allocation.staff_member_id)
        .where(placing())
        .subquery("placed")
    )
    women_query = (
        select(
            Mother.id,
            Mother.prison_code,
            Mother.first_name,
            Mother.last_name,
            Mother.prison_number,
            placed.c.allocation_id,
            placed.c.staff_member_id,
            placed.c.allocated_on,
        )
        .outerjoin(
            placed,
            and_(placed.c.mother_id == Mother.id, placed.c.prison_code == Mother.prison_code),
        )
        .where(Mother.status != CLOSED)
        .order_by(Mother.last_name, Mother.first_name, Mother.id)
    )
    if chosen is not None:
        staff_query = staff_query.where(StaffMember.prison_code == chosen)
        women_query = women_query.where(Mother.prison_code == chosen)
    staff = (await session.execute(staff_query)).mappings().all()
    women = (await session.execute(women_query)).mappings().all()

    # Every woman shown is a consultation of her record, and of the allocation shown with her.
    audit.consulted(session, MOTHERS, [{"id": woman["id"]} for woman in women])
    audit.consulted(
        session,
        ALLOCATIONS,
        [
            {"id": woman["allocation_id"], "mother_id": woman["id"]}
            for woman in women
            if woman["allocation_id"] is not None
        ],
    )
    return _caseloads(settings, prisons, staff, women)


def _caseloads(
    settings: Settings,
    prisons: Sequence[Any],
    staff: Sequence[Mapping[str, Any]],
    women: Sequence[Mapping[str, Any]],
) -> Caseloads:
    lower, upper = settings.caseload_guide_lower, settings.caseload_guide_upper
    allocated: dict[uuid.UUID, list[dict[str, Any]]] = {worker["id"]: [] for worker in staff}
    unallocated: dict[str, list[dict[str, Any]]] = {prison.code: [] for prison in prisons}
    for woman in women:
        her = {
            "mother_id": woman["id"],
            "first_name": woman["first_name"],
            "last_name": woman["last_name"],
            "prison_number": woman["prison_number"],
        }
        if woman["allocation_id"] is None:
            unallocated[woman["prison_code"]].append(her)
        else:
            allocated[woman["staff_member_id"]].append(
                her | {"allocated_on": woman["allocated_on"]}
            )
    workers: dict[str, list[dict[str, Any]]] = {prison.code: [] for prison in prisons}
    for worker in staff:
        hers = allocated[worker["id"]]
        workers[worker["prison_code"]].append(
            {
                "staff_member_id": worker["id"],
                "name": worker["name"],
                "role": worker["role"],
                "count": len(hers),
                "over_guide": against_guide(len(hers), settings) == "over",
                "under_guide": against_guide(len(hers), settings) == "under",
                "women": hers,
            }
        )
    return Caseloads.model_validate(
        {
            "guide": {"lower": lower, "upper": upper},
            "prisons": [
                {
                    "prison_code": prison.code,
                    "prison_name": prison.name,
                    "workers": workers[prison.code],
                    "unallocated": unallocated[prison.code],
                }
                for prison in prisons
            ],
        }
    )
