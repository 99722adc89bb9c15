"""The programme report's figures of the practice around her: group sessions held, attendance
and check-outs lower than check-ins, caseloads (median, workers over the guide), and onward
referrals at release.

Each kind is one statement over every quarter together, whatever the number of quarters or
records: groups by the day each session was held, caseloads as they stood at the end of each
quarter's last day, onward referrals by the day each step was taken."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    case,
    distinct,
    func,
    join,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.config import Settings
from tac_api.groups.models import GroupAttendance, GroupSession
from tac_api.mothers.models import Mother, PrisonStay
from tac_api.release.models import OnwardReferral
from tac_api.reports.catalogue import Catalogue, Spec
from tac_api.reports.periods import Counts, Span, flag, tally, within
from tac_api.reports.records import median_of
from tac_api.staff.caseload import against_guide, placing
from tac_api.staff.models import Allocation, StaffMember

GROUPS = (
    Spec("groups.sessions_held", "Group sessions held"),
    Spec("groups.attendances", "Attendances (rows of the registers)"),
    Spec("groups.women_attended", "Women who attended", attribute=True),
    Spec(
        "groups.check_out.lower",
        "Checked out lower than she checked in",
        part_of="groups.attendances",
    ),
    Spec(
        "groups.check_out.same_or_higher",
        "Checked out the same or higher",
        part_of="groups.attendances",
    ),
    Spec(
        "groups.check_out.not_recorded",
        "Check-in or check-out not recorded",
        part_of="groups.attendances",
    ),
    Spec(
        "groups.follow_up.done",
        "Followed up one to one",
        part_of="groups.check_out.lower",
    ),
    Spec(
        "groups.follow_up.not_done",
        "Not followed up (yet)",
        part_of="groups.check_out.lower",
    ),
)

ONWARD = (
    Spec("onward.made", "Onward referrals made"),
    Spec("onward.accepted", "Accepted", attribute=True),
    Spec("onward.declined", "Declined", attribute=True),
    Spec("onward.first_contacts", "First contact after release", attribute=True),
)
ONWARD_STEPS = (
    ("onward.made", OnwardReferral.made_on),
    ("onward.accepted", OnwardReferral.accepted_on),
    ("onward.declined", OnwardReferral.declined_on),
    ("onward.first_contacts", OnwardReferral.first_contact_on),
)


def caseload_specs(settings: Settings) -> list[Spec]:
    lower, upper = settings.caseload_guide_lower, settings.caseload_guide_upper
    return [
        Spec("caseloads.women_supported", "Women supported on the quarter's last day"),
        Spec(
            "caseloads.women.allocated",
            "On a worker's caseload",
            part_of="caseloads.women_supported",
        ),
        Spec(
            "caseloads.women.unallocated",
            "Allocated to no worker of the prison she is held in",
            part_of="caseloads.women_supported",
        ),
        Spec("caseloads.workers", "Workers with women allocated"),
        Spec(
            "caseloads.workers_by_guide.under",
            f"Under the guide (fewer than {lower} women)",
            part_of="caseloads.workers",
        ),
        Spec(
            "caseloads.workers_by_guide.within",
            f"Within the guide ({lower} to {upper} women)",
            part_of="caseloads.workers",
        ),
        Spec(
            "caseloads.workers_by_guide.over",
            f"Over the guide (more than {upper} women)",
            part_of="caseloads.workers",
        ),
        # A median of a handful of workers' caseloads tells of each: hidden with its base.
        Spec(
            "caseloads.median_women_per_worker",
            "Median women per worker",
            unit="women",
            follows="caseloads.workers",
        ),
    ]


async def add_sections(shown: Catalogue, session: AsyncSession, settings: Settings) -> None:
    """Its sections, in the order they are shown."""
    shown.add("groups", "Groups", GROUPS)
    shown.add(
        "caseloads", "Caseloads at the end of the quarter", caseload_specs(settings), stock=True
    )
    shown.add("onward", "Onward referrals at release", ONWARD)


async def count(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], settings: Settings
) -> None:
    """Its figures of each quarter, added to `counts` (in the order of `quarters`)."""
    await count_groups(session, None, quarters, counts, detail=True)
    await count_caseloads(session, quarters, counts, settings)
    await count_onward(session, quarters, counts)


# Groups ---------------------------------------------------------------------------------------


async def count_groups(
    session: AsyncSession,
    prison: str | None,
    spans: Sequence[Span],
    counts: Sequence[Counts],
    *,
    detail: bool,
) -> None:
    """Sessions held in each period (in `prison`, or every prison when None) and their
    registers' rows, in one statement; with `detail` (the programme report) also the women who
    attended, each once a period, and how they checked out. A session and its register count
    in the period it was held in."""
    window = Span(min(s.start for s in spans), max(s.end for s in spans))
    attendance = GroupAttendance
    lower = attendance.check_out < attendance.check_in
    unrecorded = or_(attendance.check_in.is_(None), attendance.check_out.is_(None))

    def rows(n: int, condition: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
        held = and_(within(GroupSession.held_on, spans[n]), attendance.id.is_not(None))
        counted = held if condition is None else and_(held, condition)
        return func.coalesce(func.sum(flag(counted)), 0)

    columns: list[ColumnElement[Any]] = []
    for n, span in enumerate(spans):
        in_period = within(GroupSession.held_on, span)
        columns += [func.count(distinct(_when(in_period, GroupSession.id))), rows(n)]
        if detail:
            columns += [
                func.count(distinct(_when(in_period, attendance.mother_id))),
                rows(n, lower),
                rows(n, and_(~unrecorded, ~lower)),
                rows(n, unrecorded),
                rows(n, and_(lower, attendance.follow_up_done_on.is_not(None))),
            ]
    statement = (
        select(*columns)
        .select_from(GroupSession)
        .outerjoin(attendance, attendance.group_session_id == GroupSession.id)
        .where(within(GroupSession.held_on, window))
    )
    if prison is not None:
        statement = statement.where(GroupSession.prison_code == prison)
    figures = (await session.execute(statement)).one()
    width = 7 if detail else 2
    for n in range(len(spans)):
        found = [int(value or 0) for value in figures[width * n : width * (n + 1)]]
        counts[n].add("groups.sessions_held", found[0])
        counts[n].add("groups.attendances", found[1])
        if not detail:
            continue
        women, lower_, same_or_higher, not_recorded, followed_up = found[2:]
        counts[n].add("groups.women_attended", women)
        counts[n].add("groups.check_out.lower", lower_)
        counts[n].add("groups.check_out.same_or_higher", same_or_higher)
        counts[n].add("groups.check_out.not_recorded", not_recorded)
        counts[n].add("groups.follow_up.done", followed_up)
        counts[n].add("groups.follow_up.not_done", lower_ - followed_up)


def _when(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    """`value` where the condition holds, else null: counted once each with count(distinct)."""
    return case((condition, value))


# Caseloads ------------------------------------------------------------------------------------


async def count_caseloads(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], settings: Settings
) -> None:
    """The caseloads as they stood at the end of each quarter's last day, as the staff's
    caseloads count them now (`tac_api.staff.caseload`): the women the service supported then,
    each on the caseload of the worker of the prison she was held in whose allocation of her
    was open, or on none. In one statement: each woman's place at each quarter's end, then
    each worker's caseload, then how many workers had each size of caseload."""
    ends = union_all(
        *(
            select(literal(n, Integer).label("n"), literal(span.end, Date).label("on"))
            for n, span in enumerate(quarters)
        )
    ).subquery("quarter_ends")
    # Where she was held on the day: her latest stay begun by then (released, she stays
    # on her last prison's caseloads, as her record's prison does now).
    held_in = (
        select(PrisonStay.prison_code)
        .where(PrisonStay.mother_id == Mother.id, PrisonStay.arrived_on <= ends.c.on)
        .order_by(PrisonStay.arrived_on.desc(), PrisonStay.created_at.desc(), PrisonStay.id)
        .limit(1)
        .scalar_subquery()
    )
    supported = (
        select(
            ends.c.n,
            ends.c.on,
            Mother.id.label("mother_id"),
            func.coalesce(held_in, Mother.prison_code).label("prison_code"),
        )
        .select_from(ends)
        .join(
            Mother,
            and_(
                Mother.supported_from <= ends.c.on,
                or_(Mother.closed_on.is_(None), Mother.closed_on > ends.c.on),
            ),
        )
        .subquery("supported")
    )
    workers = join(StaffMember, Allocation, Allocation.staff_member_id == StaffMember.id)
    caseload = (
        select(
            supported.c.n,
            Allocation.staff_member_id.label("worker"),
            func.count().label("women"),
        )
        .select_from(
            supported.outerjoin(
                workers,
                and_(
                    Allocation.mother_id == supported.c.mother_id,
                    StaffMember.prison_code == supported.c.prison_code,
                    placing(supported.c.on),
                ),
            )
        )
        .group_by(supported.c.n, Allocation.staff_member_id)
        .subquery("caseload")
    )
    unallocated = caseload.c.worker.is_(None)
    statement = select(
        caseload.c.n, unallocated, caseload.c.women, func.count().label("workers")
    ).group_by(caseload.c.n, unallocated, caseload.c.women)
    sizes: list[dict[int, int]] = [{} for _ in quarters]
    for n, nobody, women, how_many in await session.execute(statement):
        if nobody:
            counts[n].add("caseloads.women_supported", women)
            counts[n].add("caseloads.women.unallocated", women)
            continue
        sizes[n][women] = sizes[n].get(women, 0) + how_many
        counts[n].add("caseloads.women_supported", women * how_many)
        counts[n].add("caseloads.women.allocated", women * how_many)
        counts[n].add("caseloads.workers", how_many)
        counts[n].add(f"caseloads.workers_by_guide.{against_guide(women, settings)}", how_many)
    for n in range(len(quarters)):
        counts[n]["caseloads.median_women_per_worker"] = median_of(sizes[n])


# Onward referrals at release ------------------------------------------------------------------


async def count_onward(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts]
) -> None:
    """Onward referrals made, accepted, declined and first contacts after release, each step
    in the quarter it was taken, in one statement."""
    window = Span(quarters[0].start, quarters[-1].end)
    (figures,) = await tally(
        session,
        OnwardReferral.__table__,  # type: ignore[arg-type]
        [or_(*(within(dated, window) for _, dated in ONWARD_STEPS))],
        [],
        [(within(dated, quarter), None) for quarter in quarters for _, dated in ONWARD_STEPS],
    )
    for n in range(len(quarters)):
        for step, (key, _) in enumerate(ONWARD_STEPS):
            counts[n].add(key, figures[n * len(ONWARD_STEPS) + step])
