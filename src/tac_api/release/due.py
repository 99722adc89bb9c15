"""Releases due without a complete plan: mothers still held whose release falls within the
window, with no plan or an incomplete one. A list of mothers and their plans' gaps, one row per
mother, rather than a list of one kind of record: it keeps an order of its own (`DUE_ORDER`)."""

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select

from tac_api.auth.schemas import Caller
from tac_api.mothers.models import Mother
from tac_api.release.models import ReleasePlan, ReleasePlanAction, ReleasePlanPathway
from tac_api.release.schemas import ACCOMMODATION_READY, PATHWAY_DONE, PATHWAYS, ReleaseDue
from tac_api.scope import mother_visible

# Plans due: mothers still held whose release falls within the window, without a complete plan.
RELEASE_DATE = func.coalesce(ReleasePlan.expected_release_date, Mother.earliest_release_date)
DUE_ORDER: list[ColumnElement[Any]] = [RELEASE_DATE, Mother.id]


def plan_gaps() -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[bool]]:
    """Her plan's outstanding pathways, its open actions, and whether it falls short of complete
    (no plan at all included): the rule of `service.missing`, in SQL, for a query outer-joining
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


def search(caller: Caller, prison_code: str | None, today: date, within_days: int) -> Select[Any]:
    """One statement for the whole list: her plan outer-joined, its gaps counted in SQL (the
    same rule as `service.missing`), never a query per mother."""
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


def row_id(row: Any) -> uuid.UUID:
    return row.mother_id  # DUE_ORDER's last column


def to_public(row: Any, today: date) -> ReleaseDue:
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
