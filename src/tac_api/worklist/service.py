"""The worklist: what needs the prison side's action now, from every kind of record, in one order.

Each rule is one branch of a UNION ALL (`_branches`): the records of one kind that need action
for one reason, under their kind's own scope rule (`tac_api.scope`), of the women held in the
prison asked for. The list is one statement, whatever the prison's size: every branch, the
women's names, the soonest `limit` items and the counts of every item by kind and reason (and,
on PostgreSQL, the audit rows of what is shown). It is built once per database, role and
`mine`, with everything that varies bound at execution, and read as plain rows.

Where a rule already lives elsewhere it is used from there, not copied: the notice a hearing or
meeting had (`notice.notice_days_sql`), releases due (`release.due.mothers_due`), the review
schedule (`reviews.due.milestones_owed`), the group follow-ups owed (`groups.service.follow_ups`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel.sql.sqltypes import UTCDateTime

from tac_api.assessments.models import ParentingAssessment
from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.config import Settings
from tac_api.db import fetch_rows
from tac_api.errors import InvalidInput, NotFound
from tac_api.flags.models import ReviewFlag
from tac_api.groups.service import follow_ups
from tac_api.hearings.models import CourtHearing
from tac_api.link_requests.models import LinkRequest
from tac_api.meetings.models import Meeting
from tac_api.mothers.models import Mother
from tac_api.mothers.service import mother_named
from tac_api.notice import notice_days_sql
from tac_api.reference.models import Prison
from tac_api.release.due import mothers_due
from tac_api.resources import audits_in_one
from tac_api.reviews.due import milestones_owed
from tac_api.reviews.service import DUE_WITHIN_DAYS
from tac_api.scope import (
    assessment_visible,
    hearing_visible,
    held_in,
    link_request_visible,
    meeting_visible,
    review_flag_visible,
    task_visible,
    visit_visible,
)
from tac_api.staff.caseload import current_worker
from tac_api.staff.models import StaffMember
from tac_api.staff.service import signed_in_as
from tac_api.tasks.models import Task
from tac_api.tasks.service import GROUP_FOLLOW_UP
from tac_api.visits.models import ContactVisit
from tac_api.visits.schemas import FINAL_CONTACT, OPEN_VISIT_STATUSES
from tac_api.worklist.schemas import Worklist, WorklistCount, WorklistItem, WorklistMother

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_WITHIN_DAYS = 366
SCHEDULED = "scheduled"

TIME = UTCDateTime()
DAY = Date()
TEXT = String()
ID = Uuid()


def _said(value: str) -> ColumnElement[str]:
    """Our own codes written into the statement, never input: a statement run on the driver
    (`db.fetch_rows`) is sent only the parameters its caller names."""
    assert value.replace("_", "").isalnum(), value
    return literal_column(f"'{value}'", String)


def _typed_null(column_type: Any) -> ColumnElement[Any]:
    # Typed: PostgreSQL resolves a union of untyped NULLs as text.
    return cast(null(), column_type)


def _plus_days(dialect: str, moment: Any, days: Any, *, dated: bool) -> ColumnElement[Any]:
    """A day or a time some days later, `days` a number or a bound parameter."""
    if dialect == "postgresql":
        if dated:
            return moment + days  # a date plus whole days is a date
        assert isinstance(days, int)
        return moment + literal_column(f"interval '{days} days'")
    shift = literal_column(f"'+{days} days'") if isinstance(days, int) else "+" + days + " days"
    return (func.date if dated else func.datetime)(moment, shift, type_=DAY if dated else TIME)


def _sorted_at(dialect: str, day: Any) -> ColumnElement[Any]:
    """A day's place among times: the start of the day (UTC), so that what is due on a day
    comes before what is due at a time that day. SQLite keeps both as ISO text, which sorts so
    as it is."""
    if dialect == "postgresql":
        return func.timezone(literal_column("'UTC'"), cast(day, DateTime()))
    return day


@dataclass(frozen=True)
class Branch:
    """One rule: a kind of item, a reason, and the statement finding its records."""

    kind: str
    reason: str | None  # None: the statement says (a CASE)
    statement: Select[Any]


def _item(
    dialect: str,
    kind: str,
    reason: str | ColumnElement[str],
    resource_type: str | ColumnElement[str],
    record_id: Any,
    mother_id: Any,
    *,
    due_at: Any = None,
    due_on: Any = None,
    since: Any = None,
    detail: Any = None,
) -> list[ColumnElement[Any]]:
    """An item's columns, the same in every branch."""
    # Where it takes its place in the order: when it is due, or else since when it waited.
    places = [due_at, None if due_on is None else _sorted_at(dialect, due_on), since]
    present = [place for place in places if place is not None]
    sort_at = present[0] if len(present) == 1 else func.coalesce(*present)
    return [
        _said(kind).label("kind"),
        (_said(reason) if isinstance(reason, str) else reason).label("reason"),
        (_said(resource_type) if isinstance(resource_type, str) else resource_type).label(
            "resource_type"
        ),
        record_id.label("record_id"),
        mother_id.label("mother_id"),
        (due_at if due_at is not None else _typed_null(TIME)).label("due_at"),
        (due_on if due_on is not None else _typed_null(DAY)).label("due_on"),
        (since if since is not None else _typed_null(TIME)).label("since"),
        (detail if detail is not None else _typed_null(TEXT)).label("detail"),
        sort_at.label("sort_at"),
    ]


