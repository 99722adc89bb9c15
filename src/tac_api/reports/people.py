"""The women's and their children's figures of a report: how many were supported, who they
are (ethnic group, age, domestic abuse) and the children linked to them."""

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.children.models import Child, ChildHistoryEntry
from tac_api.mothers.models import Mother
from tac_api.reference.models import Ethnicity
from tac_api.reports.as_they_stood import as_they_stood
from tac_api.reports.periods import NOT_RECORDED, Counts, Women, tally

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


async def count_children(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    """The children's figures, each child's record as it stood at each period's end (from its
    history, `as_they_stood`): a child whose record was made after the period's end does not
    count in it. One statement: the women's children and the changes to them since the first
    period began, counted here."""
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
        .order_by(Child.id, entry.changed_at, entry.id)
    )
    moments = [span.ends_before for span in women.spans]
    authorities: list[set[str]] = [set() for _ in periods]
    workers: list[set[str]] = [set() for _ in periods]
    # Each woman's born children's carer types and authorities, by period.
    households: list[dict[Any, tuple[set[str], set[str]]]] = [{} for _ in periods]
    rows = (await session.execute(statement)).all()
    for _, of_child in groupby(rows, key=lambda row: row.id):
        child = list(of_child)
        first = child[0]
        now = dict(zip(CHILD_FIELDS, first[len(periods) + 2 : len(periods) + 10], strict=True))
        history = [(row.changed_at, row.changes) for row in child if row.changed_at is not None]
        for n, stood in enumerate(as_they_stood(now, history, moments)):
            if not first[n] or stood["first_name"] is None:
                continue
            _count_child(counts[n], stood)
            authority = stood["local_authority_code"]
            authorities[n].add(authority)
            if stood["social_worker.name"] is not None:
                workers[n].add(_worker(stood))
            if stood["date_of_birth"] is not None:
                carers, places = households[n].setdefault(first.mother_id, (set(), set()))
                if stood["lives_with"] is not None:
                    carers.add(stood["lives_with"])
                places.add(authority)
    for n in periods:
        counts[n].add("children.local_authorities", len(authorities[n]))
        counts[n].add("children.social_workers", len(workers[n]))
        # A household is a carer type in an authority, as in the family view: siblings born
        # and living in more than one (two differ in carer type or in authority) are separated.
        apart = sum(len(c) > 1 or len(p) > 1 for c, p in households[n].values())
        counts[n].add("children.families_with_separated_siblings", apart)


def _count_child(counts: Counts, child: dict[str, Any]) -> None:
    counts.add("children.linked", 1)
    counts.add("children.expected", 1 if child["date_of_birth"] is None else 0)
    status = child["legal_status"] or "not_looked_after"
    counts.add(f"children.by_legal_status.{status}", 1)
    # Null once a confidentially placed child moved to another authority, until the new
    # authority records it.
    counts.add(f"children.by_lives_with.{child['lives_with'] or NOT_RECORDED}", 1)


def _worker(child: dict[str, Any]) -> str:
    """The same worker is often typed slightly differently on each sibling's record: her name
    and first contact, trimmed and in one case."""
    contact = next(
        (c for c in (child["social_worker.email"], child["social_worker.phone"]) if c is not None),
        "",
    )
    return f"{child['social_worker.name'].strip().lower()}|{contact.strip().lower()}"
