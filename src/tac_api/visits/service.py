"""Contact visits: the one scoped statement, the lifecycle and its history (the rules each
child's contact arrangement sets are in `rules`)."""

import uuid
from typing import Any

from sqlalchemy import Select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.db import touch, utcnow
from tac_api.errors import Conflict, InvalidInput
from tac_api.flags.service import with_flags
from tac_api.history import made_by, oldest_first
from tac_api.plausible import plausible_time
from tac_api.resources import (
    ChildLinks,
    Resource,
    apply_changes,
    check_children,
    children_and_hidden_placements,
    every_child_of,
    get_for_change,
    list_visible,
    mother_for_writing,
    rows_by,
    set_children,
)
from tac_api.visits.models import ContactVisit, ContactVisitChild, ContactVisitStatusChange
from tac_api.visits.rules import (
    FINAL_CONTACT_RACE,
    arrangements_of,
    contact_rules,
    final_contact_taken,
    frozen,
    not_allowed,
    schedule_rules,
)
from tac_api.visits.schemas import (
    CALLED_OFF,
    FINAL_CONTACT,
    NEEDS_REASON,
    NEXT_STATUSES,
    SCHEDULING_FIELDS,
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

VISITS = Resource(
    kind="contact_visit",
    model=ContactVisit,
    label="contact visit",
    order=(ContactVisit.created_at, ContactVisit.id),
    children=ChildLinks(ContactVisitChild.contact_visit_id, ContactVisitChild.child_id),
    when=ContactVisit.scheduled_at,
    path="/v1/contact-visits",
)


async def history_of(
    session: AsyncSession, visit_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[StatusChangePublic]]:
    """Each visit's status history, oldest first, for a whole page in one query."""
    found = await rows_by(
        session,
        ContactVisitStatusChange.contact_visit_id,
        visit_ids,
        oldest_first(ContactVisitStatusChange),
    )
    return {
        visit_id: [StatusChangePublic.model_validate(change) for change in changes]
        for visit_id, changes in found.items()
    }


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
    """Visits with their children and histories: two statements, however many visits."""
    ids = [visit.id for visit in visits]
    children, placement_hidden = await children_and_hidden_placements(session, caller, VISITS, ids)
    history = await history_of(session, ids)
    shown = [
        to_public(visit, children[visit.id], history[visit.id], visit.id in placement_hidden)
        for visit in visits
    ]
    # Their open flags for review, for the prison side: one statement more.
    await with_flags(session, caller, VISITS.kind, shown)
    return shown


def search(caller: Caller, *, status: str | None = None, **filters: Any) -> Select[Any]:
    """The visits this caller may see, with the lists' common filters (`list_visible`: its
    window is when they are scheduled), and those at this status."""
    statement = list_visible(caller, VISITS, **filters)
    if status:
        statement = statement.where(ContactVisit.status == status)
    return statement


async def _set_children(
    session: AsyncSession, visit: ContactVisit, child_ids: list[uuid.UUID]
) -> None:
    """The floor's links, marked as the children's final contact while it counts: the unique
    index on the mark refuses a second one made at the same moment."""
    await set_children(session, VISITS, visit.id, child_ids)
    if visit.visit_type != FINAL_CONTACT or visit.status in CALLED_OFF:
        return
    try:
        await session.execute(
            update(ContactVisitChild)
            .where(ContactVisitChild.contact_visit_id == visit.id)
            .values(final_contact=True)
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
    await mother_for_writing(session, caller, data.mother_id)
    await check_children(session, caller, data.mother_id, data.child_ids)
    children = await arrangements_of(session, data.child_ids)
    values = _columns(data.model_dump(exclude={"child_ids"}))
    InvalidInput.raise_any(
        plausible_time("scheduled_at", values.get("scheduled_at"), utcnow(), "visit")
        + contact_rules(children, values["visit_type"], values["supervisor_name"])
    )
    if data.visit_type == FINAL_CONTACT:
        await final_contact_taken(session, None, children)
    visit = ContactVisit(status="requested", **values)
    session.add(visit)
    _record_change(session, caller, visit, "requested", None, None)
    await session.flush()
    await _set_children(session, visit, data.child_ids)
    emit(
        session,
        "contact-visit.created",
        VISITS.kind,
        visit.id,
        visit.mother_id,
        data.child_ids,
        snapshot(visit, FEED_FIELDS),
    )
    return visit


async def update_visit(
    session: AsyncSession,
    caller: Caller,
    visit_id: uuid.UUID,
    data: ContactVisitUpdate,
    if_match: str | None,
) -> tuple[ContactVisit, dict[str, Any]]:
    """The visit and what changed (nothing: it keeps its version, and no event is sent)."""
    visit = await get_for_change(session, caller, VISITS, visit_id, if_match)
    fed_before = snapshot(visit, FEED_FIELDS)
    changes = _columns(data.changes())
    current = await every_child_of(session, VISITS, visit.id)
    problems = frozen(visit, changes, current)
    # A new time sent is plausible; one kept is not checked again.
    problems += plausible_time("scheduled_at", changes.get("scheduled_at"), utcnow(), "visit")
    merged = {**visit.model_dump(), **changes}
    # Only what bears on contact is checked against the children's arrangements: a held visit
    # is what happened, and a new escort's name must not wait on a changed arrangement.
    contact_changed = bool(changes.keys() & {"child_ids", "visit_type", "supervisor_name"})
    child_ids = changes.pop("child_ids", None)
    if child_ids is not None:
        await check_children(session, caller, visit.mother_id, child_ids)
    children = await arrangements_of(session, child_ids or current)
    problems += schedule_rules(merged, visit.status)
    if visit.status == "held" and (merged["scheduled_at"] or utcnow()) > utcnow():
        problems.append(("scheduled_at", "a held visit's time has come: it cannot be ahead"))
    if contact_changed and visit.status != "held":
        problems += contact_rules(children, merged["visit_type"], merged["supervisor_name"])
    InvalidInput.raise_any(problems)
    becomes_final = merged["visit_type"] == FINAL_CONTACT and visit.visit_type != FINAL_CONTACT
    if merged["visit_type"] == FINAL_CONTACT and (becomes_final or child_ids is not None):
        await final_contact_taken(session, visit.id, children)
    changed = apply_changes(visit, changes)
    # The same children in another order are no change.
    if child_ids is not None and set(child_ids) != set(current):
        if not changed:
            touch(visit)  # its children are part of what its version (its ETag) covers
        changed["child_ids"] = child_ids
    if "child_ids" in changed or "visit_type" in changed:
        await _set_children(session, visit, child_ids or current)
    if not changed:
        return visit, changed
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
            VISITS.kind,
            visit.id,
            visit.mother_id,
            child_ids or current,
            {**fed, "changed": ["outcome"]},
        )
    if others or not outcome_recorded:
        emit(
            session,
            "contact-visit.updated",
            VISITS.kind,
            visit.id,
            visit.mother_id,
            child_ids or current,
            {**fed, "changed": others},
        )
    return visit, changed


async def change_status(
    session: AsyncSession,
    caller: Caller,
    visit_id: uuid.UUID,
    data: StatusChange,
    if_match: str | None,
) -> ContactVisit:
    visit = await get_for_change(session, caller, VISITS, visit_id, if_match)
    if data.status not in NEXT_STATUSES[visit.status]:
        raise not_allowed(visit, data.status)
    problems = []
    if data.status in NEEDS_REASON and not data.reason:
        problems.append(("reason", f"say why the visit is {data.status}"))
    if data.reason_code is not None and data.status not in NEEDS_REASON:
        problems.append(("reason_code", "only a visit cancelled or refused has a reason code"))
    # Scheduling is one request: its time and escort come with the status, and with it only.
    scheduling = _columns(data.model_dump(include=set(SCHEDULING_FIELDS), exclude_none=True))
    if data.status != "scheduled":
        problems += [
            (field, f"goes with status scheduled only, not {data.status}")
            for field in SCHEDULING_FIELDS
            if getattr(data, field) is not None
        ]
        scheduling = {}
    current = await every_child_of(session, VISITS, visit.id)
    if data.status in ("approved", "scheduled", "held"):
        # The children's arrangements may have changed since the request: check them again.
        children = await arrangements_of(session, current)
        problems += contact_rules(children, visit.visit_type, visit.supervisor_name)
    problems += schedule_rules({**visit.model_dump(), **scheduling}, data.status)
    problems += plausible_time("scheduled_at", scheduling.get("scheduled_at"), utcnow(), "visit")
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
    for field, value in scheduling.items():
        setattr(visit, field, value)
    visit.status = data.status
    visit.status_reason = data.reason
    visit.status_reason_code = data.reason_code
    touch(visit)
    await session.flush()
    emit(
        session,
        "contact-visit.status-changed",
        VISITS.kind,
        visit.id,
        visit.mother_id,
        current,
        {**snapshot(visit, FEED_FIELDS), "from_status": from_status},
    )
    return visit
