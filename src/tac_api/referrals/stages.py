"""Referral to engagement, stage by stage, as conditions on a referral's row: the one definition
that the referral funnel (GET /v1/referral-funnel) and the programme report both count with.

Referred (received), accepted (as decided now), first contact made, engaged (her first working
session), and, once engaged at least 6 or 12 months before the day counted to, still supported
then: her support not closed before `engaged_on` plus those months (the same day of the month,
or the month's last day when it has none, as `reviews.service.add_months`)."""

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, literal_column, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from tac_api.referrals.models import Referral

# The milestones after engagement Step Together counts her still engaged at.
MILESTONE_MONTHS = (6, 12)
STATUSES = ("received", "accepted", "declined", "not_eligible")

FIRST_CONTACT = Referral.first_contact_on.is_not(None)
ENGAGED = Referral.engaged_on.is_not(None)


class MonthsAfter(FunctionElement[date]):
    """`day` plus a whole number of months, in SQL: the same day of the month, or the month's
    last day when it has none (31 August plus 6 months: 28 or 29 February), on either database.
    The months are part of the statement's text (and of its cache key), not a parameter."""

    type = Date()
    inherit_cache = True
    name = "months_after"

    def __init__(self, day: ColumnElement[date], months: int) -> None:
        super().__init__(day, literal_column(str(int(months))))


def _parts(element: MonthsAfter, compiler: SQLCompiler, **kw: Any) -> tuple[str, int]:
    day, months = element.clauses.clauses
    return compiler.process(day, **kw), int(months.name)  # type: ignore[attr-defined]


@compiles(MonthsAfter, "postgresql")
def _months_after_postgresql(element: MonthsAfter, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL's interval arithmetic keeps to the month's last day already.
    day, months = _parts(element, compiler, **kw)
    return f"CAST(({day} + make_interval(months => {months})) AS DATE)"


@compiles(MonthsAfter, "sqlite")
def _months_after_sqlite(element: MonthsAfter, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's date() runs past a month's end (31 August plus 6 months: 3 March): the earlier of
    # the same day-of-month counted from the month's start and the target month's last day.
    day, months = _parts(element, compiler, **kw)
    same_day = (
        f"date({day}, 'start of month', '+{months} months', "
        f"'+' || (CAST(strftime('%d', {day}) AS INTEGER) - 1) || ' days')"
    )
    last_day = f"date({day}, 'start of month', '+{months + 1} months', '-1 day')"
    return f"min({same_day}, {last_day})"


def months_on(months: int) -> ColumnElement[date]:
    """The day her engagement is `months` old."""
    return MonthsAfter(Referral.engaged_on, months)  # type: ignore[arg-type]


def reached(months: int, as_of: date) -> ColumnElement[bool]:
    """Engaged long enough before `as_of` for the milestone to count."""
    return and_(ENGAGED, months_on(months) <= as_of)


def still_supported(months: int) -> ColumnElement[bool]:
    """Her support had not closed before the milestone (with `reached`: still engaged at it)."""
    return or_(
        Referral.support_closed_on.is_(None), Referral.support_closed_on >= months_on(months)
    )
