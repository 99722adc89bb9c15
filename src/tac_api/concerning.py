"""Liaison records that concern a mother and some of her children (hearings, meetings, visits,
assessments, communications): the scope and filters they share.

Each record keeps its own named scope function (`hearing_visible`, `meeting_visible`...), the one
place it is scoped; they are all built here, so the rule is the same everywhere: the prison side
sees the records of the mothers held in its prison, a local authority those that concern at
least one of its own children, and of their children only its own.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tac_api.auth.schemas import LOCAL_AUTHORITY_ROLES, Caller, Role, role_of, scope_value
from tac_api.children.models import Child
from tac_api.children.service import child_visible
from tac_api.mothers.models import Mother


def concerning_visible(
    who: Caller | Role, mother_id: Any, item_id: Any, link_item_id: Any, link_child_id: Any
) -> ColumnElement[bool]:
    """A record's scope, from its mother's column, its id, and its children's link table
    (pass the link table's columns through an alias of their own)."""
    role = role_of(who)
    if role is Role.admin:
        return true()
    if role is Role.prison_social_worker:
        holder = aliased(Mother)  # its own alias: never correlated with a mother joined outside
        return exists().where(
            holder.id == mother_id, holder.prison_code == scope_value(who, "prison_code")
        )
    if role in LOCAL_AUTHORITY_ROLES:
        theirs = aliased(Child)
        return exists().where(
            link_item_id == item_id,
            theirs.id == link_child_id,
            theirs.local_authority_code == scope_value(who, "local_authority_code"),
        )
    return false()


def held_in(mother_id: Any, prison_code: str) -> ColumnElement[bool]:
    """Records of the mothers held in this prison (a list filter)."""
    held = aliased(Mother)
    return exists().where(held.id == mother_id, held.prison_code == prison_code)


def concerning_child(
    caller: Caller, item_id: Any, link_item_id: Any, link_child_id: Any, child_id: uuid.UUID
) -> ColumnElement[bool]:
    """Records that concern this child, if the caller may see the child: a local authority
    cannot learn which records concern another authority's child by asking for it."""
    return exists().where(
        link_item_id == item_id,
        link_child_id == child_id,
        Child.id == link_child_id,
        child_visible(caller),
    )


async def children_by_item(
    session: AsyncSession,
    shown_to: Caller | None,
    item_column: Any,
    child_column: Any,
    item_ids: Iterable[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The children of every record on a page, in one statement (never one per record). Shown
    to a local authority, its own children only: another authority's child is not its to know
    about here. `shown_to` None: every child, for the record's own rules and history."""
    ids = list(item_ids)
    found: dict[uuid.UUID, list[uuid.UUID]] = {item_id: [] for item_id in ids}
    if not ids:
        return found
    statement = (
        select(item_column, child_column)
        .where(item_column.in_(ids))
        .order_by(item_column, child_column)
    )
    if shown_to is not None and shown_to.is_local_authority:
        statement = statement.join(Child, Child.id == child_column).where(
            Child.local_authority_code == shown_to.local_authority_code
        )
    for item_id, child_id in await session.execute(statement):
        found[item_id].append(child_id)
    return found
