"""Retention: erasing the cases closed for longer than TAC_RETENTION_DAYS.

A case is erased from every table of her case (the tables subject access exports, found from
metadata), those that refer to others first and her own record last, in one transaction per
case together with the audit rows that say so. Her earlier audit rows stay: they hold ids only.
Practitioner directory entries stay too: they are professionals, and other cases may use them.
"""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tac_api.audit.models import AuditEvent
from tac_api.audit.schemas import Action, Outcome
from tac_api.db import sessionmaker_for, utcnow
from tac_api.mothers.models import Mother
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.subject_access.service import belongs_to, case_tables

# Who the audit trail says erased the records: this job, the same id on every run.
CLIENT_ID = uuid.uuid5(uuid.NAMESPACE_URL, "urn:tac-api:retention")
CLIENT_NAME = "tac-api retention"
ROLE = "system"


@dataclass
class Case:
    mother_id: uuid.UUID
    closed_on: date
    rows: dict[str, int]  # per case table: rows to erase (dry run) or erased


@dataclass
class Report:
    as_of: date
    retention_days: int
    applied: bool
    request_id: str
    cases: list[Case] = field(default_factory=list)
    # Reopened (or otherwise no longer due) between being listed and being erased: kept.
    skipped: list[uuid.UUID] = field(default_factory=list)
    # Closed, but with no closing date to count from: kept, and worth a look.
    undated: int = 0

    @property
    def closed_before(self) -> date:
        return self.as_of - timedelta(days=self.retention_days)


def _due(closed_before: date) -> ColumnElement[bool]:
    return and_(Mother.status == "closed", Mother.closed_on < closed_before)


async def count_rows(session: AsyncSession, mother_id: uuid.UUID) -> dict[str, int]:
    counts = {}
    for table in case_tables():
        statement = select(func.count()).select_from(table).where(belongs_to(table, mother_id))
        counts[table.name] = await session.scalar(statement) or 0
    return counts


async def erase_case(
    session: AsyncSession, mother_id: uuid.UUID, closed_before: date, request_id: str
) -> dict[str, int] | None:
    """Erase her case in the session's transaction, with an `erase` audit row per record.
    None (and nothing erased) if she is no longer due: her case was reopened since listing."""
    still_due = select(Mother.id).where(Mother.id == mother_id, _due(closed_before))
    if await session.scalar(still_due.with_for_update()) is None:
        return None
    occurred_at = utcnow()
    erased: dict[str, int] = {}
    events: list[dict[str, Any]] = []
    # Carers are private people, not professionals: one known only through her case goes with it.
    carers = select(Practitioner.id).where(
        Practitioner.role == "carer",
        Practitioner.id.in_(
            select(PractitionerLink.practitioner_id).where(
                belongs_to(PractitionerLink.__table__, mother_id)
            )
        ),
    )
    her_carers = list(await session.scalars(carers))
    # Tables that refer to others first, so no row is left pointing at an erased one (and
    # nothing depends on ON DELETE CASCADE, which not every table may declare).
    for table in reversed(case_tables()):
        statement = delete(table).where(belongs_to(table, mother_id))
        keys = (await session.execute(statement.returning(*table.primary_key.columns))).all()
        erased[table.name] = len(keys)
        events += [
            {
                **events_base(occurred_at, request_id, mother_id),
                "resource_type": table.name,
                "resource_id": key[0] if isinstance(key[0], uuid.UUID) else None,
            }
            for key in keys
        ]
    unlinked_carers = (
        await session.scalars(
            delete(Practitioner)
            .where(
                Practitioner.id.in_(her_carers),
                ~exists().where(PractitionerLink.practitioner_id == Practitioner.id),
            )
            .returning(Practitioner.id)
        )
    ).all()
    events += [
        {
            **events_base(occurred_at, request_id, mother_id),
            "resource_type": "practitioner",
            "resource_id": carer_id,
        }
        for carer_id in unlinked_carers
    ]
    if events:
        await session.execute(insert(AuditEvent.__table__), events)
    counts = {table.name: erased[table.name] for table in case_tables()}
    return {**counts, "practitioner": len(unlinked_carers)} if unlinked_carers else counts


def events_base(occurred_at: Any, request_id: str, mother_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "occurred_at": occurred_at,
        "request_id": request_id,
        "client_id": CLIENT_ID,
        "client_name": CLIENT_NAME,
        "role": ROLE,
        "action": Action.erase.value,
        "subject_id": mother_id,
        "outcome": Outcome.succeeded.value,
    }


async def record_erasures(
    session: AsyncSession,
    request_id: str,
    resource_type: str,
    erased: list[tuple[uuid.UUID, uuid.UUID | None]],
) -> None:
    """An `erase` audit row for each record erased outside a case (its id, and the mother it
    was about, if any), written in the erasing transaction."""
    if not erased:
        return
    occurred_at = utcnow()
    await session.execute(
        insert(AuditEvent.__table__),
        [
            {
                **events_base(occurred_at, request_id, mother_id),
                "resource_type": resource_type,
                "resource_id": record_id,
            }
            for record_id, mother_id in erased
        ],
    )


