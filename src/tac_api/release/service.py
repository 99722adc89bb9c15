"""Release plans: the one scoped statement, the plan's rules, what keeps it from complete, and the
list of releases due without a complete plan."""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    delete,
    func,
    insert,
    or_,
    select,
    true,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import LOCAL_AUTHORITY_ROLES, Caller, Role, role_of, scope_value
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.db import touch
from tac_api.errors import InvalidInput, NotFound, PreconditionFailed
from tac_api.mothers.models import Mother
from tac_api.mothers.service import MOTHERS
from tac_api.preconditions import check_if_match, if_none_match_holds, sent
from tac_api.reference.service import require_current_authority
from tac_api.release.models import (
    ReleasePlan,
    ReleasePlanAction,
    ReleasePlanContact,
    ReleasePlanPathway,
)
from tac_api.release.schemas import (
    ACCOMMODATION_READY,
    PATHWAY_DONE,
    PATHWAYS,
    ActionPublic,
    ContactAfterReleasePublic,
    Missing,
    ReleaseDue,
    ReleasePlanInput,
    ReleasePlanPublic,
    ReleasePlanUpdate,
)
from tac_api.resources import get_visible
from tac_api.scope import mother_visible, release_plan_visible

PROBATION = ("name", "email", "phone")
# What a local authority's change feed is told of her release plan (and `complete`): the date,
# where she goes and her accommodation. Not the pathways' notes, the actions, the probation
# contact, nor any child's contact after release (another authority's child's least of all).
FEED_FIELDS = ("expected_release_date", "release_local_authority_code", "accommodation_status")


def contact_shown(who: Caller | Role) -> ColumnElement[bool]:
    """Which children's contact after release this caller sees (with `Child` joined): a local
    authority its own children's, as everywhere else; the prison side all of them."""
    if role_of(who) in LOCAL_AUTHORITY_ROLES:
        return Child.local_authority_code == scope_value(who, "local_authority_code")
    return true()


def not_found(mother_id: uuid.UUID) -> NotFound:
    return NotFound(f"No release plan for mother {mother_id} is visible to you.")


def missing(
    accommodation_status: str, pathways: Mapping[str, Mapping[str, Any]], actions: Iterable[Any]
) -> list[Missing]:
    """What stands between the plan and complete. `due_statement` asks the same in SQL."""
    found = []
    if accommodation_status not in ACCOMMODATION_READY:
        found.append(
            Missing(
                field="accommodation_status",
                message=f"{accommodation_status}: release needs settled accommodation or "
                "approved premises",
            )
        )
    for name in PATHWAYS:
        status = pathways[name]["status"]
        if status not in PATHWAY_DONE:
            found.append(
                Missing(
                    field=f"pathways.{name}",
                    message=f"{status.replace('_', ' ')}: complete it, or mark it not needed",
                )
            )
    for action in actions:
        if action.done_on is None:
            found.append(
                Missing(field=f"actions.{action.id}", message=f"open, due {action.due_on}")
            )
    return found


def to_public(
    plan: ReleasePlan,
    pathways: Mapping[str, Mapping[str, Any]],
    actions: list[ActionPublic],
    contacts: list[ContactAfterReleasePublic],
) -> ReleasePlanPublic:
    gaps = missing(plan.accommodation_status, pathways, actions)
    probation = None
    if plan.probation_name:
        probation = {field: getattr(plan, f"probation_{field}") for field in PROBATION}
    return ReleasePlanPublic.model_validate(
        {
            **plan.model_dump(),
            "probation_contact": probation,
            "pathways": {name: pathways[name] for name in PATHWAYS},
            "actions": actions,
            "contact_after_release": contacts,
            "complete": not gaps,
            "missing": gaps,
        }
    )


def _sorted_actions(actions: Iterable[ActionPublic]) -> list[ActionPublic]:
    return sorted(actions, key=lambda action: (action.due_on, action.id))


