"""Which tables hold a mother's case, found from the models' metadata, and her export.

Retention erases from the same tables, so a table added later is exported and erased without
anyone remembering to: it belongs to her case if it has a `mother_id` column or a foreign key
path to `mother`. Every other table must be named in NOT_CASE_DATA (a test checks both).
"""

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, ForeignKey, Select, Table, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.models import AuditEvent
from tac_api.audit.schemas import AuditEventPublic
from tac_api.children.history import PLACEMENT_HISTORY_FIELDS
from tac_api.db import UK, load_models, utcnow
from tac_api.mothers.service import mother_named
from tac_api.subject_access.schemas import Subject, SubjectAccessExport, Withheld

MOTHER = "mother"
REFERRAL = "referral"
# The practitioner directory and the service's own staff: professionals, not case data. Her
# export includes the entries her case links to (her workers among them); erasing her case
# leaves them, as other cases may link to them too.
# Entries her case's rows refer to (services in the community: her onward referrals').
DIRECTORY = frozenset({"practitioner", "staff_member", "organisation"})
# Records she has a part in, with other women: a group session she attended (her own row of
# its register is case data). Her export includes those her rows refer to (when and what the
# group did); erasing her case leaves them, and who facilitated them is the directory's.
SHARED = frozenset({"group_session"})
NOT_CASE_DATA = DIRECTORY | frozenset(
    {
        # A group session (her own row of its register is case data; see SHARED) and who
        # facilitated it (staff, about no woman).
        "group_session",
        "group_facilitator",
        # Code lists: nobody's personal data.
        "cp_plan_category",
        "ethnicity",
        "legal_status",
        "local_authority",
        "placement_type",
        "prison",
        # Who may call the API, and how often.
        "api_client",
        "revoked_subject",
        "rate_limit_state",
        # Answers to POSTs kept for a client's retries: copies of records exported from their
        # own tables, and purged TAC_IDEMPOTENCY_KEY_HOURS after their first use.
        "idempotency_key",
        # Ids only; exported as her audit trail and never erased (erasure itself is recorded).
        "audit_event",
        # Where a local authority's system is sent its changes, and what was sent when: an
        # address and event ids, no one's personal data (the events stay in change_event, and
        # what each delivery disclosed is in her audit trail).
        "webhook",
        "webhook_delivery",
        # A local authority's unconfirmed claim to a child of a mother's (by her prison number,
        # not her id): not her case until confirmed, when the child's record is; erased after
        # TAC_LINK_REQUEST_EXPIRY_DAYS, confirmed or not.
        "link_request",
        # The programme's unit costs: an administrator's figures, no one's personal data.
        "unit_cost",
        # The reports' figures as first published: perturbed counts of many women, never one.
        "published_figure",
        # How far publishing to the estate's topic got: a topic and a position, no one's data.
        "event_publication",
    }
)

# A confidential placement: who the child lives with and where could lead someone to the child
# or the carer, so even the mother's own export leaves it out.
CONFIDENTIAL_PLACEMENT_FIELDS = (
    "carer_name",
    "carer_phone",
    "carer_address",
    "lives_with",
    "placement_type",
)
CONFIDENTIAL_PLACEMENT_REASON = (
    "The child's placement is confidential. Who the child lives with and where is information "
    "about other people, withheld to protect the safety of the child and the carer."
)
CARER_FIELDS = ("name", "organisation", "email", "phone", "local_authority_code")
CARER_REASON = (
    "This carer looks after a child whose placement is confidential; who the carer is and how "
    "to reach them is withheld to protect the safety of the child and the carer."
)
NAMED_CARER_REASON = (
    "A carer named here may look after a child whose placement is confidential; the carer's "
    "name is withheld to protect the safety of the child and the carer."
)
CARER = "carer"
# How a worker of the service signs in: her accounts, not the mother's data.
STAFF_SIGN_IN_FIELDS = ("identity_subject", "api_client_id", "signs_in_as")
STAFF_SIGN_IN_REASON = (
    "How a member of the service's staff signs in is about her, not about you: her name, role "
    "and how to reach her are given; her sign-in accounts are withheld."
)


