"""Release plans: her plan, its rules, and what keeps it from complete (the list of releases due
without a complete plan is in `due`)."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.db import touch
from tac_api.errors import InvalidInput
from tac_api.mothers.models import Mother
from tac_api.mothers.service import MOTHERS
from tac_api.organisations.models import Organisation
from tac_api.preconditions import (
    already_has,
    check_if_match,
    check_put_of_hers,
)
from tac_api.reference.service import require_current_authority
from tac_api.release import history
from tac_api.release.models import (
    OnwardReferral,
    ReleasePlan,
    ReleasePlanAction,
    ReleasePlanContact,
    ReleasePlanPathway,
)
from tac_api.release.schemas import (
    ACCOMMODATION_READY,
    COMMUNITY,
    PATHWAY_DONE,
    PATHWAYS,
    ActionPublic,
    ContactAfterReleasePublic,
    Missing,
    OnwardReferralPublic,
    ReleasePlanInput,
    ReleasePlanPublic,
    ReleasePlanUpdate,
)
from tac_api.resources import (
    OneOfHers,
    apply_changes,
    audited_in_one,
    check_children,
    consulted_as,
    get_hers,
    get_visible,
)
from tac_api.schemas import past_date_problems
from tac_api.scope import onward_referrals_shown, shown_with_their_mother

PROBATION = ("name", "email", "phone")
# Her status once she is out: a first contact after release needs one of these.
OUT = ("released", "closed")
ONWARD = f"pathways.{COMMUNITY}.onward_referrals"
# What a local authority's change feed is told of her release plan (and `complete`, without the
# continuity rule: `_emit_plan_changes`): the date, where she goes and her accommodation. Not
# the pathways' notes, the actions, the probation contact, any child's contact after release
# (another authority's child's least of all), nor her onward referrals (shown to an authority
# only with her consent).
FEED_FIELDS = ("expected_release_date", "release_local_authority_code", "accommodation_status")


RELEASE_PLANS = OneOfHers(
    kind="release_plan",
    model=ReleasePlan,
    label="release plan",
    order=(ReleasePlan.created_at, ReleasePlan.id),
)


async def plan_of(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, *, for_update: bool = False
) -> ReleasePlan:
    """Her plan, if this caller may see it; 404 otherwise, the same as no plan."""
    return await get_hers(session, caller, RELEASE_PLANS, mother_id, for_update=for_update)


def missing(
    accommodation_status: str,
    pathways: Mapping[str, Mapping[str, Any]],
    actions: Iterable[Any],
    onward_referrals: Iterable[Any] = (),
    *,
    continuity: bool = True,
) -> list[Missing]:
    """What stands between the plan and complete. `due.plan_gaps` asks the same in SQL.

    The children, families and community pathway is complete only with an onward referral
    accepted (`continuity`): support that stops at the gate is lost (Mum's Supportive began
    because support stopped when proceedings ended), so the plan is not complete until a
    service in the community has taken her on. Marked not needed, it asks for none.

    `continuity` False: worked out without that rule, for a reader who may not see her onward
    referrals (and for the change feed), so that whether the plan is complete does not tell it
    whether a service accepted her."""
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
        elif (
            continuity
            and name == COMMUNITY
            and status == "complete"
            and not _any_accepted(onward_referrals)
        ):
            found.append(
                Missing(
                    field=f"pathways.{name}",
                    message="complete, but no onward referral is accepted: her support should "
                    "not stop at the gate",
                )
            )
    for action in actions:
        if action.done_on is None:
            found.append(
                Missing(field=f"actions.{action.id}", message=f"open, due {action.due_on}")
            )
    return found


def _any_accepted(onward_referrals: Iterable[Any]) -> bool:
    return any(referral.accepted_on is not None for referral in onward_referrals)


@dataclass(frozen=True)
class Onward:
    """Her onward referrals (every one when the caller is shown them, for the plan's rules and
    `missing`; none otherwise), and whether the caller is shown them: a reader who is not is
    told the plan's `complete` and `missing` without the continuity rule."""

    referrals: list[OnwardReferralPublic]
    shown: bool = True


def to_public(
    plan: ReleasePlan,
    pathways: Mapping[str, Mapping[str, Any]],
    actions: list[ActionPublic],
    contacts: list[ContactAfterReleasePublic],
    onward: Onward,
) -> ReleasePlanPublic:
    gaps = missing(
        plan.accommodation_status, pathways, actions, onward.referrals, continuity=onward.shown
    )
    shown = {name: pathways[name] for name in PATHWAYS}
    shown[COMMUNITY] = {
        **pathways[COMMUNITY],
        "onward_referrals": onward.referrals if onward.shown else [],
    }
    probation = None
    if plan.probation_name:
        probation = {field: getattr(plan, f"probation_{field}") for field in PROBATION}
    return ReleasePlanPublic.model_validate(
        {
            **plan.model_dump(),
            "probation_contact": probation,
            "pathways": shown,
            "actions": actions,
            "contact_after_release": contacts,
            "complete": not gaps,
            "missing": gaps,
        }
    )


