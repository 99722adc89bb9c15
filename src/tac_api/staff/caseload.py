"""What puts a woman on a worker's caseload, now or as it stood on a day, and the guide a
caseload is measured against: one definition for the staff's caseloads and the reports."""

from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import aliased

from tac_api.config import Settings
from tac_api.mothers.models import Mother
from tac_api.staff.models import Allocation, StaffMember

GuideBand = Literal["under", "within", "over"]


def placing(on: date | ColumnElement[Any] | None = None) -> ColumnElement[bool]:
    """An allocation (joined to its worker, `StaffMember`) that puts her on the worker's
    caseload: open, to a worker who has not left; now (`on` None), or as it stood at the end of
    the day `on` (an allocation ended that day, or a worker who left that day, no longer
    counts: a reallocation ends one and begins the next on the same day). The caller matches
    the worker's prison to the one she is held in: an allocation to a worker of the prison she
    has moved from puts her on no one's caseload."""
    if on is None:
        return and_(Allocation.ended_on.is_(None), StaffMember.left_on.is_(None))
    return and_(
        Allocation.allocated_on <= on,
        or_(Allocation.ended_on.is_(None), Allocation.ended_on > on),
        or_(StaffMember.left_on.is_(None), StaffMember.left_on > on),
    )


def current_worker(mother_id: Any, prison_code: Any = None) -> Select[Any]:
    """Her current worker: the one whose caseload she is on now (`placing()`: her open
    allocation, to a worker who has not left) in the prison she is held in, or in `prison_code`
    when given (the prison she is leaving, at a transfer). Its id first (`session.scalar`), then
    name, role and the day she was allocated; `mother_id` a value or a column (an EXISTS)."""
    statement = (
        select(
            StaffMember.id.label("staff_member_id"),
            StaffMember.name,
            StaffMember.role,
            Allocation.allocated_on,
        )
        .select_from(Allocation)
        .join(StaffMember, StaffMember.id == Allocation.staff_member_id)
        .where(Allocation.mother_id == mother_id, placing())
    )
    if prison_code is not None:
        return statement.where(StaffMember.prison_code == prison_code)
    held = aliased(Mother)  # never the statement's own: an EXISTS correlates nothing by chance
    return statement.join(held, held.id == Allocation.mother_id).where(
        StaffMember.prison_code == held.prison_code
    )


def against_guide(women: int, settings: Settings) -> GuideBand:
    """A caseload against the guide (Believe: 15 to 20 women per advocate)."""
    if women > settings.caseload_guide_upper:
        return "over"
    if women < settings.caseload_guide_lower:
        return "under"
    return "within"
