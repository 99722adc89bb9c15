"""Court hearings: their description, their public shape, and the rules of recording them.

A hearing is recorded by the prison side, or by a local authority for its own children (that is
how the prison side hears of it early). The rules it shares with proceedings are in
`hearings.rules`; proceedings are in `hearings.proceedings`, amendments in `hearings.amendments`.
"""

import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import True_

from tac_api import going_ahead
from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.db import fetch_rows, touch, utcnow
from tac_api.errors import InvalidInput
from tac_api.going_ahead import SCHEDULED, adjourned_input, not_scheduled, under
from tac_api.hearings import listing
from tac_api.hearings.amendments import amend
from tac_api.hearings.models import CourtHearing, CourtHearingChild
from tac_api.hearings.rules import (
    check_proceedings_link,
    hearing_time_rules,
    outcome_rules,
    refuse_prison_side_fields,
)
from tac_api.hearings.schemas import (
    CourtHearingCreate,
    CourtHearingPublic,
    CourtHearingUpdate,
    HearingOutcome,
    HearingStatusChange,
)
from tac_api.notice import late_notice, notice_days, utc
from tac_api.pagination import Paging, cursor_row_missing, decode_cursor, page_of
from tac_api.resources import (
    ChildLinks,
    Resource,
    add_with_children,
    apply_changes,
    audits_in_one,
    check_children,
    check_only_own_children,
    check_window,
    children_of,
    every_child_of,
    get_for_change,
    mother_for_writing,
    replace_children,
)
from tac_api.scope import shown_with_their_mother

OUTCOME_FIELDS = (
    "attended",
    "attended_how",
    "barrier",
    "barrier_detail",
    "order_made",
    "order_detail",
)
# What a local authority's change feed is told of a hearing: when, where, what kind, and how
# she is to attend; of its outcome, the codes (the free-text details stay in the record).
FEED_FIELDS = (
    "hearing_type",
    "starts_at",
    "notified_at",
    "court_name",
    "court_code",
    "proceedings_id",
    "attendance_mode",
    "social_worker_attends",
)
FEED_OUTCOME_FIELDS = ("attended", "attended_how", "barrier", "order_made")
# What a hearing's answer shows of its own columns (the rest is worked out or joined).
PUBLIC_FIELDS = tuple(
    field
    for field in CourtHearingPublic.model_fields
    if field
    not in (
        "child_ids",
        "notice_days",
        "late_notice",
        "outcome",
        "adjourned_from_id",
        "flags_for_review",
    )
)

HEARINGS = Resource(
    kind="court_hearing",
    model=CourtHearing,
    label="court hearing",
    order=(CourtHearing.starts_at, CourtHearing.id),
    children=ChildLinks(CourtHearingChild.court_hearing_id, CourtHearingChild.child_id),
    when=CourtHearing.starts_at,
    path="/v1/court-hearings",
)


# Reading ------------------------------------------------------------------------------------


def to_public(
    hearing: CourtHearing | Mapping[str, Any],
    child_ids: list[uuid.UUID],
    late_notice_days: int,
    adjourned_from_id: uuid.UUID | None = None,
) -> CourtHearingPublic:
    """A hearing (its record, or its row as `week_page` reads it) as the API shows it. A row
    carries `adjourned_from_id`; for a record, it is given (`adjourned_from`)."""
    # A record's fields are attributes; a row's (asyncpg's, SQLAlchemy's) are keys.
    is_record = isinstance(hearing, CourtHearing)
    value = hearing.__getattribute__ if is_record else hearing.__getitem__
    starts_at, notified_at = value("starts_at"), value("notified_at")
    outcome = None
    if value("outcome_recorded_at") is not None:
        outcome = {field: value(field) for field in OUTCOME_FIELDS}
        outcome["recorded_at"] = value("outcome_recorded_at")
    # Validated from a plain dict: pydantic's validator (in Rust) costs less than its
    # model_construct (in Python), and the week's list shapes fifty at a time.
    return CourtHearingPublic.model_validate(
        {
            **{field: value(field) for field in PUBLIC_FIELDS},
            "child_ids": child_ids,
            "notice_days": notice_days(notified_at, starts_at),
            "late_notice": late_notice(notified_at, starts_at, late_notice_days),
            "outcome": outcome,
            "adjourned_from_id": adjourned_from_id if is_record else value("adjourned_from_id"),
        }
    )


async def adjourned_from(session: AsyncSession, hearing_id: uuid.UUID) -> uuid.UUID | None:
    """The hearing this one was adjourned from, if any: by `adjourned_to_id`'s index."""
    return await session.scalar(
        select(CourtHearing.id).where(CourtHearing.adjourned_to_id == hearing_id).limit(1)
    )