def _state(plan: ReleasePlan, parts: "Parts") -> history.State:
    """The plan as it stands, for its history: `complete` by the whole rule, whoever asks."""
    pathways, actions, contacts, onward = parts
    referrals = onward.referrals
    gaps = missing(plan.accommodation_status, pathways, actions, referrals)
    return history.state(plan, pathways, actions, contacts, referrals, complete=not gaps)


def _sorted_actions(actions: Iterable[ActionPublic]) -> list[ActionPublic]:
    return sorted(actions, key=lambda action: (action.due_on, action.id))


Parts = tuple[
    dict[str, dict[str, Any]], list[ActionPublic], list[ContactAfterReleasePublic], Onward
]


async def _parts(session: AsyncSession, shown_to: Caller | None, plan: ReleasePlan) -> Parts:
    """The plan's pathways, actions, contact after release and onward referrals: four
    statements, whatever their number. `shown_to` None: every child's contact and onward
    referral, for the plan's own rules. Whether the caller is shown her onward referrals is
    read with the pathways (a plan always has all seven), so that it is known even when she has
    none: a plan with none must read to such a caller as one whose referrals are hidden."""
    plan_id = plan.id
    shown = true() if shown_to is None else onward_referrals_shown(shown_to, plan.mother_id)
    pathway_rows = (
        await session.execute(
            select(ReleasePlanPathway, shown.label("shown")).where(
                ReleasePlanPathway.release_plan_id == plan_id
            )
        )
    ).all()
    pathways = {row.pathway: {"status": row.status, "note": row.note} for row, _ in pathway_rows}
    # The same on every row (one plan, one mother).
    onward_shown = bool(pathway_rows) and all(bool(row.shown) for row in pathway_rows)
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
            .where(
                ReleasePlanContact.release_plan_id == plan_id,
                true() if shown_to is None else shown_with_their_mother(shown_to),
            )
            .order_by(ReleasePlanContact.child_id)
        )
    ]
    rows = (
        await session.execute(
            select(OnwardReferral, Organisation.name)
            .join(Organisation, Organisation.id == OnwardReferral.organisation_id)
            .where(OnwardReferral.release_plan_id == plan_id, shown)
            .order_by(OnwardReferral.made_on, OnwardReferral.id)
        )
    ).all()
    onward = Onward(
        [_onward_public(referral.model_dump(), name) for referral, name in rows],
        shown=onward_shown,
    )
    return pathways, actions, contacts, onward


def _onward_public(row: Mapping[str, Any], organisation_name: str) -> OnwardReferralPublic:
    return OnwardReferralPublic.model_validate({**row, "organisation_name": organisation_name})


async def read_plan(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID
) -> ReleasePlanPublic:
    plan = await plan_of(session, caller, mother_id)
    return to_public(plan, *await _parts(session, caller, plan))


@cache
def _plan_consulted(role: Role) -> Select[Any]:
    """`plan_of`'s statement writing the plan's audit row as well (`audit.consulting`), built
    once per role (the caller's prison or authority is a parameter)."""
    shown = (
        select(ReleasePlan)
        .where(ReleasePlan.mother_id == bindparam("mother_id"), RELEASE_PLANS.visible(role))
        .cte("shown")
    )
    written = audit.consulting(shown, [consulted_as(RELEASE_PLANS)])
    return select(aliased(ReleasePlan, shown)).add_cte(written)


async def show_plan(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID
) -> ReleasePlanPublic:
    """Her plan, if this caller may see it (404 otherwise), audited as consulted. On PostgreSQL
    the plan's read writes its audit row too (README, "Reads in two round trips"); its parts
    are read after, as `read_plan` reads them."""
    if not audited_in_one(session, RELEASE_PLANS):
        shown = await read_plan(session, caller, mother_id)
        audit.consulted(session, RELEASE_PLANS, [shown])
        return shown
    params = {
        "mother_id": mother_id,
        **scope_params(caller),
        **audit.consulting_params(session, caller),
    }
    plan = await session.scalar(_plan_consulted(caller.role), params)
    if plan is None:
        raise RELEASE_PLANS.not_found(mother_id)
    return to_public(plan, *await _parts(session, caller, plan))


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
    return problems


