"""Mothers: the one scoped statement, and the rules for recording and changing her record."""

import uuid
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    bindparam,
    exists,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import (
    Caller,
    Role,
    scope_params,
)
from tac_api.changes.service import emit
from tac_api.children.models import Child
from tac_api.config import get_settings
from tac_api.db import contains_text, fetch_rows, utctoday
from tac_api.errors import Conflict, InvalidInput
from tac_api.mothers.models import Mother, PrisonNumberAlias, PrisonStay
from tac_api.mothers.schemas import (
    ChildSummary,
    MotherCreate,
    MotherMinimal,
    MotherPublic,
    MotherUpdate,
    MotherWithChildren,
    check_mother_dates,
)
from tac_api.preconditions import check_if_match
from tac_api.reference.models import Ethnicity, Prison
from tac_api.reference.service import require_code
from tac_api.resources import (
    Resource,
    apply_changes,
    audited_in_one,
    audits_in_one,
    get_visible,
    list_visible,
)
from tac_api.schemas import age_on
from tac_api.scope import mother_visible


@cache
def _mother_with_children(role: Role) -> Select[Any]:
    return (
        select(
            *Mother.__table__.c,
            Child.id.label("child_id"),
            Child.first_name.label("child_first_name"),
            Child.date_of_birth.label("child_date_of_birth"),
            Child.local_authority_code.label("child_local_authority_code"),
            Child.lives_with.label("child_lives_with"),
            Child.placement_confidential.label("child_placement_confidential"),
        )
        .outerjoin(Child, Child.mother_id == Mother.id)
        .where(Mother.id == bindparam("mother_id"), mother_visible(role))
        .order_by(Child.date_of_birth, Child.id)
    )


# What her record with children shows: her, once, and each of her children (a row each).
_HER_AND_HER_CHILDREN = (
    audit.Consulted("mother", "id", "id", once=True),
    audit.Consulted("child", "child_id", "id"),
)
_CHILDREN_ORDER = ("child_date_of_birth", "child_id")


@cache
def _mother_with_children_consulted(role: Role) -> Select[Any]:
    """`_mother_with_children` writing its own audit rows (`audit.consulting`): her record and
    each child's, in the order they are shown."""
    shown = _mother_with_children(role).cte("shown")
    written = audit.consulting(shown, _HER_AND_HER_CHILDREN, order=_CHILDREN_ORDER)
    return select(shown).add_cte(written).order_by(*(shown.c[name] for name in _CHILDREN_ORDER))


async def show_mother_with_children(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID
) -> MotherWithChildren:
    """Her record and a summary of her children in one round trip (a join, no query per child),
    audited as consulted, her and each child: the service's hottest read. On PostgreSQL the
    statement writes its audit rows itself (see README, "Reads in two round trips")."""
    params = {"mother_id": mother_id, **scope_params(caller)}
    if audits_in_one(session, caller, params):
        statement = _mother_with_children_consulted(caller.role)
    else:
        statement = _mother_with_children(caller.role)
    rows = await fetch_rows(session, statement, params)
    if not rows:
        raise MOTHERS.not_found(mother_id)
    today = utctoday()
    children = [
        ChildSummary(
            id=row["child_id"],
            first_name=row["child_first_name"],
            age=age_on(row["child_date_of_birth"], today),
            local_authority_code=row["child_local_authority_code"],
            # Only the prison side reads this summary: never a child's own authority.
            lives_with=None if row["child_placement_confidential"] else row["child_lives_with"],
            placement_withheld=row["child_placement_confidential"],
        )
        for row in rows
        if row["child_id"] is not None
    ]
    record = MotherWithChildren.model_validate({**dict(rows[0]), "children": children})
    if not audited_in_one(session):
        audit.consulted(session, MOTHERS, [record])
        shown = ((child.id, record.id) for child in children)
        audit.record_many(session, Action.consult, "child", shown)
    return record


MOTHERS = Resource(
    kind="mother",
    model=Mother,
    label="mother",
    order=(Mother.last_name, Mother.first_name, Mother.id),
    subject="id",
    path="/v1/mothers",
)