# What the week's page shows, for the audit trail: each hearing on it (not its children).
_HEARINGS_SHOWN = (audit.Consulted(HEARINGS.kind, "id", "mother_id"),)


def _with_children_shown(role: Role, hearings: Any) -> Select[Any]:
    """Each of `hearings` (a subquery or CTE of their columns) joined to the children it is
    shown of the hearing's (a local authority: its own; `scope.shown_with_their_mother`), one
    row per child, or one row with none, in the hearings' order."""
    link = CourtHearingChild.__table__.alias("shown_link")
    which_children = shown_with_their_mother(role)
    shown: Any = link
    if not isinstance(which_children, True_):  # every child shown: no need to read theirs
        shown = link.join(Child, and_(Child.id == link.c.child_id, which_children))
    order = [hearings.c[column.key] for column in HEARINGS.order]
    # The hearing each was adjourned from, by the index on adjourned_to_id.
    earlier = CourtHearing.__table__.alias("adjourned_from")
    adjourned_from_id = (
        select(earlier.c.id)
        .where(earlier.c.adjourned_to_id == hearings.c.id)
        .limit(literal_column("1"))  # not a parameter: the statement's values are all named
        .scalar_subquery()
        .label("adjourned_from_id")
    )
    return (
        select(*hearings.c, link.c.child_id.label("shown_child_id"), adjourned_from_id)
        .select_from(hearings.outerjoin(shown, link.c.court_hearing_id == hearings.c.id))
        .order_by(*order, link.c.child_id)
    )


@cache
def _week_page(
    role: Role, filters: frozenset[str], after: bool, consulted: bool = False
) -> Select[Any]:
    """A page of the hearings a caller of this role sees, each with the children it is shown
    (`_with_children_shown`): the page and its children in one statement.

    `consulted` (PostgreSQL): the statement writes the audit rows of the hearings it shows as
    well (`audit.consulting`), the first `shown_limit` of them: not the look-ahead row."""
    paged = listing.page(role, HEARINGS, filters, after)
    hearings = paged.cte("page") if consulted else paged.subquery("page")
    statement = _with_children_shown(role, hearings)
    if not consulted:
        return statement
    written = audit.consulting(
        hearings,  # type: ignore[arg-type]  # a CTE when consulted
        _HEARINGS_SHOWN,
        order=[column.key for column in HEARINGS.order],
        limit=bindparam("shown_limit"),
    )
    return statement.add_cte(written)


async def week_page(
    session: AsyncSession,
    caller: Caller,
    paging: Paging,
    late_notice_days: int,
    **filters: Any,
) -> tuple[list[CourtHearingPublic], str | None]:
    """One page of the hearings this caller may see, with the lists' common filters (those of
    `list_visible`), soonest first, each with the children it is shown, and the cursor to the
    next page (also as a Link header): one statement, however many hearings and children."""
    check_window(filters.get("start"), filters.get("end"))
    page = paging.params
    params = {**filters, **scope_params(caller), "limit": page.limit + 1}
    if page.cursor:
        (params["after_id"],) = decode_cursor(page.cursor, [CourtHearing.id])
    asked = listing.given(filters)
    # PostgreSQL: the page writes its own audit rows (README, "Reads in two round trips").
    consulted = audits_in_one(session, caller, params, HEARINGS)
    if consulted:
        params["shown_limit"] = page.limit
    statement = _week_page(caller.role, asked, bool(page.cursor), consulted)
    rows = await fetch_rows(session, statement, params)
    found: dict[uuid.UUID, tuple[Mapping[str, Any], list[uuid.UUID]]] = {}
    for row in rows:
        _, children = found.setdefault(row["id"], (row, []))
        if row["shown_child_id"] is not None:
            children.append(row["shown_child_id"])
    # A page with rows proves the cursor's row is in the list; an empty one may not.
    if (
        not found
        and page.cursor
        and not await fetch_rows(session, listing.cursor_row(caller.role, HEARINGS, asked), params)
    ):
        raise cursor_row_missing()
    shown = [to_public(row, children, late_notice_days) for row, children in found.values()]
    hearings, cursor = page_of(shown, page, HEARINGS.id_of, paging.request, paging.response)
    if not consulted:
        audit.consulted(session, HEARINGS, hearings)
    return hearings, cursor


# Its audit row: the hearing, once, on each of its children's rows.
_HEARING_SHOWN = (audit.Consulted(HEARINGS.kind, "id", "mother_id", once=True),)