@cache
def _distance_from_mother() -> dict[str, int]:
    """Case tables, each with the length of its shortest foreign key path to `mother`."""
    distance = {MOTHER: 0}
    while True:
        found = {}
        for table in load_models().sorted_tables:
            if table.name in distance:
                continue
            parents = [
                distance[fk.column.table.name]
                for fk in table.foreign_keys
                if fk.column.table.name in distance
            ]
            if "mother_id" in table.c:
                parents.append(0)
            if parents:
                found[table.name] = 1 + min(parents)
        if not found:
            return distance
        distance.update(found)


def case_tables() -> list[Table]:
    """The tables of a mother's case, parents before the tables that refer to them."""
    distance = _distance_from_mother()
    return [table for table in load_models().sorted_tables if table.name in distance]


def belongs_to(table: Table, mother_id: uuid.UUID) -> ColumnElement[bool]:
    """Which rows of a case table are part of her case: by their own `mother_id`, or through a
    foreign key to a case table row that is (a child's record reaches her through the child)."""
    if table.name == MOTHER:
        return table.c.id == mother_id
    distance = _distance_from_mother()
    ways: list[ColumnElement[bool]] = []
    if "mother_id" in table.c:
        ways.append(table.c.mother_id == mother_id)
    for fk in table.foreign_keys:
        parent = fk.column.table
        if fk.parent.name == "mother_id" or parent.name not in distance:
            continue
        # Only towards her (shorter paths): a table referring to itself cannot loop.
        if distance[parent.name] < distance[table.name]:
            ways.append(fk.parent.in_(select(fk.column).where(belongs_to(parent, mother_id))))
    return or_(*ways) if ways else false()


def rows_of(table: Table, mother_id: uuid.UUID) -> Select[Any]:
    return select(table).where(belongs_to(table, mother_id)).order_by(*table.primary_key.columns)


def directory_entries(directory: Table, mother_id: uuid.UUID) -> Select[Any]:
    """The directory entries (or shared records, `SHARED`) her case's rows refer to: never
    another woman's rows."""
    referred = [
        fk.column.in_(select(fk.parent).where(belongs_to(table, mother_id)))
        for table in case_tables()
        for fk in table.foreign_keys
        if fk.column.table is directory
    ]
    return (
        select(directory)
        .where(or_(*referred) if referred else false())
        .order_by(*directory.primary_key.columns)
    )


def json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):  # before date: a datetime is a date too
        # SQLite hands back naive datetimes; everything stored is UTC. Written as the API's are.
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return utc.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


async def _rows(session: AsyncSession, statement: Select[Any]) -> list[dict[str, Any]]:
    result = await session.execute(statement)
    return [{key: json_value(value) for key, value in row.items()} for row in result.mappings()]


def _withhold(row: dict[str, Any], fields: tuple[str, ...], table: str, reason: str) -> Withheld:
    present = [field for field in fields if field in row]
    for field in present:
        del row[field]
    return Withheld(table=table, record_id=row["id"], fields=present, reason=reason)


def withhold_for_others(records: dict[str, list[dict[str, Any]]]) -> Iterator[Withheld]:
    """Leave out what is someone else's: how each of her workers signs in. And what would put
    someone else at risk: confidential placements, and, when any of
    her children is placed confidentially, every carer linked to her case (a carer linked to her
    alone may still be that child's), and every carer named in it: escorting to a contact visit,
    or on either side of a communication."""
    for worker in records.get("staff_member", []):
        yield _withhold(worker, STAFF_SIGN_IN_FIELDS, "staff_member", STAFF_SIGN_IN_REASON)
    confidential = set()
    for child in records.get("child", []):
        if child.get("placement_confidential"):
            confidential.add(child["id"])
            yield _withhold(
                child, CONFIDENTIAL_PLACEMENT_FIELDS, "child", CONFIDENTIAL_PLACEMENT_REASON
            )
    # A child's history holds the placement's earlier values too: withheld while the placement
    # is confidential, and wherever they were recorded while it was.
    for entry in records.get("child_history", []):
        if not (entry["placement_confidential"] or entry["child_id"] in confidential):
            continue
        hidden = [c["field"] for c in entry["changes"] if c["field"] in PLACEMENT_HISTORY_FIELDS]
        if hidden:
            entry["changes"] = [
                c for c in entry["changes"] if c["field"] not in PLACEMENT_HISTORY_FIELDS
            ]
            yield Withheld(
                table="child_history",
                record_id=entry["id"],
                fields=[f"changes.{field}" for field in hidden],
                reason=CONFIDENTIAL_PLACEMENT_REASON,
            )
    if not confidential:
        return
    for practitioner in records.get("practitioner", []):
        if practitioner.get("role") == "carer":
            yield _withhold(practitioner, CARER_FIELDS, "practitioner", CARER_REASON)
    for visit in records.get("contact_visit", []):
        if visit.get("escort_role") == CARER:
            yield _withhold(visit, ("escort_name",), "contact_visit", NAMED_CARER_REASON)
    for communication in records.get("communication", []):
        named = tuple(
            f"{side}_name" for side in ("from", "to") if communication.get(f"{side}_party") == CARER
        )
        if named:
            yield _withhold(communication, named, "communication", NAMED_CARER_REASON)


