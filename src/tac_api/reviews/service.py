"""Her reviews, their schedule, and her pregnancies: the programme's own record of her support.

No change event is sent for either: the change feed is told to every authority with a child of
hers, and her reviews reach an authority only under her consent (read on every request, by
`scope.review_visible`); her pregnancies never do.
"""

import calendar
import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.auth.schemas import Caller
from tac_api.children.models import Child
from tac_api.db import touch
from tac_api.errors import InvalidInput
from tac_api.mothers.service import MOTHERS
from tac_api.practitioners.models import Practitioner, PractitionerLink
from tac_api.referrals.models import Referral
from tac_api.resources import (
    Resource,
    apply_changes,
    get_for_change,
    get_visible,
    list_visible,
    lock_her,
    rows_by,
)
from tac_api.reviews.models import Birth, Pregnancy, Review, ReviewRating, ReviewRelationship
from tac_api.reviews.schemas import (
    MILESTONE_MONTHS,
    MilestoneDue,
    PregnancyCreate,
    PregnancyPublic,
    PregnancyUpdate,
    ReviewCreate,
    ReviewPublic,
    ReviewSchedule,
    ReviewShared,
    ReviewUpdate,
)
from tac_api.schemas import AREA_ORDER, past_date_problems
from tac_api.scope import referral_visible

REVIEWS = Resource(
    kind="review",
    model=Review,
    label="review",
    order=(Review.held_on, Review.id),
    when=Review.held_on,
    path="/v1/reviews",
)
PREGNANCIES = Resource(
    kind="pregnancy",
    model=Pregnancy,
    label="pregnancy",
    order=(Pregnancy.known_on, Pregnancy.id),
    when=Pregnancy.known_on,
    path="/v1/pregnancies",
)
# A milestone falls due within this many days: "due" rather than "upcoming".
DUE_WITHIN_DAYS = 14
# The longest a pregnancy runs after it is known (42 weeks, and a little more).
LONGEST_PREGNANCY_DAYS = 300
SOCIAL_WORKER = "la_social_worker"