def _ahead(starts_at: Any) -> ColumnElement[bool]:
    """Starting from now to the end of the window's last day."""
    return and_(
        starts_at >= bindparam("now", type_=TIME), starts_at < bindparam("window_end", type_=TIME)
    )


def _branches(dialect: str, role: Role) -> list[Branch]:
    prison = bindparam("prison_code", type_=TEXT)
    today = bindparam("today", type_=DAY)
    last_day = bindparam("last_day", type_=DAY)
    late_days = bindparam("late_notice_days", type_=Integer)
    branches: list[Branch] = []

    def held_here(mother_id: Any) -> ColumnElement[bool]:
        """Of the women held in the prison asked for. A prison social worker's scope rule says
        so already (her prison is the one asked for): asked again, PostgreSQL would look at
        every woman held there once more for each kind of record."""
        return held_in(mother_id, prison) if role is Role.admin else true()

    # Hearings: notified late or with no attendance arranged, in the window; the outcome not
    # recorded a day after they started. Only those still going ahead.
    hearing = CourtHearing
    hearing_here = [
        hearing_visible(role),
        held_here(hearing.mother_id),
        hearing.status == _said(SCHEDULED),
    ]

    def hearing_item(reason: str, **when: Any) -> list[ColumnElement[Any]]:
        return _item(
            dialect,
            "court_hearing",
            reason,
            "court_hearing",
            hearing.id,
            hearing.mother_id,
            detail=hearing.hearing_type,
            **when,
        )

    late_hearing = notice_days_sql(dialect, hearing.notified_at, hearing.starts_at) < late_days
    branches += [
        Branch(
            "court_hearing",
            "late_notice",
            select(*hearing_item("late_notice", due_at=hearing.starts_at)).where(
                *hearing_here, _ahead(hearing.starts_at), late_hearing
            ),
        ),
        Branch(
            "court_hearing",
            "no_attendance_arranged",
            select(*hearing_item("no_attendance_arranged", due_at=hearing.starts_at)).where(
                *hearing_here, _ahead(hearing.starts_at), hearing.attendance_mode.is_(None)
            ),
        ),
        Branch(
            "court_hearing",
            "outcome_not_recorded",
            select(
                *hearing_item(
                    "outcome_not_recorded",
                    due_at=_plus_days(dialect, hearing.starts_at, 1, dated=False),
                )
            ).where(
                *hearing_here,
                hearing.outcome_recorded_at.is_(None),
                hearing.starts_at <= bindparam("outcome_due_before", type_=TIME),
            ),
        ),
    ]

    # Meetings in the window, still going ahead: on a platform the prison cannot join, notified
    # late, she not invited, or no one from the service named to go with her.
    meeting_here = [
        meeting_visible(role),
        held_here(Meeting.mother_id),
        Meeting.status == _said(SCHEDULED),
        _ahead(Meeting.starts_at),
    ]
    late_meeting = notice_days_sql(dialect, Meeting.notified_at, Meeting.starts_at) < late_days
    for reason, condition in (
        ("prison_cannot_join", Meeting.prison_can_join.is_(False)),
        ("late_notice", late_meeting),
        ("not_invited", Meeting.invited.is_(False)),
        (
            "no_attendance_arranged",
            and_(Meeting.invited.is_(True), Meeting.supported_by.is_(None)),
        ),
    ):
        branches.append(
            Branch(
                "meeting",
                reason,
                select(
                    *_item(
                        dialect,
                        "meeting",
                        reason,
                        "meeting",
                        Meeting.id,
                        Meeting.mother_id,
                        due_at=Meeting.starts_at,
                        detail=Meeting.meeting_type,
                    )
                ).where(*meeting_here, condition),
            )
        )

    # Contact visits: awaiting approval; final contacts in the window; held with no outcome.
    visit = ContactVisit
    visit_here = [visit_visible(role), held_here(visit.mother_id)]

    def visit_item(reason: str, **when: Any) -> list[ColumnElement[Any]]:
        return _item(
            dialect,
            "contact_visit",
            reason,
            "contact_visit",
            visit.id,
            visit.mother_id,
            detail=visit.visit_type,
            **when,
        )

    branches += [
        Branch(
            "contact_visit",
            "awaiting_approval",
            select(
                *visit_item(
                    "awaiting_approval",
                    due_at=visit.scheduled_at,
                    since=visit.created_at,
                )
            ).where(*visit_here, visit.status == _said("requested")),
        ),
        Branch(
            "contact_visit",
            "final_contact_due",
            select(*visit_item("final_contact_due", due_at=visit.scheduled_at)).where(
                *visit_here,
                visit.visit_type == _said(FINAL_CONTACT),
                visit.status.in_([_said(status) for status in OPEN_VISIT_STATUSES]),
                _ahead(visit.scheduled_at),
            ),
        ),
        Branch(
            "contact_visit",
            "outcome_not_recorded",
            select(
                *visit_item(
                    "outcome_not_recorded", due_at=visit.scheduled_at, since=visit.updated_at
                )
            ).where(*visit_here, visit.status == _said("held"), visit.outcome.is_(None)),
        ),
    ]

    # Parenting assessments requested and not started: to start within
    # TAC_ASSESSMENT_START_DAYS of the request; listed once that day is in the window.
    assessment = ParentingAssessment
    start_by = _plus_days(
        dialect,
        assessment.requested_on,
        bindparam("assessment_start_days", type_=Integer)
        if dialect == "postgresql"
        else cast(bindparam("assessment_start_days", type_=Integer), String),
        dated=True,
    )
    branches.append(
        Branch(
            "parenting_assessment",
            "not_started",
            select(
                *_item(
                    dialect,
                    "parenting_assessment",
                    "not_started",
                    "parenting_assessment",
                    assessment.id,
                    assessment.mother_id,
                    due_on=start_by,
                    detail=assessment.model,
                )
            ).where(
                assessment_visible(role),
                held_here(assessment.mother_id),
                assessment.started_on.is_(None),
                assessment.completed_on.is_(None),
                start_by <= last_day,
            ),
        )
    )

    # Releases due in the window with no plan or an incomplete one: the releases-due list's
    # own statement (`release.due`), for the prison asked for.
    due = mothers_due(role, True)
    no_plan = due.c.release_plan_id.is_(None)
    branches.append(
        Branch(
            "release",
            None,
            select(
                *_item(
                    dialect,
                    "release",
                    case(
                        (no_plan, _said("no_release_plan")), else_=_said("release_plan_incomplete")
                    ),
                    case((no_plan, _said("mother")), else_=_said("release_plan")),
                    func.coalesce(due.c.release_plan_id, due.c.mother_id, type_=ID),
                    due.c.mother_id,
                    due_on=due.c.release_date,
                )
            ),
        )
    )

    # Reviews due or overdue: the review schedule's rule (`reviews.due`).
    owed = milestones_owed(role)
    branches.append(
        Branch(
            "review",
            None,
            select(
                *_item(
                    dialect,
                    "review",
                    case(
                        (owed.c.due_on < today, _said("review_overdue")),
                        else_=_said("review_due"),
                    ),
                    "referral",
                    owed.c.referral_id,
                    owed.c.mother_id,
                    due_on=owed.c.due_on,
                    detail=owed.c.milestone,
                )
            ).where(held_here(owed.c.mother_id)),
        )
    )

    # Group follow-ups owed, due in the window or overdue: `groups.service.follow_ups`.
    owing = follow_ups(role, owed=True).subquery("owing")  # type: ignore[arg-type]
    branches.append(
        Branch(
            "group_follow_up",
            "follow_up_owed",
            select(
                *_item(
                    dialect,
                    "group_follow_up",
                    "follow_up_owed",
                    "group_attendance",
                    owing.c.id,
                    owing.c.mother_id,
                    due_on=owing.c.follow_up_due_on,
                )
            ).where(held_in(owing.c.mother_id, prison), owing.c.follow_up_due_on <= last_day),
        )
    )

    # Link requests from local authorities waiting for the prison side's confirmation: the
    # mother is the one holding the prison number now, in this prison.
    named = aliased(Mother)
    branches.append(
        Branch(
            "link_request",
            "awaiting_confirmation",
            select(
                *_item(
                    dialect,
                    "link_request",
                    "awaiting_confirmation",
                    "link_request",
                    LinkRequest.id,
                    named.id,
                    since=LinkRequest.created_at,
                )
            )
            .join(named, named.id == mother_named(LinkRequest.mother_prison_number))
            .where(
                link_request_visible(role),
                named.prison_code == prison,
                LinkRequest.status == _said("pending"),
            ),
        )
    )

    # Open tasks due in the window, or overdue; open flags for review. A group follow-up's task
    # is that follow-up: listed once, as the follow-up owed (above), not again as a task.
    branches.append(
        Branch(
            "task",
            None,
            select(
                *_item(
                    dialect,
                    "task",
                    case((Task.due_on < today, _said("task_overdue")), else_=_said("task_due")),
                    "task",
                    Task.id,
                    Task.mother_id,
                    due_on=Task.due_on,
                    detail=Task.title,
                )
            ).where(
                task_visible(role),
                held_here(Task.mother_id),
                Task.done_on.is_(None),
                Task.due_on <= last_day,
                Task.made_by_record.is_distinct_from(_said(GROUP_FOLLOW_UP)),
            ),
        )
    )
    branches.append(
        Branch(
            "review_flag",
            "flagged_for_review",
            select(
                *_item(
                    dialect,
                    "review_flag",
                    "flagged_for_review",
                    "review_flag",
                    ReviewFlag.id,
                    ReviewFlag.mother_id,
                    since=ReviewFlag.raised_at,
                    detail=ReviewFlag.resource_type,
                )
            ).where(
                review_flag_visible(role),
                held_here(ReviewFlag.mother_id),
                ReviewFlag.cleared_at.is_(None),
            ),
        )
    )
    return branches


