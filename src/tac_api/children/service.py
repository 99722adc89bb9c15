"""Children: the one scoped statement, the rules of a child's record, and the family view."""

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.schemas import (
    Caller,
    Role,
    scope_params,
)
from tac_api.children import history
from tac_api.children.models import Child
from tac_api.children.schemas import (
    PLACEMENT_FIELDS,
    AuthorityInvolved,
    CarerPublic,
    ChildCreate,
    ChildPublic,
    ChildUpdate,
    FamilyView,
    Household,
    SiblingForCoordination,
    SocialWorkerInvolved,
    SocialWorkerPublic,
)
from tac_api.db import fetch_rows
from tac_api.errors import InvalidInput
from tac_api.mothers.models import Mother
from tac_api.mothers.service import MOTHERS
from tac_api.pagination import PageParams, cursor_row_missing, decode_cursor
from tac_api.preconditions import check_if_match
from tac_api.reference.models import LegalStatus, LocalAuthority, PlacementType
from tac_api.reference.service import require_code, require_current_authority
from tac_api.resources import Resource, apply_changes, audits_in_one, get_visible
from tac_api.schemas import age_on
from tac_api.scope import mother_visible, shown_with_their_mother

# A due date further out than a pregnancy lasts, or long past, is a typing mistake.
LONGEST_PREGNANCY = timedelta(days=300)
OVERDUE_GRACE = timedelta(days=60)


def sees_placement(caller: Caller, child: Mapping[str, Any]) -> bool:
    """A confidential placement's details are for the child's own local authority alone."""
    return not child["placement_confidential"] or (
        caller.is_local_authority and caller.local_authority_code == child["local_authority_code"]
    )


def to_public(caller: Caller, child: Mapping[str, Any], today: date | None = None) -> ChildPublic:
    """A child's record (a row or a model's dump) as this caller may see it."""
    shown = sees_placement(caller, child)
    own_authority = (
        caller.is_local_authority and caller.local_authority_code == child["local_authority_code"]
    )
    carer = None
    if shown and child["carer_name"]:
        carer = CarerPublic(
            name=child["carer_name"], phone=child["carer_phone"], address=child["carer_address"]
        )
    social_worker = None
    if child["social_worker_name"]:
        social_worker = SocialWorkerPublic(
            name=child["social_worker_name"],
            email=child["social_worker_email"],
            phone=child["social_worker_phone"],
        )
    return ChildPublic.model_validate(
        {
            **child,
            "age": age_on(child["date_of_birth"], today or date.today()),
            "social_worker": social_worker,
            "lives_with": child["lives_with"] if shown else None,
            "placement_type": child["placement_type"] if shown else None,
            "carer": carer,
            "placement_withheld": not shown,
            # Another authority's key into its own system is of no use to anyone else.
            "external_id": child.get("external_id") if own_authority else None,
        }
    )


CHILDREN = Resource(
    kind="child",
    model=Child,
    label="child",
    order=(Child.last_name, Child.first_name, Child.id),
    path="/v1/children",
)


@cache
def _cursor_child(role: Role) -> Select[Any]:
    """The child a cursor names, if among her children this caller sees, and its sort key: a
    cursor carries the child's id only (see tac_api.pagination)."""
    return (
        select(*CHILDREN.order)
        .select_from(Mother)
        .join(Child, and_(Child.mother_id == Mother.id, shown_with_their_mother(role)))
        .where(Mother.id == bindparam("mother_id"), mother_visible(role))
        .where(Child.id == bindparam("after_id"))
    )