def prison_numbers() -> Subquery:
    """Every prison number that names a mother, with hers: the number her record holds and
    those NOMIS merged into it (`prison_number_alias`). A number is one or the other: a merge
    keeps no alias where both numbers have a case, and a new record cannot take a merged-away
    number (`create_mother`)."""
    her, merged = aliased(Mother), aliased(PrisonNumberAlias)
    return union_all(
        select(her.prison_number.label("prison_number"), her.id.label("mother_id")),
        select(merged.prison_number, merged.mother_id),
    ).subquery("prison_numbers")


def mother_named(prison_number: Any) -> ColumnElement[Any]:
    """The id of the mother this prison number names: her own, or one merged into hers (NULL:
    no one's). `prison_number`: a value, or the column of a record naming her by number (a link
    request, a referral), correlated to that record's row. Every lookup of a mother by prison
    number goes through here, so that the number she had before a merge still finds her.
    Two unique index seeks (each number is held once in each table), no bound values of its
    own: the statements that read through the driver (the worklist) take it as it is."""
    her, merged = aliased(Mother), aliased(PrisonNumberAlias)
    # Correlated to the record naming her however deep it is nested (a scope's EXISTS).
    return func.coalesce(
        select(her.id)
        .where(her.prison_number == prison_number)
        .correlate_except(her)
        .scalar_subquery(),
        select(merged.mother_id)
        .where(merged.prison_number == prison_number)
        .correlate_except(merged)
        .scalar_subquery(),
    )


def search(
    caller: Caller,
    prison_code: str | None,
    status: str | None,
    q: str | None,
    prison_number: str | None = None,
) -> Select[Any]:
    # Her own prison_code, not list_visible's "held in" (a lookup for records about her): an
    # index seek on (prison_code, name) for a prison's list.
    statement = list_visible(caller, MOTHERS)
    if prison_number:
        statement = statement.where(Mother.id == mother_named(prison_number))
    if prison_code:
        statement = statement.where(Mother.prison_code == prison_code)
    if status:
        statement = statement.where(Mother.status == status)
    if q:
        statement = statement.where(contains_text(q, Mother.first_name, Mother.last_name))
    return statement


def to_public(caller: Caller, mother: Mother) -> MotherPublic | MotherMinimal:
    """Her full record for the prison side; who and where she is for a local authority."""
    if caller.is_local_authority:
        return MotherMinimal.model_validate(mother)
    return MotherPublic.model_validate(mother)


async def _check_codes(
    session: AsyncSession, prison_code: str | None, ethnicity: str | None
) -> None:
    await require_code(session, Prison, "prison_code", prison_code)
    await require_code(session, Ethnicity, "ethnicity", ethnicity)


# Without the number: problem bodies are read in logs and by other systems, and a mother held in
# another prison is not this caller's to learn about beyond the fact of the clash.
DUPLICATE = "A mother with this prison number is already recorded (ask an admin if not here)."


