"""The programme report's figures of referral to engagement and what came of it: referrals by
source and decision, the funnel, reviews and their outcomes at 6 and 12 months, pregnancies and
where babies went, and relationships with local authority social workers, first review against
latest.

Every record of the service counts, over both prisons (a referral by the prison it was made to,
the rest by the woman they are of), each in the quarter it is dated in; five statements,
whatever the number of quarters or women. Where a figure is broken down, its parts come from
the same statement as its total, so they add up exactly.

- Referrals count by the day each was received. Their decision, first contact and engagement
  are as each stands now: a quarter's referrals keep counting in it as they move on, so the
  decisions add up to the referrals received (a referral decided in a later quarter is not lost
  from both), and the figures of recent quarters grow.
- The funnel counts with `referrals.stages`, as GET /v1/referral-funnel does, up to today.
- Reviews, pregnancies and births count by the day held, known and born.
- Relationships are a stock: each (woman, local authority social worker) pair reviewed at least
  twice by the quarter's end, her first review's status against her latest one's by then.
"""

from collections.abc import Sequence
from datetime import date
from typing import get_args

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.config import Settings
from tac_api.referrals import stages
from tac_api.referrals.models import Referral
from tac_api.referrals.schemas import ReferralSource
from tac_api.reports.catalogue import Catalogue, Spec
from tac_api.reports.periods import Counts, Span, tally, within
from tac_api.reviews.models import Birth, Pregnancy, Review, ReviewRelationship
from tac_api.reviews.schemas import (
    OUTCOMES,
    BabyWent,
    Milestone,
    Outcome,
    RelationshipStatus,
    ReviewCreate,
)

SOURCES: dict[str, str] = {
    "self": "Referred herself",
    "offender_management_unit": "Referred by the offender management unit",
    "local_authority": "Referred by a local authority",
    "health": "Referred by health services",
    "probation": "Referred by probation",
    "court": "Referred by a court",
    "another_service": "Referred by another service",
}
# A referral's status, as the report names its decision.
DECISIONS: dict[str, tuple[str, str]] = {
    "accepted": ("accepted", "Accepted"),
    "declined": ("declined", "Declined"),
    "not_eligible": ("not_eligible", "Not eligible"),
    "received": ("awaiting_decision", "Awaiting a decision"),
}
MILESTONES: dict[str, str] = {
    "three_months": "3-month reviews",
    "six_months": "6-month reviews",
    "twelve_months": "12-month reviews",
    "other": "Other reviews",
}
# The reviews whose outcomes are shown, and the months of engagement each marks.
OUTCOME_MILESTONES = {"six_months": 6, "twelve_months": 12}
ANSWERS = {"yes": "yes", "no": "no", "not_known": "not known"}
BABY_WENT: dict[str, str] = {
    "with_her_child_in_need": "With her, under a child in need plan",
    "with_her_child_protection": "With her, under a child protection plan",
    "with_family": "With family",
    "removed": "Removed",
    "not_decided": "Not decided yet",
}
# From worst to best: no relationship at all, then a hostile one, then one that has broken
# down, then one mending, then one that works (the order the statuses are listed in).
RELATIONSHIPS: dict[str, str] = {
    "none": "No relationship",
    "antagonistic": "Antagonistic",
    "fractured": "Fractured",
    "improving": "Improving",
    "working": "Working",
}
RANK = {status: rank for rank, status in enumerate(get_args(RelationshipStatus))}
CHANGES = {"improved": "Better", "same": "The same", "worsened": "Worse"}

# Each label comes with a code list of the service's own: a new code must have its label here.
assert set(SOURCES) == set(get_args(ReferralSource))
assert set(MILESTONES) == set(get_args(Milestone))
assert set(ANSWERS) == set(get_args(Outcome))
assert set(BABY_WENT) == set(get_args(BabyWent))
assert list(RELATIONSHIPS) == list(get_args(RelationshipStatus))


def _outcome_label(outcome: str) -> str:
    """An outcome as the review form describes it, up to its first full stop."""
    description = ReviewCreate.model_fields[outcome].description or outcome
    return description.split(". ")[0]


def _parts(total: str, prefix: str, labels: dict[str, str]) -> list[Spec]:
    return [Spec(f"{prefix}.{code}", label, part_of=total) for code, label in labels.items()]


def _milestone_stages(months: int) -> list[Spec]:
    word = {6: "six", 12: "twelve"}[months]
    return _parts(
        "funnel.contacted.engaged",
        f"funnel.{word}_months",
        {
            "still_supported": f"Of those engaged: still supported {months} months on",
            "support_closed": f"Of those engaged: support closed within {months} months",
            "not_yet": f"Of those engaged: engaged fewer than {months} months ago",
        },
    )


