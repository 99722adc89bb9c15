"""Contact visits: the one scoped statement, the lifecycle, and the rules each child's contact
arrangement sets."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.children.service import sees_placement
from tac_api.db import touch, utcnow
from tac_api.errors import Conflict, InvalidInput
from tac_api.history import made_by, oldest_first
from tac_api.http import check_if_match
from tac_api.mothers.models import Mother
from tac_api.resources import ChildLinks, Resource, get_visible
from tac_api.scope import concerning_child, held_in, mother_visible, visit_visible
from tac_api.visits.models import ContactVisit, ContactVisitChild, ContactVisitStatusChange
from tac_api.visits.schemas import (
    CALLED_OFF,
    FINAL_CONTACT,
    IN_PERSON,
    INDIRECT,
    NEEDS_REASON,
    NEXT_STATUSES,
    ContactVisitCreate,
    ContactVisitPublic,
    ContactVisitUpdate,
    EscortPublic,
    StatusChange,
    StatusChangePublic,
    SupervisorPublic,
)

# What a local authority's change feed is told of a contact visit: its kind, time, status and
# outcome. Never the escort (a carer of a confidential placement is named to nobody else),
# nor the reasons and notes, which are the record's to show.
FEED_FIELDS = ("visit_type", "scheduled_at", "status", "outcome")


async def children_of(
    session: AsyncSession, caller: Caller, visit_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], set[uuid.UUID]]:
    """The children of each visit, for a whole page in one query. A local authority gets its own
    children only: another authority's child is not its to know about here. Also the visits with
    a child whose confidential placement this caller may not see: a carer escorting there is
    that child's carer, so all of the visit's children count, shown or not."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {visit_id: [] for visit_id in visit_ids}
    placement_hidden: set[uuid.UUID] = set()
    if not visit_ids:
        return found, placement_hidden
    rows = await session.execute(
        select(
            ContactVisitChild.contact_visit_id,
            ContactVisitChild.child_id,
            Child.local_authority_code,
            Child.placement_confidential,
        )
        .join(Child, Child.id == ContactVisitChild.child_id)
        .where(ContactVisitChild.contact_visit_id.in_(visit_ids))
        .order_by(ContactVisitChild.contact_visit_id, ContactVisitChild.child_id)
    )
    for row in rows.mappings():
        visit_id = row["contact_visit_id"]
        if not sees_placement(caller, row):
            placement_hidden.add(visit_id)
        if (
            not caller.is_local_authority
            or row["local_authority_code"] == caller.local_authority_code
        ):
            found[visit_id].append(row["child_id"])
    return found, placement_hidden


async def history_of(
    session: AsyncSession, visit_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[StatusChangePublic]]:
    """Each visit's status history, oldest first, for a whole page in one query."""
    found: dict[uuid.UUID, list[StatusChangePublic]] = {visit_id: [] for visit_id in visit_ids}
    if not visit_ids:
        return found
    changes = await session.scalars(
        select(ContactVisitStatusChange)
        .where(ContactVisitStatusChange.contact_visit_id.in_(visit_ids))
        .order_by(*oldest_first(ContactVisitStatusChange))
    )
    for change in changes:
        found[change.contact_visit_id].append(StatusChangePublic.model_validate(change))
    return found


def to_public(
    visit: ContactVisit,
    child_ids: list[uuid.UUID],
    history: list[StatusChangePublic],
    placement_hidden: bool = False,
) -> ContactVisitPublic:
    """`placement_hidden`: a child of the visit is placed confidentially out of this caller's
    sight, so a carer escorting is named to nobody else (the role still says someone brings
    them)."""
    escort = supervisor = None
    if visit.escort_name:
        withheld = placement_hidden and visit.escort_role == "carer"
        escort = EscortPublic(
            name=None if withheld else visit.escort_name,
            role=visit.escort_role,  # type: ignore[arg-type]
        )
    if visit.supervisor_name:
        supervisor = SupervisorPublic(name=visit.supervisor_name, role=visit.supervisor_role)
    return ContactVisitPublic.model_validate(
        {
            **visit.model_dump(),
            "child_ids": child_ids,
            "escort": escort,
            "supervisor": supervisor,
            "next_statuses": NEXT_STATUSES[visit.status],
            "status_history": history,
        }
    )


async def public_page(
    session: AsyncSession, caller: Caller, visits: list[ContactVisit]
) -> list[ContactVisitPublic]:
    """Visits with their children and histories: two queries, however many visits."""
    ids = [visit.id for visit in visits]
    children, placement_hidden = await children_of(session, caller, ids)
    history = await history_of(session, ids)
    return [
        to_public(visit, children[visit.id], history[visit.id], visit.id in placement_hidden)
        for visit in visits
    ]