@cache
def _children_page(role: Role, after_cursor: bool) -> Select[Any]:
    """Her visible children, one page, and whether she is visible at all, in one statement.

    The children are outer-joined (the cursor's seek included in the join), so a mother who is
    visible but has no children on this page still returns one row, and one who is not, none.
    """
    joined = [Child.mother_id == Mother.id, shown_with_their_mother(role)]
    if after_cursor:
        after = _cursor_child(role).correlate(None).scalar_subquery()
        joined.append(tuple_(*CHILDREN.order) > after)
    return (
        select(Mother.id.label("visible_mother_id"), *Child.__table__.c)
        .select_from(Mother)
        .outerjoin(Child, and_(*joined))
        .where(Mother.id == bindparam("mother_id"), mother_visible(role))
        .order_by(*CHILDREN.order)
        .limit(bindparam("limit"))
    )


@cache
def _children_page_consulted(role: Role, after_cursor: bool) -> Select[Any]:
    """`_children_page` writing the audit rows of the children it shows (not of its look-ahead
    row: `audit_limit` is the page's size), in the order they are shown."""
    shown = _children_page(role, after_cursor).cte("shown")
    names = [column.key for column in CHILDREN.order]
    written = audit.consulting(
        shown, [audit.Consulted("child", "id", "mother_id")], names, bindparam("audit_limit")
    )
    return select(shown).add_cte(written).order_by(*(shown.c[name] for name in names))


async def children_page(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, page: PageParams
) -> tuple[list[ChildPublic], uuid.UUID | None]:
    """One page of her children visible to the caller, audited as consulted, and the id of the
    child to continue after. On PostgreSQL the page's statement writes its audit rows itself
    (see README, "Reads in two round trips")."""
    params: dict[str, Any] = {"mother_id": mother_id, "limit": page.limit + 1}
    if page.cursor:
        (params["after_id"],) = decode_cursor(page.cursor, [Child.id])
    params |= scope_params(caller)
    after_cursor = page.cursor is not None
    in_one = audits_in_one(session, caller, params)
    if in_one:
        statement = _children_page_consulted(caller.role, after_cursor)
        params["audit_limit"] = page.limit
    else:
        statement = _children_page(caller.role, after_cursor)
    rows = await fetch_rows(session, statement, params)
    if not rows:
        raise MOTHERS.not_found(mother_id)  # the list is of her children: she is not visible
    today = date.today()
    children = [to_public(caller, row, today) for row in rows if row["id"] is not None]
    # A page with children proves the cursor's child is in the list; an empty one may not.
    if (
        not children
        and page.cursor
        and not await fetch_rows(session, _cursor_child(caller.role), params)
    ):
        raise cursor_row_missing()
    last = None
    if len(children) > page.limit:
        children, last = children[: page.limit], children[page.limit - 1].id
    if not in_one:
        audit.consulted(session, CHILDREN, children)
    return children, last


def child_rules(values: Mapping[str, Any], mother_born: date, today: date) -> list[tuple[str, str]]:
    """What a child's record must satisfy, whoever writes it."""
    problems = []
    born, expected = values.get("date_of_birth"), values.get("expected_date")
    if (born is None) == (expected is None):
        problems.append(
            ("date_of_birth", "give a date of birth, or an expected date if not yet born")
        )
    if born is not None:
        if born > today:
            problems.append(("date_of_birth", "cannot be in the future"))
        elif born <= mother_born:
            problems.append(("date_of_birth", "must be after his or her mother's date of birth"))
    if expected is not None and not (
        today - OVERDUE_GRACE <= expected <= today + LONGEST_PREGNANCY
    ):
        problems.append(("expected_date", "must be within the next 300 days"))
    if values.get("contact_arrangement") != "direct" and not values.get(
        "contact_arrangement_reason"
    ):
        problems.append(("contact_arrangement_reason", "say why contact is not direct"))
    return problems


def child_columns(data: dict[str, Any]) -> dict[str, Any]:
    """Flatten the nested social worker and carer into the child's columns."""
    for nested, fields in NESTED.items():
        if nested in data:
            given = data.pop(nested) or {}
            data.update({f"{nested}_{field}": given.get(field) for field in fields})
    return data