async def _parts(
    session: AsyncSession, caller: Caller, plan_id: uuid.UUID
) -> tuple[dict[str, dict[str, Any]], list[ActionPublic], list[ContactAfterReleasePublic]]:
    """The plan's pathways, actions and contact after release: three statements, whatever their
    number."""
    pathways = {
        row.pathway: {"status": row.status, "note": row.note}
        for row in await session.scalars(
            select(ReleasePlanPathway).where(ReleasePlanPathway.release_plan_id == plan_id)
        )
    }
    actions = [
        ActionPublic.model_validate(action, from_attributes=True)
        for action in await session.scalars(
            select(ReleasePlanAction)
            .where(ReleasePlanAction.release_plan_id == plan_id)
            .order_by(ReleasePlanAction.due_on, ReleasePlanAction.id)
        )
    ]
    contacts = [
        ContactAfterReleasePublic(child_id=row.child_id, arrangement=row.arrangement)
        for row in await session.execute(
            select(ReleasePlanContact.child_id, ReleasePlanContact.arrangement)
            .join(Child, Child.id == ReleasePlanContact.child_id)
            .where(ReleasePlanContact.release_plan_id == plan_id, contact_shown(caller))
            .order_by(ReleasePlanContact.child_id)
        )
    ]
    return pathways, actions, contacts


async def read_plan(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID
) -> ReleasePlanPublic:
    plan = await session.scalar(
        select(ReleasePlan).where(ReleasePlan.mother_id == mother_id, release_plan_visible(caller))
    )
    if plan is None:
        raise not_found(mother_id)
    return to_public(plan, *await _parts(session, caller, plan.id))


def _rules(
    values: dict[str, Any], mother: Mother, kept_action_ids: set[uuid.UUID], today: date
) -> list[tuple[str, str]]:
    """The rules a plan must keep; `values` holds what is being written (all of it, or a
    PATCH's changes)."""
    problems = []
    release = values.get("expected_release_date")
    if release is not None and release < mother.reception_date:
        problems.append(("expected_release_date", "cannot be before her reception date"))
    seen_actions: set[uuid.UUID] = set()
    for n, action in enumerate(values.get("actions") or []):
        action_id = action.get("id")
        if action_id is not None:
            if action_id not in kept_action_ids:
                problems.append((f"actions.{n}.id", "is not an action of this plan"))
            elif action_id in seen_actions:
                problems.append((f"actions.{n}.id", "is given twice"))
            seen_actions.add(action_id)
        done_on = action.get("done_on")
        if done_on is not None and done_on > today:
            problems.append((f"actions.{n}.done_on", "cannot be in the future"))
    seen_children: set[uuid.UUID] = set()
    for n, contact in enumerate(values.get("contact_after_release") or []):
        if contact["child_id"] in seen_children:
            problems.append((f"contact_after_release.{n}.child_id", "is given twice"))
        seen_children.add(contact["child_id"])
    return problems


async def _check_children(
    session: AsyncSession, mother_id: uuid.UUID, contacts: list[dict[str, Any]]
) -> None:
    """Every child named must be one of hers: one statement for the whole list."""
    named = {contact["child_id"] for contact in contacts}
    if not named:
        return
    hers = set(
        await session.scalars(
            select(Child.id).where(Child.id.in_(named), Child.mother_id == mother_id)
        )
    )
    InvalidInput.raise_any(
        [
            (f"contact_after_release.{n}.child_id", "is not one of her children")
            for n, contact in enumerate(contacts)
            if contact["child_id"] not in hers
        ]
    )


def _plan_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The plan's own columns from input: the probation contact flattened, lists left out."""
    columns = {
        key: value
        for key, value in values.items()
        if key not in ("pathways", "actions", "contact_after_release", "probation_contact")
    }
    if "probation_contact" in values:
        given = values["probation_contact"] or {}
        columns |= {f"probation_{field}": given.get(field) for field in PROBATION}
    return columns


async def _replace(
    session: AsyncSession, model: Any, plan_id: uuid.UUID, rows: list[dict[str, Any]]
) -> None:
    """Swap a plan's rows of one kind for these; the plan's version covers them."""
    await session.execute(delete(model).where(model.release_plan_id == plan_id))
    if rows:
        await session.execute(insert(model.__table__), rows)


async def _write_parts(
    session: AsyncSession,
    plan: ReleasePlan,
    pathways: dict[str, dict[str, Any]],
    values: dict[str, Any],
) -> tuple[list[ActionPublic] | None, list[ContactAfterReleasePublic] | None]:
    """Write the pathways, and the actions and contacts if given; returns those written."""
    await _replace(
        session,
        ReleasePlanPathway,
        plan.id,
        [{"release_plan_id": plan.id, "pathway": name, **pathways[name]} for name in PATHWAYS],
    )
    actions = contacts = None
    if "actions" in values:
        action_rows = [
            {
                "id": action.get("id") or uuid.uuid4(),
                "release_plan_id": plan.id,
                "description": action["description"],
                "owner": action["owner"],
                "due_on": action["due_on"],
                "done_on": action.get("done_on"),
            }
            for action in values["actions"]
        ]
        await _replace(session, ReleasePlanAction, plan.id, action_rows)
        actions = _sorted_actions(ActionPublic.model_validate(row) for row in action_rows)
    if "contact_after_release" in values:
        contact_rows = [
            {"release_plan_id": plan.id, **contact} for contact in values["contact_after_release"]
        ]
        await _replace(session, ReleasePlanContact, plan.id, contact_rows)
        contacts = sorted(
            (ContactAfterReleasePublic.model_validate(row) for row in contact_rows),
            key=lambda contact: contact.child_id,
        )
    return actions, contacts