def _take_onward(values: dict[str, Any]) -> None:
    """Her onward referrals, sent within the children, families and community pathway, taken
    out to `values["onward_referrals"]` (only when sent: a PATCH may leave them out), so that
    the pathway holds its status and note as the other pathways do."""
    community = (values.get("pathways") or {}).get(COMMUNITY) or {}
    if "onward_referrals" in community:
        values["onward_referrals"] = community.pop("onward_referrals")


async def _organisations(
    session: AsyncSession, values: dict[str, Any]
) -> dict[uuid.UUID, Organisation]:
    """The organisations the onward referrals sent name, in one statement."""
    ids = {referral["organisation_id"] for referral in values.get("onward_referrals") or []}
    if not ids:
        return {}
    found = await session.scalars(select(Organisation).where(Organisation.id.in_(ids)))
    return {organisation.id: organisation for organisation in found}


def _onward_rules(
    values: dict[str, Any],
    held: list[OnwardReferralPublic],
    organisations: Mapping[uuid.UUID, Organisation],
    mother: Mother,
    release_date: date | None,
    today: date,
) -> list[tuple[str, str]]:
    """The rules an onward referral keeps. A referral new to the plan (or moved to another
    service or day) goes to a service that exists and had not closed by the day it was made; a
    first contact newly recorded is after her release: her status is released (or her case
    closed), and the day is on or after her release date (the plan's expected date, or else
    her earliest release date)."""
    problems: list[tuple[str, str]] = []
    kept = {referral.id: referral for referral in held}
    seen: set[uuid.UUID] = set()
    for n, referral in enumerate(values.get("onward_referrals") or []):
        at = f"{ONWARD}.{n}"
        referral_id = referral.get("id")
        before = None
        if referral_id is not None:
            before = kept.get(referral_id)
            if before is None:
                problems.append((f"{at}.id", "is not an onward referral of this plan"))
            elif referral_id in seen:
                problems.append((f"{at}.id", "is given twice"))
            seen.add(referral_id)
        made_on, accepted_on = referral["made_on"], referral.get("accepted_on")
        declined_on, first_contact_on = (
            referral.get("declined_on"),
            referral.get("first_contact_on"),
        )
        for name in ("made_on", "accepted_on", "declined_on", "first_contact_on"):
            problems += past_date_problems(f"{at}.{name}", referral.get(name), today)
        organisation = organisations.get(referral["organisation_id"])
        moved = before is None or (before.organisation_id, before.made_on) != (
            referral["organisation_id"],
            made_on,
        )
        if organisation is None:
            problems.append((f"{at}.organisation_id", "no organisation with this id"))
        elif moved and organisation.closed_on is not None and organisation.closed_on <= made_on:
            problems.append(
                (
                    f"{at}.organisation_id",
                    f"{organisation.name} closed on {organisation.closed_on}: it takes no "
                    "referral made on or after that day",
                )
            )
        if accepted_on is not None and declined_on is not None:
            problems.append((f"{at}.declined_on", "a referral is accepted or declined, not both"))
        for name, day in (("accepted_on", accepted_on), ("declined_on", declined_on)):
            if day is not None and day < made_on:
                problems.append((f"{at}.{name}", "cannot be before made_on"))
        if first_contact_on is None:
            continue
        if accepted_on is None:
            problems.append((f"{at}.first_contact_on", "only once the referral is accepted"))
        elif first_contact_on < accepted_on:
            problems.append((f"{at}.first_contact_on", "cannot be before accepted_on"))
        if before is not None and before.first_contact_on == first_contact_on:
            continue  # recorded before: her release was checked then
        if mother.status not in OUT:
            problems.append(
                (f"{at}.first_contact_on", "is after release: she is not recorded as released")
            )
        elif release_date is None:
            problems.append(
                (f"{at}.first_contact_on", "is after release: her release date is not known")
            )
        elif first_contact_on < release_date:
            problems.append(
                (f"{at}.first_contact_on", f"is after release: not before {release_date}")
            )
    return problems