# The kinds of record an item may name, for the audit trail (her own record, "mother", is
# audited as the woman shown).
AUDITED_KINDS = (
    "contact_visit",
    "court_hearing",
    "group_attendance",
    "link_request",
    "meeting",
    "parenting_assessment",
    "referral",
    "release_plan",
    "review_flag",
    "task",
)
ITEM_COLUMNS = (
    "kind",
    "reason",
    "resource_type",
    "record_id",
    "mother_id",
    "due_at",
    "due_on",
    "since",
    "detail",
)
SHOWN = (*ITEM_COLUMNS, "first_name", "last_name", "prison_number", "position")


def _allocated_to_caller(mother_id: Any) -> ColumnElement[bool]:
    """Her current worker (`staff.caseload.current_worker`) is the staff entry the caller signs
    in as."""
    return exists(
        current_worker(mother_id).where(StaffMember.signs_in_as == bindparam("client_id", type_=ID))
    )


@cache
def _statement(dialect: str, role: Role, mine: bool, audited: bool) -> Select[Any]:
    """The worklist's one statement: the soonest `limit` items (with the women's names and
    their place in the order, `position`), then one row per kind and reason with its count
    (`count`; the item columns null). `audited` (PostgreSQL): it writes the audit rows of the
    items and women shown as well."""
    items = union_all(*(branch.statement for branch in _branches(dialect, role))).cte("items")
    listed = (
        select(items, Mother.first_name, Mother.last_name, Mother.prison_number)
        .join(Mother, Mother.id == items.c.mother_id)
        .where(Mother.prison_code == bindparam("prison_code", type_=TEXT))
    )
    if mine:
        listed = listed.where(_allocated_to_caller(items.c.mother_id))
    listed_cte = listed.cte("listed")
    order = [
        listed_cte.c.sort_at,
        listed_cte.c.kind,
        listed_cte.c.reason,
        listed_cte.c.record_id,
    ]
    page = (
        select(
            *(listed_cte.c[name] for name in SHOWN if name != "position"),
            func.row_number().over(order_by=order).label("position"),
        )
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
        .cte("page")
    )
    counts = (
        select(listed_cte.c.kind, listed_cte.c.reason, func.count().label("count"))
        .group_by(listed_cte.c.kind, listed_cte.c.reason)
        .cte("counts")
    )
    types = {
        "kind": TEXT,
        "reason": TEXT,
        "resource_type": TEXT,
        "record_id": ID,
        "mother_id": ID,
        "due_at": TIME,
        "due_on": DAY,
        "since": TIME,
        "detail": TEXT,
        "first_name": TEXT,
        "last_name": TEXT,
        "prison_number": TEXT,
        "position": Integer(),
    }
    shown_rows = select(*(page.c[name] for name in SHOWN), _typed_null(Integer()).label("count"))
    count_rows = select(
        *(
            counts.c[name] if name in ("kind", "reason") else _typed_null(types[name]).label(name)
            for name in SHOWN
        ),
        counts.c["count"],
    )
    result = union_all(shown_rows, count_rows).subquery("result")
    statement = select(result)
    if audited:
        statement = statement.add_cte(_audit_written(page))
    return statement