async def put_plan(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    data: ReleasePlanInput,
    if_match: str | None,
    if_none_match: str | None,
) -> tuple[ReleasePlanPublic, bool]:
    """Create her plan, or replace it whole. Returns the plan and whether it was created.

    Creating needs no condition (or `If-None-Match: *`); replacing needs `If-Match`, as a PATCH
    does, so that nobody overwrites a plan they have not seen.
    """
    # Her row locked: two first plans sent at once are made one after the other (the second
    # then finds the first, and needs If-Match).
    mother = await get_visible(session, caller, MOTHERS, mother_id, for_update=True)
    plan = await session.scalar(
        select(ReleasePlan).where(ReleasePlan.mother_id == mother.id).with_for_update()
    )
    kept_action_ids: set[uuid.UUID] = set()
    fed_before = snapshot({}, FEED_FIELDS) if plan is None else snapshot(plan, FEED_FIELDS)
    if plan is None:
        if sent(if_match):
            raise PreconditionFailed(
                "She has no release plan yet: send no If-Match (or If-None-Match: *) to create it."
            )
    else:
        if sent(if_none_match) and not if_none_match_holds(if_none_match, plan.version):
            raise PreconditionFailed("She already has a release plan: read it, then send If-Match.")
        check_if_match(if_match, plan.version)
        kept_action_ids = set(
            await session.scalars(
                select(ReleasePlanAction.id).where(ReleasePlanAction.release_plan_id == plan.id)
            )
        )
    values = data.model_dump()
    InvalidInput.raise_any(_rules(values, mother, kept_action_ids, date.today()))
    if values["release_local_authority_code"] is not None:
        await require_current_authority(
            session, "release_local_authority_code", values["release_local_authority_code"]
        )
    await _check_children(session, mother.id, values["contact_after_release"])

    created = plan is None
    if plan is None:
        plan = ReleasePlan(mother_id=mother.id, **_plan_columns(values))
        session.add(plan)
    else:
        for field, value in _plan_columns(values).items():
            setattr(plan, field, value)
        touch(plan)
    try:
        await session.flush()
    except IntegrityError as exc:  # a plan made at the same moment, where rows are not locked
        raise PreconditionFailed(
            "She already has a release plan: read it, then send If-Match."
        ) from exc
    pathways = values["pathways"]
    actions, contacts = await _write_parts(session, plan, pathways, values)
    assert actions is not None and contacts is not None  # both are always sent in a PUT
    public = to_public(plan, pathways, actions, contacts)
    _emit_plan_changes(session, plan, fed_before, public.complete, created=created)
    return public, created


def _emit_plan_changes(
    session: AsyncSession,
    plan: ReleasePlan,
    fed_before: dict[str, Any],
    complete: bool,
    *,
    created: bool = False,
) -> None:
    """Her plan is hers: every authority with a child of hers is told of it, and of a new
    expected release date as her release date changing."""
    fed = changes_between(fed_before, snapshot(plan, FEED_FIELDS))
    event_type = "release-plan.created" if created else "release-plan.updated"
    emit(
        session,
        event_type,
        "release_plan",
        plan.id,
        plan.mother_id,
        data={**fed, "complete": complete},
    )
    if "expected_release_date" in fed["changed"]:
        emit(
            session,
            "mother.release-date-changed",
            "mother",
            plan.mother_id,
            plan.mother_id,
            data={
                "expected_release_date": fed["expected_release_date"],
                "changed": ["expected_release_date"],
            },
        )


