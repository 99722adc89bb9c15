"""The women's and their children's figures of a report: how many were supported, who they
are (ethnic group, age, domestic abuse) and the children linked to them."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.children.models import Child, ChildHistoryEntry
from tac_api.mothers.models import Mother
from tac_api.reference.models import Ethnicity
from tac_api.reports.as_they_stood import as_they_stood
from tac_api.reports.periods import NOT_RECORDED, Counts, Women, read_rows, tally

# Age on the last day of the period, in bands wide enough for a prison of 35 to 100 women:
# (key, label, youngest age in the band).
AGE_BANDS = (
    ("under_25", "Under 25", 0),
    ("25_34", "25 to 34", 25),
    ("35_44", "35 to 44", 35),
    ("45_and_over", "45 and over", 45),
)


def _birthday_cut(on: date, age: int) -> date:
    """Born on or before this day: `age` or older on `on` (29 February counts as 28)."""
    try:
        return on.replace(year=on.year - age)
    except ValueError:
        return on.replace(year=on.year - age, day=28)


def _age_band(on: date) -> ColumnElement[str]:
    return case(
        *(
            (Mother.date_of_birth <= _birthday_cut(on, youngest), key)
            for key, _, youngest in reversed(AGE_BANDS[1:])
        ),
        else_=AGE_BANDS[0][0],
    )


def group_key(group: str) -> str:
    """An ethnic group's key: its name up to the first comma (`Asian, Asian British...` ->
    `asian`, `Not stated` -> `not_stated`)."""
    words = "".join(c if c.isalpha() else " " for c in group.split(",")[0].lower()).split()
    return "_".join(words)


async def count_women(
    session: AsyncSession, women: Women, counts: Sequence[Counts], demographics: bool
) -> None:
    periods = women.periods
    source = women.source.join(Mother, Mother.id == women.id)
    dimensions: list[ColumnElement[Any]] = []
    if demographics:
        source = source.outerjoin(Ethnicity, Ethnicity.code == Mother.ethnicity)
        dimensions = [
            Ethnicity.group,
            Mother.domestic_abuse_history,
            *(_age_band(span.end) for span in women.spans),
        ]
    measures: list[tuple[ColumnElement[bool], None]] = []
    for n in periods:
        span = women.spans[n]
        measures += [
            (women.counted(n), None),
            (and_(women.counted(n), Mother.supported_from >= span.start), None),
            (and_(women.counted(n), Mother.closed_on <= span.end), None),
        ]
    for row in await tally(session, source, [], dimensions, measures):
        figures = row[len(dimensions) :]
        for n in periods:
            supported, new, closed = figures[3 * n : 3 * n + 3]
            counts[n].add("women.active", supported)
            counts[n].add("women.new", new)
            counts[n].add("women.closed", closed)
            if demographics:
                group, abuse, *bands = row[: len(dimensions)]
                group_code = group_key(group) if group else NOT_RECORDED
                counts[n].add(f"demographics.ethnic_group.{group_code}", supported)
                abuse_key = "not_known" if abuse is None else ("yes" if abuse else "no")
                counts[n].add(f"demographics.domestic_abuse.{abuse_key}", supported)
                counts[n].add(f"demographics.age_band.{bands[n]}", supported)


# A child's fields the figures read, by the history's names (`children.history`). Its first
# name stands for the record itself: null before the child's record was made.
CHILD_FIELDS = (
    "first_name",
    "legal_status",
    "lives_with",
    "date_of_birth",
    "local_authority_code",
    "social_worker.name",
    "social_worker.email",
    "social_worker.phone",
)


@dataclass
class _Children:
    """One period's children's figures that are counted once each, whichever way a child was
    counted: the authorities and workers involved."""

    authorities: set[str] = field(default_factory=set)
    workers: set[str] = field(default_factory=set)


async def count_children(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    """The children's figures, each child's record as it stood at each period's end, from its
    history (`as_they_stood`): a child whose record was made after the period's end does not
    count in it.

    Two statements. A woman none of whose children changed since the first period began has
    them counted in the database, as they are recorded now, which is as they stood; the
    children of the few others are read with their changes and counted here. A family is
    counted in one place or the other, whole, so that her siblings are compared together."""
    periods = women.periods
    changed = (
        select(Child.mother_id)
        .join(ChildHistoryEntry, ChildHistoryEntry.child_id == Child.id)
        .where(ChildHistoryEntry.changed_at >= women.window.starts_at)
    )
    once = [_Children() for _ in periods]
    await _count_unchanged(session, women, changed, counts, once)
    await _count_changed(session, women, changed, counts, once)
    for n in periods:
        counts[n].add("children.local_authorities", len(once[n].authorities))
        counts[n].add("children.social_workers", len(once[n].workers))


async def _count_unchanged(
    session: AsyncSession,
    women: Women,
    changed: Select[Any],
    counts: Sequence[Counts],
    once: Sequence[_Children],
) -> None:
    """The children of the women whose children did not change in the periods, in one
    statement: their rows are joined to the women once (the costly part), then counted four
    ways."""
    periods = women.periods
    their_children = (
        select(
            *(women.source.c[f"in_{n}"] for n in periods),
            Child.mother_id,
            Child.legal_status,
            Child.lives_with,
            Child.date_of_birth.is_(None).label("unborn"),
            Child.local_authority_code,
            Child.social_worker_name,
            func.coalesce(Child.social_worker_email, Child.social_worker_phone, "").label(
                "worker_contact"
            ),
        )
        .select_from(women.joined(Child))
        .where(Child.mother_id.not_in(changed))
        .cte("their_children")
        .prefix_with("MATERIALIZED")
    )
    flags = [their_children.c[f"in_{n}"] for n in periods]

    def in_any() -> list[ColumnElement[Any]]:
        return [func.max(their_children.c[f"in_{n}"]).label(f"in_{n}") for n in periods]

    breakdown = select(
        literal("breakdown").label("kind"),
        their_children.c.legal_status.label("first"),
        their_children.c.lives_with.label("second"),
        cast(their_children.c.unborn, Integer).label("unborn"),
        *(func.sum(flag) for flag in flags),
    ).group_by(their_children.c.legal_status, their_children.c.lives_with, their_children.c.unborn)
    authorities = select(
        literal("authority"),
        their_children.c.local_authority_code,
        literal(None),
        literal(None),
        *in_any(),
    ).group_by(their_children.c.local_authority_code)
    # Each way a worker was typed (cheap), folded to one case with the changed children's.
    workers = (
        select(
            literal("worker"),
            their_children.c.social_worker_name,
            their_children.c.worker_contact,
            literal(None),
            *in_any(),
        )
        .where(their_children.c.social_worker_name.is_not(None))
        .group_by(their_children.c.social_worker_name, their_children.c.worker_contact)
    )
    apart = (
        select(*flags)
        .where(their_children.c.unborn.is_(False))
        .group_by(their_children.c.mother_id, *flags)
        .having(
            or_(
                func.min(their_children.c.lives_with) != func.max(their_children.c.lives_with),
                func.min(their_children.c.local_authority_code)
                != func.max(their_children.c.local_authority_code),
            )
        )
        .subquery()
    )
    separated = select(
        literal("separated"),
        literal(None),
        literal(None),
        literal(None),
        *(func.coalesce(func.sum(apart.c[f"in_{n}"]), 0) for n in periods),
    )
    statement = union_all(breakdown, authorities, workers, separated)
    for kind, first, second, unborn, *figures in await read_rows(session, statement):
        for n in periods:
            if kind == "authority":
                if figures[n]:
                    once[n].authorities.add(first)
            elif kind == "worker":
                if figures[n]:
                    once[n].workers.add(_worker(first, second))
            elif kind == "separated":
                counts[n].add("children.families_with_separated_siblings", figures[n])
            else:
                _count_child(
                    counts[n],
                    {"legal_status": first, "lives_with": second, "unborn": unborn},
                    figures[n],
                )


async def _count_changed(
    session: AsyncSession,
    women: Women,
    changed: Select[Any],
    counts: Sequence[Counts],
    once: Sequence[_Children],
) -> None:
    """The children of the women some of whose children changed in the periods, each as it
    stood at each period's end, in one statement: the children and their changes since the
    first period began."""
    periods = women.periods
    entry = ChildHistoryEntry
    statement = (
        select(
            *(women.source.c[f"in_{n}"] for n in periods),
            Child.id,
            Child.mother_id,
            literal(True).label("first_name"),  # the record is there now: its name is not read
            Child.legal_status,
            Child.lives_with,
            Child.date_of_birth,
            Child.local_authority_code,
            Child.social_worker_name,
            Child.social_worker_email,
            Child.social_worker_phone,
            entry.changed_at,
            entry.changes,
        )
        .select_from(
            women.joined(Child).outerjoin(
                entry,
                and_(entry.child_id == Child.id, entry.changed_at >= women.window.starts_at),
            )
        )
        .where(Child.mother_id.in_(changed))
        .order_by(Child.id, entry.changed_at, entry.id)
    )
    moments = [span.ends_before for span in women.spans]
    first_field = len(periods) + 2
    # By period: (legal status, carer, unborn) -> how many; each way a worker was typed; each
    # woman's born children's carer types and authorities.
    breakdown: list[Counter[tuple[Any, Any, bool]]] = [Counter() for _ in periods]
    typed: list[set[tuple[str, str]]] = [set() for _ in periods]
    households: list[dict[Any, tuple[set[str], set[str]]]] = [{} for _ in periods]
    rows = await read_rows(session, statement)
    for _, of_child in groupby(rows, key=lambda row: row.id):
        child = list(of_child)
        first = child[0]
        now = dict(zip(CHILD_FIELDS, first[first_field : first_field + 8], strict=True))
        history = [(row.changed_at, row.changes) for row in child if row.changed_at is not None]
        stood_then = as_they_stood(now, history, moments) if history else [now] * len(moments)
        for n, stood in enumerate(stood_then):
            if not first[n] or stood["first_name"] is None:
                continue
            carer, authority = stood["lives_with"], stood["local_authority_code"]
            born = stood["date_of_birth"] is not None
            breakdown[n][(stood["legal_status"], carer, not born)] += 1
            once[n].authorities.add(authority)
            name = stood["social_worker.name"]
            if name is not None:
                email, phone = stood["social_worker.email"], stood["social_worker.phone"]
                typed[n].add((name, email if email is not None else phone or ""))
            if born:
                carers, places = households[n].setdefault(first.mother_id, (set(), set()))
                if carer is not None:
                    carers.add(carer)
                places.add(authority)
    for n in periods:
        for (legal_status, carer, unborn), number in breakdown[n].items():
            child = {"legal_status": legal_status, "lives_with": carer, "unborn": unborn}
            _count_child(counts[n], child, number)
        once[n].workers.update(_worker(name, contact) for name, contact in typed[n])
        # A household is a carer type in an authority, as in the family view: siblings born
        # and living in more than one (two differ in carer type or in authority) are separated.
        apart = sum(len(c) > 1 or len(p) > 1 for c, p in households[n].values())
        counts[n].add("children.families_with_separated_siblings", apart)


def _count_child(counts: Counts, child: dict[str, Any], number: int) -> None:
    counts.add("children.linked", number)
    counts.add("children.expected", number if child["unborn"] else 0)
    status = child["legal_status"] or "not_looked_after"
    counts.add(f"children.by_legal_status.{status}", number)
    # Null once a confidentially placed child moved to another authority, until the new
    # authority records it.
    counts.add(f"children.by_lives_with.{child['lives_with'] or NOT_RECORDED}", number)


def _worker(name: str, contact: str) -> str:
    """The same worker is often typed slightly differently on each sibling's record: her name
    and first contact, trimmed and in one case."""
    return f"{name.strip().lower()}|{contact.strip().lower()}"