CARER = ("name", "phone", "address")
# The record's nested fields, each kept in a column per part (`carer_name`...).
NESTED = {"social_worker": ("name", "email", "phone"), "carer": CARER}


def _privileged(caller: Caller, child: Child, changes: dict[str, Any]) -> list[tuple[str, str]]:
    """Changes this caller may not make, however valid the values.

    A local authority keeps its own children's records, but cannot hand a child to another
    authority (and out of its own sight): that is the prison side's to record. A confidential
    placement's details, and the confidentiality itself, are the child's own authority's alone:
    everyone else sees them withheld, so could only overwrite them blind.
    """
    problems = []
    if (
        caller.is_local_authority
        and changes.get("local_authority_code", child.local_authority_code)
        != child.local_authority_code
    ):
        problems.append(
            ("local_authority_code", "a local authority cannot move a child to another authority")
        )
    if not sees_placement(caller, child.model_dump()):
        for field in sorted(PLACEMENT_FIELDS & changes.keys()):
            problems.append(
                (
                    field,
                    "withheld (confidential placement); only the child's own "
                    "local authority can change it",
                )
            )
        if changes.get("placement_confidential") is False:
            problems.append(
                (
                    "placement_confidential",
                    "only the child's own local authority can lift a placement's confidentiality",
                )
            )
    return problems


async def _check_codes(session: AsyncSession, values: dict[str, Any]) -> None:
    if values.get("local_authority_code") is not None:
        await require_current_authority(
            session, "local_authority_code", values["local_authority_code"]
        )
    await require_code(session, LegalStatus, "legal_status", values.get("legal_status"))
    await require_code(session, PlacementType, "placement_type", values.get("placement_type"))


async def create_child(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: ChildCreate
) -> Child:
    mother = await get_visible(session, caller, MOTHERS, mother_id)
    values = data.model_dump()
    InvalidInput.raise_any(child_rules(values, mother.date_of_birth, date.today()))
    await _check_codes(session, values)
    child = Child(mother_id=mother.id, **child_columns(values))
    session.add(child)
    await session.flush()
    await history.record(session, caller, child, None)
    return child


async def update_child(
    session: AsyncSession,
    caller: Caller,
    child_id: uuid.UUID,
    data: ChildUpdate,
    if_match: str | None,
) -> tuple[Child, dict[str, Any]]:
    """The child's record changed, and which of its columns changed. Nothing changed: the
    record as it was, its version kept, and nothing in its history."""
    child = await get_visible(session, caller, CHILDREN, child_id, for_update=True)
    check_if_match(if_match, child.version)
    changes = data.changes()
    InvalidInput.raise_any(_privileged(caller, child, changes))
    mother = await session.get(Mother, child.mother_id)
    assert mother is not None  # the foreign key guarantees her
    InvalidInput.raise_any(
        child_rules({**child.model_dump(), **changes}, mother.date_of_birth, date.today())
    )
    await _check_codes(session, {k: v for k, v in changes.items() if v is not None})
    before = child.model_dump()
    if changes.get("local_authority_code", child.local_authority_code) != (
        child.local_authority_code
    ):
        _leave_placement_behind(child, changes)
    changed = apply_changes(child, child_columns(changes))
    if changed:
        await session.flush()
        await history.record(session, caller, child, before)
    return child, changed


def _leave_placement_behind(child: Child, changes: dict[str, Any]) -> None:
    """A child moving to another authority: what was the old authority's stays with it.

    The carer is the old authority's placement: the new authority records its own, and a
    mistyped authority code discloses no one's address. A confidential placement's type and
    who the child lives with go too (the confidentiality stays until the new authority lifts
    it): they would tell the new authority where the child was placed. The old authority's id
    means nothing in the new one's system, and left in place it would let the old authority's
    sync overwrite a child that is no longer its own; nor do the fields its system owned.
    """
    if "carer" not in changes:
        changes["carer"] = None
    if child.placement_confidential or changes.get("placement_confidential"):
        changes["lives_with"] = changes["placement_type"] = None
    child.external_id = None
    # The fields the old authority's system sent are not the new one's: its first push takes
    # the child up keeping what the prison side recorded, as for any child it never synced.
    child.authority_fields = []