async def update_plan(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    data: ReleasePlanUpdate,
    if_match: str | None,
) -> ReleasePlanPublic:
    # Locked first, so that two changes sent with the same ETag cannot both pass If-Match.
    plan = await session.scalar(
        select(ReleasePlan)
        .where(ReleasePlan.mother_id == mother_id, release_plan_visible(caller))
        .with_for_update(of=ReleasePlan)
    )
    if plan is None:
        raise not_found(mother_id)
    check_if_match(if_match, plan.version)
    fed_before = snapshot(plan, FEED_FIELDS)
    changes = data.changes()
    mother = await session.get(Mother, plan.mother_id)
    assert mother is not None  # the foreign key guarantees her
    pathways, actions, contacts = await _parts(session, caller, plan.id)
    kept_action_ids = {action.id for action in actions}
    InvalidInput.raise_any(_rules(changes, mother, kept_action_ids, date.today()))
    if changes.get("release_local_authority_code") is not None:
        await require_current_authority(
            session, "release_local_authority_code", changes["release_local_authority_code"]
        )
    await _check_children(session, mother.id, changes.get("contact_after_release") or [])

    for name, change in (changes.get("pathways") or {}).items():
        pathways[name] = {**pathways[name], **change}
    for field, value in _plan_columns(changes).items():
        setattr(plan, field, value)
    touch(plan)
    await session.flush()
    new_actions, new_contacts = await _write_parts(session, plan, pathways, changes)
    public = to_public(
        plan,
        pathways,
        actions if new_actions is None else new_actions,
        contacts if new_contacts is None else new_contacts,
    )
    _emit_plan_changes(session, plan, fed_before, public.complete)
    return public


# Plans due: mothers still held whose release falls within the window, without a complete plan.
RELEASE_DATE = func.coalesce(ReleasePlan.expected_release_date, Mother.earliest_release_date)
DUE_ORDER: list[ColumnElement[Any]] = [RELEASE_DATE, Mother.id]


def plan_gaps() -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[bool]]:
    """Her plan's outstanding pathways, its open actions, and whether it falls short of complete
    (no plan at all included): the rule of `missing`, in SQL, for a query outer-joining
    `ReleasePlan` to her."""
    outstanding = (
        select(func.count())
        .where(
            ReleasePlanPathway.release_plan_id == ReleasePlan.id,
            ReleasePlanPathway.status.not_in(PATHWAY_DONE),
        )
        .correlate(ReleasePlan)
        .scalar_subquery()
    )
    open_actions = (
        select(func.count())
        .where(
            ReleasePlanAction.release_plan_id == ReleasePlan.id,
            ReleasePlanAction.done_on.is_(None),
        )
        .correlate(ReleasePlan)
        .scalar_subquery()
    )
    incomplete = or_(
        ReleasePlan.id.is_(None),
        ReleasePlan.accommodation_status.not_in(ACCOMMODATION_READY),
        outstanding > 0,
        open_actions > 0,
    )
    return outstanding, open_actions, incomplete


def due_statement(
    caller: Caller, prison_code: str | None, today: date, within_days: int
) -> Select[Any]:
    """One statement for the whole list: her plan outer-joined, its gaps counted in SQL (the
    same rule as `missing`), never a query per mother."""
    outstanding, open_actions, incomplete = plan_gaps()
    statement = (
        select(
            Mother.id.label("mother_id"),
            Mother.prison_number,
            Mother.first_name,
            Mother.last_name,
            Mother.prison_code,
            RELEASE_DATE.label("release_date"),
            ReleasePlan.expected_release_date,
            ReleasePlan.id.label("release_plan_id"),
            ReleasePlan.accommodation_status,
            outstanding.label("pathways_outstanding"),
            open_actions.label("open_actions"),
        )
        .select_from(Mother)
        .outerjoin(ReleasePlan, ReleasePlan.mother_id == Mother.id)
        .where(
            mother_visible(caller),
            # Still held here: a mother released, transferred out or closed is not due.
            Mother.status == "active",
            RELEASE_DATE.between(today, today + timedelta(days=within_days)),
            incomplete,
        )
    )
    if prison_code:
        statement = statement.where(Mother.prison_code == prison_code)
    return statement


def due_row_id(row: Any) -> uuid.UUID:
    return row.mother_id  # DUE_ORDER's last column


def due_public(row: Any, today: date) -> ReleaseDue:
    planned = row.release_plan_id is not None
    return ReleaseDue(
        mother_id=row.mother_id,
        prison_number=row.prison_number,
        first_name=row.first_name,
        last_name=row.last_name,
        prison_code=row.prison_code,
        release_date=row.release_date,
        release_date_from="release_plan"
        if row.expected_release_date is not None
        else "earliest_release_date",
        days_to_release=(row.release_date - today).days,
        release_plan_id=row.release_plan_id,
        accommodation_status=row.accommodation_status,
        pathways_outstanding=row.pathways_outstanding if planned else len(PATHWAYS),
        open_actions=row.open_actions,
    )