async def add_sections(shown: Catalogue, session: AsyncSession, settings: Settings) -> None:
    """Its sections, in the order they are shown."""
    shown.add(
        "referrals",
        "Referrals received in the quarter: who referred her, and the decision as it stands now",
        [
            Spec("referrals.received", "Referrals received"),
            *_parts("referrals.received", "referrals.by_source", SOURCES),
            *_parts(
                "referrals.received",
                "referrals.by_decision",
                dict(DECISIONS.values()),
            ),
        ],
    )
    shown.add(
        "funnel",
        "From referral to engagement: the quarter's referrals, as each stands now",
        [
            *_parts(
                "referrals.by_decision.accepted",
                "funnel.accepted",
                {
                    "first_contact": "Of those accepted: first contact made",
                    "no_first_contact": "Of those accepted: no first contact yet",
                },
            ),
            *_parts(
                "funnel.accepted.first_contact",
                "funnel.contacted",
                {
                    "engaged": "Of those contacted: engaged (her first working session)",
                    "not_engaged": "Of those contacted: not engaged yet",
                },
            ),
            *_milestone_stages(6),
            *_milestone_stages(12),
        ],
    )
    shown.add(
        "reviews",
        "Reviews held in the quarter",
        [
            Spec("reviews.held", "Reviews held"),
            *_parts("reviews.held", "reviews.by_milestone", MILESTONES),
        ],
    )
    for milestone, months in OUTCOME_MILESTONES.items():
        shown.add(
            f"outcomes_{milestone}",
            f"Step Together's outcomes at the {months}-month reviews held in the quarter",
            [
                Spec(
                    f"outcomes.{milestone}.{outcome}.{answer}",
                    f"{_outcome_label(outcome)}: {said}",
                    part_of=f"reviews.by_milestone.{milestone}",
                )
                for outcome in OUTCOMES
                for answer, said in ANSWERS.items()
            ],
        )
    shown.add(
        "pregnancies",
        "Pregnancies known and babies born in the quarter",
        [
            Spec("pregnancies.known", "Pregnancies known"),
            *_parts(
                "pregnancies.known",
                "pregnancies.known_when",
                {
                    "at_referral": "Pregnant when referred",
                    "during_engagement": "Became pregnant while engaged with the service",
                },
            ),
            Spec("births.born", "Babies born"),
            *_parts("births.born", "births.baby_went", BABY_WENT),
        ],
    )
    shown.add(
        "relationships",
        "Relationships with local authority social workers, her first review against her "
        "latest, by the quarter's end",
        [
            Spec(
                "relationships.pairs",
                "A woman and a social worker of her children, reviewed together at least twice",
            ),
            *_parts(
                "relationships.pairs",
                "relationships.change",
                {code: f"{label} at her latest review" for code, label in CHANGES.items()},
            ),
            *_parts(
                "relationships.pairs",
                "relationships.first",
                {code: f"At her first review: {label}" for code, label in RELATIONSHIPS.items()},
            ),
            *_parts(
                "relationships.pairs",
                "relationships.latest",
                {code: f"At her latest review: {label}" for code, label in RELATIONSHIPS.items()},
            ),
        ],
        stock=True,
    )


async def count(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], settings: Settings
) -> None:
    """Its figures of each quarter, added to `counts` (in the order of `quarters`)."""
    await count_referrals(session, quarters, counts, date.today())
    await count_reviews(session, quarters, counts)
    await count_pregnancies(session, quarters, counts)
    await count_relationships(session, quarters, counts)


def _window(quarters: Sequence[Span]) -> Span:
    return Span(quarters[0].start, quarters[-1].end)


def _milestone_state(months: int, as_of: date) -> ColumnElement[str | None]:
    """Where an engaged referral stands at a milestone: not yet reached by `as_of`, still
    supported at it, or closed before it."""
    return case(
        (~stages.ENGAGED, None),
        (~stages.reached(months, as_of), "not_yet"),
        (stages.still_supported(months), "still_supported"),
        else_="support_closed",
    )


