"""Releases due without a complete plan: mothers still held whose release falls within the
window, with no plan or an incomplete one. A list of mothers and their plans' gaps, one row per
mother, rather than a list of one kind of record: it keeps an order of its own (release date,
then her id)."""

import uuid
from datetime import date, timedelta
from functools import cache
from typing import Any

from fastapi import Request, Response
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.db import fetch_rows
from tac_api.mothers.models import Mother
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import PageParams, cursor_row_missing, decode_cursor, page_of
from tac_api.release.models import (
    OnwardReferral,
    ReleasePlan,
    ReleasePlanAction,
    ReleasePlanPathway,
)
from tac_api.release.schemas import (
    ACCOMMODATION_READY,
    COMMUNITY,
    PATHWAY_DONE,
    PATHWAYS,
    ReleaseDue,
)
from tac_api.release.service import RELEASE_PLANS
from tac_api.resources import audits_in_one
from tac_api.scope import mother_visible


def constants(*values: str) -> list[ColumnElement[str]]:
    """Codes of ours written into the SQL itself, not sent as parameters: a statement run on
    the driver (`db.fetch_rows`) is sent only the parameters its caller names."""
    assert all(value.isidentifier() for value in values), values  # nothing to quote or escape
    return [literal_column(f"'{value}'", String) for value in values]


DONE = constants(*PATHWAY_DONE)
READY = constants(*ACCOMMODATION_READY)
[ACTIVE] = constants("active")
[COMMUNITY_PATHWAY, COMPLETE] = constants(COMMUNITY, "complete")
NONE = literal_column("0", Integer)
# Her release date: her plan's expected date, or else her earliest release date.
RELEASE_DATE = func.coalesce(ReleasePlan.expected_release_date, Mother.earliest_release_date)


def pathways_outstanding(plan_id: Any) -> ColumnElement[int]:
    """How many of the plan's pathways are neither complete nor not needed, counting the
    children, families and community pathway complete with no onward referral accepted
    (`service.missing`: support should not stop at the gate)."""
    accepted = exists().where(
        OnwardReferral.release_plan_id == ReleasePlanPathway.release_plan_id,
        OnwardReferral.accepted_on.is_not(None),
    )
    without_referral = and_(
        ReleasePlanPathway.pathway == COMMUNITY_PATHWAY,
        ReleasePlanPathway.status == COMPLETE,
        ~accepted,
    )
    return (
        select(func.count())
        .where(
            ReleasePlanPathway.release_plan_id == plan_id,
            or_(ReleasePlanPathway.status.not_in(DONE), without_referral),
        )
        .correlate_except(ReleasePlanPathway)
        .scalar_subquery()
    )


def open_actions(plan_id: Any) -> ColumnElement[int]:
    """How many of the plan's actions are not done yet."""
    return (
        select(func.count())
        .where(ReleasePlanAction.release_plan_id == plan_id, ReleasePlanAction.done_on.is_(None))
        .correlate_except(ReleasePlanAction)
        .scalar_subquery()
    )


def plan_gaps() -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[bool]]:
    """Her plan's outstanding pathways, its open actions, and whether it falls short of complete
    (no plan at all included): the rule of `service.missing`, in SQL, for a query outer-joining
    `ReleasePlan` to her."""
    outstanding = pathways_outstanding(ReleasePlan.id)
    unfinished = open_actions(ReleasePlan.id)
    # Counts above 0, not EXISTS: PostgreSQL may answer an EXISTS under an OR by hashing every
    # plan's pathways and actions, where a count looks at the few rows of each plan asked about.
    incomplete = or_(
        ReleasePlan.id.is_(None),
        ReleasePlan.accommodation_status.not_in(READY),
        outstanding > NONE,
        unfinished > NONE,
    )
    return outstanding, unfinished, incomplete


@cache
def mothers_due(role: Role, in_prison: bool) -> Subquery:
    """The mothers due, as a caller of this role sees them, between `first_day` and `last_day`
    (in one prison: `prison_code`, if `in_prison`).

    `RELEASE_DATE` taken in its two halves, each an index range rather than a look at every
    mother held and every plan: her plan's expected date when it has one, or else her earliest
    release date. A mother is in one half at most."""
    _, _, incomplete = plan_gaps()
    due_here = [mother_visible(role), Mother.status == ACTIVE, incomplete]
    if in_prison:
        due_here.append(Mother.prison_code == bindparam("prison_code"))
    window = (bindparam("first_day"), bindparam("last_day"))
    shown = (
        Mother.id.label("mother_id"),
        Mother.prison_number,
        Mother.first_name,
        Mother.last_name,
        Mother.prison_code,
    )
    plan = (
        ReleasePlan.expected_release_date,
        ReleasePlan.id.label("release_plan_id"),
        ReleasePlan.accommodation_status,
    )
    planned = (
        select(*shown, ReleasePlan.expected_release_date.label("release_date"), *plan)
        .select_from(ReleasePlan)
        .join(Mother, Mother.id == ReleasePlan.mother_id)
        .where(ReleasePlan.expected_release_date.between(*window), *due_here)
    )
    by_earliest_date = (
        select(*shown, Mother.earliest_release_date.label("release_date"), *plan)
        .select_from(Mother)
        .outerjoin(ReleasePlan, ReleasePlan.mother_id == Mother.id)
        .where(
            ReleasePlan.expected_release_date.is_(None),
            Mother.earliest_release_date.between(*window),
            *due_here,
        )
    )
    return union_all(planned, by_earliest_date).subquery("due")