def _audit_written(page: Any) -> Any:
    """The audit rows of what the page shows (`audit.consulting`): each woman shown once, then
    each record shown once, by kind of record."""
    # DISTINCT over the three columns: a record shown for two reasons is consulted once.
    records = (
        select(page.c.resource_type, page.c.record_id, page.c.mother_id)
        .where(page.c.resource_type != _said("mother"))
        .distinct()
        .subquery("records")
    )
    women = select(page.c.mother_id).distinct().subquery("women")
    nothing = _typed_null(ID)
    audited = union_all(
        select(
            women.c.mother_id.label("her"),
            *(nothing.label(f"record_{kind}") for kind in AUDITED_KINDS),
            women.c.mother_id.label("subject"),
        ),
        select(
            nothing.label("her"),
            *(
                case((records.c.resource_type == _said(kind), records.c.record_id)).label(
                    f"record_{kind}"
                )
                for kind in AUDITED_KINDS
            ),
            records.c.mother_id.label("subject"),
        ),
    ).cte("audited")
    consulted = [audit.Consulted("mother", "her", "subject")]
    consulted += [audit.Consulted(kind, f"record_{kind}", "subject") for kind in AUDITED_KINDS]
    return audit.consulting(audited, consulted, order=("subject",))


def prison_asked(caller: Caller, prison_code: str | None) -> str:
    """The prison whose worklist is asked for: an admin names one (422 without); a prison
    social worker's is hers, and another prison reads as not found, as for her caseloads."""
    if caller.role is Role.admin:
        if prison_code is None:
            raise InvalidInput(
                "prison_code", "name the prison whose worklist you want", location="query"
            )
        return prison_code
    if prison_code is not None and prison_code != caller.prison_code:
        raise NotFound(f"No prison {prison_code} is visible to you.")
    assert caller.prison_code is not None
    return caller.prison_code


