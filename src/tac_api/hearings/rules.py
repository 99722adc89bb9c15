"""The rules hearings and proceedings share: plausible dates, who may set what, what may be linked.

How the mother attends, and what happened at the hearing, are the prison side's to arrange and
record, so a local authority may not set them; nor when her side learnt of a hearing, which
decides `late_notice`.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.errors import InvalidInput
from tac_api.hearings.models import Proceedings
from tac_api.hearings.schemas import HearingOutcome
from tac_api.notice import CLOCK_SKEW, notified_at_refused, utc
from tac_api.plausible import EARLIEST, plausible_time
from tac_api.scope import proceedings_visible

# Dates before it are typing mistakes, not court dates (`tac_api.plausible`).
EARLIEST_HEARING = EARLIEST
ATTENDANCE_FIELDS = ("attendance_mode", "social_worker_attends")


def refuse_prison_side_fields(
    caller: Caller, sent: Iterable[str], *, notified_at_from_authority: bool = False
) -> None:
    """What a local authority may not set: how she attends, and when her side learnt of the
    hearing. The latter decides `late_notice`, the barrier the evaluation measures the local
    authorities by: her side learnt of it when the authority recorded it, and that is the time
    kept (the prison side records an earlier one it knows of). An authority's system that
    syncs a hearing may say when it told her side (`notified_at_from_authority`): its own
    record of the notice it gave, kept in the amendments like any other change."""
    if not caller.is_local_authority:
        return
    sent = set(sent)
    problems = [
        (field, "the prison social worker arranges how the mother attends")
        for field in ATTENDANCE_FIELDS
        if field in sent
    ]
    problems += notified_at_refused(sent, "hearing", from_authority=notified_at_from_authority)
    InvalidInput.raise_any(problems)


def hearing_time_rules(values: Mapping[str, Any], now: datetime) -> list[tuple[str, str]]:
    starts_at, notified_at = values["starts_at"], values["notified_at"]
    problems = plausible_time("starts_at", starts_at, now, "hearing")
    if utc(notified_at) > now + CLOCK_SKEW:
        problems.append(("notified_at", "cannot be in the future"))
    elif utc(notified_at) < EARLIEST_HEARING:
        problems.append(("notified_at", "is not a plausible date"))
    return problems


def outcome_rules(outcome: HearingOutcome) -> list[tuple[str, str]]:
    problems = []
    if outcome.attended:
        if outcome.attended_how is None:
            problems.append(("attended_how", "say how she attended"))
        if outcome.barrier is not None:
            problems.append(("barrier", "only for a hearing she did not attend"))
        if outcome.barrier_detail is not None:
            problems.append(("barrier_detail", "only for a hearing she did not attend"))
    else:
        if outcome.attended_how is not None:
            problems.append(("attended_how", "only for a hearing she attended"))
        if outcome.barrier is None:
            problems.append(("barrier", "say what stopped her attending"))
        elif outcome.barrier == "other" and outcome.barrier_detail is None:
            problems.append(("barrier_detail", "describe the barrier"))
    if outcome.order_made == "other" and outcome.order_detail is None:
        problems.append(("order_detail", "describe the order made"))
    if outcome.order_made is None and outcome.order_detail is not None:
        problems.append(("order_detail", "give order_made as well"))
    return problems


async def check_proceedings_link(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, proceedings_id: uuid.UUID
) -> None:
    owner = await session.scalar(
        select(Proceedings.mother_id).where(
            Proceedings.id == proceedings_id, proceedings_visible(caller)
        )
    )
    if owner != mother_id:
        raise InvalidInput("proceedings_id", "is not one of her proceedings visible to you")


def issued_rules(issued_on: date, today: date) -> list[tuple[str, str]]:
    if issued_on > today:
        return [("issued_on", "cannot be in the future")]
    if issued_on < EARLIEST_HEARING.date():
        return [("issued_on", "is not a plausible date")]
    return []