async def create_mother(session: AsyncSession, caller: Caller, data: MotherCreate) -> Mother:
    if caller.role is Role.prison_social_worker and data.prison_code != caller.prison_code:
        raise InvalidInput(
            "prison_code", f"you can record mothers held in {caller.prison_code} only"
        )
    InvalidInput.raise_any(
        check_mother_dates(
            data.date_of_birth,
            data.reception_date,
            data.earliest_release_date,
            utctoday(),
            data.supported_from,
        )
    )
    await _check_codes(session, data.prison_code, data.ethnicity)
    # Her number, or one merged into another mother's: either names someone recorded.
    taken = await session.scalar(select(mother_named(data.prison_number)))
    if taken is not None:
        raise Conflict(DUPLICATE)
    mother = Mother(**{**data.model_dump(), "supported_from": data.supported_from or utctoday()})
    if mother.status == "closed":
        mother.closed_on = utctoday()
    session.add(mother)
    session.add(
        PrisonStay(
            mother_id=mother.id, prison_code=mother.prison_code, arrived_on=mother.reception_date
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same prison number
        raise Conflict(DUPLICATE) from exc
    return mother


async def update_mother(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    data: MotherUpdate,
    if_match: str | None,
    *,
    transfer_summary_days: int | None = None,
) -> tuple[Mother, dict[str, Any]]:
    """Her record changed, and what changed (nothing: her record as it was, its version kept),
    checked as a person's change is (If-Match, her dates, the codes), then made as every change
    of her record is (`change_her_record`: a new prison is a transfer)."""
    mother = await get_visible(session, caller, MOTHERS, mother_id, for_update=True)
    check_if_match(if_match, mother.version)
    changes = data.changes()
    merged = {**mother.model_dump(), **changes}
    InvalidInput.raise_any(
        check_mother_dates(
            merged["date_of_birth"],
            merged["reception_date"],
            merged["earliest_release_date"],
            utctoday(),
            merged["supported_from"],
            merged["closed_on"],
        )
    )
    await _check_codes(session, changes.get("prison_code"), changes.get("ethnicity"))
    changed = await change_her_record(
        session, caller, mother, changes, on=utctoday(), transfer_summary_days=transfer_summary_days
    )
    return mother, changed


async def change_her_record(
    session: AsyncSession,
    caller: Caller,
    mother: Mother,
    changes: dict[str, Any],
    *,
    on: date,
    transfer_summary_days: int | None = None,
    handover: bool = True,
) -> dict[str, Any]:
    """Her record (locked, its changes checked by the caller) changed, and what follows from
    it, whoever changed it: a person through the API (`update_mother`) or a prison event
    (`events.service`). What changed is returned (nothing: her version kept).

    - A new prison is a transfer on the day `on` (`transfers.service.record_transfer`): the
      sending prison keeps a summary of her case for `transfer_summary_days` (None:
      TAC_TRANSFER_SUMMARY_DAYS); `handover=False` when the receiving prison is one the service
      does not work in (no one there to hand over to).
    - Her status sets `closed_on` (closed) and clears `released_on` when she is back in custody
      (active, or transferred).
    - Her children's authorities are told (`_emit_changes`)."""
    # Imported here: the transfer reads her allocations, whose service stands on this module.
    from tac_api.transfers.service import record_transfer

    from_prison_code = mother.prison_code
    changed = apply_changes(mother, changes)
    if "prison_code" in changed:
        keep_days = transfer_summary_days or get_settings().transfer_summary_days
        await record_transfer(
            session,
            caller,
            mother,
            from_prison_code,
            on=on,
            keep_days=keep_days,
            handover=handover,
        )
    if "status" in changed:
        # What the retention period counts from: set on closing, cleared when reopened.
        mother.closed_on = utctoday() if changed["status"] == "closed" else None
        if changed["status"] in ("active", "transferred") and mother.released_on is not None:
            changed["released_on"] = mother.released_on = None
    _emit_changes(session, mother, changed)
    await session.flush()
    return changed


def _emit_changes(session: AsyncSession, mother: Mother, changed: dict[str, Any]) -> None:
    """What every authority with a child of hers is told: where she is held, her release, and
    her release date; only fields a local authority reads of her (`MotherMinimal`)."""
    released = changed.get("status") == "released"
    release_date = "earliest_release_date" in changed
    for event_type, fields, told in (
        ("mother.transferred", ["prison_code"], "prison_code" in changed),
        # With the day she was released, when a prison event set it.
        ("mother.released", ["status", "released_on"], released),
        ("mother.release-date-changed", ["earliest_release_date"], release_date),
    ):
        if told:
            said = [field for field in fields if field in changed]
            data = {**{field: changed[field] for field in said}, "changed": said}
            emit(session, event_type, "mother", mother.id, mother.id, data=data)


def prison_stays(mother_id: uuid.UUID) -> Select[Any]:
    return select(PrisonStay).where(PrisonStay.mother_id == mother_id)


def held_there_on(mother_id: Any, prison_code: str, day: date) -> ColumnElement[bool]:
    """Whether she was held in this prison on this day: one of her stays covers it (arrived on
    or before it, not left before it). `mother_id`: her id, or the column of a record naming
    her (correlated to that record's row)."""
    return exists().where(
        PrisonStay.mother_id == mother_id,
        PrisonStay.prison_code == prison_code,
        PrisonStay.arrived_on <= day,
        or_(PrisonStay.left_on.is_(None), PrisonStay.left_on >= day),
    )


STAY_ORDER = [PrisonStay.arrived_on, PrisonStay.id]
