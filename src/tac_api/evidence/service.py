"""Evidence of rehabilitation: the one scoped statement, the rules of an item, and her bundle."""

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, cast, delete, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.db import fetch_rows, utcnow
from tac_api.errors import InvalidInput
from tac_api.evidence.models import Evidence
from tac_api.evidence.schemas import (
    CATEGORY_LABELS,
    EvidenceBundle,
    EvidenceCreate,
    EvidencePublic,
    EvidenceUpdate,
    VerifierPublic,
)
from tac_api.hearings.models import Proceedings
from tac_api.hearings.proceedings import PROCEEDINGS
from tac_api.mothers.models import Mother
from tac_api.mothers.service import MOTHERS
from tac_api.preconditions import check_if_match
from tac_api.reference.models import Prison
from tac_api.resources import (
    Resource,
    apply_changes,
    audits_in_one,
    get_visible,
    list_visible,
)
from tac_api.schemas import EARLIEST_PLAUSIBLE_DATE
from tac_api.scope import mother_visible

# What a local authority's change feed is told of an item of her evidence: its category, dates,
# hours and when it was verified. Evidence is hers: every authority with a child of hers is told.
FEED_FIELDS = ("category", "started_on", "completed_on", "hours", "verified_on")


def to_public(item: Evidence) -> EvidencePublic:
    verified_by = None
    if item.verified_by_name:
        verified_by = VerifierPublic(name=item.verified_by_name, role=item.verified_by_role or "")
    return EvidencePublic.model_validate(
        {
            **item.model_dump(),
            "hours": None if item.hours is None else float(item.hours),
            "verified_by": verified_by,
        }
    )


EVIDENCE = Resource(
    kind="evidence",
    model=Evidence,
    label="evidence",
    order=(Evidence.started_on, Evidence.id),
    when=Evidence.started_on,
    path="/v1/evidence",
)