async def public(session: AsyncSession, caller: Caller, visit: ContactVisit) -> ContactVisitPublic:
    return (await public_page(session, caller, [visit]))[0]


def search(
    caller: Caller,
    prison_code: str | None,
    scheduled_from: datetime | None,
    scheduled_to: datetime | None,
    mother_id: uuid.UUID | None,
    child_id: uuid.UUID | None,
    status: str | None,
) -> Select[Any]:
    statement = select(ContactVisit).where(visit_visible(caller))
    if prison_code:
        statement = statement.where(held_in(ContactVisit.mother_id, prison_code))
    if scheduled_from is not None:
        statement = statement.where(ContactVisit.scheduled_at >= scheduled_from)
    if scheduled_to is not None:
        statement = statement.where(ContactVisit.scheduled_at < scheduled_to)
    if mother_id is not None:
        statement = statement.where(ContactVisit.mother_id == mother_id)
    if child_id is not None:
        link = ContactVisitChild
        statement = statement.where(
            concerning_child(
                caller, ContactVisit.id, link.contact_visit_id, link.child_id, child_id
            )
        )
    if status:
        statement = statement.where(ContactVisit.status == status)
    return statement


VISITS = Resource(
    kind="contact_visit",
    model=ContactVisit,
    label="contact visit",
    order=(ContactVisit.created_at, ContactVisit.id),
    children=ChildLinks(ContactVisitChild.contact_visit_id, ContactVisitChild.child_id),
    when=ContactVisit.scheduled_at,
)


async def _children(
    session: AsyncSession, mother_id: uuid.UUID, child_ids: list[uuid.UUID]
) -> list[Any]:
    """Her children named, in the order given, with their contact arrangements (422 for any
    that is not hers, or named twice)."""
    problems = []
    if len(set(child_ids)) != len(child_ids):
        problems.append(("child_ids", "names a child more than once"))
    rows = (
        await session.execute(
            select(Child.id, Child.mother_id, Child.contact_arrangement, Child.date_of_birth).where(
                Child.id.in_(child_ids)
            )
        )
    ).all()
    known = {row.id: row for row in rows}
    children = []
    for position, child_id in enumerate(child_ids):
        child = known.get(child_id)
        if child is None or child.mother_id != mother_id:
            problems.append(("child_ids", f"item {position + 1} is not one of her children"))
        else:
            children.append((position + 1, child))
    InvalidInput.raise_any(problems)
    return children


def _contact_rules(
    children: list[Any], visit_type: str, supervisor_name: str | None
) -> list[tuple[str, str]]:
    """What each child's contact arrangement allows: `none` no contact at all, `indirect_only`
    letters and cards only, `supervised` a named supervisor (a letter is read, not supervised).
    A child not yet born has no contact of any kind."""
    problems = []
    for position, child in children:
        arrangement = child.contact_arrangement
        if child.date_of_birth is None:  # recorded with an expected date: not yet born
            problems.append(
                (
                    "child_ids",
                    f"item {position} is not born yet: a visit is with a child already born",
                )
            )
        elif arrangement == "none":
            problems.append(
                (
                    "child_ids",
                    f"item {position}: this child's contact arrangement is none; "
                    "no contact is allowed",
                )
            )
        elif arrangement == "indirect_only" and visit_type != INDIRECT:
            problems.append(
                (
                    "visit_type",
                    f"child_ids item {position}'s contact arrangement is indirect_only: "
                    "letter_or_card only",
                )
            )
        elif arrangement == "supervised" and visit_type != INDIRECT and not supervisor_name:
            problems.append(
                (
                    "supervisor",
                    f"child_ids item {position}'s contact is supervised: name a supervisor",
                )
            )
    return problems


def _schedule_rules(values: dict[str, Any], status: str) -> list[tuple[str, str]]:
    """What a visit needs once it is scheduled: a time, and for the child to be brought in
    person, someone to bring them."""
    if status not in ("scheduled", "held"):
        return []
    problems = []
    if values.get("scheduled_at") is None:
        problems.append(("scheduled_at", f"a {status} visit needs its time"))
    if values["visit_type"] in IN_PERSON and not values.get("escort_name"):
        problems.append(
            ("escort", f"a {status} visit in person needs the escorting carer or worker")
        )
    return problems


