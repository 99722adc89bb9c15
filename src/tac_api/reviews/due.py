"""The review schedule's rule in SQL: which of her 3, 6 and 12-month reviews are owed.

`service.schedule` tells one woman's milestones in Python; a list over a prison (the worklist)
needs the same rule over every woman at once. Her latest period of support (her referral with
the latest `engaged_on`), each milestone's `due_on` (`engaged_on` plus the months, clamped to the
month's end: `referrals.stages.MonthsAfter`, as `service.add_months`), met by a review of that
milestone held since `engaged_on`, not due after her support closed; `due` within
`service.DUE_WITHIN_DAYS` days, `overdue` once past.
"""

from functools import cache
from typing import Any

from sqlalchemy import Subquery, and_, bindparam, exists, literal_column, or_, select, union_all
from sqlalchemy.orm import aliased

from tac_api.auth.schemas import Role
from tac_api.referrals.models import Referral
from tac_api.referrals.stages import MonthsAfter
from tac_api.reviews.models import Review
from tac_api.reviews.schemas import MILESTONE_MONTHS
from tac_api.scope import referral_visible, review_visible


def latest_period() -> Any:
    """Her referral with the latest `engaged_on` (the latest id on the same day), as
    `service.schedule` picks it."""
    later = aliased(Referral)
    return and_(
        Referral.engaged_on.is_not(None),
        ~exists().where(
            later.mother_id == Referral.mother_id,
            later.engaged_on.is_not(None),
            or_(
                later.engaged_on > Referral.engaged_on,
                and_(later.engaged_on == Referral.engaged_on, later.id > Referral.id),
            ),
        ),
    )


@cache
def milestones_owed(role: Role) -> Subquery:
    """Every milestone of the latest period of support of each woman the role sees (the
    caller's scope bound at execution) that is `due` or `overdue` on the day its schedule says
    so: not held, not after her support closed, `due_on` on or before `review_due_by` (a
    parameter: today plus `DUE_WITHIN_DAYS`). Columns: referral_id, mother_id, milestone,
    due_on."""
    branches = []
    for milestone, months in MILESTONE_MONTHS.items():
        due_on = MonthsAfter(Referral.engaged_on, months)  # type: ignore[arg-type]
        # Our own code, written out: a statement run on the driver is sent only named parameters.
        named = literal_column(f"'{milestone}'")
        held = exists().where(
            Review.mother_id == Referral.mother_id,
            Review.milestone == named,
            Review.held_on >= Referral.engaged_on,
            review_visible(role),
        )
        branches.append(
            select(
                Referral.id.label("referral_id"),
                Referral.mother_id.label("mother_id"),
                named.label("milestone"),
                due_on.label("due_on"),
            ).where(
                referral_visible(role),
                Referral.mother_id.is_not(None),
                latest_period(),
                ~held,
                or_(Referral.support_closed_on.is_(None), due_on <= Referral.support_closed_on),
                due_on <= bindparam("review_due_by"),
            )
        )
    return union_all(*branches).subquery("milestones_owed")
