"""Evidence of rehabilitation: the one scoped statement, the rules of an item, and her bundle."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.db import utcnow
from tac_api.errors import InvalidInput
from tac_api.evidence.models import Evidence
from tac_api.evidence.schemas import (
    CATEGORY_LABELS,
    BundleMother,
    BundleTotal,
    CategoryTotal,
    EvidenceBundle,
    EvidenceCreate,
    EvidencePublic,
    EvidenceUpdate,
    VerifierPublic,
)
from tac_api.mothers.models import Mother
from tac_api.mothers.service import MOTHERS
from tac_api.preconditions import check_if_match
from tac_api.reference.models import Prison
from tac_api.resources import Resource, apply_changes, get_visible, list_visible
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


async def bundle(session: AsyncSession, caller: Caller, mother_id: uuid.UUID) -> EvidenceBundle:
    """All her evidence in date order, with totals per category: one statement for her, one for
    the items, however many there are."""
    found = (
        await session.execute(
            select(Mother, Prison.name)
            .join(Prison, Prison.code == Mother.prison_code)
            .where(Mother.id == mother_id, mother_visible(caller))
        )
    ).first()
    if found is None:
        raise MOTHERS.not_found(mother_id)
    mother, prison_name = found
    # Her evidence, as she was just found visible: the hot read does not ask her scope twice.
    items = list(
        await session.scalars(
            select(Evidence).where(Evidence.mother_id == mother_id).order_by(*EVIDENCE.order)
        )
    )
    counts: dict[str, int] = {}
    hours: dict[str, Decimal] = {}
    for item in items:
        counts[item.category] = counts.get(item.category, 0) + 1
        hours[item.category] = hours.get(item.category, Decimal(0)) + (item.hours or 0)
    totals = [
        CategoryTotal(category=category, count=counts[category], hours=_hours(hours[category]))  # type: ignore[arg-type]
        for category in CATEGORY_LABELS
        if category in counts
    ]
    return EvidenceBundle(
        mother=BundleMother.model_validate({**mother.model_dump(), "prison_name": prison_name}),
        items=[to_public(item) for item in items],
        totals=totals,
        total=BundleTotal(count=len(items), hours=_hours(sum(hours.values(), Decimal(0)))),
        generated_at=utcnow(),
    )