async def _final_contact_taken(
    session: AsyncSession, visit_id: uuid.UUID | None, children: list[Any]
) -> None:
    """409 if any of these children already has a final contact that still counts."""
    ids = [child.id for _, child in children]
    statement = select(ContactVisitChild.child_id, ContactVisitChild.contact_visit_id).where(
        ContactVisitChild.child_id.in_(ids), ContactVisitChild.final_contact.is_(True)
    )
    if visit_id is not None:
        statement = statement.where(ContactVisitChild.contact_visit_id != visit_id)
    taken = {row.child_id: row.contact_visit_id for row in (await session.execute(statement))}
    for position, child in children:
        if child.id in taken:
            raise Conflict(
                f"child_ids item {position} already has a final contact before adoption "
                f"(contact visit {taken[child.id]}); a child has one only. Cancel or refuse "
                "that one first if this replaces it."
            )


FINAL_CONTACT_RACE = (
    "One of these children has just been given a final contact before adoption by another "
    "request; a child has one only."
)


async def _set_children(
    session: AsyncSession, visit: ContactVisit, child_ids: list[uuid.UUID]
) -> None:
    counts = visit.visit_type == FINAL_CONTACT and visit.status not in CALLED_OFF
    await session.execute(
        delete(ContactVisitChild).where(ContactVisitChild.contact_visit_id == visit.id)
    )
    try:
        await session.execute(
            insert(ContactVisitChild.__table__),
            [
                {"contact_visit_id": visit.id, "child_id": child_id, "final_contact": counts}
                for child_id in child_ids
            ],
        )
    except IntegrityError as exc:  # a final contact for the same child, recorded concurrently
        raise Conflict(FINAL_CONTACT_RACE) from exc


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    """Flatten the nested escort and supervisor into the visit's columns."""
    for nested in ("escort", "supervisor"):
        if nested in data:
            given = data.pop(nested) or {}
            data.update({f"{nested}_{field}": given.get(field) for field in ("name", "role")})
    return data


def _record_change(
    session: AsyncSession,
    caller: Caller,
    visit: ContactVisit,
    to_status: str,
    reason: str | None,
    from_status: str | None,
    reason_code: str | None = None,
) -> None:
    session.add(
        ContactVisitStatusChange(
            contact_visit_id=visit.id,
            mother_id=visit.mother_id,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            reason_code=reason_code,
            **made_by(caller),
        )
    )


async def create_visit(
    session: AsyncSession, caller: Caller, data: ContactVisitCreate
) -> ContactVisit:
    mother = await session.scalar(
        select(Mother.id).where(Mother.id == data.mother_id, mother_visible(caller))
    )
    if mother is None:
        raise InvalidInput("mother_id", "no mother with this id is visible to you")
    children = await _children(session, data.mother_id, data.child_ids)
    values = _columns(data.model_dump(exclude={"child_ids"}))
    InvalidInput.raise_any(
        _contact_rules(children, values["visit_type"], values["supervisor_name"])
    )
    if data.visit_type == FINAL_CONTACT:
        await _final_contact_taken(session, None, children)
    visit = ContactVisit(status="requested", **values)
    session.add(visit)
    _record_change(session, caller, visit, "requested", None, None)
    await session.flush()
    await _set_children(session, visit, data.child_ids)
    emit(
        session,
        "contact-visit.created",
        "contact_visit",
        visit.id,
        visit.mother_id,
        data.child_ids,
        snapshot(visit, FEED_FIELDS),
    )
    return visit


def _frozen(visit: ContactVisit, changes: dict[str, Any], current: list[uuid.UUID]) -> None:
    """409 for changes the visit's status no longer allows."""
    if not NEXT_STATUSES[visit.status] and visit.status != "held":
        raise Conflict(f"This visit is {visit.status}: it no longer changes.")
    approved = []
    if "child_ids" in changes and set(changes["child_ids"]) != set(current):
        approved.append("child_ids")
    if "visit_type" in changes and changes["visit_type"] != visit.visit_type:
        approved.append("visit_type")
    if approved and visit.status != "requested":
        raise Conflict(
            f"This visit is {visit.status}: its {' and '.join(approved)} are what was agreed, "
            "and change only while it is requested. Cancel it and request a new one."
        )
    if visit.status != "held" and any(
        changes.get(field) is not None for field in ("outcome", "outcome_notes")
    ):
        raise Conflict(f"This visit is {visit.status}: an outcome is recorded once it is held.")