async def run(engine: AsyncEngine, *, as_of: date, retention_days: int, apply: bool) -> Report:
    """List the cases due for erasure (with their rows per table) and, with `apply`, erase
    each in a transaction of its own: one failure leaves the cases already erased erased."""
    report = Report(
        as_of=as_of,
        retention_days=retention_days,
        applied=apply,
        request_id=f"retention-{uuid.uuid4().hex}",
    )
    sessions = sessionmaker_for(engine)
    async with sessions() as session, session.begin():
        due = (
            await session.execute(
                select(Mother.id, Mother.closed_on)
                .where(_due(report.closed_before))
                .order_by(Mother.closed_on, Mother.id)
            )
        ).all()
        report.undated = (
            await session.scalar(
                select(func.count())
                .select_from(Mother)
                .where(Mother.status == "closed", Mother.closed_on.is_(None))
            )
            or 0
        )
        if not apply:
            for mother_id, closed_on in due:
                rows = await count_rows(session, mother_id)
                report.cases.append(Case(mother_id, closed_on, rows))
            return report
    for mother_id, closed_on in due:
        async with sessions() as session, session.begin():
            erased = await erase_case(session, mother_id, report.closed_before, report.request_id)
        if erased is None:
            report.skipped.append(mother_id)
        else:
            report.cases.append(Case(mother_id, closed_on, erased))
    return report


def report_lines(report: Report) -> list[str]:
    """What the command prints: ids, dates and counts, never a name."""
    lines = [
        f"cases closed before {report.closed_before} "
        f"(TAC_RETENTION_DAYS={report.retention_days}, as of {report.as_of})"
    ]
    for case in report.cases:
        rows = ", ".join(f"{table} {count}" for table, count in case.rows.items())
        lines.append(f"{case.mother_id}\tclosed {case.closed_on}\t{rows}")
    records = sum(sum(case.rows.values()) for case in report.cases)
    cases = f"{len(report.cases)} case{'' if len(report.cases) == 1 else 's'}"
    if not report.applied:
        lines.append(f"dry run: {cases} ({records} records) would be erased; nothing changed.")
        if report.cases:
            lines.append("run again with --apply to erase them.")
    else:
        lines.append(
            f"erased {cases} ({records} records); audit request id {report.request_id}. "
            "Professionals' directory entries are kept; carers known only through an erased "
            "case are erased with it."
            if report.cases
            else "erased 0 cases: none was due."
        )
        for mother_id in report.skipped:
            lines.append(f"{mother_id}\tkept: no longer due (reopened since it was listed)")
    if report.undated:
        lines.append(
            f"{report.undated} closed case(s) kept: no closed_on date to count the period from."
        )
    return lines


async def expire_link_requests(
    engine: AsyncEngine, *, as_of: datetime, expiry_days: int, apply: bool, request_id: str
) -> str:
    """Local authorities' link requests nobody decided within TAC_LINK_REQUEST_EXPIRY_DAYS (and
    decided ones that long after their decision): with `apply`, erased in one transaction with
    an `erase` audit row each, each pending one's authority told through its change feed.
    What the command prints about them."""
    from tac_api.link_requests import service as link_requests

    window = f"link requests older than {expiry_days} days (TAC_LINK_REQUEST_EXPIRY_DAYS)"
    async with sessionmaker_for(engine)() as session, session.begin():
        if not apply:
            due = await link_requests.count_expired(session, as_of, expiry_days)
            return f"{window}: dry run: {due} would go."
        erased = await link_requests.erase_expired(session, as_of, expiry_days)
        await record_erasures(session, request_id, "link_request", erased)
    return f"{window}: erased {len(erased)}."


async def erase_refused_referrals(
    engine: AsyncEngine, *, as_of: date, retention_days: int, apply: bool, request_id: str
) -> str:
    """Referrals declined or found not eligible with no record of hers behind them, decided
    longer than TAC_REFERRAL_RETENTION_DAYS ago: with `apply`, erased in one transaction with
    an `erase` audit row each (naming no subject: no record of hers stood behind them). A
    referral linked to her record is part of her case, and goes with it. What the command
    prints about them."""
    from tac_api.referrals import service as referrals

    decided_before = as_of - timedelta(days=retention_days)
    window = (
        f"referrals declined or not eligible, with no record, decided before {decided_before} "
        f"(TAC_REFERRAL_RETENTION_DAYS={retention_days})"
    )
    async with sessionmaker_for(engine)() as session, session.begin():
        if not apply:
            due = await referrals.count_erasable(session, decided_before)
            return f"{window}: dry run: {due} would go."
        erased = await referrals.erase_erasable(session, decided_before)
        # No record of hers stood behind them: their erasure names no subject.
        await record_erasures(
            session, request_id, "referral", [(referral_id, None) for referral_id in erased]
        )
    return f"{window}: erased {len(erased)}."


async def erase_expired_transfer_summaries(
    engine: AsyncEngine, *, as_of: date, apply: bool, request_id: str
) -> str:
    """What sending prisons kept of the cases they transferred out, past its `kept_until`
    (TAC_TRANSFER_SUMMARY_DAYS after the transfer): with `apply`, erased in one transaction with
    an `erase` audit row each (naming her as its subject); without it, listed by id. Her case
    itself goes on in the receiving prison. What the command prints about them."""
    from tac_api.transfers import service as transfers

    window = f"transfer summaries kept until before {as_of} (TAC_TRANSFER_SUMMARY_DAYS)"
    async with sessionmaker_for(engine)() as session, session.begin():
        if not apply:
            due = await transfers.expired(session, as_of)
            listed = [f"{summary_id}\tkept until {kept_until}" for summary_id, kept_until in due]
            return "\n".join([f"{window}: dry run: {len(due)} would go.", *listed])
        erased = await transfers.erase_expired(session, as_of)
        await record_erasures(session, request_id, "transfer_summary", erased)
    return f"{window}: erased {len(erased)}."