def _social_worker_key(child: Child) -> tuple[str, str] | None:
    if not child.social_worker_name:
        return None
    # The same worker is often typed slightly differently on each sibling's record.
    contact = (child.social_worker_email or child.social_worker_phone or "").strip().lower()
    return (child.social_worker_name.strip().lower(), contact)


async def family_view(session: AsyncSession, caller: Caller, mother_id: uuid.UUID) -> FamilyView:
    """Her children across every authority: who lives where, who is separated, who to call.

    This is the picture no single local authority's system has. A local authority sees its own
    children in full and the others reduced to what coordinating with them needs.
    """
    await get_visible(session, caller, MOTHERS, mother_id)
    rows = (
        await session.execute(
            select(Child, LocalAuthority.name)
            .join(LocalAuthority, LocalAuthority.dfe_number == Child.local_authority_code)
            .where(Child.mother_id == mother_id)
            .order_by(Child.date_of_birth, Child.id)
        )
    ).all()
    today = date.today()
    own_authority = caller.local_authority_code if caller.is_local_authority else None

    def shown(child: Child) -> ChildPublic | SiblingForCoordination:
        public = to_public(caller, child.model_dump(), today)
        if own_authority is None or child.local_authority_code == own_authority:
            return public
        return SiblingForCoordination.model_validate(public.model_dump())

    born = [child for child, _ in rows if child.date_of_birth is not None]
    households: dict[tuple[str, ...], list[uuid.UUID]] = {}
    # Households whose arrangement this caller may not see: another authority's.
    withheld: set[tuple[str, ...]] = set()
    # A confidential placement the caller may not see is a household of its own: grouped with
    # a sibling, it would say "lives where that sibling lives".
    hidden = set()
    for child in born:
        key: tuple[str, ...] = (child.lives_with or "", child.local_authority_code)
        # Not recorded (a child moved while placed confidentially) says no more than hidden.
        if child.lives_with is None or not sees_placement(caller, child.model_dump()):
            key = ("", child.local_authority_code, str(child.id))
            hidden.add(key)
        households.setdefault(key, []).append(child.id)
        if key in hidden or own_authority not in (None, child.local_authority_code):
            withheld.add(key)

    authorities: dict[str, AuthorityInvolved] = {}
    workers: dict[tuple[str, str], SocialWorkerInvolved] = {}
    for child, authority_name in rows:
        entry = authorities.setdefault(
            child.local_authority_code,
            AuthorityInvolved(
                dfe_number=child.local_authority_code, name=authority_name, child_ids=[]
            ),
        )
        entry.child_ids.append(child.id)
        key = _social_worker_key(child)
        if key is not None:
            worker = workers.setdefault(
                key,
                SocialWorkerInvolved(
                    name=child.social_worker_name or "",
                    email=child.social_worker_email,
                    phone=child.social_worker_phone,
                    local_authority_code=child.local_authority_code,
                    child_ids=[],
                ),
            )
            worker.child_ids.append(child.id)

    return FamilyView(
        mother_id=mother_id,
        children=[shown(child) for child in born],
        unborn=[shown(child) for child, _ in rows if child.date_of_birth is None],
        households=[
            Household(
                lives_with=None if key in withheld else key[0],
                local_authority_code=key[1],
                child_ids=ids,
            )
            for key, ids in households.items()
        ],
        # Children in different authorities live apart; otherwise only the arrangements the
        # caller may see count: a hidden placement in the same authority says nothing either way.
        separated=len(households.keys() - hidden) > 1 or len({k[1] for k in households}) > 1,
        local_authorities=list(authorities.values()),
        social_workers=list(workers.values()),
    )
