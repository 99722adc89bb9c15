"""The women's and their children's figures of a report: how many were supported, who they
are (ethnic group, age, domestic abuse) and the children linked to them."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
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

from tac_api.children.models import Child
from tac_api.mothers.models import Mother
from tac_api.reference.models import Ethnicity
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


async def count_children(session: AsyncSession, women: Women, counts: Sequence[Counts]) -> None:
    """The children's figures in one statement: their rows are joined to the women once (the
    costly part), then counted four ways."""
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
        .cte("their_children")
        .prefix_with("MATERIALIZED")
    )
    flags = [their_children.c[f"in_{n}"] for n in periods]

    def each_once(subquery: Any) -> list[ColumnElement[Any]]:
        return [func.coalesce(func.sum(subquery.c[f"in_{n}"]), 0) for n in periods]

    def in_any() -> list[ColumnElement[Any]]:
        return [func.max(their_children.c[f"in_{n}"]).label(f"in_{n}") for n in periods]

    breakdown = select(
        literal("breakdown").label("kind"),
        their_children.c.legal_status,
        their_children.c.lives_with,
        cast(their_children.c.unborn, Integer).label("unborn"),
        *(func.sum(flag) for flag in flags),
    ).group_by(their_children.c.legal_status, their_children.c.lives_with, their_children.c.unborn)
    authorities = select(*in_any()).group_by(their_children.c.local_authority_code).subquery()
    # The same worker is often typed slightly differently on each sibling's record: each way it
    # was typed first (cheap), then the few of those folded to one case.
    typed = (
        select(their_children.c.social_worker_name, their_children.c.worker_contact, *in_any())
        .where(their_children.c.social_worker_name.is_not(None))
        .group_by(their_children.c.social_worker_name, their_children.c.worker_contact)
        .subquery()
    )
    worker = (
        func.lower(func.trim(typed.c.social_worker_name))
        + "|"
        + func.lower(func.trim(typed.c.worker_contact))
    )
    workers = (
        select(*(func.max(typed.c[f"in_{n}"]).label(f"in_{n}") for n in periods))
        .group_by(worker)
        .subquery()
    )
    # A household is a carer type in an authority, as in the family view: siblings born and
    # living in more than one (two differ in carer type or in authority) are separated.
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
    nothing = [literal(None).label("legal_status"), literal(None), literal(None)]
    statement = union_all(
        breakdown,
        select(literal("children.local_authorities"), *nothing, *each_once(authorities)),
        select(literal("children.social_workers"), *nothing, *each_once(workers)),
        select(literal("children.families_with_separated_siblings"), *nothing, *each_once(apart)),
    )
    for kind, legal_status, lives_with, unborn, *figures in await session.execute(statement):
        for n in periods:
            if kind != "breakdown":
                counts[n].add(kind, figures[n])
                continue
            counts[n].add("children.linked", figures[n])
            counts[n].add("children.expected", figures[n] if unborn else 0)
            status = legal_status or "not_looked_after"
            counts[n].add(f"children.by_legal_status.{status}", figures[n])
            # Null once a confidentially placed child moved to another authority, until the
            # new authority records it.
            counts[n].add(f"children.by_lives_with.{lives_with or NOT_RECORDED}", figures[n])
