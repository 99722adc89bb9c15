"""Parenting assessments: the one scoped statement, the rules of an assessment, and the
children and report recipients of a page loaded in one statement each."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.assessments.models import (
    ParentingAssessment,
    ParentingAssessmentChild,
    ParentingAssessmentRecipient,
)
from tac_api.assessments.schemas import (
    ParentingAssessmentCreate,
    ParentingAssessmentPublic,
    ParentingAssessmentUpdate,
    RecipientPublic,
)
from tac_api.auth.schemas import Caller
from tac_api.changes.service import changes_between, emit, snapshot
from tac_api.children.models import Child
from tac_api.db import touch
from tac_api.errors import InvalidInput
from tac_api.mothers.models import Mother
from tac_api.preconditions import check_if_match
from tac_api.reference.service import require_current_authority
from tac_api.resources import ChildLinks, Resource, get_visible
from tac_api.schemas import EARLIEST_PLAUSIBLE_DATE
from tac_api.scope import (
    assessment_visible,
    concerning_child,
    mother_visible,
    shown_with_their_mother,
)

Assessment = ParentingAssessment
Concerns = ParentingAssessmentChild
Recipient = ParentingAssessmentRecipient
# What a local authority's change feed is told of an assessment: who asked and when, the model,
# its dates and outcome. Not the assessor's name nor who the report went to.
FEED_FIELDS = (
    "requested_by",
    "requested_on",
    "requesting_local_authority_code",
    "model",
    "started_on",
    "completed_on",
    "outcome",
)


def search(
    caller: Caller,
    mother_id: uuid.UUID | None,
    child_id: uuid.UUID | None,
    prison_code: str | None,
) -> Select[Any]:
    statement = select(Assessment).where(assessment_visible(caller))
    if mother_id is not None:
        statement = statement.where(Assessment.mother_id == mother_id)
    if child_id is not None:
        statement = statement.where(
            concerning_child(
                caller, Assessment.id, Concerns.parenting_assessment_id, Concerns.child_id, child_id
            )
        )
    if prison_code is not None:
        statement = statement.where(
            exists().where(Mother.id == Assessment.mother_id, Mother.prison_code == prison_code)
        )
    return statement


ASSESSMENTS = Resource(
    kind="parenting_assessment",
    model=Assessment,
    label="parenting assessment",
    order=(Assessment.requested_on, Assessment.id),
    children=ChildLinks(Concerns.parenting_assessment_id, Concerns.child_id),
    when=Assessment.requested_on,
)


async def to_public(
    session: AsyncSession, caller: Caller, assessments: list[ParentingAssessment]
) -> list[ParentingAssessmentPublic]:
    """The assessments with their children and recipients: one statement for the children of
    the whole page and one for its recipients, however long the page."""
    if not assessments:
        return []
    ids = [assessment.id for assessment in assessments]
    children: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    concerned = await session.execute(
        select(Concerns.parenting_assessment_id, Concerns.child_id)
        .join(Child, Child.id == Concerns.child_id)
        # A local authority is shown its own children only, as everywhere else.
        .where(Concerns.parenting_assessment_id.in_(ids), shown_with_their_mother(caller))
        .order_by(Concerns.parenting_assessment_id, Concerns.child_id)
    )
    for assessment_id, child_id in concerned:
        children[assessment_id].append(child_id)
    shared: dict[uuid.UUID, list[RecipientPublic]] = {i: [] for i in ids}
    recipients = await session.scalars(
        select(Recipient)
        .where(Recipient.parenting_assessment_id.in_(ids))
        .order_by(Recipient.parenting_assessment_id, Recipient.position)
    )
    for recipient in recipients:
        shared[recipient.parenting_assessment_id].append(
            RecipientPublic(role=recipient.role, name=recipient.name)  # type: ignore[arg-type]
        )
    return [
        ParentingAssessmentPublic.model_validate(
            {
                **assessment.model_dump(),
                "child_ids": children[assessment.id],
                "report_shared_with": shared[assessment.id],
            }
        )
        for assessment in assessments
    ]


def _rules(values: dict[str, Any], today: date) -> list[tuple[str, str]]:
    problems = []
    requested_by, authority = (
        values.get("requested_by"),
        values.get("requesting_local_authority_code"),
    )
    if requested_by == "local_authority" and not authority:
        problems.append(("requesting_local_authority_code", "say which authority asked for it"))
    if requested_by == "court" and authority:
        problems.append(
            ("requesting_local_authority_code", "only when a local authority asked for it")
        )
    if values.get("model") == "other" and not values.get("model_other"):
        problems.append(("model_other", "say which model, when it is other"))
    if values.get("model") != "other" and values.get("model_other"):
        problems.append(("model_other", "only when model is other"))
    requested, started = values.get("requested_on"), values.get("started_on")
    completed, outcome = values.get("completed_on"), values.get("outcome")
    dates = (("requested_on", requested), ("started_on", started), ("completed_on", completed))
    for field, value in dates:
        if value is None:
            continue
        if value > today:
            problems.append((field, "cannot be in the future"))
        elif value < EARLIEST_PLAUSIBLE_DATE:
            problems.append((field, "is not a plausible date"))
    if requested is not None and started is not None and started < requested:
        problems.append(("started_on", "cannot be before it was requested"))
    if started is not None and completed is not None and completed < started:
        problems.append(("completed_on", "cannot be before started_on"))
    # Withdrawn before it began is the one way to end without having started.
    if completed is not None and started is None and outcome != "withdrawn":
        problems.append(("started_on", "a completed assessment has a start date"))
    if completed is not None and outcome is None:
        problems.append(("outcome", "required once the assessment is completed"))
    if completed is None and outcome is not None:
        problems.append(("outcome", "give completed_on with the outcome"))
    return problems


async def _check_children(
    session: AsyncSession, mother_id: uuid.UUID, child_ids: list[uuid.UUID]
) -> None:
    hers = set(
        await session.scalars(
            select(Child.id).where(Child.id.in_(child_ids), Child.mother_id == mother_id)
        )
    )
    if hers != set(child_ids):
        raise InvalidInput("child_ids", "each must be one of her children")


def _recipient_rows(assessment_id: uuid.UUID, recipients: list[dict[str, Any]]) -> list[Recipient]:
    return [
        Recipient(parenting_assessment_id=assessment_id, position=n, **recipient)
        for n, recipient in enumerate(recipients)
    ]


async def create_assessment(
    session: AsyncSession, caller: Caller, data: ParentingAssessmentCreate
) -> ParentingAssessment:
    mother = await session.scalar(
        select(Mother.id).where(Mother.id == data.mother_id, mother_visible(caller))
    )
    if mother is None:
        raise InvalidInput("mother_id", "no mother with this id is visible to you")
    values = data.model_dump()
    InvalidInput.raise_any(_rules(values, date.today()))
    await _check_children(session, data.mother_id, data.child_ids)
    if data.requesting_local_authority_code:
        await require_current_authority(
            session, "requesting_local_authority_code", data.requesting_local_authority_code
        )
    child_ids, recipients = values.pop("child_ids"), values.pop("report_shared_with")
    assessment = Assessment(**values)
    session.add(assessment)
    # The parent row first: SQLAlchemy orders rows of unrelated models by class, not by key.
    await session.flush()
    session.add_all(
        Concerns(parenting_assessment_id=assessment.id, child_id=child_id) for child_id in child_ids
    )
    session.add_all(_recipient_rows(assessment.id, recipients))
    await session.flush()
    emit(
        session,
        "parenting-assessment.created",
        "parenting_assessment",
        assessment.id,
        assessment.mother_id,
        child_ids,
        snapshot(assessment, FEED_FIELDS),
    )
    return assessment


async def update_assessment(
    session: AsyncSession,
    caller: Caller,
    assessment_id: uuid.UUID,
    data: ParentingAssessmentUpdate,
    if_match: str | None,
) -> ParentingAssessment:
    assessment = await get_visible(session, caller, ASSESSMENTS, assessment_id, for_update=True)
    check_if_match(if_match, assessment.version)
    fed_before = snapshot(assessment, FEED_FIELDS)
    changes = data.changes()
    InvalidInput.raise_any(_rules({**assessment.model_dump(), **changes}, date.today()))
    child_ids = changes.pop("child_ids", None)
    recipients = changes.pop("report_shared_with", None)
    if child_ids is not None:
        await _check_children(session, assessment.mother_id, child_ids)
    authority = changes.get("requesting_local_authority_code")
    if authority and authority != assessment.requesting_local_authority_code:
        # An authority since merged away may stay on an old record, but not be newly given.
        await require_current_authority(session, "requesting_local_authority_code", authority)
    if child_ids is not None:
        await session.execute(
            delete(Concerns).where(Concerns.parenting_assessment_id == assessment.id)
        )
        session.add_all(
            Concerns(parenting_assessment_id=assessment.id, child_id=child_id)
            for child_id in child_ids
        )
    if recipients is not None:
        await session.execute(
            delete(Recipient).where(Recipient.parenting_assessment_id == assessment.id)
        )
        session.add_all(_recipient_rows(assessment.id, recipients))
    for field, value in changes.items():
        setattr(assessment, field, value)
    touch(assessment)
    await session.flush()
    if child_ids is None:
        child_ids = await _concerned(session, assessment.id)
    # To the authorities of the children it concerns now; `changed` never names child_ids.
    emit(
        session,
        "parenting-assessment.updated",
        "parenting_assessment",
        assessment.id,
        assessment.mother_id,
        child_ids,
        changes_between(fed_before, snapshot(assessment, FEED_FIELDS)),
    )
    return assessment


async def _concerned(session: AsyncSession, assessment_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(Concerns.child_id).where(Concerns.parenting_assessment_id == assessment_id)
        )
    )


async def delete_assessment(
    session: AsyncSession, caller: Caller, assessment_id: uuid.UUID, if_match: str | None
) -> ParentingAssessment:
    assessment = await get_visible(session, caller, ASSESSMENTS, assessment_id, for_update=True)
    check_if_match(if_match, assessment.version)
    # Who to tell is who it concerned: read before its links go.
    emit(
        session,
        "parenting-assessment.deleted",
        "parenting_assessment",
        assessment.id,
        assessment.mother_id,
        await _concerned(session, assessment.id),
    )
    # Its rows first, rather than trusting every database to cascade.
    for table in (Concerns, Recipient):
        await session.execute(
            delete(table).where(table.parenting_assessment_id == assessment.id)  # type: ignore[attr-defined]
        )
    await session.execute(delete(Assessment).where(Assessment.id == assessment.id))
    return assessment