def _lists_changed(current: Parts, pathways: dict[str, Any], values: dict[str, Any]) -> list[str]:
    """Which of the plan's lists this write changes: none, and the plan keeps its version."""
    pathways_before, actions_before, contacts_before, onward_before = current
    changed = []
    if {name: pathways[name] for name in PATHWAYS} != pathways_before:
        changed.append("pathways")
    if "actions" in values:
        given = sorted(
            (
                (a.get("id"), a["description"], a["owner"], a["due_on"], a.get("done_on"))
                for a in values["actions"]
            ),
            key=str,
        )
        held = sorted(
            ((a.id, a.description, a.owner, a.due_on, a.done_on) for a in actions_before), key=str
        )
        if given != held:  # an action without an id is new: a change
            changed.append("actions")
    if "contact_after_release" in values:
        given_contacts = sorted(
            (c["child_id"], c["arrangement"]) for c in values["contact_after_release"]
        )
        if given_contacts != [(c.child_id, c.arrangement) for c in contacts_before]:
            changed.append("contact_after_release")
    if "onward_referrals" in values:
        given_referrals = sorted(
            (tuple(r.get(name) for name in ONWARD_FIELDS) for r in values["onward_referrals"]),
            key=str,
        )
        held_referrals = sorted(
            (tuple(getattr(r, name) for name in ONWARD_FIELDS) for r in onward_before.referrals),
            key=str,
        )
        if given_referrals != held_referrals:  # a referral without an id is new: a change
            changed.append("onward_referrals")
    return changed


# An onward referral's columns, its id first (its history names it by the id).
ONWARD_FIELDS = ("id", *history.ONWARD_FIELDS)


def _plan_columns(values: dict[str, Any]) -> dict[str, Any]:
    """The plan's own columns from input: the probation contact flattened, lists left out."""
    columns = {
        key: value
        for key, value in values.items()
        if key
        not in (
            "pathways",
            "actions",
            "contact_after_release",
            "onward_referrals",
            "probation_contact",
        )
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
    organisations: Mapping[uuid.UUID, Organisation],
) -> tuple[
    list[ActionPublic] | None,
    list[ContactAfterReleasePublic] | None,
    list[OnwardReferralPublic] | None,
]:
    """Write the pathways, and the actions, contacts and onward referrals if given; returns
    those written."""
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
    referrals = None
    if "onward_referrals" in values:
        referral_rows = [
            {
                **{name: referral.get(name) for name in ONWARD_FIELDS},
                "id": referral.get("id") or uuid.uuid4(),
                "release_plan_id": plan.id,
            }
            for referral in values["onward_referrals"]
        ]
        await _replace(session, OnwardReferral, plan.id, referral_rows)
        referrals = sorted(
            (
                _onward_public(row, organisations[row["organisation_id"]].name)
                for row in referral_rows
            ),
            key=lambda referral: (referral.made_on, referral.id),
        )
    return actions, contacts, referrals


async def put_plan(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    data: ReleasePlanInput,
    if_match: str | None,
    if_none_match: str | None,
) -> tuple[ReleasePlanPublic, bool, dict[str, Any]]:
    """Create her plan, or replace it whole. Returns the plan, whether it was created, and what
    a replacement changed (nothing: the plan keeps its version, and no event is sent).

    Creating needs no condition (or `If-None-Match: *`); replacing needs `If-Match`, as a PATCH
    does, so that nobody overwrites a plan they have not seen.
    """
    # Her row locked: two first plans sent at once are made one after the other (the second
    # then finds the first, and needs If-Match).
    mother = await get_visible(session, caller, MOTHERS, mother_id, for_update=True)
    plan = await session.scalar(
        select(ReleasePlan).where(ReleasePlan.mother_id == mother.id).with_for_update()
    )
    current: Parts | None = None
    fed_before = snapshot({}, FEED_FIELDS) if plan is None else snapshot(plan, FEED_FIELDS)
    check_put_of_hers(
        None if plan is None else plan.version, "release plan", if_match, if_none_match
    )
    if plan is not None:
        current = await _parts(session, None, plan)
    kept_action_ids = set() if current is None else {action.id for action in current[1]}
    values = data.model_dump()
    _take_onward(values)
    organisations = await _organisations(session, values)
    today = date.today()
    release_date = values["expected_release_date"] or mother.earliest_release_date
    held = [] if current is None else current[3].referrals
    InvalidInput.raise_any(
        _rules(values, mother, kept_action_ids, today)
        + _onward_rules(values, held, organisations, mother, release_date, today)
    )
    if values["release_local_authority_code"] is not None:
        await require_current_authority(
            session, "release_local_authority_code", values["release_local_authority_code"]
        )
    named = [contact["child_id"] for contact in values["contact_after_release"]]
    await check_children(session, caller, mother.id, named, field="contact_after_release")

    pathways = values["pathways"]
    changed: dict[str, Any] = {}
    before: history.State | None = None
    if plan is None:
        plan = ReleasePlan(mother_id=mother.id, **_plan_columns(values))
        session.add(plan)
    else:
        assert current is not None
        before = _state(plan, current)
        changed = apply_changes(plan, _plan_columns(values))
        lists = _lists_changed(current, pathways, values)
        if not changed and not lists:
            return to_public(plan, *current), False, changed
        if not changed:
            touch(plan)  # its lists are part of what its version (its ETag) covers
        changed |= dict.fromkeys(lists, True)
    try:
        await session.flush()
    except IntegrityError as exc:  # a plan made at the same moment, where rows are not locked
        raise already_has("release plan") from exc
    actions, contacts, referrals = await _write_parts(
        session, plan, pathways, values, organisations
    )
    # All three are always sent in a PUT.
    assert actions is not None and contacts is not None and referrals is not None
    public = to_public(plan, pathways, actions, contacts, Onward(referrals))
    after = _state(plan, (pathways, actions, contacts, Onward(referrals)))
    history.record(session, caller, plan.id, before, after)
    _emit_plan_changes(
        session, plan, fed_before, pathways, actions, changed, created=current is None
    )
    return public, current is None, changed