def add_months(day: date, months: int) -> date:
    """The same day so many months later; the month's last day when it has no such day
    (30 November plus 3 months: 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- Reviews ----------------------------------------------------------------------------------


def search(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    """Her reviews this caller may see (a local authority: only under her consent; a route
    checks first that the caller may see her)."""
    return list_visible(caller, REVIEWS, mother_id=mother_id)


async def shown(
    session: AsyncSession, caller: Caller, reviews: list[Review]
) -> list[ReviewPublic | ReviewShared]:
    """Reviews as this caller reads them, their ratings and (for the prison side) relationships
    read for the whole page in one statement each."""
    ids = [review.id for review in reviews]
    ratings = await rows_by(session, ReviewRating.review_id, ids, [ReviewRating.id])
    relationships = (
        {review_id: [] for review_id in ids}
        if caller.is_local_authority
        else await rows_by(
            session,
            ReviewRelationship.review_id,
            ids,
            [ReviewRelationship.review_id, ReviewRelationship.practitioner_id],
        )
    )
    answers: list[ReviewPublic | ReviewShared] = []
    for review in reviews:
        values = {
            **review.model_dump(),
            "ratings": [
                {"area": rated.area, "rating": rated.rating}
                for rated in sorted(ratings[review.id], key=lambda rated: AREA_ORDER[rated.area])
            ],
        }
        if caller.is_local_authority:
            # The relationships are the prison side's judgement: never an authority's to read.
            answers.append(ReviewShared.model_validate(values))
        else:
            answers.append(
                ReviewPublic.model_validate(
                    values
                    | {
                        "relationships": [
                            {"practitioner_id": link.practitioner_id, "status": link.status}
                            for link in relationships[review.id]
                        ]
                    }
                )
            )
    return answers


async def one_shown(
    session: AsyncSession, caller: Caller, review: Review
) -> ReviewPublic | ReviewShared:
    return (await shown(session, caller, [review]))[0]


def _review_rules(values: dict[str, Any], today: date) -> list[tuple[str, str]]:
    return past_date_problems("held_on", values.get("held_on"), today)


def _rating_rules(ratings: list[dict[str, Any]]) -> list[tuple[str, str]]:
    problems, seen = [], set()
    for n, rated in enumerate(ratings):
        if rated["area"] in seen:
            problems.append((f"ratings.{n}.area", "is rated twice: rate each area once"))
        seen.add(rated["area"])
    return problems


async def _relationship_rules(
    session: AsyncSession, mother_id: uuid.UUID, relationships: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """Each names a local authority social worker linked to her case (a link of hers, to her
    or to a child of hers), once. One statement, however many."""
    ids = [given["practitioner_id"] for given in relationships]
    if not ids:
        return []
    linked = set(
        await session.scalars(
            select(PractitionerLink.practitioner_id)
            .join(Practitioner, Practitioner.id == PractitionerLink.practitioner_id)
            .where(
                PractitionerLink.mother_id == mother_id,
                PractitionerLink.practitioner_id.in_(ids),
                Practitioner.role == SOCIAL_WORKER,
            )
        )
    )
    problems, seen = [], set()
    for n, practitioner_id in enumerate(ids):
        field = f"relationships.{n}.practitioner_id"
        if practitioner_id not in linked:
            problems.append((field, "is not a local authority social worker linked to her case"))
        elif practitioner_id in seen:
            problems.append((field, "names this social worker twice"))
        seen.add(practitioner_id)
    return problems


async def _milestone_rules(
    session: AsyncSession,
    mother_id: uuid.UUID,
    milestone: str,
    held_on: date,
    review_id: uuid.UUID | None = None,
) -> list[tuple[str, str]]:
    """A 3, 6 or 12-month review belongs to a period of her support: the one that had begun by
    the day it was held (her referral with the latest `engaged_on` on or before it), and not
    after that support closed. Each milestone is met once per period of support: the period
    runs from its `engaged_on` to the next period's."""
    if milestone not in MILESTONE_MONTHS:
        return []
    periods = list(
        await session.execute(
            select(Referral.engaged_on, Referral.support_closed_on)
            .where(Referral.mother_id == mother_id, Referral.engaged_on.is_not(None))
            .order_by(Referral.engaged_on, Referral.id)
        )
    )
    begun = [period for period in periods if period.engaged_on <= held_on]
    if not begun:
        return [
            (
                "milestone",
                "she had not begun support with the service by held_on: a review outside her "
                "support is `other`",
            )
        ]
    period = begun[-1]
    if period.support_closed_on is not None and held_on > period.support_closed_on:
        return [
            (
                "milestone",
                f"her support closed on {period.support_closed_on}: a review after it is `other`",
            )
        ]
    statement = select(Review.id, Review.held_on).where(
        Review.mother_id == mother_id,
        Review.milestone == milestone,
        Review.held_on >= period.engaged_on,
    )
    later = [other.engaged_on for other in periods if other.engaged_on > held_on]
    if later:
        statement = statement.where(Review.held_on < later[0])
    if review_id is not None:
        statement = statement.where(Review.id != review_id)
    met = (await session.execute(statement.limit(1))).first()
    if met is None:
        return []
    return [
        (
            "milestone",
            f"the {milestone} review of her support that began on {period.engaged_on} is "
            f"already recorded (review {met.id}, held on {met.held_on}): record this one as "
            "`other`, or change that one",
        )
    ]


async def _set_ratings(
    session: AsyncSession, review_id: uuid.UUID, ratings: list[dict[str, Any]]
) -> None:
    await session.execute(delete(ReviewRating).where(ReviewRating.review_id == review_id))
    session.add_all(ReviewRating(review_id=review_id, **rated) for rated in ratings)