def search(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    """Her evidence (a route checks first that the caller may see her: 404 for her otherwise)."""
    return list_visible(caller, EVIDENCE, mother_id=mother_id)


def _rules(values: dict[str, Any], today: date) -> list[tuple[str, str]]:
    """What makes an item believable: it happened (no future dates), in order, and a
    verification says who and when together."""
    problems = []
    started, completed = values.get("started_on"), values.get("completed_on")
    verified_on = values.get("verified_on")
    for field in ("started_on", "completed_on", "verified_on"):
        value = values.get(field)
        if value is None:
            continue
        if value > today:
            problems.append((field, "cannot be in the future: evidence is of what she has done"))
        elif value < EARLIEST_PLAUSIBLE_DATE:
            problems.append((field, "is not a plausible date"))
    if started is not None and completed is not None and completed < started:
        problems.append(("completed_on", "cannot be before started_on"))
    has_verifier = bool(values.get("verified_by") or values.get("verified_by_name"))
    if has_verifier and verified_on is None:
        problems.append(("verified_on", "say when it was verified"))
    if verified_on is not None and not has_verifier:
        problems.append(("verified_by", "say who verified it"))
    if started is not None and verified_on is not None and verified_on < started:
        problems.append(("verified_on", "cannot be before started_on"))
    return problems


def _columns(data: dict[str, Any]) -> dict[str, Any]:
    """Flatten the nested verifier into the item's columns."""
    if "verified_by" in data:
        given = data.pop("verified_by") or {}
        data["verified_by_name"] = given.get("name")
        data["verified_by_role"] = given.get("role")
    return data


async def create_evidence(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: EvidenceCreate
) -> Evidence:
    mother = await get_visible(session, caller, MOTHERS, mother_id)
    values = data.model_dump()
    InvalidInput.raise_any(_rules(values, date.today()))
    item = Evidence(mother_id=mother.id, **_columns(values))
    session.add(item)
    await session.flush()
    emit(
        session,
        "evidence.added",
        EVIDENCE.kind,
        item.id,
        item.mother_id,
        data=snapshot(item, FEED_FIELDS),
    )
    return item


async def update_evidence(
    session: AsyncSession,
    caller: Caller,
    evidence_id: uuid.UUID,
    data: EvidenceUpdate,
    if_match: str | None,
) -> tuple[Evidence, dict[str, Any]]:
    """The item and what changed (nothing: it keeps its version, and no event is sent)."""
    item = await get_visible(session, caller, EVIDENCE, evidence_id, for_update=True)
    check_if_match(if_match, item.version)
    fed_before = snapshot(item, FEED_FIELDS)
    changes = _columns(data.changes())
    InvalidInput.raise_any(_rules({**item.model_dump(), **changes}, date.today()))
    changed = apply_changes(item, changes)
    if not changed:
        return item, changed
    await session.flush()
    emit(
        session,
        "evidence.updated",
        EVIDENCE.kind,
        item.id,
        item.mother_id,
        data=changes_between(fed_before, snapshot(item, FEED_FIELDS)),
    )
    return item, changed


async def delete_evidence(
    session: AsyncSession, caller: Caller, evidence_id: uuid.UUID, if_match: str | None
) -> Evidence:
    item = await get_visible(session, caller, EVIDENCE, evidence_id, for_update=True)
    check_if_match(if_match, item.version)
    await session.execute(delete(Evidence).where(Evidence.id == item.id))
    emit(session, "evidence.deleted", EVIDENCE.kind, item.id, item.mother_id)
    return item


def _hours(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _her_columns() -> list[Any]:
    return [
        Mother.id,
        Mother.first_name,
        Mother.last_name,
        Mother.date_of_birth,
        Mother.prison_number,
        Mother.prison_code,
        Prison.name.label("prison_name"),
    ]


def _none_of(columns: Any, prefix: str) -> list[Any]:
    # Typed: PostgreSQL resolves a union of untyped NULLs as text.
    return [cast(null(), column.type).label(f"{prefix}{column.key}") for column in columns]


_CASE_COLUMNS = (Proceedings.id, Proceedings.issued_on, Proceedings.case_number)


@cache
def _bundle(role: Role) -> Select[Any]:
    """Her, if the caller may see her, with her prison's name and every item of her evidence in
    date order: one row per item (one with no item when she has none); then a row for each of
    her proceedings with the court's case number that the caller may see (for the header).
    One statement."""
    items = (
        select(
            *_her_columns(),
            *(column.label(f"item_{column.key}") for column in Evidence.__table__.c),
            *_none_of(_CASE_COLUMNS, "proceedings_"),
        )
        .join(Prison, Prison.code == Mother.prison_code)
        # Her evidence, as she is found visible: the hot read does not ask her scope twice.
        .outerjoin(Evidence, Evidence.mother_id == Mother.id)
        .where(Mother.id == bindparam("mother_id"), mother_visible(role))
    )
    cases = (
        select(
            *_her_columns(),
            *_none_of(Evidence.__table__.c, "item_"),
            *(column.label(f"proceedings_{column.key}") for column in _CASE_COLUMNS),
        )
        .join(Prison, Prison.code == Mother.prison_code)
        .join(Proceedings, Proceedings.mother_id == Mother.id)
        .where(
            Mother.id == bindparam("mother_id"),
            mother_visible(role),
            Proceedings.case_number.is_not(None),  # type: ignore[union-attr]
            PROCEEDINGS.visible(role),
        )
    )
    both = union_all(items, cases).subquery("bundle")
    return select(both).order_by(*(both.c[name] for name in _ROWS_ORDER))


# What her bundle hands over: her, once, each item (a row each) in the bundle's order, and the
# proceedings whose case numbers head it.
_HER_AND_HER_ITEMS = (
    audit.Consulted(MOTHERS.kind, "id", "id", once=True),
    audit.Consulted(EVIDENCE.kind, "item_id", "item_mother_id"),
    audit.Consulted(PROCEEDINGS.kind, "proceedings_id", "id"),
)
_ITEMS_ORDER = tuple(f"item_{column.key}" for column in EVIDENCE.order)
_ROWS_ORDER = (*_ITEMS_ORDER, "proceedings_issued_on", "proceedings_id")


@cache
def _bundle_disclosed(role: Role) -> Select[Any]:
    """`_bundle` writing its own audit rows (`audit.consulting`): her record, each item and the
    proceedings, as disclosed, in the order they are shown. No row for her (out of scope): no
    audit row."""
    shown = _bundle(role).cte("shown")
    written = audit.consulting(shown, _HER_AND_HER_ITEMS, order=_ROWS_ORDER, action=Action.disclose)
    return select(shown).add_cte(written).order_by(*(shown.c[name] for name in _ROWS_ORDER))


def _item(row: Mapping[str, Any]) -> dict[str, Any]:
    """An item as `to_public` shows it, from its row."""
    verified_by = None
    if row["item_verified_by_name"]:
        verified_by = {
            "name": row["item_verified_by_name"],
            "role": row["item_verified_by_role"] or "",
        }
    hours = row["item_hours"]
    return {
        "id": row["item_id"],
        "created_at": row["item_created_at"],
        "updated_at": row["item_updated_at"],
        "version": row["item_version"],
        "mother_id": row["item_mother_id"],
        "category": row["item_category"],
        "title": row["item_title"],
        "provider": row["item_provider"],
        "started_on": row["item_started_on"],
        "completed_on": row["item_completed_on"],
        "hours": None if hours is None else float(hours),
        "verified_by": verified_by,
        "verified_on": row["item_verified_on"],
    }


async def bundle(session: AsyncSession, caller: Caller, mother_id: uuid.UUID) -> EvidenceBundle:
    """All her evidence in date order, with totals per category, and the court's case numbers
    of her proceedings the caller may see: one statement, however many items there are, read
    as rows (no record is loaded as an object). Audited as disclosed, her, each item and those
    proceedings: put together to be handed on. On PostgreSQL the statement writes its audit
    rows itself (see README, "Reads in two round trips").

    Hours not recorded are one rule everywhere: an item without hours shows none (not 0), a
    total is the sum of the hours recorded, and says how many items it has without."""
    params = {"mother_id": mother_id, **scope_params(caller)}
    in_one = audits_in_one(session, caller, params)
    statement = _bundle_disclosed(caller.role) if in_one else _bundle(caller.role)
    rows = await fetch_rows(session, statement, params)
    if not rows:
        raise MOTHERS.not_found(mother_id)
    her = rows[0]
    items = [_item(row) for row in rows if row["item_id"] is not None]
    cases = [row for row in rows if row["proceedings_id"] is not None]
    if not in_one:
        audit.disclosed(session, MOTHERS, [{"id": mother_id}])
        audit.disclosed(session, EVIDENCE, items)
        audit.record_many(
            session,
            Action.disclose,
            PROCEEDINGS.kind,
            [(row["proceedings_id"], mother_id) for row in cases],
        )
    counts: dict[str, int] = {}
    hours: dict[str, Decimal] = {}
    unknown: dict[str, int] = {}
    for row in rows:
        category = row["item_category"]
        if category is None:
            continue
        counts[category] = counts.get(category, 0) + 1
        hours[category] = hours.get(category, Decimal(0)) + (row["item_hours"] or 0)
        unknown[category] = unknown.get(category, 0) + (row["item_hours"] is None)
    totals = [
        {
            "category": category,
            "count": counts[category],
            "hours": _hours(hours[category]),
            "hours_not_recorded": unknown[category],
        }
        for category in CATEGORY_LABELS
        if category in counts
    ]
    # A local authority knows of her only her name, prison, status and release date: her date of
    # birth and prison number are the prison side's (and a court's, through it).
    known = not caller.is_local_authority
    # Validated once, whole: pydantic's core does it faster than building each item in Python.
    return EvidenceBundle.model_validate(
        {
            "mother": {
                "id": her["id"],
                "first_name": her["first_name"],
                "last_name": her["last_name"],
                "date_of_birth": her["date_of_birth"] if known else None,
                "prison_number": her["prison_number"] if known else None,
                "prison_code": her["prison_code"],
                "prison_name": her["prison_name"],
            },
            "case_numbers": list(dict.fromkeys(row["proceedings_case_number"] for row in cases)),
            "items": items,
            "totals": totals,
            "total": {
                "count": len(items),
                "hours": _hours(sum(hours.values(), Decimal(0))),
                "hours_not_recorded": sum(unknown.values()),
            },
            "generated_at": utcnow(),
        }
    )
