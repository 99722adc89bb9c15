"""Care proceedings: their children, their 26 weeks, and the extensions the court grants."""

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Caller
from tac_api.db import touch
from tac_api.errors import InvalidInput
from tac_api.hearings.models import Proceedings, ProceedingsChild, ProceedingsExtension
from tac_api.hearings.rules import issued_rules
from tac_api.hearings.schemas import (
    ExtensionCreate,
    ExtensionPublic,
    ProceedingsCreate,
    ProceedingsPublic,
    ProceedingsUpdate,
)
from tac_api.resources import (
    ChildLinks,
    Resource,
    add_with_children,
    apply_changes,
    check_children,
    check_only_own_children,
    children_of,
    every_child_of,
    get_for_change,
    list_visible,
    mother_for_writing,
    replace_children,
    rows_by,
)

TWENTY_SIX_WEEKS = timedelta(weeks=26)


def twenty_six_week_date(issued_on: date, extension_weeks: int) -> date:
    """The day the 26 weeks run to: from the day the proceedings were issued, with every week
    the court added (the API's `twenty_six_week_date` and the printed chronology alike)."""
    return issued_on + TWENTY_SIX_WEEKS + timedelta(weeks=extension_weeks)


PROCEEDINGS = Resource(
    kind="proceedings",
    model=Proceedings,
    label="proceedings",
    plural=True,
    order=(Proceedings.issued_on, Proceedings.id),
    children=ChildLinks(ProceedingsChild.proceedings_id, ProceedingsChild.child_id),
    when=Proceedings.issued_on,
    path="/v1/proceedings",
)


def search(caller: Caller, **filters: Any) -> Select[Any]:
    """The proceedings this caller may see, with the lists' common filters (`list_visible`)."""
    return list_visible(caller, PROCEEDINGS, **filters)


async def public_page(
    session: AsyncSession, caller: Caller, items: list[Proceedings]
) -> list[ProceedingsPublic]:
    """With their children (a local authority: its own) and extensions: two statements,
    however many proceedings."""
    ids = [item.id for item in items]
    children = await children_of(session, caller, PROCEEDINGS, ids)
    extensions = await rows_by(
        session,
        ProceedingsExtension.proceedings_id,
        ids,
        (ProceedingsExtension.created_at, ProceedingsExtension.id),
    )
    return [
        ProceedingsPublic.model_validate(
            {
                **item.model_dump(),
                "child_ids": children[item.id],
                "twenty_six_week_date": twenty_six_week_date(
                    item.issued_on, sum(e.weeks for e in extensions[item.id])
                ),
                "extensions": [
                    ExtensionPublic.model_validate(e.model_dump()) for e in extensions[item.id]
                ],
            }
        )
        for item in items
    ]


async def create_proceedings(
    session: AsyncSession, caller: Caller, data: ProceedingsCreate
) -> Proceedings:
    InvalidInput.raise_any(issued_rules(data.issued_on, date.today()))
    mother = await mother_for_writing(session, caller, data.mother_id)
    await check_children(session, caller, mother.id, data.child_ids)
    proceedings = Proceedings(**data.model_dump(exclude={"child_ids"}))
    await add_with_children(session, PROCEEDINGS, proceedings, data.child_ids)
    return proceedings


async def update_proceedings(
    session: AsyncSession,
    caller: Caller,
    proceedings_id: uuid.UUID,
    data: ProceedingsUpdate,
    if_match: str | None,
) -> tuple[Proceedings, dict[str, Any]]:
    """The proceedings, and what changed (nothing: its version stays)."""
    proceedings = await get_for_change(session, caller, PROCEEDINGS, proceedings_id, if_match)
    changes = data.changes()
    await check_only_own_children(session, caller, PROCEEDINGS, proceedings.id)
    if "issued_on" in changes:
        problems = issued_rules(changes["issued_on"], date.today())
        first_extension = await session.scalar(
            select(ProceedingsExtension.granted_on)
            .where(ProceedingsExtension.proceedings_id == proceedings.id)
            .order_by(ProceedingsExtension.granted_on)
            .limit(1)
        )
        if first_extension is not None and changes["issued_on"] > first_extension:
            problems.append(("issued_on", "cannot be after an extension was granted"))
        InvalidInput.raise_any(problems)
    child_ids = changes.pop("child_ids", None)
    if child_ids is not None:
        await check_children(session, caller, proceedings.mother_id, child_ids)
    changed = apply_changes(proceedings, changes)
    if child_ids is not None:
        current = await every_child_of(session, PROCEEDINGS, proceedings.id)
        await replace_children(session, PROCEEDINGS, proceedings, child_ids, current, changed)
    await session.flush()
    return proceedings, changed


async def add_extension(
    session: AsyncSession,
    caller: Caller,
    proceedings_id: uuid.UUID,
    data: ExtensionCreate,
    if_match: str | None,
) -> tuple[Proceedings, ProceedingsExtension]:
    proceedings = await get_for_change(session, caller, PROCEEDINGS, proceedings_id, if_match)
    # An extension moves the proceedings' 26-week date: a change to them like a PATCH.
    await check_only_own_children(session, caller, PROCEEDINGS, proceedings.id)
    today = date.today()
    granted_on = data.granted_on or today
    if granted_on > today:
        raise InvalidInput("granted_on", "cannot be in the future")
    if granted_on < proceedings.issued_on:
        raise InvalidInput("granted_on", "cannot be before the proceedings were issued")
    extension = ProceedingsExtension(
        proceedings_id=proceedings.id, weeks=data.weeks, reason=data.reason, granted_on=granted_on
    )
    session.add(extension)
    # The 26-week date moves: the proceedings' ETag changes with it.
    touch(proceedings)
    await session.flush()
    return proceedings, extension
