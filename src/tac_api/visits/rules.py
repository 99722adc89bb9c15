"""Contact visits: what each child's contact arrangement allows, what a scheduled visit needs,
what the visit's status still lets change, and the one final contact before adoption per child."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.children.models import Child
from tac_api.errors import Conflict
from tac_api.visits.models import ContactVisit, ContactVisitChild
from tac_api.visits.schemas import IN_PERSON, INDIRECT, NEXT_STATUSES

FINAL_CONTACT_RACE = (
    "One of these children has just been given a final contact before adoption by another "
    "request; a child has one only."
)
Named = list[tuple[int, Any]]  # (position in child_ids, counting from 1; the child's row)


async def arrangements_of(session: AsyncSession, child_ids: list[uuid.UUID]) -> Named:
    """The children named, in the order given, with what their contact rules need (they have
    passed `resources.check_children`: hers, each once)."""
    rows = await session.execute(
        select(Child.id, Child.contact_arrangement, Child.date_of_birth).where(
            Child.id.in_(child_ids)
        )
    )
    known = {row.id: row for row in rows}
    return [(position + 1, known[child_id]) for position, child_id in enumerate(child_ids)]


def contact_rules(
    children: Named, visit_type: str, supervisor_name: str | None
) -> list[tuple[str, str]]:
    """What each child's contact arrangement allows: `none` no contact at all, `indirect_only`
    letters and cards only, `supervised` a named supervisor (a letter is read, not supervised).
    A child not yet born has no contact of any kind."""
    problems = []
    for position, child in children:
        arrangement = child.contact_arrangement
        if child.date_of_birth is None:  # recorded with an expected date: not yet born
            problems.append(
                (
                    "child_ids",
                    f"item {position} is not born yet: a visit is with a child already born",
                )
            )
        elif arrangement == "none":
            problems.append(
                (
                    "child_ids",
                    f"item {position}: this child's contact arrangement is none; "
                    "no contact is allowed",
                )
            )
        elif arrangement == "indirect_only" and visit_type != INDIRECT:
            problems.append(
                (
                    "visit_type",
                    f"child_ids item {position}'s contact arrangement is indirect_only: "
                    "letter_or_card only",
                )
            )
        elif arrangement == "supervised" and visit_type != INDIRECT and not supervisor_name:
            problems.append(
                (
                    "supervisor",
                    f"child_ids item {position}'s contact is supervised: name a supervisor",
                )
            )
    return problems


def schedule_rules(values: dict[str, Any], status: str) -> list[tuple[str, str]]:
    """What a visit needs once it is scheduled: a time, and for the child to be brought in
    person, someone to bring them."""
    if status not in ("scheduled", "held"):
        return []
    problems = []
    if values.get("scheduled_at") is None:
        problems.append(("scheduled_at", f"a {status} visit needs its time"))
    if values["visit_type"] in IN_PERSON and not values.get("escort_name"):
        problems.append(
            ("escort", f"a {status} visit in person needs the escorting carer or worker")
        )
    return problems


async def final_contact_taken(
    session: AsyncSession, visit_id: uuid.UUID | None, children: Named
) -> None:
    """409 if any of these children already has a final contact that still counts."""
    ids = [child.id for _, child in children]
    statement = select(ContactVisitChild.child_id, ContactVisitChild.contact_visit_id).where(
        ContactVisitChild.child_id.in_(ids), ContactVisitChild.final_contact.is_(True)
    )
    if visit_id is not None:
        statement = statement.where(ContactVisitChild.contact_visit_id != visit_id)
    taken = {row.child_id: row.contact_visit_id for row in (await session.execute(statement))}
    for position, child in children:
        if child.id in taken:
            raise Conflict(
                f"child_ids item {position} already has a final contact before adoption "
                f"(contact visit {taken[child.id]}); a child has one only. Cancel or refuse "
                "that one first if this replaces it."
            )


def frozen(
    visit: ContactVisit, changes: dict[str, Any], current: list[uuid.UUID]
) -> list[tuple[str, str]]:
    """409 for changes the visit's status no longer allows. An outcome sent before the visit is
    held is too early, and too early is 422 everywhere (a hearing's or a meeting's outcome
    too): returned as a problem with the input."""
    if not NEXT_STATUSES[visit.status] and visit.status != "held":
        raise Conflict(f"This visit is {visit.status}: it no longer changes.")
    approved = []
    if "child_ids" in changes and set(changes["child_ids"]) != set(current):
        approved.append("child_ids")
    if "visit_type" in changes and changes["visit_type"] != visit.visit_type:
        approved.append("visit_type")
    if approved and visit.status != "requested":
        raise Conflict(
            f"This visit is {visit.status}: its {' and '.join(approved)} are what was agreed, "
            "and change only while it is requested. Cancel it and request a new one."
        )
    if visit.status == "held":
        return []
    return [
        (field, f"this visit is {visit.status}: an outcome is recorded once it is held")
        for field in ("outcome", "outcome_notes")
        if changes.get(field) is not None
    ]


def not_allowed(visit: ContactVisit, wanted: str) -> Conflict:
    allowed = NEXT_STATUSES[visit.status]
    onward = ", ".join(allowed) if allowed else "nothing: it is final"
    return Conflict(
        f"This visit is {visit.status} and cannot become {wanted}. "
        f"From {visit.status} it can move to {onward}."
    )
