"""Who counts in each period of a report, and the one statement shape every figure is counted with.

Every figure is about the women supported in a prison over a period: held there at some time in
it (a `prison_stay` overlapping it) while the service supported her (from `supported_from` to
`closed_on`). A woman transferred during the period counts in both prisons.

The women are found once, with a flag per period; every section is then one statement over all
the periods together, counted in the database (a sum of flags per period), whatever the number
of women. On PostgreSQL they are kept, for the report's one snapshot, in a temporary table with
statistics; SQLite, the development database, finds them in a subquery each time.
"""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import anyio
from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    FromClause,
    Integer,
    MetaData,
    Row,
    Table,
    Uuid,
    and_,
    case,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.base import Executable

from tac_api.db import driver_connection
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.reports.disclosure import Number

NOT_RECORDED = "not_recorded"


@dataclass(frozen=True)
class Span:
    """A period of whole days, both ends included."""

    start: date
    end: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, UTC)

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)


class Counts(dict[str, Number | None]):
    """One period's figures by key; a figure never counted is 0. A figure that cannot be worked
    out from what is recorded (a cost with no unit cost set) is None and `not_available`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.not_available: set[str] = set()

    def add(self, key: str, amount: Number) -> None:
        self[key] = (self.get(key) or 0) + amount

    def cannot_work_out(self, key: str) -> None:
        self[key] = None
        self.not_available.add(key)


@dataclass(frozen=True)
class Women:
    """The women supported in any of the periods: `source` has a row each, with `id` and a 0/1
    column `in_<n>` per period."""

    source: FromClause
    spans: Sequence[Span]

    @property
    def id(self) -> ColumnElement[Any]:
        return self.source.c.id

    def during(self, n: int, when: ColumnElement[Any]) -> ColumnElement[bool]:
        """In period n: she counts in it, and the record is dated in it (by a day, or by a
        time in UTC)."""
        return and_(self.counted(n), within(when, self.spans[n]))

    @property
    def periods(self) -> range:
        """The periods' numbers, in the order of `spans`."""
        return range(len(self.spans))

    def counted(self, n: int) -> ColumnElement[bool]:
        return self.source.c[f"in_{n}"] == 1

    @property
    def window(self) -> Span:
        return _window(self.spans)

    def joined(self, record: type[Any]) -> FromClause:
        """The women's rows joined to a kind of record of theirs (by its `mother_id`)."""
        return self.source.join(record, record.mother_id == self.id)


def _window(spans: Sequence[Span]) -> Span:
    """From the first period's start to the last one's end."""
    return Span(min(s.start for s in spans), max(s.end for s in spans))


def within(when: ColumnElement[Any], span: Span) -> ColumnElement[bool]:
    if isinstance(when.type, Date):
        return when.between(span.start, span.end)
    return and_(when >= span.starts_at, when < span.ends_before)


def _supported(span: Span) -> ColumnElement[bool]:
    """Her support overlaps the period."""
    return and_(
        Mother.supported_from <= span.end,
        or_(Mother.closed_on.is_(None), Mother.closed_on >= span.start),
    )


def _stay_overlaps(span: Span) -> ColumnElement[bool]:
    return and_(
        PrisonStay.arrived_on <= span.end,
        or_(PrisonStay.left_on.is_(None), PrisonStay.left_on >= span.start),
    )


# The stay and her support overlap each other too (not only the period): a case closed before
# a transfer is not the receiving prison's.
_held_while_supported = and_(
    PrisonStay.arrived_on <= func.coalesce(Mother.closed_on, PrisonStay.arrived_on),
    or_(PrisonStay.left_on.is_(None), PrisonStay.left_on >= Mother.supported_from),
)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