async def _set_relationships(
    session: AsyncSession, review_id: uuid.UUID, relationships: list[dict[str, Any]]
) -> None:
    await session.execute(
        delete(ReviewRelationship).where(ReviewRelationship.review_id == review_id)
    )
    session.add_all(ReviewRelationship(review_id=review_id, **given) for given in relationships)


async def create_review(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: ReviewCreate
) -> Review:
    mother = await get_visible(session, caller, MOTHERS, mother_id)
    await lock_her(session, mother.id)
    values = data.model_dump()
    ratings, relationships = values.pop("ratings"), values.pop("relationships")
    problems = _review_rules(values, date.today())
    problems += _rating_rules(ratings)
    problems += await _relationship_rules(session, mother.id, relationships)
    if not problems:
        problems += await _milestone_rules(
            session, mother.id, values["milestone"], values["held_on"]
        )
    InvalidInput.raise_any(problems)
    review = Review(mother_id=mother.id, **values)
    session.add(review)
    # The review's row first: SQLAlchemy orders the rows of unrelated models by class.
    await session.flush()
    await _set_ratings(session, review.id, ratings)
    await _set_relationships(session, review.id, relationships)
    await session.flush()
    return review


def _same(rows: list[Any], given: list[dict[str, Any]], key: str, value: str) -> bool:
    return {(getattr(row, key), getattr(row, value)) for row in rows} == {
        (item[key], item[value]) for item in given
    }


async def update_review(
    session: AsyncSession,
    caller: Caller,
    review_id: uuid.UUID,
    data: ReviewUpdate,
    if_match: str | None,
) -> tuple[Review, dict[str, Any]]:
    """The review and what changed (nothing: it keeps its version). Its ratings and
    relationships are part of what its ETag covers."""
    review = await get_for_change(session, caller, REVIEWS, review_id, if_match)
    await lock_her(session, review.mother_id)
    changes = data.changes()
    ratings = changes.pop("ratings", None)
    relationships = changes.pop("relationships", None)
    merged = {**review.model_dump(), **changes}
    problems = _review_rules(changes, date.today())
    if ratings is not None:
        problems += _rating_rules(ratings)
    if relationships is not None:
        problems += await _relationship_rules(session, review.mother_id, relationships)
    if not problems and ("milestone" in changes or "held_on" in changes):
        problems += await _milestone_rules(
            session, review.mother_id, merged["milestone"], merged["held_on"], review.id
        )
    InvalidInput.raise_any(problems)
    changed = apply_changes(review, changes)
    touched = bool(changed)
    if ratings is not None:
        current = list(
            await session.scalars(select(ReviewRating).where(ReviewRating.review_id == review.id))
        )
        if not _same(current, ratings, "area", "rating"):
            await _set_ratings(session, review.id, ratings)
            changed["ratings"] = ratings
    if relationships is not None:
        current_links = list(
            await session.scalars(
                select(ReviewRelationship).where(ReviewRelationship.review_id == review.id)
            )
        )
        if not _same(current_links, relationships, "practitioner_id", "status"):
            await _set_relationships(session, review.id, relationships)
            changed["relationships"] = relationships
    if changed and not touched:
        touch(review)  # only its lists changed: the review's version moves with them
    if changed:
        await session.flush()
    return review, changed


# -- The review schedule ----------------------------------------------------------------------


def _state(due_on: date, held: bool, closed_on: date | None, today: date) -> str:
    if held:
        return "held"
    if closed_on is not None and due_on > closed_on:
        return "not_due"
    if due_on < today:
        return "overdue"
    if (due_on - today).days <= DUE_WITHIN_DAYS:
        return "due"
    return "upcoming"