async def count_referrals(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts], as_of: date
) -> None:
    """Referrals by source and decision, and the funnel, in one statement."""
    rows = await tally(
        session,
        Referral.__table__,
        [within(Referral.received_on, _window(quarters))],
        [
            Referral.source,
            Referral.status,
            stages.FIRST_CONTACT,
            stages.ENGAGED,
            _milestone_state(6, as_of),
            _milestone_state(12, as_of),
        ],
        [(within(Referral.received_on, quarter), None) for quarter in quarters],
    )
    for source, status, contacted, engaged, at_six, at_twelve, *figures in rows:
        decision = DECISIONS[status][0]
        for n, number in enumerate(figures):
            if not number:
                continue
            quarter = counts[n]
            quarter.add("referrals.received", number)
            quarter.add(f"referrals.by_source.{source}", number)
            quarter.add(f"referrals.by_decision.{decision}", number)
            if status != "accepted":
                continue
            quarter.add(
                f"funnel.accepted.{'first_contact' if contacted else 'no_first_contact'}", number
            )
            if not contacted:
                continue
            quarter.add(f"funnel.contacted.{'engaged' if engaged else 'not_engaged'}", number)
            if engaged:
                quarter.add(f"funnel.six_months.{at_six}", number)
                quarter.add(f"funnel.twelve_months.{at_twelve}", number)


async def count_reviews(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts]
) -> None:
    """Reviews by milestone, and the outcomes recorded at the 6 and 12-month ones."""
    outcomes = [getattr(Review, outcome) for outcome in OUTCOMES]
    rows = await tally(
        session,
        Review.__table__,
        [within(Review.held_on, _window(quarters))],
        [Review.milestone, *outcomes],
        [(within(Review.held_on, quarter), None) for quarter in quarters],
    )
    for milestone, *row in rows:
        answers, figures = row[: len(OUTCOMES)], row[len(OUTCOMES) :]
        for n, number in enumerate(figures):
            if not number:
                continue
            counts[n].add("reviews.held", number)
            counts[n].add(f"reviews.by_milestone.{milestone}", number)
            if milestone in OUTCOME_MILESTONES:
                for outcome, answer in zip(OUTCOMES, answers, strict=True):
                    counts[n].add(f"outcomes.{milestone}.{outcome}.{answer}", number)


async def count_pregnancies(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts]
) -> None:
    """Pregnancies known, at referral or during engagement; babies born, by where they went."""
    window = _window(quarters)
    known = await tally(
        session,
        Pregnancy.__table__,
        [within(Pregnancy.known_on, window)],
        [Pregnancy.at_referral],
        [(within(Pregnancy.known_on, quarter), None) for quarter in quarters],
    )
    for at_referral, *figures in known:
        when = "at_referral" if at_referral else "during_engagement"
        for n, number in enumerate(figures):
            counts[n].add("pregnancies.known", number)
            counts[n].add(f"pregnancies.known_when.{when}", number)
    born = await tally(
        session,
        Birth.__table__,
        [within(Birth.born_on, window)],
        [Birth.baby_went],
        [(within(Birth.born_on, quarter), None) for quarter in quarters],
    )
    for baby_went, *figures in born:
        for n, number in enumerate(figures):
            counts[n].add("births.born", number)
            counts[n].add(f"births.baby_went.{baby_went}", number)


async def count_relationships(
    session: AsyncSession, quarters: Sequence[Span], counts: Sequence[Counts]
) -> None:
    """Each (woman, social worker) pair's status at her first review against her latest by each
    quarter's end, in one statement: her reviews of the pair in order (by day, then as
    recorded), each row knowing the pair's first status and when the pair was next reviewed; a
    quarter counts the row that was the latest by its end, once it is at least the second."""
    pair = (Review.mother_id, ReviewRelationship.practitioner_id)
    order = (Review.held_on, Review.created_at, Review.id)
    reviewed = (
        select(
            ReviewRelationship.status,
            Review.held_on,
            func.row_number().over(partition_by=pair, order_by=order).label("seq"),
            func.first_value(ReviewRelationship.status)
            .over(partition_by=pair, order_by=order)
            .label("first_status"),
            func.lead(Review.held_on).over(partition_by=pair, order_by=order).label("next_on"),
        )
        .join(Review, Review.id == ReviewRelationship.review_id)
        .where(Review.held_on <= quarters[-1].end)
        .subquery("reviewed")
    )
    rows = await tally(
        session,
        reviewed,
        [reviewed.c.seq >= 2],
        [reviewed.c.first_status, reviewed.c.status],
        [
            (
                and_(
                    reviewed.c.held_on <= quarter.end,
                    or_(reviewed.c.next_on.is_(None), reviewed.c.next_on > quarter.end),
                ),
                None,
            )
            for quarter in quarters
        ],
    )
    for first, latest, *figures in rows:
        change = (
            "improved"
            if RANK[latest] > RANK[first]
            else "worsened"
            if RANK[latest] < RANK[first]
            else "same"
        )
        for n, number in enumerate(figures):
            counts[n].add("relationships.pairs", number)
            counts[n].add(f"relationships.change.{change}", number)
            counts[n].add(f"relationships.first.{first}", number)
            counts[n].add(f"relationships.latest.{latest}", number)