async def women_in(session: AsyncSession, prison: str | None, spans: Sequence[Span]) -> Women:
    """Who counts in each period: in `prison` (every prison when None)."""
    window = _window(spans)
    if prison is None:
        found = select(
            Mother.id.label("id"),
            *(flag(_supported(span)).label(f"in_{n}") for n, span in enumerate(spans)),
        ).where(_supported(window))
    else:
        # One row per stay in the prison; a woman held there twice is one woman.
        found = (
            select(
                Mother.id.label("id"),
                *(
                    func.max(
                        flag(and_(_supported(span), _stay_overlaps(span), _held_while_supported))
                    ).label(f"in_{n}")
                    for n, span in enumerate(spans)
                ),
            )
            .join(PrisonStay, PrisonStay.mother_id == Mother.id)
            .where(PrisonStay.prison_code == prison, _stay_overlaps(window), _supported(window))
            .group_by(Mother.id)
        )
    if await driver_connection(session) is None:
        # SQLite (development): found again by each statement, as a subquery.
        return Women(found.subquery("women"), spans)
    # PostgreSQL: kept for the rest of the snapshot's transaction in a table of its own, with
    # statistics, so that the planner joins a period's records to them the cheap way round.
    table = Table(
        "report_women",
        MetaData(),
        # No key: the joins hash it, and an index would only slow the insert.
        Column("id", Uuid(), nullable=False),
        *(Column(f"in_{n}", Integer(), nullable=False) for n in range(len(spans))),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    await session.execute(CreateTable(table))
    await session.execute(insert(table).from_select(list(table.c.keys()), found))
    await session.execute(text("ANALYZE report_women"))
    return Women(table, spans)


async def read_rows(session: AsyncSession, statement: Executable) -> Sequence[Row[Any]]:
    """A counting statement's rows, on the session's connection: columns, not the ORM's
    entities, so not through the ORM's loading (tens of thousands of rows at most)."""
    return (await (await session.connection()).execute(statement)).all()


async def tally(
    session: AsyncSession,
    source: FromClause,
    where: Sequence[ColumnElement[bool]],
    dimensions: Sequence[ColumnElement[Any]],
    measures: Sequence[tuple[ColumnElement[bool], ColumnElement[Any] | None]],
) -> Sequence[Row[Any]]:
    """Rows of (dimensions..., one figure per measure): a measure (condition, None) counts the
    rows meeting it, (condition, value) sums the value over them.

    Counted outside a subquery that labels everything: PostgreSQL would not match a CASE in
    GROUP BY with the same CASE in the select list, as each carries bind parameters of its own.
    """
    inner = (
        select(
            *(d.label(f"d{n}") for n, d in enumerate(dimensions)),
            *(flag(condition).label(f"m{n}") for n, (condition, _) in enumerate(measures)),
            *(value.label(f"v{n}") for n, (_, value) in enumerate(measures) if value is not None),
        )
        .select_from(source)
        .where(*where)
        .subquery()
    )
    grouped = [inner.c[f"d{n}"] for n in range(len(dimensions))]
    figures = [
        func.coalesce(func.sum(inner.c[f"m{n}"]), 0)
        if value is None
        else func.sum(case((inner.c[f"m{n}"] == 1, inner.c[f"v{n}"])))
        for n, (_, value) in enumerate(measures)
    ]
    statement = select(*grouped, *figures)
    if grouped:
        statement = statement.group_by(*grouped)
    return await read_rows(session, statement)


async def tally_by_period(
    session: AsyncSession,
    women: Women,
    records: Any,
    dated: ColumnElement[Any],
    dimensions: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]] = (),
) -> Sequence[Row[Any]]:
    """Rows of (dimensions..., how many in each period): the women's `records` (a kind of record
    of theirs, or a FROM clause already joining them to the women) dated by `dated`, each
    counted in the period it is dated in."""
    return await tally(
        session,
        records if isinstance(records, FromClause) else women.joined(records),
        [*where, within(dated, women.window)],
        dimensions,
        [(women.during(n, dated), None) for n in women.periods],
    )


@asynccontextmanager
async def snapshot(session: AsyncSession) -> AsyncIterator[None]:
    """Every figure from one consistent snapshot of the database (PostgreSQL: one
    repeatable-read transaction, which writes only a temporary table), without JIT compilation
    or parallel workers, which cost more to start than these statements take, and with room
    to sort and hash in memory."""
    driver = await driver_connection(session)
    if driver is None:
        yield
        return
    transaction = driver.transaction(isolation="repeatable_read")
    await transaction.start()
    try:
        # work_mem: the children's changes sorted and hashed in memory, not spilled to disk
        # (about 20 MB of them at 100,000 mothers), for this one transaction.
        await driver.execute(
            "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0; "
            "SET LOCAL work_mem = '64MB'"
        )
        yield
    finally:
        # Nothing was written but the women's table of its own, which goes with the
        # transaction: rolled back, which frees the connection for the request's audit row.
        try:
            # Shielded: a request cancelled now must still end its transaction.
            with anyio.CancelScope(shield=True):
                await transaction.rollback()
        finally:
            if driver.is_in_transaction():
                # Left inside the report's transaction (a stale snapshot, the table still
                # there), the connection must never serve another request.
                await (await session.connection()).invalidate()
