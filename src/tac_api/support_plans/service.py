"""Her support plan: one per mother, co-produced. What it says is versioned (every version kept,
who made it and when, what changed); she agrees a version, and a plan she has not agreed as it
stands is a draft. Who sees it is `tac_api.scope.support_plan_visible`: the prison side as her
case, a local authority only while she consents to share her plan with it."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.db import touch
from tac_api.errors import Conflict, InvalidInput
from tac_api.history import made_by, oldest_first
from tac_api.mothers.service import MOTHERS
from tac_api.preconditions import (
    already_has,
    check_put_of_hers,
)
from tac_api.resources import OneOfHers, get_hers, get_visible
from tac_api.schemas import AREA_ORDER, SUPPORT_AREA_LABELS
from tac_api.support_plans.models import SupportPlan, SupportPlanArea, SupportPlanVersion
from tac_api.support_plans.schemas import (
    AREA_FIELDS,
    Agreement,
    PlanAreaPublic,
    SupportPlanHistory,
    SupportPlanInput,
    SupportPlanPublic,
    SupportPlanVersionPublic,
)

# The eight areas in the order a plan lists them (Believe's order).


SUPPORT_PLANS = OneOfHers(
    kind="support_plan",
    model=SupportPlan,
    label="support plan",
    order=(SupportPlan.created_at, SupportPlan.id),
)


async def plan_of(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, *, for_update: bool = False
) -> SupportPlan:
    """Her plan, if this caller may see it; 404 otherwise, the same as no plan."""
    return await get_hers(session, caller, SUPPORT_PLANS, mother_id, for_update=for_update)


def _in_order(areas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(areas, key=lambda area: AREA_ORDER[area["area"]])


def _area_public(area: dict[str, Any]) -> PlanAreaPublic:
    return PlanAreaPublic.model_validate({**area, "label": SUPPORT_AREA_LABELS[area["area"]]})


def _status(plan: SupportPlan) -> str:
    return "agreed" if plan.agreed_version == plan.content_version else "draft"


def to_public(plan: SupportPlan, areas: list[dict[str, Any]]) -> SupportPlanPublic:
    return SupportPlanPublic.model_validate(
        {
            **plan.model_dump(),
            "status": _status(plan),
            "areas": [_area_public(area) for area in _in_order(areas)],
        }
    )


async def _areas(session: AsyncSession, plan_id: uuid.UUID) -> list[dict[str, Any]]:
    """The plan's areas as they stand: one statement."""
    rows = await session.scalars(
        select(SupportPlanArea).where(SupportPlanArea.support_plan_id == plan_id)
    )
    return _in_order(
        [{"area": row.area, **{f: getattr(row, f) for f in AREA_FIELDS}} for row in rows]
    )


async def read_plan(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID
) -> SupportPlanPublic:
    plan = await plan_of(session, caller, mother_id)
    return to_public(plan, await _areas(session, plan.id))


async def read_history(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID
) -> tuple[SupportPlan, SupportPlanHistory]:
    """Every version of her plan, oldest first: seen by whoever may see the plan, no one else."""
    plan = await plan_of(session, caller, mother_id)
    versions = await session.scalars(
        select(SupportPlanVersion)
        .where(SupportPlanVersion.support_plan_id == plan.id)
        .order_by(SupportPlanVersion.number, *oldest_first(SupportPlanVersion))
    )
    shown = [
        SupportPlanVersionPublic.model_validate(
            {
                **version.model_dump(),
                "areas": [_area_public(area) for area in version.areas],
            }
        )
        for version in versions
    ]
    return plan, SupportPlanHistory(
        mother_id=plan.mother_id, support_plan_id=plan.id, versions=shown
    )


