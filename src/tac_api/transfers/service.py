"""What a sending prison keeps when she moves to another prison: a read-only summary of her case
as it stood, for `TAC_TRANSFER_SUMMARY_DAYS`, audited on every read; and the receiving prison's
handover task listing what is open. Made by the transfer itself (`record_transfer`, called by
`mothers.service.update_mother`, and by anything else that moves her)."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.db import touch
from tac_api.flags.models import ReviewFlag
from tac_api.hearings.models import CourtHearing, CourtHearingChild
from tac_api.history import made_by
from tac_api.meetings.models import Meeting, MeetingChild
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.reference.models import LegalStatus, LocalAuthority, Prison
from tac_api.resources import ChildLinks, Resource, apply_changes, children_through, list_visible
from tac_api.staff.caseload import current_worker
from tac_api.staff.models import Allocation, StaffMember
from tac_api.tasks import service as tasks
from tac_api.tasks.models import Task
from tac_api.transfers.models import TransferSummary
from tac_api.transfers.schemas import (
    Authority,
    CaseAsItStood,
    ChildAsItStood,
    Code,
    OpenHearing,
    OpenMeeting,
    OpenVisit,
    TransferSummaryPublic,
    WhoSheIs,
    Worker,
)
from tac_api.visits.models import ContactVisit, ContactVisitChild
from tac_api.visits.schemas import OPEN_VISIT_STATUSES

SUMMARIES = Resource(
    kind="transfer_summary",
    model=TransferSummary,
    label="transfer summary",
    order=(TransferSummary.transferred_on, TransferSummary.id),
    when=TransferSummary.transferred_on,
    path="/v1/transfer-summaries",
    descending=True,  # newest first
)

# The receiving prison's handover: due within this many days of the transfer, or by the day
# of the first thing open on her case, if that comes sooner.
HANDOVER_DAYS = 7
# The handover task's detail has room for this many characters (`Task.detail`).
DETAIL_LIMIT = 4000


# -- The transfer ------------------------------------------------------------------------------


async def record_transfer(
    session: AsyncSession,
    caller: Caller,
    mother: Mother,
    from_prison_code: str,
    *,
    on: date,
    keep_days: int,
    handover: bool = True,
) -> TransferSummary:
    """Everything that follows her move from `from_prison_code` to the prison her record now
    names (`mother.prison_code`, set by the caller, her row locked), on the day `on`, in the
    caller's transaction:

    - her stay in the sending prison closes and one in the receiving prison opens;
    - the sending prison keeps a summary of her case as it stood, until `on + keep_days`;
    - her open allocation to a worker of the sending prison ends that day (it would otherwise
      keep her on a caseload in a prison she has left);
    - her open tasks move with her case (`scope.task_visible`): each owned by one of the
      sending prison's staff, who can no longer see it, becomes nobody's (the receiving
      prison's, to take on);
    - the receiving prison gets a handover task listing what is open (hearings, visits,
      meetings, her open tasks and flags for review; nobody's yet: the prison's, until someone
      takes it on or she is allocated there); none with `handover=False`: a prison the
      service does not work in (a prison event's transfer out), where no one would read it.

    Audited as collected (the summary, the task) and altered (the allocation, each task whose
    owner was cleared). The caller is who recorded the move: a person through the API, or a
    prison event's system caller."""
    to_prison_code = mother.prison_code
    case = await _case_as_it_stood(session, mother, from_prison_code)
    open_tasks = await _hand_over_tasks(session, mother.id, to_prison_code)
    open_flags = list(
        await session.scalars(
            select(ReviewFlag)
            .where(ReviewFlag.mother_id == mother.id, ReviewFlag.cleared_at.is_(None))
            .order_by(ReviewFlag.raised_at, ReviewFlag.id)
        )
    )
    await _move_stay(session, mother.id, to_prison_code, on)
    await _end_allocation(session, mother.id, to_prison_code, on)
    summary = TransferSummary(
        mother_id=mother.id,
        from_prison_code=from_prison_code,
        to_prison_code=to_prison_code,
        transferred_on=on,
        kept_until=on + timedelta(days=keep_days),
        summary=case.model_dump(mode="json"),
        **made_by(caller),
    )
    session.add(summary)
    await session.flush()
    audit.collected(session, SUMMARIES, summary)
    if not handover:
        return summary
    sending = await session.scalar(select(Prison.name).where(Prison.code == from_prison_code))
    await tasks.make_for_record(
        session,
        caller,
        purpose=tasks.TRANSFER_HANDOVER,
        mother_id=mother.id,
        record=(SUMMARIES.kind, summary.id),
        title=f"Handover: she arrived from {sending or from_prison_code}",
        due_on=handover_due(case, on),
        owner_id=None,
        detail=handover_detail(
            case, from_prison_code, sending, on, open_tasks=open_tasks, open_flags=open_flags
        ),
    )
    return summary


async def _hand_over_tasks(
    session: AsyncSession, mother_id: uuid.UUID, to_prison_code: str
) -> list[Task]:
    """Her open tasks, locked until the request commits (a change to one waits for the move),
    each owned by someone not of the receiving prison made nobody's: its owner can no longer
    see it, and the receiving prison takes it on. Soonest due first."""
    open_tasks = list(
        await session.scalars(
            select(Task)
            .where(Task.mother_id == mother_id, Task.done_on.is_(None))
            .order_by(Task.due_on, Task.id)
            .with_for_update(of=Task)
        )
    )
    owners = {task.owner_id for task in open_tasks if task.owner_id is not None}
    staying = set(
        await session.scalars(
            select(StaffMember.id).where(
                StaffMember.id.in_(owners), StaffMember.prison_code == to_prison_code
            )
        )
        if owners
        else []
    )
    for task in open_tasks:
        if task.owner_id is not None and task.owner_id not in staying:
            change = {"owner_id": None}
            apply_changes(task, change)
            audit.altered(session, tasks.TASKS, task, change)
    return open_tasks


async def _move_stay(
    session: AsyncSession, mother_id: uuid.UUID, to_prison_code: str, on: date
) -> None:
    """Close her current stay and open one in the receiving prison, from the day she moved."""
    current = await session.scalar(
        select(PrisonStay).where(PrisonStay.mother_id == mother_id, PrisonStay.left_on.is_(None))
    )
    if current is not None:
        current.left_on = on
        touch(current)
    session.add(PrisonStay(mother_id=mother_id, prison_code=to_prison_code, arrived_on=on))


async def _end_allocation(
    session: AsyncSession, mother_id: uuid.UUID, to_prison_code: str, on: date
) -> None:
    """Her open allocation ends on the day she moved, when her worker is not of the receiving
    prison: the sending prison's worker no longer carries her (the caseload rule, `placing`,
    would count her otherwise), and the receiving prison allocates her afresh."""
    allocation = await session.scalar(
        select(Allocation)
        .join(StaffMember, StaffMember.id == Allocation.staff_member_id)
        .where(
            Allocation.mother_id == mother_id,
            Allocation.ended_on.is_(None),
            StaffMember.prison_code != to_prison_code,
        )
        .with_for_update(of=Allocation)
    )
    if allocation is None:
        return
    allocation.ended_on = max(on, allocation.allocated_on)
    allocation.end_reason = f"She was transferred to {to_prison_code}."
    touch(allocation)
    audit.record(session, Action.alter, "allocation", allocation.id, mother_id)


# -- Her case as it stood ----------------------------------------------------------------------


async def _case_as_it_stood(
    session: AsyncSession, mother: Mother, from_prison_code: str
) -> CaseAsItStood:
    """Read once, at the transfer: a statement per part of her case (her children, hearings,
    visits, meetings, the children each of those concerns, her worker in the prison she left),
    whatever their number."""
    return CaseAsItStood(
        mother=WhoSheIs.model_validate(mother, from_attributes=True),
        children=await _children(session, mother.id),
        open_hearings=await _open_hearings(session, mother.id),
        open_visits=await _open_visits(session, mother.id),
        open_meetings=await _open_meetings(session, mother.id),
        worker=await _worker(session, mother.id, from_prison_code),
    )


async def _children(session: AsyncSession, mother_id: uuid.UUID) -> list[ChildAsItStood]:
    rows = await session.execute(
        select(
            Child.id,
            Child.first_name,
            Child.last_name,
            Child.date_of_birth,
            Child.expected_date,
            Child.local_authority_code,
            LocalAuthority.name.label("local_authority_name"),
            Child.legal_status,
            LegalStatus.description.label("legal_status_description"),
        )
        .outerjoin(LocalAuthority, LocalAuthority.dfe_number == Child.local_authority_code)
        .outerjoin(LegalStatus, LegalStatus.code == Child.legal_status)
        .where(Child.mother_id == mother_id)
        .order_by(
            func.coalesce(Child.date_of_birth, Child.expected_date), Child.created_at, Child.id
        )
    )
    return [
        ChildAsItStood(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            date_of_birth=row.date_of_birth,
            expected_date=row.expected_date,
            local_authority=Authority(code=row.local_authority_code, name=row.local_authority_name),
            legal_status=(
                Code(code=row.legal_status, description=row.legal_status_description)
                if row.legal_status
                else None
            ),
        )
        for row in rows
    ]


async def _open_hearings(session: AsyncSession, mother_id: uuid.UUID) -> list[OpenHearing]:
    """Still scheduled (not adjourned, vacated or cancelled) with no outcome recorded: to come,
    or past with its outcome still owed."""
    hearings = list(
        await session.scalars(
            select(CourtHearing)
            .where(
                CourtHearing.mother_id == mother_id,
                CourtHearing.status == "scheduled",
                CourtHearing.outcome_recorded_at.is_(None),
            )
            .order_by(CourtHearing.starts_at, CourtHearing.id)
        )
    )
    children = await children_through(
        session,
        None,
        ChildLinks(CourtHearingChild.court_hearing_id, CourtHearingChild.child_id),
        [h.id for h in hearings],
    )
    return [
        OpenHearing.model_validate({**hearing.model_dump(), "child_ids": children[hearing.id]})
        for hearing in hearings
    ]


async def _open_visits(session: AsyncSession, mother_id: uuid.UUID) -> list[OpenVisit]:
    visits = list(
        await session.scalars(
            select(ContactVisit)
            .where(
                ContactVisit.mother_id == mother_id,
                ContactVisit.status.in_(OPEN_VISIT_STATUSES),
            )
            .order_by(ContactVisit.created_at, ContactVisit.id)
        )
    )
    children = await children_through(
        session,
        None,
        ChildLinks(ContactVisitChild.contact_visit_id, ContactVisitChild.child_id),
        [v.id for v in visits],
    )
    return [
        OpenVisit.model_validate({**visit.model_dump(), "child_ids": children[visit.id]})
        for visit in visits
    ]


async def _open_meetings(session: AsyncSession, mother_id: uuid.UUID) -> list[OpenMeeting]:
    """Still scheduled, with her attendance not yet recorded."""
    meetings = list(
        await session.scalars(
            select(Meeting)
            .where(
                Meeting.mother_id == mother_id,
                Meeting.status == "scheduled",
                Meeting.attended.is_(None),
            )
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )
    children = await children_through(
        session,
        None,
        ChildLinks(MeetingChild.meeting_id, MeetingChild.child_id),
        [m.id for m in meetings],
    )
    return [
        OpenMeeting.model_validate({**meeting.model_dump(), "child_ids": children[meeting.id]})
        for meeting in meetings
    ]


async def _worker(
    session: AsyncSession, mother_id: uuid.UUID, from_prison_code: str
) -> Worker | None:
    """Her current worker in the prison she left (`staff.caseload.current_worker`)."""
    row = (await session.execute(current_worker(mother_id, from_prison_code))).first()
    return None if row is None else Worker.model_validate(row, from_attributes=True)


# -- The handover ------------------------------------------------------------------------------


def handover_due(case: CaseAsItStood, on: date) -> date:
    """Within `HANDOVER_DAYS` of the transfer, or by the day of the first open hearing, visit or
    meeting still to come, if sooner (never before the transfer itself)."""
    coming = [
        moment.date()  # in UTC, as every time is kept
        for moment in (
            *(h.starts_at for h in case.open_hearings),
            *(v.scheduled_at for v in case.open_visits if v.scheduled_at is not None),
            *(m.starts_at for m in case.open_meetings),
        )
        if moment.date() >= on
    ]
    return min([on + timedelta(days=HANDOVER_DAYS), *coming])


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "no time set"


def handover_detail(
    case: CaseAsItStood,
    from_prison_code: str,
    sending: str | None,
    on: date,
    *,
    open_tasks: Sequence[Task] = (),
    open_flags: Sequence[ReviewFlag] = (),
) -> str:
    """What the receiving prison's worker reads: what was open on her case when she arrived
    (hearings, visits, meetings, her open tasks and flags for review), one line each, and who
    her worker was. Ids, types and times: never a child's name, nor a task's title or a flag's
    reason (free text: she reads them on the task and the flag, which are hers now)."""
    lines = [f"She was transferred from {sending or from_prison_code} on {on}."]
    items = [
        *(
            f"- Court hearing ({h.hearing_type}) at {h.court_name}, {_when(h.starts_at)}"
            f"{'' if h.attendance_mode else ', attendance not arranged'} [{h.id}]"
            for h in case.open_hearings
        ),
        *(
            f"- Contact visit ({v.visit_type}), {v.status}, {_when(v.scheduled_at)} [{v.id}]"
            for v in case.open_visits
        ),
        *(
            f"- Meeting ({m.meeting_type}) on {m.platform}, {_when(m.starts_at)}"
            f"{'' if m.prison_can_join else ', a platform the prison cannot join'} [{m.id}]"
            for m in case.open_meetings
        ),
        *(
            f"- Task due on {t.due_on}{' (was made by a record)' if t.made_by_record else ''}"
            f" [{t.id}]"
            for t in open_tasks
        ),
        *(
            f"- Flag for review on a {f.resource_type.replace('_', ' ')}, raised on "
            f"{f.raised_at:%Y-%m-%d} [{f.id}]"
            for f in open_flags
        ),
    ]
    lines.append("Open on her case:" if items else "Nothing was open on her case.")
    worker = (
        f"Her worker there was {case.worker.name} ({case.worker.role}); that allocation ended "
        "with the transfer: allocate her to a worker here."
        if case.worker is not None
        else "She was allocated to no worker there: allocate her to a worker here."
    )
    room = DETAIL_LIMIT - len("\n".join([*lines, worker])) - 40
    shown = []
    for position, item in enumerate(items):
        if room - len(item) - 1 < 0:
            shown.append(f"- and {len(items) - position} more")
            break
        shown.append(item)
        room -= len(item) + 1
    return "\n".join([*lines, *shown, worker])


# -- Reading what the sending prison keeps -----------------------------------------------------


def search(
    caller: Caller, *, prison_code: str | None = None, mother_id: uuid.UUID | None = None
) -> Select[Any]:
    """The summaries this caller may read (its own prison's, until kept), newest first; those
    a prison sent (`prison_code`: the sending prison), or hers."""
    statement = list_visible(caller, SUMMARIES, mother_id=mother_id)
    if prison_code:
        statement = statement.where(TransferSummary.from_prison_code == prison_code)
    return statement


def consulted_within(session: AsyncSession, summaries: Sequence[TransferSummary]) -> None:
    """What a summary shows of her other records, audited as consulted too (her as subject):
    the copies of her children, and the hearings, visits and meetings it lists as open (the
    summary itself is audited by the read that shows it)."""
    shown: dict[str, list[tuple[uuid.UUID | None, uuid.UUID | None]]] = {
        "child": [],
        "court_hearing": [],
        "contact_visit": [],
        "meeting": [],
    }
    for summary in summaries:
        case = CaseAsItStood.model_validate(summary.summary)
        her = summary.mother_id
        shown["child"] += [(child.id, her) for child in case.children]
        shown["court_hearing"] += [(hearing.id, her) for hearing in case.open_hearings]
        shown["contact_visit"] += [(visit.id, her) for visit in case.open_visits]
        shown["meeting"] += [(meeting.id, her) for meeting in case.open_meetings]
    for kind, records in shown.items():
        if records:
            audit.record_many(session, Action.consult, kind, list(dict.fromkeys(records)))


def to_public(summary: TransferSummary) -> TransferSummaryPublic:
    return TransferSummaryPublic.model_validate({**summary.model_dump(), "case": summary.summary})


# -- Retention ---------------------------------------------------------------------------------


def _expired(as_of: date) -> Any:
    return TransferSummary.kept_until < as_of


async def expired(session: AsyncSession, as_of: date) -> list[tuple[uuid.UUID, date]]:
    """The summaries kept past their `kept_until`: their ids and that day (for a dry run)."""
    rows = await session.execute(
        select(TransferSummary.id, TransferSummary.kept_until)
        .where(_expired(as_of))
        .order_by(TransferSummary.kept_until, TransferSummary.id)
    )
    return [(row.id, row.kept_until) for row in rows]


async def erase_expired(
    session: AsyncSession, as_of: date
) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    """Erase the summaries kept past their `kept_until` (the day before `as_of` or earlier):
    their ids and whom each was about, for the audit trail. The handover tasks they made stay:
    they are the receiving prison's work on her case, which goes on."""
    erased = await session.execute(
        delete(TransferSummary)
        .where(_expired(as_of))
        .returning(TransferSummary.id, TransferSummary.mother_id)
    )
    return [(row.id, row.mother_id) for row in erased]