def unlinked_referrals(prison_number: str) -> Select[Any]:
    """Referrals naming this prison number with no record behind them (declined, not eligible,
    or awaiting a decision): about her, though not (yet) part of her case."""
    referral = load_models().tables[REFERRAL]
    return (
        select(referral)
        .where(referral.c.prison_number == prison_number, referral.c.mother_id.is_(None))
        .order_by(referral.c.id)
    )


def _referrers(referral_ids: list[Any]) -> Select[Any]:
    tables = load_models().tables
    referral, practitioner = tables[REFERRAL], tables["practitioner"]
    return (
        select(practitioner)
        .where(
            practitioner.c.id.in_(
                select(referral.c.referred_by_id).where(referral.c.id.in_(referral_ids))
            )
        )
        .order_by(practitioner.c.id)
    )


async def export(session: AsyncSession, mother_id: uuid.UUID) -> SubjectAccessExport:
    """Her rows in every case table, the directory entries they refer to, the referrals naming
    her prison number that are not linked to her record, and the audit trail of who did what
    with her records (its recipients are part of a subject access answer)."""
    records = {
        table.name: await _rows(session, rows_of(table, mother_id)) for table in case_tables()
    }
    tables = load_models().tables
    prison_number = records[MOTHER][0]["prison_number"]
    earlier = await _rows(session, unlinked_referrals(prison_number))
    if earlier:
        records[REFERRAL] = sorted([*records[REFERRAL], *earlier], key=lambda row: row["id"])
    for name in sorted(DIRECTORY | SHARED):
        records[name] = await _rows(session, directory_entries(tables[name], mother_id))
    if earlier:
        known = {row["id"] for row in records["practitioner"]}
        referrers = await _rows(session, _referrers([uuid.UUID(r["id"]) for r in earlier]))
        records["practitioner"] = sorted(
            [*records["practitioner"], *(p for p in referrers if p["id"] not in known)],
            key=lambda row: row["id"],
        )
    withheld = list(withhold_for_others(records))
    about_her = audit.search(mother_id, None, None, None)
    if earlier:
        # The earlier referrals' rows name no subject (no record stood behind them then).
        about_her = select(AuditEvent).where(
            or_(
                AuditEvent.subject_id == mother_id,
                AuditEvent.resource_id == mother_id,
                AuditEvent.resource_id.in_([uuid.UUID(r["id"]) for r in earlier]),
            )
        )
    trail = await session.scalars(about_her.order_by(AuditEvent.id))
    return SubjectAccessExport(
        generated_at=utcnow(),
        subject=Subject(mother_id=mother_id, prison_number=prison_number),
        records=records,
        audit_trail=[AuditEventPublic.model_validate(event) for event in trail],
        withheld=withheld,
    )


async def export_by_prison_number(
    session: AsyncSession, prison_number: str
) -> SubjectAccessExport | None:
    """For a prison number with no record: the referrals naming it, the directory entries of
    who referred her, and their audit trail. None when nothing is held about it."""
    referrals = await _rows(session, unlinked_referrals(prison_number))
    if not referrals:
        return None
    ids = [uuid.UUID(row["id"]) for row in referrals]
    trail = await session.scalars(
        select(AuditEvent).where(AuditEvent.resource_id.in_(ids)).order_by(AuditEvent.id)
    )
    return SubjectAccessExport(
        generated_at=utcnow(),
        subject=Subject(mother_id=None, prison_number=prison_number),
        records={REFERRAL: referrals, "practitioner": await _rows(session, _referrers(ids))},
        audit_trail=[AuditEventPublic.model_validate(event) for event in trail],
        withheld=[],
    )


