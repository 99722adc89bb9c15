"""The governor's figures of referrals to her prison: referrals received, and women engaged
(her first working session with the service), each in the period it happened in."""

from collections.abc import Sequence

from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.referrals.models import Referral
from tac_api.reports.periods import Counts, Span, within


async def count_referrals(
    session: AsyncSession, prison: str, spans: Sequence[Span], counts: Sequence[Counts]
) -> None:
    """In one statement: the referrals the prison received in each period (by `received_on`,
    whatever came of them), and the women engaged in it (by `engaged_on`, on a referral to
    the prison; a woman engaged on two of its referrals in one period is one woman)."""
    window = Span(min(s.start for s in spans), max(s.end for s in spans))
    columns = []
    for span in spans:
        columns += [
            func.count(case((within(Referral.received_on, span), Referral.id))),
            func.count(
                distinct(
                    case(
                        (
                            within(Referral.engaged_on, span),
                            func.coalesce(Referral.mother_id, Referral.id),
                        )
                    )
                )
            ),
        ]
    statement = select(*columns).where(
        Referral.prison_code == prison,
        or_(within(Referral.received_on, window), within(Referral.engaged_on, window)),
    )
    figures = (await session.execute(statement)).one()
    for n in range(len(spans)):
        counts[n].add("referrals.received", figures[2 * n])
        counts[n].add("referrals.women_engaged", figures[2 * n + 1])