@cache
def _one_hearing(role: Role, consulted: bool) -> Select[Any]:
    """One hearing (`hearing_id`) if a caller of this role may see it, with the children it is
    shown, in one statement; `consulted` (PostgreSQL): writing its audit row as well."""
    visible = listing.visible(role, HEARINGS, frozenset()).where(
        HEARINGS.id_column == bindparam("hearing_id")
    )
    if not consulted:
        return _with_children_shown(role, visible.subquery("hearing"))
    hearing = visible.cte("hearing")
    return _with_children_shown(role, hearing).add_cte(audit.consulting(hearing, _HEARING_SHOWN))


async def show_hearing(
    session: AsyncSession, caller: Caller, hearing_id: uuid.UUID, late_notice_days: int
) -> tuple[CourtHearingPublic, int]:
    """One hearing, if this caller may see it (404 otherwise, as `get_visible`), with the
    children it is shown, audited as consulted, and its version (for the ETag): one statement,
    which on PostgreSQL writes its audit row too (README, "Reads in two round trips")."""
    params: dict[str, Any] = {"hearing_id": hearing_id, **scope_params(caller)}
    consulted = audits_in_one(session, caller, params, HEARINGS)
    rows = await fetch_rows(session, _one_hearing(caller.role, consulted), params)
    if not rows:
        raise HEARINGS.not_found(hearing_id)
    hearing = rows[0]
    children = [row["shown_child_id"] for row in rows if row["shown_child_id"] is not None]
    if not consulted:
        audit.consulted(session, HEARINGS, [dict(hearing)])  # a mapping, whatever the driver
    return to_public(hearing, children, late_notice_days), hearing["version"]


# Writing ------------------------------------------------------------------------------------


async def create_hearing(
    session: AsyncSession,
    caller: Caller,
    data: CourtHearingCreate,
    *,
    notified_at_from_authority: bool = False,
) -> tuple[CourtHearing, list[uuid.UUID]]:
    refuse_prison_side_fields(
        caller, data.model_fields_set, notified_at_from_authority=notified_at_from_authority
    )
    now = utcnow()
    values = data.model_dump(exclude={"child_ids"})
    if values["notified_at"] is None:
        values["notified_at"] = now
    InvalidInput.raise_any(hearing_time_rules(values, now))
    mother = await mother_for_writing(session, caller, data.mother_id)
    await check_children(session, caller, mother.id, data.child_ids)
    if data.proceedings_id is not None:
        await check_proceedings_link(session, caller, mother.id, data.proceedings_id)
    hearing = CourtHearing(**values)
    await add_with_children(session, HEARINGS, hearing, data.child_ids)
    emit(
        session,
        "court-hearing.created",
        "court_hearing",
        hearing.id,
        hearing.mother_id,
        data.child_ids,
        snapshot(hearing, FEED_FIELDS),
    )
    return hearing, sorted(data.child_ids)


async def update_hearing(
    session: AsyncSession,
    caller: Caller,
    hearing_id: uuid.UUID,
    data: CourtHearingUpdate,
    if_match: str | None,
    *,
    notified_at_from_authority: bool = False,
) -> tuple[CourtHearing, list[uuid.UUID], dict[str, Any]]:
    """The hearing, its children, and what changed: nothing keeps its version, writes no
    amendment and tells the change feed nothing."""
    hearing = await get_for_change(session, caller, HEARINGS, hearing_id, if_match)
    fed_before = snapshot(hearing, FEED_FIELDS)
    changes = data.changes()
    if hearing.status != SCHEDULED and "starts_at" in changes:
        # A new date does not revive it: an adjourned hearing's new date is a hearing of its own.
        raise not_scheduled(hearing, "hearing", "be given a new date")
    refuse_prison_side_fields(
        caller, changes, notified_at_from_authority=notified_at_from_authority
    )
    await check_only_own_children(session, caller, HEARINGS, hearing.id)
    now = utcnow()
    merged = {**hearing.model_dump(), **changes}
    problems = hearing_time_rules(merged, now)
    if (
        "starts_at" in changes
        and hearing.outcome_recorded_at is not None
        and utc(changes["starts_at"]) > now
    ):
        problems.append(
            (
                "starts_at",
                "this hearing has an outcome, so it has taken place: record an adjourned "
                "hearing as a new one",
            )
        )
    InvalidInput.raise_any(problems)
    child_ids = await every_child_of(session, HEARINGS, hearing.id)
    new_children = changes.pop("child_ids", None)
    if new_children is not None:
        await check_children(session, caller, hearing.mother_id, new_children)
    if changes.get("proceedings_id") is not None:
        await check_proceedings_link(session, caller, hearing.mother_id, changes["proceedings_id"])
    before = {**hearing.model_dump(), "child_ids": child_ids}
    changed = apply_changes(hearing, changes)
    child_ids = await replace_children(session, HEARINGS, hearing, new_children, child_ids, changed)
    if not changed:
        return hearing, child_ids, changed
    amend(session, caller, hearing, before, changed)
    await session.flush()
    # Told to the authorities of the children it concerns now (one that lost its child here
    # can no longer read the hearing); `changed` never names child_ids, which would tell an
    # authority that another's children changed.
    emit(
        session,
        "court-hearing.updated",
        "court_hearing",
        hearing.id,
        hearing.mother_id,
        child_ids,
        changes_between(fed_before, snapshot(hearing, FEED_FIELDS)),
    )
    return hearing, child_ids, changed