async def schedule(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, today: date
) -> ReviewSchedule:
    """Her 3, 6 and 12-month reviews, from her latest period of support (her referral with the
    latest `engaged_on`, open or closed), each with the review that met it. Audited as what it
    puts together: her, that referral and the reviews shown."""
    mother = await get_visible(session, caller, MOTHERS, mother_id)
    audit.combined(session, MOTHERS, [mother])
    referral = await session.scalar(
        select(Referral)
        .where(
            Referral.mother_id == mother.id,
            Referral.engaged_on.is_not(None),
            referral_visible(caller),
        )
        .order_by(Referral.engaged_on.desc(), Referral.id.desc())
        .limit(1)
    )
    if referral is None or referral.engaged_on is None:
        return ReviewSchedule(
            mother_id=mother.id, engaged_on=None, support_closed_on=None, milestones=[]
        )
    audit.record(session, Action.combine, "referral", referral.id, mother.id)
    engaged_on, closed_on = referral.engaged_on, referral.support_closed_on
    met: dict[str, Review] = {}
    for review in await session.scalars(
        list_visible(caller, REVIEWS, mother_id=mother.id)
        .where(Review.milestone.in_(list(MILESTONE_MONTHS)), Review.held_on >= engaged_on)
        .order_by(*REVIEWS.order)
    ):
        met.setdefault(review.milestone, review)
    audit.combined(session, REVIEWS, list(met.values()))
    milestones = []
    for milestone, months in MILESTONE_MONTHS.items():
        due_on = add_months(engaged_on, months)
        review = met.get(milestone)
        milestones.append(
            MilestoneDue(
                milestone=milestone,  # type: ignore[arg-type]
                due_on=due_on,
                state=_state(due_on, review is not None, closed_on, today),  # type: ignore[arg-type]
                review_id=None if review is None else review.id,
                held_on=None if review is None else review.held_on,
            )
        )
    return ReviewSchedule(
        mother_id=mother.id,
        engaged_on=engaged_on,
        support_closed_on=closed_on,
        milestones=milestones,
    )


# -- Pregnancies --------------------------------------------------------------------------------


def pregnancies_of(caller: Caller, mother_id: uuid.UUID) -> Select[Any]:
    return list_visible(caller, PREGNANCIES, mother_id=mother_id)


async def pregnancies_shown(
    session: AsyncSession, pregnancies: list[Pregnancy]
) -> list[PregnancyPublic]:
    """Pregnancies with their births, read for the whole page in one statement."""
    ids = [pregnancy.id for pregnancy in pregnancies]
    births = await rows_by(session, Birth.pregnancy_id, ids, [Birth.born_on, Birth.id])
    return [
        PregnancyPublic.model_validate(
            {
                **pregnancy.model_dump(),
                "births": [birth.model_dump() for birth in births[pregnancy.id]],
            }
        )
        for pregnancy in pregnancies
    ]


async def pregnancy_shown(session: AsyncSession, pregnancy: Pregnancy) -> PregnancyPublic:
    return (await pregnancies_shown(session, [pregnancy]))[0]


def _pregnancy_rules(values: dict[str, Any], today: date) -> list[tuple[str, str]]:
    """What makes a pregnancy's record believable: it was known before it ended and its babies
    were born; nothing but the due date lies ahead; births belong to a pregnancy that ended in
    one, and such a pregnancy has at least one."""
    known_on, due_on = values["known_on"], values.get("due_on")
    outcome, ended_on, births = values["outcome"], values.get("ended_on"), values["births"]
    problems = past_date_problems("known_on", known_on, today) + past_date_problems(
        "ended_on", ended_on, today
    )
    if due_on is not None:
        if due_on < known_on:
            problems.append(("due_on", "cannot be before known_on"))
        elif (due_on - known_on).days > LONGEST_PREGNANCY_DAYS:
            problems.append(("due_on", "is more than ten months after known_on"))
    if ended_on is not None and ended_on < known_on:
        problems.append(("ended_on", "cannot be before known_on"))
    if outcome == "ongoing" and ended_on is not None:
        problems.append(("ended_on", "only once the outcome is born or ended"))
    if outcome != "ongoing" and ended_on is None:
        problems.append(("ended_on", f"say when it ended: the outcome is {outcome}"))
    if outcome == "born" and not births:
        problems.append(("births", "give at least one birth: the outcome is born"))
    if outcome != "born" and births:
        problems.append(("births", "only with the outcome born"))
    for n, birth in enumerate(births):
        born_on = birth["born_on"]
        field = f"births.{n}.born_on"
        problems += past_date_problems(field, born_on, today)
        if born_on < known_on:
            problems.append((field, "cannot be before known_on"))
        elif ended_on is not None and born_on > ended_on:
            problems.append((field, "cannot be after ended_on"))
    return problems