async def export_for_prison_number(
    session: AsyncSession, prison_number: str
) -> SubjectAccessExport | None:
    """Everything held under a prison number: her whole export when a mother has that number,
    else the referrals naming it (`export_by_prison_number`). None when nothing is held."""
    # Her number, or one merged into it: her whole case either way.
    mother_id = await session.scalar(select(mother_named(prison_number)))
    if mother_id is not None:
        return await export(session, mother_id)
    return await export_by_prison_number(session, prison_number)


# -- Limited to dates, as the estate's subject access service asks (fromDate, toDate) ----------

# Days as the estate counts them: in England's time, as HMPPS's services read a LocalDate.
# A row's date: when the service came to hold it. A table without a `created_at` is dated by
# when its row was written (a history's change, an event's occurrence); one without either is
# part of another record (a hearing's child, a plan's action) and goes with it (`_owner`).
DATE_COLUMNS = ("created_at", "changed_at", "occurred_at")


def date_column(table: Table) -> str | None:
    return next((name for name in DATE_COLUMNS if name in table.c), None)


@cache
def _owner(table_name: str) -> ForeignKey:
    """The record an undated row is part of: the one its primary key begins with (a hearing's
    child row: the hearing), else the one case record it refers to (a plan's action: the plan)."""
    table = load_models().tables[table_name]
    case = {t.name for t in case_tables()}
    first = next(iter(table.primary_key.columns))
    towards_case = [fk for fk in table.foreign_keys if fk.column.table.name in case]
    by_key = [fk for fk in towards_case if fk.parent is first]
    found = by_key or towards_case
    if len(found) != 1:
        raise LookupError(f"{table_name}: no date column and no one record it is part of")
    return found[0]


def _parse_utc(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def limited_to(
    found: SubjectAccessExport, from_date: date | None, to_date: date | None
) -> SubjectAccessExport | None:
    """The export with only what the service came to hold from `from_date` to `to_date` (whole
    days, both included; None: unbounded), as HMPPS's services limit theirs: each row by its date
    (`DATE_COLUMNS`), the audit trail by when each event occurred, the directory entries and
    shared records the rows kept refer to, and what was withheld from them. None when nothing is
    left."""
    if from_date is None and to_date is None:
        return found
    start = datetime.combine(from_date, time.min, UK) if from_date else None
    # The last day there is ends with time itself: no end to the window.
    end = (
        datetime.combine(to_date + timedelta(days=1), time.min, UK)
        if to_date and to_date < date.max
        else None
    )

    def within(value: Any) -> bool:
        moment = _parse_utc(value)
        return (start is None or moment >= start) and (end is None or moment < end)

    tables = load_models().tables
    records: dict[str, list[dict[str, Any]]] = {}
    for table in case_tables():
        if table.name not in found.records:
            continue
        column = date_column(table)
        if column is not None:
            records[table.name] = [r for r in found.records[table.name] if within(r[column])]
            continue
        owner = _owner(table.name)
        kept = {r[owner.column.name] for r in records.get(owner.column.table.name, [])}
        records[table.name] = [r for r in found.records[table.name] if r[owner.parent.name] in kept]
    for name in sorted(DIRECTORY | SHARED):
        if name not in found.records:
            continue
        referred = {
            row[fk.parent.name]
            for table in case_tables()
            for fk in table.foreign_keys
            if fk.column.table is tables[name]
            for row in records.get(table.name, [])
        }
        records[name] = [r for r in found.records[name] if r["id"] in referred]
    trail = [event for event in found.audit_trail if within(event.occurred_at)]
    if not trail and not any(records.values()):
        return None
    kept_ids = {(name, row["id"]) for name, rows in records.items() for row in rows if "id" in row}
    return found.model_copy(
        update={
            "records": records,
            "audit_trail": trail,
            "withheld": [w for w in found.withheld if (w.table, str(w.record_id)) in kept_ids],
        }
    )