async def update_visit(
    session: AsyncSession,
    caller: Caller,
    visit_id: uuid.UUID,
    data: ContactVisitUpdate,
    if_match: str | None,
) -> ContactVisit:
    visit = await get_visible(session, caller, VISITS, visit_id, for_update=True)
    check_if_match(if_match, visit.version)
    fed_before = snapshot(visit, FEED_FIELDS)
    changes = _columns(data.changes())
    current = list(
        await session.scalars(
            select(ContactVisitChild.child_id).where(ContactVisitChild.contact_visit_id == visit.id)
        )
    )
    _frozen(visit, changes, current)
    merged = {**visit.model_dump(), **changes}
    # Only what bears on contact is checked against the children's arrangements: a held visit
    # is what happened, and a new escort's name must not wait on a changed arrangement.
    contact_changed = bool(changes.keys() & {"child_ids", "visit_type", "supervisor_name"})
    child_ids = changes.pop("child_ids", None)
    children = await _children(session, visit.mother_id, child_ids or current)
    problems = _schedule_rules(merged, visit.status)
    if visit.status == "held" and (merged["scheduled_at"] or utcnow()) > utcnow():
        problems.append(("scheduled_at", "a held visit's time has come: it cannot be ahead"))
    if contact_changed and visit.status != "held":
        problems += _contact_rules(children, merged["visit_type"], merged["supervisor_name"])
    InvalidInput.raise_any(problems)
    becomes_final = merged["visit_type"] == FINAL_CONTACT and visit.visit_type != FINAL_CONTACT
    if merged["visit_type"] == FINAL_CONTACT and (becomes_final or child_ids is not None):
        await _final_contact_taken(session, visit.id, children)
    for field, value in changes.items():
        setattr(visit, field, value)
    if child_ids is not None or "visit_type" in changes:
        await _set_children(session, visit, child_ids or current)
    touch(visit)
    await session.flush()
    fed = changes_between(fed_before, snapshot(visit, FEED_FIELDS))
    # The outcome of a held visit is its own event; any other change is an update (with
    # `changed` empty when only what the feed does not carry changed). `changed` never names
    # child_ids.
    others = [name for name in fed["changed"] if name != "outcome"]
    outcome_recorded = len(others) < len(fed["changed"])
    if outcome_recorded:
        emit(
            session,
            "contact-visit.outcome-recorded",
            "contact_visit",
            visit.id,
            visit.mother_id,
            child_ids or current,
            {**fed, "changed": ["outcome"]},
        )
    if others or not outcome_recorded:
        emit(
            session,
            "contact-visit.updated",
            "contact_visit",
            visit.id,
            visit.mother_id,
            child_ids or current,
            {**fed, "changed": others},
        )
    return visit


def _not_allowed(visit: ContactVisit, wanted: str) -> Conflict:
    allowed = NEXT_STATUSES[visit.status]
    onward = ", ".join(allowed) if allowed else "nothing: it is final"
    return Conflict(
        f"This visit is {visit.status} and cannot become {wanted}. "
        f"From {visit.status} it can move to {onward}."
    )


async def change_status(
    session: AsyncSession,
    caller: Caller,
    visit_id: uuid.UUID,
    data: StatusChange,
    if_match: str | None,
) -> ContactVisit:
    visit = await get_visible(session, caller, VISITS, visit_id, for_update=True)
    if if_match is not None:
        check_if_match(if_match, visit.version)
    if data.status not in NEXT_STATUSES[visit.status]:
        raise _not_allowed(visit, data.status)
    problems = []
    if data.status in NEEDS_REASON and not data.reason:
        problems.append(("reason", f"say why the visit is {data.status}"))
    if data.reason_code is not None and data.status not in NEEDS_REASON:
        problems.append(("reason_code", "only a visit cancelled or refused has a reason code"))
    if data.status in ("approved", "scheduled", "held"):
        # The children's arrangements may have changed since the request: check them again.
        current = list(
            await session.scalars(
                select(ContactVisitChild.child_id).where(
                    ContactVisitChild.contact_visit_id == visit.id
                )
            )
        )
        children = await _children(session, visit.mother_id, current)
        problems += _contact_rules(children, visit.visit_type, visit.supervisor_name)
    problems += _schedule_rules(visit.model_dump(), data.status)
    if data.status == "held" and visit.scheduled_at is not None and visit.scheduled_at > utcnow():
        problems.append(("status", "a visit is held only once its time has come"))
    InvalidInput.raise_any(problems)
    _record_change(session, caller, visit, data.status, data.reason, visit.status, data.reason_code)
    if data.status in CALLED_OFF:
        # No longer going ahead: it does not count as the child's final contact.
        await session.execute(
            update(ContactVisitChild)
            .where(ContactVisitChild.contact_visit_id == visit.id)
            .values(final_contact=False)
        )
    from_status = visit.status
    visit.status = data.status
    visit.status_reason = data.reason
    visit.status_reason_code = data.reason_code
    touch(visit)
    await session.flush()
    current = list(
        await session.scalars(
            select(ContactVisitChild.child_id).where(ContactVisitChild.contact_visit_id == visit.id)
        )
    )
    emit(
        session,
        "contact-visit.status-changed",
        "contact_visit",
        visit.id,
        visit.mother_id,
        current,
        {**snapshot(visit, FEED_FIELDS), "from_status": from_status},
    )
    return visit