def _emit_plan_changes(
    session: AsyncSession,
    plan: ReleasePlan,
    fed_before: dict[str, Any],
    pathways: Mapping[str, Mapping[str, Any]],
    actions: Iterable[Any],
    changed: Mapping[str, Any],
    *,
    created: bool = False,
) -> None:
    """Her plan is hers: every authority with a child of hers is told of it, and of a new
    expected release date as her release date changing.

    One event for every authority, with or without her consent: its `complete` is worked out
    without the continuity rule (whether a service accepted her is not told), and a change to
    her onward referrals alone sends none (nothing the feed carries changed)."""
    if not created and set(changed) <= {"onward_referrals"}:
        return
    complete = not missing(plan.accommodation_status, pathways, actions, continuity=False)
    fed = changes_between(fed_before, snapshot(plan, FEED_FIELDS))
    event_type = "release-plan.created" if created else "release-plan.updated"
    emit(
        session,
        event_type,
        RELEASE_PLANS.kind,
        plan.id,
        plan.mother_id,
        data={**fed, "complete": complete},
    )
    if "expected_release_date" in fed["changed"]:
        emit(
            session,
            "mother.release-date-changed",
            MOTHERS.kind,
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
) -> tuple[ReleasePlanPublic, dict[str, Any]]:
    """The plan and what changed (nothing: it keeps its version, and no event is sent)."""
    # Locked first, so that two changes sent with the same ETag cannot both pass If-Match.
    plan = await plan_of(session, caller, mother_id, for_update=True)
    check_if_match(if_match, plan.version)
    fed_before = snapshot(plan, FEED_FIELDS)
    changes = data.changes()
    mother = await session.get(Mother, plan.mother_id)
    assert mother is not None  # the foreign key guarantees her
    current = await _parts(session, caller, plan)
    pathways, actions, contacts, onward = current
    kept_action_ids = {action.id for action in actions}
    _take_onward(changes)
    organisations = await _organisations(session, changes)
    today = date.today()
    planned = changes.get("expected_release_date", plan.expected_release_date)
    release_date = planned or mother.earliest_release_date
    InvalidInput.raise_any(
        _rules(changes, mother, kept_action_ids, today)
        + _onward_rules(changes, onward.referrals, organisations, mother, release_date, today)
    )
    if changes.get("release_local_authority_code") is not None:
        await require_current_authority(
            session, "release_local_authority_code", changes["release_local_authority_code"]
        )
    named = [contact["child_id"] for contact in changes.get("contact_after_release") or []]
    await check_children(session, caller, mother.id, named, field="contact_after_release")

    pathways = {
        name: {**pathways[name], **(changes.get("pathways") or {}).get(name, {})}
        for name in PATHWAYS
    }
    before = _state(plan, current)
    changed = apply_changes(plan, _plan_columns(changes))
    lists = _lists_changed(current, pathways, changes)
    if not changed and not lists:
        return to_public(plan, *current), changed
    if not changed:
        touch(plan)  # its lists are part of what its version (its ETag) covers
    changed |= dict.fromkeys(lists, True)
    await session.flush()
    new_actions, new_contacts, new_referrals = await _write_parts(
        session, plan, pathways, changes, organisations
    )
    parts_after = (
        pathways,
        actions if new_actions is None else new_actions,
        contacts if new_contacts is None else new_contacts,
        onward if new_referrals is None else Onward(new_referrals),
    )
    public = to_public(plan, *parts_after)
    history.record(session, caller, plan.id, before, _state(plan, parts_after))
    _emit_plan_changes(
        session,
        plan,
        fed_before,
        pathways,
        actions if new_actions is None else new_actions,
        changed,
    )
    return public, changed