def _order(due: Subquery) -> list[ColumnElement[Any]]:
    return [due.c.release_date, due.c.mother_id]  # unique: one row per mother


@cache
def _cursor_row(role: Role, in_prison: bool) -> Select[Any]:
    """The list's own row a cursor names (`after_id`), and its sort key."""
    due = mothers_due(role, in_prison)
    return select(*_order(due)).where(due.c.mother_id == bindparam("after_id"))


@cache
def _page(role: Role, in_prison: bool, after: bool) -> Select[Any]:
    """One page, soonest first, `limit` rows, after the cursor's row if `after`; each plan's
    gaps counted for the rows of the page only."""
    due = mothers_due(role, in_prison)
    order = _order(due)
    statement = select(
        *due.c,
        pathways_outstanding(due.c.release_plan_id).label("pathways_outstanding"),
        open_actions(due.c.release_plan_id).label("open_actions"),
    )
    if after:
        # Not correlated: its tables are its own, whatever the outer statement names alike.
        position = _cursor_row(role, in_prison).correlate(None).scalar_subquery()
        statement = statement.where(tuple_(*order) > position)
    return statement.order_by(*order).limit(bindparam("limit"))


# What a row of the list shows, for the audit trail: her record, and her plan if she has one.
_SHOWN = (
    audit.Consulted(MOTHERS.kind, "mother_id", "mother_id"),
    audit.Consulted(RELEASE_PLANS.kind, "release_plan_id", "mother_id"),
)


@cache
def _page_consulted(role: Role, in_prison: bool, after: bool) -> Select[Any]:
    """`_page` writing the audit rows of what it shows as well (`audit.consulting`; PostgreSQL):
    every mother on the page, then every plan, in the page's order. The rows audited are the
    first `shown_limit`, trimmed before the plans are picked out, so that the look-ahead row's
    plan is never audited in place of a row with none."""
    page = _page(role, in_prison, after).cte("page")
    order = _order(page)  # type: ignore[arg-type]  # the same columns, on the page
    shown = (
        select(page.c.mother_id, page.c.release_plan_id, page.c.release_date)
        .order_by(*order)
        .limit(bindparam("shown_limit"))
        .cte("shown")
    )
    written = audit.consulting(shown, _SHOWN, order=[column.key for column in order])
    return select(*page.c).add_cte(written).order_by(*order)


async def due_page(
    session: AsyncSession,
    caller: Caller,
    page: PageParams,
    request: Request,
    response: Response,
    prison_code: str | None,
    today: date,
    within_days: int,
) -> tuple[list[ReleaseDue], str | None]:
    """One page of the releases due, and the cursor to the next (also as a Link header): one
    statement, built once per role, however many mothers and plans."""
    params: dict[str, Any] = {
        **scope_params(caller),
        "prison_code": prison_code,
        "first_day": today,
        "last_day": today + timedelta(days=within_days),
        "limit": page.limit + 1,
    }
    if page.cursor:
        (params["after_id"],) = decode_cursor(page.cursor, [Mother.id])
    in_prison = bool(prison_code)
    after = bool(page.cursor)
    # PostgreSQL: the page writes its own audit rows (README, "Reads in two round trips").
    consulted = audits_in_one(session, caller, params)
    if consulted:
        params["shown_limit"] = page.limit
        statement = _page_consulted(caller.role, in_prison, after)
    else:
        statement = _page(caller.role, in_prison, after)
    rows = await fetch_rows(session, statement, params)
    # A page with rows proves the cursor's row is in the list; an empty one may not.
    if (
        not rows
        and page.cursor
        and not await fetch_rows(session, _cursor_row(caller.role, in_prison), params)
    ):
        raise cursor_row_missing()
    shown = [to_public(row, today) for row in rows]
    items, cursor = page_of(shown, page, _mother_id, request, response)
    if not consulted:
        _audit(session, items)
    return items, cursor


def _audit(session: AsyncSession, items: list[ReleaseDue]) -> None:
    """What the page shows, audited as consulted: rows of mothers and plans together, not
    records, so the kinds come from their descriptions. Each mother, then each plan."""
    audit.record_many(
        session, Action.consult, MOTHERS.kind, ((d.mother_id, d.mother_id) for d in items)
    )
    audit.record_many(
        session,
        Action.consult,
        RELEASE_PLANS.kind,
        ((d.release_plan_id, d.mother_id) for d in items if d.release_plan_id is not None),
    )


def _mother_id(item: ReleaseDue) -> uuid.UUID:
    return item.mother_id  # the order's last column


def to_public(row: Any, today: date) -> ReleaseDue:
    planned = row["release_plan_id"] is not None
    return ReleaseDue(
        mother_id=row["mother_id"],
        prison_number=row["prison_number"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        prison_code=row["prison_code"],
        release_date=row["release_date"],
        release_date_from="release_plan"
        if row["expected_release_date"] is not None
        else "earliest_release_date",
        days_to_release=(row["release_date"] - today).days,
        release_plan_id=row["release_plan_id"],
        accommodation_status=row["accommodation_status"],
        pathways_outstanding=row["pathways_outstanding"] if planned else len(PATHWAYS),
        open_actions=row["open_actions"],
    )