async def worklist(
    session: AsyncSession,
    settings: Settings,
    caller: Caller,
    *,
    prison_code: str | None,
    within_days: int,
    mine: bool,
    limit: int,
    now: datetime,
) -> Worklist:
    """The prison's worklist (or, `mine`, of the women allocated to the caller), soonest
    first: a fixed number of statements whatever the prison's size (one on PostgreSQL for a
    worker, items, counts and audit rows together)."""
    prison = prison_asked(caller, prison_code)
    params: dict[str, Any] = {**scope_params(caller), "client_id": caller.client_id}
    if caller.role is Role.admin:
        known = await session.scalar(select(Prison.code).where(Prison.code == prison))
        if known is None:
            raise InvalidInput("prison_code", f"unknown prison {prison!r}", location="query")
    if mine and not await fetch_rows(session, signed_in_as(caller.role), params):
        raise InvalidInput(
            "mine",
            "you are in no staff directory, so no woman is allocated to you: an admin links "
            "your sign-in to your entry",
            location="query",
        )
    now = now.astimezone(UTC)
    today = now.date()
    last_day = today + timedelta(days=within_days)
    params |= {
        "prison_code": prison,
        "now": now,
        "window_end": datetime.combine(last_day + timedelta(days=1), time(), UTC),
        "today": today,
        "first_day": today,
        "last_day": last_day,
        "outcome_due_before": now - timedelta(days=1),
        "late_notice_days": settings.late_notice_days,
        "assessment_start_days": settings.assessment_start_days,
        "review_due_by": today + timedelta(days=DUE_WITHIN_DAYS),
        "limit": limit,
    }
    dialect = session.get_bind().dialect.name
    in_one = audits_in_one(session, caller, params)
    statement = _statement(dialect, caller.role, mine, in_one)
    rows = await fetch_rows(session, statement, params)
    shown = sorted((row for row in rows if row["count"] is None), key=lambda row: row["position"])
    counted = [row for row in rows if row["count"] is not None]
    items = [_to_item(row, now, today) for row in shown]
    if not in_one:
        _note_consulted(session, shown)
    counts = sorted(
        (
            WorklistCount(kind=row["kind"], reason=row["reason"], count=row["count"])
            for row in counted
        ),
        key=lambda count: (count.kind, count.reason),
    )
    total = sum(count.count for count in counts)
    return Worklist(
        prison_code=prison,
        within_days=within_days,
        mine=mine,
        as_of=now,
        total=total,
        truncated=total > len(items),
        counts=counts,
        items=items,
    )