async def _birth_children_rules(
    session: AsyncSession, mother_id: uuid.UUID, births: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """A baby's record, when named, is a child of hers, named by one birth only."""
    named = [birth["child_id"] for birth in births if birth.get("child_id") is not None]
    if not named:
        return []
    hers = set(
        await session.scalars(
            select(Child.id).where(Child.id.in_(named), Child.mother_id == mother_id)
        )
    )
    problems, seen = [], set()
    for n, birth in enumerate(births):
        child_id = birth.get("child_id")
        if child_id is None:
            continue
        field = f"births.{n}.child_id"
        if child_id not in hers:
            problems.append((field, "is not one of her children"))
        elif child_id in seen:
            problems.append((field, "names a child another birth names"))
        seen.add(child_id)
    return problems


async def _set_births(
    session: AsyncSession, pregnancy_id: uuid.UUID, births: list[dict[str, Any]]
) -> None:
    await session.execute(delete(Birth).where(Birth.pregnancy_id == pregnancy_id))
    session.add_all(Birth(pregnancy_id=pregnancy_id, **birth) for birth in births)


async def create_pregnancy(
    session: AsyncSession, caller: Caller, mother_id: uuid.UUID, data: PregnancyCreate
) -> Pregnancy:
    mother = await get_visible(session, caller, MOTHERS, mother_id)
    values = data.model_dump()
    problems = _pregnancy_rules(values, date.today())
    problems += await _birth_children_rules(session, mother.id, values["births"])
    InvalidInput.raise_any(problems)
    births = values.pop("births")
    pregnancy = Pregnancy(mother_id=mother.id, **values)
    session.add(pregnancy)
    await session.flush()
    await _set_births(session, pregnancy.id, births)
    await session.flush()
    return pregnancy


def _births_key(births: list[dict[str, Any]]) -> list[tuple[date, str, str]]:
    """Births compared whatever their order: the same births sent again are no change."""
    return sorted((b["born_on"], b["baby_went"], str(b.get("child_id"))) for b in births)


def _birth_values(birth: Birth) -> dict[str, Any]:
    return {"born_on": birth.born_on, "baby_went": birth.baby_went, "child_id": birth.child_id}


async def update_pregnancy(
    session: AsyncSession,
    caller: Caller,
    pregnancy_id: uuid.UUID,
    data: PregnancyUpdate,
    if_match: str | None,
) -> tuple[Pregnancy, dict[str, Any]]:
    """The pregnancy and what changed (nothing: it keeps its version). Its births, when sent,
    replace those recorded, and are part of what its ETag covers."""
    pregnancy = await get_for_change(session, caller, PREGNANCIES, pregnancy_id, if_match)
    changes = data.changes()
    births = changes.pop("births", None)
    current = [
        _birth_values(birth)
        for birth in await session.scalars(
            select(Birth).where(Birth.pregnancy_id == pregnancy.id).order_by(Birth.born_on)
        )
    ]
    merged = {
        **pregnancy.model_dump(),
        **changes,
        "births": current if births is None else births,
    }
    problems = _pregnancy_rules(merged, date.today())
    if births is not None:
        problems += await _birth_children_rules(session, pregnancy.mother_id, births)
    InvalidInput.raise_any(problems)
    changed = apply_changes(pregnancy, changes)
    if births is not None and _births_key(births) != _births_key(current):
        await _set_births(session, pregnancy.id, births)
        if not changed:
            touch(pregnancy)  # only the births changed: the version moves with them
        changed["births"] = births
    if changed:
        await session.flush()
    return pregnancy, changed
