"""Children pushed by a local authority's system, one or a thousand at a time.

A batch of a thousand children is a handful of statements, whatever its size: the mothers, the
children already known, the codes, one INSERT and one UPDATE, and one INSERT of every child's
history. An item that breaks a rule fails alone, with its own problem; the others are written.
A field the authority's system has never sent for a child keeps what the prison side recorded.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.children import history
from tac_api.children import service as children
from tac_api.children.models import Child
from tac_api.children.schemas import ChildDetails
from tac_api.db import among, bulk_insert, bulk_update, utcnow
from tac_api.errors import (
    Conflict,
    InvalidInput,
    Problem,
    field_name,
)
from tac_api.link_requests import service as link_requests
from tac_api.mothers.models import Mother
from tac_api.mothers.service import prison_numbers
from tac_api.reference.models import LegalStatus, PlacementType
from tac_api.sync.schemas import SyncChild, SyncChildBatchItem
from tac_api.sync.service import authority_of, check_conditions

CHILD_TABLE = Child.__table__
# The columns an authority's system keeps: everything in the child's record but whose she is,
# which authority, the record's own bookkeeping, and which fields the authority has sent.
KEPT_BY_AUTHORITY = tuple(
    column.key
    for column in CHILD_TABLE.columns
    if column.key
    not in {
        "id",
        "created_at",
        "updated_at",
        "version",
        "mother_id",
        "local_authority_code",
        "external_id",
        "authority_fields",
    }
)
# The fields of a child's record an authority's system sends, as the API names them, and the
# columns each is kept in.
SENT_FIELDS = tuple(ChildDetails.model_fields)
COLUMNS_OF = {
    name: tuple(f"{name}_{part}" for part in children.NESTED[name])
    if name in children.NESTED
    else (name,)
    for name in SENT_FIELDS
}
_SENT_FIELD_NAMES = frozenset(SENT_FIELDS)
# Fields that go together: sending one is sending both. A date of birth replaces an expected
# date (a record with both breaks the rules), and a reason belongs to its contact arrangement.
SENT_TOGETHER = {
    "date_of_birth": "expected_date",
    "expected_date": "date_of_birth",
    "contact_arrangement": "contact_arrangement_reason",
    "contact_arrangement_reason": "contact_arrangement",
}
_item_adapter: TypeAdapter[SyncChildBatchItem] = TypeAdapter(SyncChildBatchItem)
_batch_adapter: TypeAdapter[list[SyncChildBatchItem]] = TypeAdapter(list[SyncChildBatchItem])


@dataclass
class ChildOutcome:
    """What became of one item: created, updated, unchanged, pending (held as a link request
    until the prison side confirms), or failed with a problem."""

    index: int
    external_id: str | None
    result: str = "failed"
    row: dict[str, Any] | None = None
    problem: Problem | None = None
    request: dict[str, Any] | None = None  # pending: the authority's link request
    # pending: the mother the request names, if any (for the audit trail, never the answer)
    mother_id: uuid.UUID | None = None
    # Fields the authority's system has never sent that keep the prison side's value.
    kept: list[str] = field(default_factory=list)


@dataclass
class ChildItem:
    index: int
    data: SyncChildBatchItem
    values: dict[str, Any] = field(default_factory=dict)


def _invalid(errors: list[dict[str, Any]]) -> InvalidInput:
    problem = InvalidInput(errors[0]["field"], errors[0]["message"])
    problem.errors = errors
    problem.detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem


def parse_items(raw_items: Sequence[Any]) -> tuple[list[ChildItem], list[ChildOutcome]]:
    """Each item validated on its own: a bad one becomes that item's problem, not the batch's."""
    try:  # the common case, all valid, in one call into the validator
        return [
            ChildItem(n, item) for n, item in enumerate(_batch_adapter.validate_python(raw_items))
        ], []
    except ValidationError:
        pass
    parsed, failed = [], []
    for index, raw in enumerate(raw_items):
        try:
            parsed.append(ChildItem(index, _item_adapter.validate_python(raw)))
        except ValidationError as exc:
            # Echo no input back: it may be personal data, and problem bodies end up in logs.
            errors = [
                {
                    "location": "body",
                    "field": field_name(error["loc"]) or "item",
                    "message": error["msg"],
                }
                for error in exc.errors()
            ]
            external_id = raw.get("external_id") if isinstance(raw, dict) else None
            failed.append(
                ChildOutcome(
                    index,
                    external_id if isinstance(external_id, str) else None,
                    problem=_invalid(errors),
                )
            )
    return parsed, failed


async def _known_codes(session: AsyncSession, model: Any, codes: set[str]) -> set[str]:
    if not codes:
        return set()
    found = await session.scalars(select(model.code).where(among(session, model.code, list(codes))))
    return set(found.all())


def _same(existing: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    return all(existing[name] == values[name] for name in KEPT_BY_AUTHORITY)


def sent_fields(data: SyncChild) -> set[str]:
    """The fields of the child's record this push sent (a default it left to the service is
    not sent), with the fields that go with them."""
    sent = data.model_fields_set & _SENT_FIELD_NAMES
    return sent | {SENT_TOGETHER[name] for name in sent if name in SENT_TOGETHER}


def merge(
    existing: Mapping[str, Any] | None, values: Mapping[str, Any], sent: set[str]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """What the record becomes: (its columns, the fields kept from the prison side's record,
    the fields the authority's system has now sent).

    A field the authority's system has sent, now or before, is the authority's: its PUT
    replaces it, and left out it is cleared. A field it has never sent keeps what the record
    holds, which the prison side recorded.
    """
    if existing is None:
        return dict(values), [], sorted(sent)
    owned = set(existing["authority_fields"]) | sent
    merged, kept = dict(values), []
    for name in SENT_FIELDS:
        if name in owned:
            continue
        columns = COLUMNS_OF[name]
        if any(existing[column] != values[column] for column in columns):
            kept.append(name)
        merged.update({column: existing[column] for column in columns})
    return merged, kept, sorted(owned)


# A child's day: her date of birth, or before she is born the expected date (one is required).
_BORN = func.coalesce(CHILD_TABLE.c.date_of_birth, CHILD_TABLE.c.expected_date)


def _adoption_key(mother_id: uuid.UUID, values: Mapping[str, Any]) -> tuple[Any, ...]:
    born = values["date_of_birth"] or values["expected_date"]
    return (mother_id, values["first_name"].casefold(), born)


async def upsert_children(
    session: AsyncSession,
    caller: Caller,
    items: list[ChildItem],
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
) -> list[ChildOutcome]:
    """Create or update each item's child by the authority's own id, set-based.

    A child the prison side recorded before the authority synced it (same mother, same
    authority, same first name and date of birth, no id of the authority's yet) is taken as
    that child, not made twice.

    A child of a mother the authority is not linked to (no child of hers in that authority), or
    named by a prison number no mother has, is held as a link request instead (`pending`).
    """
    return await _upsert(
        session,
        caller,
        authority_of(caller),
        items,
        if_match=if_match,
        if_none_match=if_none_match,
    )


async def confirmed_child(
    session: AsyncSession, confirmed_by: Caller, authority: str, item: SyncChildBatchItem
) -> ChildOutcome:
    """The child of a link request the prison side confirmed, made as a push by the authority
    that is linked to her would make it (a take-up included). Its history names who confirmed
    it: the values are the authority's, the record exists by her decision."""
    (outcome,) = await _upsert(
        session, confirmed_by, authority, [ChildItem(0, item)], confirmed=True
    )
    return outcome


async def _upsert(
    session: AsyncSession,
    caller: Caller,
    authority: str,
    items: list[ChildItem],
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    confirmed: bool = False,
) -> list[ChildOutcome]:
    """`confirmed`: the prison side (`caller`) linked `authority` to her; otherwise the
    authority's own push (`caller` its system), whose children of mothers it is not linked to
    are held as its requests."""
    outcomes: dict[int, ChildOutcome] = {}
    seen: dict[str, int] = {}
    live: list[ChildItem] = []
    for item in items:
        outcome = outcomes[item.index] = ChildOutcome(item.index, item.data.external_id)
        earlier = seen.setdefault(item.data.external_id, item.index)
        if earlier != item.index:
            outcome.problem = InvalidInput(
                "external_id", f"is also item {earlier} of this batch: send each child once"
            )
        else:
            live.append(item)

    numbers = {item.data.mother_prison_number for item in live}
    # Linked: the authority has a child of hers (confirmed, or recorded by the prison side).
    linked = exists().where(
        CHILD_TABLE.c.mother_id == Mother.id, CHILD_TABLE.c.local_authority_code == authority
    )
    # By the number the authority named: hers, or one NOMIS merged into hers.
    named = prison_numbers()
    mothers = {
        row.prison_number: row
        for row in (
            await session.execute(
                select(
                    Mother.id, named.c.prison_number, Mother.date_of_birth, linked.label("linked")
                )
                .join(named, named.c.mother_id == Mother.id)
                .where(among(session, named.c.prison_number, list(numbers)))
            )
        ).all()
    }
    external_ids = [item.data.external_id for item in live]
    known_query = select(CHILD_TABLE).where(
        CHILD_TABLE.c.local_authority_code == authority,
        among(session, CHILD_TABLE.c.external_id, external_ids),
    )
    # Two syncs of one child at once must not both read the old version and both write.
    result = await session.execute(known_query.with_for_update())
    names = list(result.keys())
    known = {row.external_id: dict(zip(names, row, strict=True)) for row in result}
    legal_statuses = await _known_codes(
        session, LegalStatus, {i.data.legal_status for i in live if i.data.legal_status}
    )
    placement_types = await _known_codes(
        session, PlacementType, {i.data.placement_type for i in live if i.data.placement_type}
    )
    # Always asked, whatever the items: an unknown prison number and a known one the authority
    # is not linked to must cost the same statements.
    requests = await link_requests.held(session, authority, external_ids)

    today = date.today()
    checked: list[tuple[ChildItem, Any]] = []
    asked: list[tuple[ChildItem, link_requests.Asked]] = []
    for item in live:
        outcome = outcomes[item.index]
        data = item.data
        mother = mothers.get(data.mother_prison_number)
        existing = known.get(data.external_id)
        to_child = mother is not None and (confirmed or mother.linked or existing is not None)
        values = children.child_columns(
            data.model_dump(exclude={"external_id", "mother_prison_number"})
        )
        problems = []
        if existing is not None and (mother is None or existing["mother_id"] != mother.id):
            # Said alike whether or not a mother has the number it names now.
            problems.append(
                (
                    "mother_prison_number",
                    "this child is recorded with another mother; the prison social worker "
                    "can correct it",
                )
            )
        elif to_child:
            problems += children.child_rules(values, mother.date_of_birth, today)
        else:
            # Held: only the rules that do not depend on her, or the answer would tell
            # something of her (her date of birth). Confirming checks them all.
            problems += children.child_rules(values, date.min, today)
        if values["legal_status"] and values["legal_status"] not in legal_statuses:
            problems.append(("legal_status", f"unknown code {values['legal_status']!r}"))
        if values["placement_type"] and values["placement_type"] not in placement_types:
            problems.append(("placement_type", f"unknown code {values['placement_type']!r}"))
        try:
            InvalidInput.raise_any(problems)
            check_conditions(existing, if_match, if_none_match)
        except Problem as problem:
            outcome.problem = problem
            continue
        if not to_child:
            # Only what was sent: confirmed, the fields it never sent keep the prison side's.
            held = data.model_dump(
                mode="json", exclude={"external_id", "mother_prison_number"}, exclude_unset=True
            )
            asked.append(
                (item, link_requests.Asked(data.external_id, data.mother_prison_number, held))
            )
            outcome.mother_id = mother.id if mother is not None else None
            continue
        item.values = values
        checked.append((item, mother))

    await link_requests.hold(
        session, authority, caller.name, [request for _, request in asked], requests
    )
    for item, request in asked:
        outcome = outcomes[item.index]
        if request.problem is not None:
            outcome.problem = request.problem
        else:
            outcome.result, outcome.request = "pending", request.request
    await link_requests.fulfilled(session, requests, [item.data.external_id for item, _ in checked])
    await _adopt_recorded_children(session, authority, checked, known)

    now = utcnow()
    # What every child this batch creates has alike: sent once, not a thousand times.
    new = {"created_at": now, "updated_at": now, "version": 1, "local_authority_code": authority}
    created: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    entries: list[dict[str, Any] | None] = []
    for item, mother in checked:
        outcome = outcomes[item.index]
        existing = known.get(item.data.external_id)
        values, kept, owned = merge(existing, item.values, sent_fields(item.data))
        try:
            # What the authority sent was checked above; with what the prison side keeps, the
            # record as it will be must hold too.
            InvalidInput.raise_any(
                children.child_rules(values, mother.date_of_birth, today) if kept else []
            )
        except Problem as problem:
            outcome.problem = problem
            continue
        outcome.kept = kept
        if existing is None:
            row = {
                "id": uuid.uuid4(),
                **new,
                "mother_id": mother.id,
                "external_id": item.data.external_id,
                "authority_fields": owned,
                **values,
            }
            created.append(row)
            entries.append(history.entry(row["id"], None, row))
            outcome.result, outcome.row = "created", row
        elif _same(existing, values) and not existing.get("_adopted"):
            outcome.result, outcome.row = "unchanged", existing
            if owned != sorted(existing["authority_fields"]):
                # Nothing in the record changes (nor its version), but the fields are now the
                # authority's: its next PUT that leaves one out clears it.
                changed.append({**existing, "authority_fields": owned})
        else:
            row = {
                **existing,
                **values,
                "external_id": item.data.external_id,
                "authority_fields": owned,
                "updated_at": now,
                "version": existing["version"] + 1,
            }
            row.pop("_adopted", None)
            changed.append(row)
            entries.append(history.entry(row["id"], existing, row))
            outcome.result, outcome.row = "updated", row

    await _write(session, created, changed, new)
    await history.write(session, caller, entries, now)
    return sorted(outcomes.values(), key=lambda outcome: outcome.index)


async def _adopt_recorded_children(
    session: AsyncSession,
    authority: str,
    checked: list[tuple[ChildItem, Any]],
    known: dict[str, dict[str, Any]],
) -> None:
    """Match new external ids to children the prison side already recorded (see above)."""
    unmatched = [(item, mother) for item, mother in checked if item.data.external_id not in known]
    if not unmatched:
        return
    candidates = (
        (
            await session.execute(
                select(CHILD_TABLE)
                .where(
                    CHILD_TABLE.c.local_authority_code == authority,
                    CHILD_TABLE.c.external_id.is_(None),
                    among(session, CHILD_TABLE.c.mother_id, [m.id for _, m in unmatched]),
                    # Only those born (or due) on a day one of the items is: a mother's other
                    # children, read, locked and decoded for nothing, cost more than the rest.
                    among(
                        session,
                        _BORN,
                        list({_adoption_key(m.id, i.values)[2] for i, m in unmatched}),
                    ),
                )
                .with_for_update()
            )
        )
        .mappings()
        .all()
    )
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for candidate in candidates:
        by_key.setdefault(_adoption_key(candidate["mother_id"], candidate), []).append(
            dict(candidate)
        )
    for item, mother in unmatched:
        matches = by_key.get(_adoption_key(mother.id, item.values), [])
        if len(matches) == 1:  # two alike: twins the authority must tell apart; make a new one
            known[item.data.external_id] = {**matches.pop(), "_adopted": True}


async def _write(
    session: AsyncSession,
    created: list[dict[str, Any]],
    changed: list[dict[str, Any]],
    new: Mapping[str, Any],
) -> None:
    try:
        await bulk_insert(session, CHILD_TABLE, created, same=new)
        await bulk_update(
            session,
            CHILD_TABLE,
            changed,
            ("external_id", "updated_at", "version", "authority_fields", *KEPT_BY_AUTHORITY),
        )
    except (IntegrityError, asyncpg.UniqueViolationError) as exc:
        raise Conflict(
            "Another request synced some of these children at the same moment; send the "
            "batch again (items already written will read as unchanged)."
        ) from exc


def outcome_row(outcome: ChildOutcome) -> dict[str, Any]:
    assert outcome.row is not None
    return outcome.row


# Court hearings and meetings, one at a time -----------------------------------------------