def _note_consulted(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """What the page shows, audited as consulted (as `_audit_written` writes it): each woman
    once, then each record once, by kind of record."""
    women = list(dict.fromkeys(row["mother_id"] for row in rows))
    audit.record_many(session, Action.consult, "mother", ((her, her) for her in women))
    records = dict.fromkeys(
        (row["resource_type"], row["record_id"], row["mother_id"])
        for row in rows
        if row["resource_type"] != "mother"
    )
    for kind in AUDITED_KINDS:
        audit.record_many(
            session,
            Action.consult,
            kind,
            ((record_id, her) for of_kind, record_id, her in records if of_kind == kind),
        )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _words(code: str | None) -> str:
    return (code or "").replace("_", " ")


def _summary(row: Mapping[str, Any], due_at: datetime | None, due_on: date | None) -> str:
    kind, reason, detail = row["kind"], row["reason"], row["detail"]
    when = (
        f"{due_at:%d %b %Y %H:%M} UTC"
        if due_at is not None
        else (f"{due_on:%d %b %Y}" if due_on is not None else "")
    )
    if kind == "court_hearing":
        hearing = f"{_words(detail).capitalize()} hearing on {when}"
        return {
            "late_notice": f"{hearing}: her side had late notice of it.",
            "no_attendance_arranged": f"{hearing}: how she attends is not arranged.",
            "outcome_not_recorded": f"{_words(detail).capitalize()} hearing: its outcome is "
            f"not recorded, due by {when}.",
        }[reason]
    if kind == "meeting":
        meeting = f"{_words(detail).capitalize()} on {when}"
        return {
            "prison_cannot_join": f"{meeting}: the prison cannot join its platform; arrange "
            "another way for her to attend.",
            "late_notice": f"{meeting}: her side had late notice of it.",
            "not_invited": f"{meeting}: she is not invited.",
            "no_attendance_arranged": f"{meeting}: no one from the service is named to attend "
            "with her.",
        }[reason]
    if kind == "contact_visit":
        visit = _words(detail).capitalize()
        return {
            "awaiting_approval": f"{visit}: awaiting approval.",
            "final_contact_due": f"Final contact before adoption on {when}.",
            "outcome_not_recorded": f"{visit}: held, its outcome not recorded.",
        }[reason]
    if kind == "parenting_assessment":
        return f"Parenting assessment not started: due to start by {when}."
    if kind == "release":
        if reason == "no_release_plan":
            return f"Release due on {when} with no release plan."
        return f"Release due on {when} and her release plan is not complete."
    if kind == "review":
        milestone = _words(detail)
        if reason == "review_overdue":
            return f"Her {milestone} review was due on {when}."
        return f"Her {milestone} review is due on {when}."
    if kind == "group_follow_up":
        return f"A one-to-one follow-up after a group session is owed by {when}."
    if kind == "link_request":
        return "A local authority asks to be linked to her: confirm or decline."
    if kind == "task":
        if reason == "task_overdue":
            return f'Task overdue, due on {when}: "{detail}".'
        return f'Task due on {when}: "{detail}".'
    return f"A {_words(detail)} record of hers is flagged for review."


def _to_item(row: Mapping[str, Any], now: datetime, today: date) -> WorklistItem:
    due_at = _utc(row["due_at"])
    due_on = due_at.date() if due_at is not None else _day(row["due_on"])
    overdue = due_at < now if due_at is not None else (due_on is not None and due_on < today)
    return WorklistItem(
        kind=row["kind"],
        reason=row["reason"],
        summary=_summary(row, due_at, due_on),
        mother=WorklistMother(
            id=row["mother_id"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            prison_number=row["prison_number"],
        ),
        resource_type=row["resource_type"],
        resource_id=row["record_id"],
        due_at=due_at,
        due_on=due_on,
        overdue=overdue,
        waiting_since=_utc(row["since"]) if due_at is None and due_on is None else None,
    )
