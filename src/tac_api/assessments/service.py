"""Parenting assessments: the one scoped statement, the rules of an assessment, and the
children and report recipients of a page loaded in one statement each."""

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, delete
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
from tac_api.db import touch
from tac_api.errors import InvalidInput
from tac_api.flags.service import with_flags
from tac_api.reference.service import require_current_authority
from tac_api.resources import (
    ChildLinks,
    Resource,
    add_with_children,
    apply_changes,
    check_children,
    children_of,
    every_child_of,
    get_for_change,
    list_visible,
    mother_for_writing,
    rows_by,
    set_children,
)
from tac_api.schemas import EARLIEST_PLAUSIBLE_DATE

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


ASSESSMENTS = Resource(
    kind="parenting_assessment",
    model=Assessment,
    label="parenting assessment",
    order=(Assessment.requested_on, Assessment.id),
    children=ChildLinks(Concerns.parenting_assessment_id, Concerns.child_id),
    when=Assessment.requested_on,
    path="/v1/parenting-assessments",
)


def search(caller: Caller, **filters: Any) -> Select[Any]:
    """The assessments this caller may see, with the lists' common filters (`list_visible`)."""
    return list_visible(caller, ASSESSMENTS, **filters)


def to_public(
    assessment: ParentingAssessment,
    child_ids: list[uuid.UUID],
    recipients: list[RecipientPublic],
) -> ParentingAssessmentPublic:
    return ParentingAssessmentPublic.model_validate(
        {**assessment.model_dump(), "child_ids": child_ids, "report_shared_with": recipients}
    )


async def recipients_of(
    session: AsyncSession, assessment_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[RecipientPublic]]:
    """Who each report was shared with, in the order given: one statement for a whole page."""
    shared = await rows_by(
        session,
        Recipient.parenting_assessment_id,
        assessment_ids,
        (Recipient.parenting_assessment_id, Recipient.position),
    )
    return {
        assessment_id: [
            RecipientPublic(role=recipient.role, name=recipient.name)  # type: ignore[arg-type]
            for recipient in recipients
        ]
        for assessment_id, recipients in shared.items()
    }


async def public_page(
    session: AsyncSession, caller: Caller, assessments: list[ParentingAssessment]
) -> list[ParentingAssessmentPublic]:
    """The assessments with their children (a local authority's own only, as everywhere) and
    recipients: one statement for each, however long the page."""
    if not assessments:
        return []
    ids = [assessment.id for assessment in assessments]
    children = await children_of(session, caller, ASSESSMENTS, ids)
    shared = await recipients_of(session, ids)
    shown = [to_public(a, children[a.id], shared[a.id]) for a in assessments]
    # Their open flags for review, for the prison side: one statement more.
    await with_flags(session, caller, ASSESSMENTS.kind, shown)
    return shown


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


def _recipient_rows(assessment_id: uuid.UUID, recipients: list[dict[str, Any]]) -> list[Recipient]:
    return [
        Recipient(parenting_assessment_id=assessment_id, position=n, **recipient)
        for n, recipient in enumerate(recipients)
    ]


async def create_assessment(
    session: AsyncSession, caller: Caller, data: ParentingAssessmentCreate
) -> ParentingAssessment:
    await mother_for_writing(session, caller, data.mother_id)
    values = data.model_dump()
    InvalidInput.raise_any(_rules(values, date.today()))
    await check_children(session, caller, data.mother_id, data.child_ids)
    if data.requesting_local_authority_code:
        await require_current_authority(
            session, "requesting_local_authority_code", data.requesting_local_authority_code
        )
    child_ids, recipients = values.pop("child_ids"), values.pop("report_shared_with")
    assessment = Assessment(**values)
    await add_with_children(session, ASSESSMENTS, assessment, child_ids)
    session.add_all(_recipient_rows(assessment.id, recipients))
    await session.flush()
    emit(
        session,
        "parenting-assessment.created",
        ASSESSMENTS.kind,
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
) -> tuple[ParentingAssessment, dict[str, Any]]:
    """The assessment and what changed (nothing: it keeps its version, and no event is sent)."""
    assessment = await get_for_change(session, caller, ASSESSMENTS, assessment_id, if_match)
    fed_before = snapshot(assessment, FEED_FIELDS)
    changes = data.changes()
    InvalidInput.raise_any(_rules({**assessment.model_dump(), **changes}, date.today()))
    child_ids = changes.pop("child_ids", None)
    recipients = changes.pop("report_shared_with", None)
    if child_ids is not None:
        await check_children(session, caller, assessment.mother_id, child_ids)
    authority = changes.get("requesting_local_authority_code")
    if authority and authority != assessment.requesting_local_authority_code:
        # An authority since merged away may stay on an old record, but not be newly given.
        await require_current_authority(session, "requesting_local_authority_code", authority)
    current = await every_child_of(session, ASSESSMENTS, assessment.id)
    changed = apply_changes(assessment, changes)
    lists = {}
    if child_ids is not None and set(child_ids) != set(current):
        await set_children(session, ASSESSMENTS, assessment.id, child_ids)
        lists["child_ids"] = child_ids
    if recipients is not None:
        shared = (await recipients_of(session, [assessment.id]))[assessment.id]
        # A name left out of a PATCH is no name (exclude_unset reaches into the list).
        given = [(recipient["role"], recipient.get("name")) for recipient in recipients]
        if [(recipient.role, recipient.name) for recipient in shared] != given:
            await session.execute(
                delete(Recipient).where(Recipient.parenting_assessment_id == assessment.id)
            )
            session.add_all(_recipient_rows(assessment.id, recipients))
            lists["report_shared_with"] = recipients
    if lists and not changed:
        touch(assessment)  # its lists are part of what its version (its ETag) covers
    changed |= lists
    if not changed:
        return assessment, changed
    await session.flush()
    # To the authorities of the children it concerns now; `changed` never names child_ids.
    emit(
        session,
        "parenting-assessment.updated",
        ASSESSMENTS.kind,
        assessment.id,
        assessment.mother_id,
        child_ids or current,
        changes_between(fed_before, snapshot(assessment, FEED_FIELDS)),
    )
    return assessment, changed


async def delete_assessment(
    session: AsyncSession, caller: Caller, assessment_id: uuid.UUID, if_match: str | None
) -> ParentingAssessment:
    assessment = await get_for_change(session, caller, ASSESSMENTS, assessment_id, if_match)
    # Who to tell is who it concerned: read before its links go.
    emit(
        session,
        "parenting-assessment.deleted",
        ASSESSMENTS.kind,
        assessment.id,
        assessment.mother_id,
        await every_child_of(session, ASSESSMENTS, assessment.id),
    )
    # Its rows first, rather than trusting every database to cascade.
    for table in (Concerns, Recipient):
        await session.execute(
            delete(table).where(table.parenting_assessment_id == assessment.id)  # type: ignore[attr-defined]
        )
    await session.execute(delete(Assessment).where(Assessment.id == assessment.id))
    return assessment