async def record_outcome(
    session: AsyncSession,
    caller: Caller,
    hearing_id: uuid.UUID,
    outcome: HearingOutcome,
    if_match: str | None,
) -> tuple[CourtHearing, list[uuid.UUID], bool]:
    """The prison side's record (the route admits no local authority): the hearing, its
    children, and whether the outcome changed (the same outcome sent again changes nothing)."""
    hearing = await get_for_change(session, caller, HEARINGS, hearing_id, if_match)
    if hearing.status != SCHEDULED:
        raise not_scheduled(hearing, "hearing", "have an outcome: it did not take place")
    now = utcnow()
    if now < utc(hearing.starts_at):
        raise InvalidInput("outcome", "cannot be recorded before the hearing starts")
    InvalidInput.raise_any(outcome_rules(outcome))
    child_ids = (await children_of(session, caller, HEARINGS, [hearing.id]))[hearing.id]
    given = outcome.model_dump()
    before = {field: getattr(hearing, field) for field in OUTCOME_FIELDS}
    if hearing.outcome_recorded_at is None:
        before = dict.fromkeys(OUTCOME_FIELDS)  # none yet: every field given is new
        given = {field: value for field, value in given.items() if value is not None}
    if not amend(session, caller, hearing, before, given, prefix="outcome."):
        return hearing, child_ids, False
    fed_before = snapshot(hearing, FEED_OUTCOME_FIELDS)
    for field, value in outcome.model_dump().items():
        setattr(hearing, field, value)
    hearing.outcome_recorded_at = now
    touch(hearing)
    await session.flush()
    emit(
        session,
        "court-hearing.outcome-recorded",
        "court_hearing",
        hearing.id,
        hearing.mother_id,
        child_ids,
        {
            **snapshot(hearing, ("hearing_type", "starts_at")),
            **changes_between(fed_before, snapshot(hearing, FEED_OUTCOME_FIELDS)),
            "recorded_at": now,
        },
    )
    return hearing, child_ids, True


async def change_status(
    session: AsyncSession,
    caller: Caller,
    hearing_id: uuid.UUID,
    data: HearingStatusChange,
    if_match: str | None,
    *,
    adjourned_to: CourtHearing | None = None,
) -> tuple[CourtHearing, list[uuid.UUID], CourtHearing | None]:
    """`going_ahead.change_status` for a hearing: the hearing, its children shown to the caller,
    and its new hearing (made with the same mother, children and proceedings). Only one without
    an outcome; kept in its amendments."""
    hearing, _, new = await going_ahead.change_status(
        DECIDED, session, caller, hearing_id, data, if_match, adjourned_to=adjourned_to
    )
    shown = (await children_of(session, caller, HEARINGS, [hearing.id]))[hearing.id]
    return hearing, shown, new


async def _adjourned_hearing(
    session: AsyncSession,
    caller: Caller,
    hearing: CourtHearing,
    child_ids: list[uuid.UUID],
    data: HearingStatusChange,
) -> CourtHearing:
    """The new hearing an adjourned one goes to, made as any new hearing is (its rules, its
    `court-hearing.created` event), its problems named under `adjourned_to`."""
    assert data.adjourned_to is not None
    kept = {
        "mother_id": hearing.mother_id,
        "child_ids": child_ids,
        "proceedings_id": hearing.proceedings_id,
        "court_name": hearing.court_name,
        "court_code": hearing.court_code,
        "hearing_type": hearing.hearing_type,
    }
    with under("adjourned_to"):
        new = adjourned_input(CourtHearingCreate, kept, data.adjourned_to, "hearing")
        created, _ = await create_hearing(session, caller, new)
        return created


DECIDED = going_ahead.Decided(
    resource=HEARINGS,
    noun="hearing",
    event="court-hearing",
    described_by=("hearing_type", "starts_at"),
    took_place=lambda hearing: hearing.outcome_recorded_at is not None,
    recorded="This hearing has an outcome recorded",
    correct="the outcome",
    adjourn=_adjourned_hearing,
    amend=amend,
)