def _rules(areas: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each area once; who wrote the steps said with them, and only with them."""
    problems = []
    seen: set[str] = set()
    for n, area in enumerate(areas):
        if area["area"] in seen:
            problems.append((f"areas.{n}.area", "is in the plan already: each area once"))
        seen.add(area["area"])
        if area["steps"] is not None and area["steps_written_by"] is None:
            problems.append((f"areas.{n}.steps_written_by", "say who wrote the steps"))
        if area["steps"] is None and area["steps_written_by"] is not None:
            problems.append((f"areas.{n}.steps_written_by", "there are no steps to have written"))
    return problems


def changes_between(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per area and part, what changed from one version to the next (an area added: each of its
    parts from null; taken out: each to null), in the plan's order of areas."""
    was = {area["area"]: area for area in before}
    now = {area["area"]: area for area in after}
    found = []
    for name in sorted(was.keys() | now.keys(), key=AREA_ORDER.__getitem__):
        old, new = was.get(name, {}), now.get(name, {})
        for field in AREA_FIELDS:
            if old.get(field) != new.get(field):
                found.append(
                    {
                        "area": name,
                        "field": field,
                        "before": old.get(field),
                        "after": new.get(field),
                    }
                )
    return found


def _version_row(
    caller: Caller, plan: SupportPlan, areas: list[dict[str, Any]], changes: list[dict[str, Any]]
) -> SupportPlanVersion:
    return SupportPlanVersion(
        support_plan_id=plan.id,
        number=plan.content_version,
        areas=areas,
        changes=changes,
        **made_by(caller),
    )


async def put_plan(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    data: SupportPlanInput,
    if_match: str | None,
    if_none_match: str | None,
) -> tuple[SupportPlanPublic, bool, bool]:
    """Create her plan, or replace what it says whole. Returns the plan, whether it was created,
    and whether it changed: a plan saying something new is a new version, a draft again until
    she agrees it; one saying the same keeps its version and its ETag.

    Creating needs no condition (or `If-None-Match: *`); replacing needs `If-Match`, as the
    release plan's PUT does."""
    # Her row locked: two first plans sent at once are made one after the other.
    mother = await get_visible(session, caller, MOTHERS, mother_id, for_update=True)
    plan = await session.scalar(
        select(SupportPlan).where(SupportPlan.mother_id == mother.id).with_for_update()
    )
    check_put_of_hers(
        None if plan is None else plan.version, "support plan", if_match, if_none_match
    )
    given = [area.model_dump() for area in data.areas]
    InvalidInput.raise_any(_rules(given))
    areas = _in_order(given)

    created = plan is None
    before: list[dict[str, Any]] = []
    if plan is None:
        plan = SupportPlan(mother_id=mother.id, content_version=1)
        session.add(plan)
        try:
            await session.flush()
        except IntegrityError as exc:  # a plan made at the same moment, where rows are not locked
            raise already_has("support plan") from exc
    else:
        before = await _areas(session, plan.id)
        if before == areas:
            return to_public(plan, before), False, False
        plan.content_version += 1
        touch(plan)  # what it says is part of what its ETag covers
        await session.flush()
        await session.execute(
            delete(SupportPlanArea).where(SupportPlanArea.support_plan_id == plan.id)
        )
    await session.execute(
        insert(SupportPlanArea.__table__),
        [{"id": uuid.uuid4(), "support_plan_id": plan.id, **area} for area in areas],
    )
    session.add(_version_row(caller, plan, areas, changes_between(before, areas)))
    await session.flush()
    return to_public(plan, areas), created, True


async def agree(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: Agreement, today: date
) -> SupportPlanPublic:
    """She agreed this version of her plan: recorded on the plan and on the version. Only the
    version the plan says now can be agreed (409 once it has moved on: she agreed words it no
    longer holds), and only once."""
    plan = await plan_of(session, caller, mother_id, for_update=True)
    if data.version != plan.content_version:
        raise Conflict(
            f"The plan is at version {plan.content_version}, not {data.version}: she can agree "
            "only the plan as it stands. Read it with her again."
        )
    if plan.agreed_version == plan.content_version:
        raise Conflict(f"She agreed version {plan.content_version} on {plan.agreed_on} already.")
    version = await session.scalar(
        select(SupportPlanVersion).where(
            SupportPlanVersion.support_plan_id == plan.id,
            SupportPlanVersion.number == plan.content_version,
        )
    )
    assert version is not None  # every content version has its row
    problems = []
    if data.agreed_on > today:
        problems.append(("agreed_on", "cannot be in the future"))
    elif data.agreed_on < version.changed_at.date():
        problems.append(
            ("agreed_on", f"cannot be before this version was made ({version.changed_at.date()})")
        )
    InvalidInput.raise_any(problems)
    plan.agreed_version = plan.content_version
    plan.agreed_on = data.agreed_on
    version.agreed_on = data.agreed_on
    touch(plan)
    await session.flush()
    return to_public(plan, await _areas(session, plan.id))
