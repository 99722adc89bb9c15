"""The shared floor: a description of each kind of record, and the functions that take it.

A kind of record is described once (`Resource`): its table, its name in the audit trail (which
also names its visibility rule in `tac_api.scope`), how its lists are ordered, whose record it is,
its children, and the column its `from`/`to` window filters. Fetching one visible record or 404,
listing visible records with the common filters, loading the children of a page of records, the
one rule for which children a record may name, and applying a change are written here, once;
a domain's `service.py` keeps only its own rules.
"""

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Generic, TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import Select, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller, Role, scope_params
from tac_api.children.models import Child
from tac_api.db import READ_ONLY, touch
from tac_api.errors import InvalidInput, NotFound
from tac_api.mothers.models import Mother
from tac_api.pagination import PageParams, fetch_page
from tac_api.preconditions import check_if_match
from tac_api.scope import KINDS, Rule, concerning_child, held_in, mother_visible

Record = TypeVar("Record")
Moment = TypeVar("Moment", date, datetime)


@dataclass(frozen=True)
class ChildLinks:
    """The table linking a record to the children it concerns: its two columns."""

    record_id: Any
    child_id: Any

    @property
    def table(self) -> Any:
        return self.record_id.class_


@dataclass(frozen=True, eq=False)
class Resource(Generic[Record]):
    """One kind of record, described once.

    `kind`: its name in the audit trail and in `tac_api.scope.KINDS` (its visibility rule).
    `label`: how a problem names it to a person ("court hearing").
    `order`: its lists' keyset order, ending with its id.
    `subject`: the attribute holding the id of the mother the record is about (the audit
    trail's subject); None for records about no one in particular (the directory, webhooks).
    `subject_shown`: the subject is no column of the record but what its answer shows of her
    (a link request names her by prison number): the audit trail is given what was shown, and
    a record shown without her (to the asking authority) is about no one the caller may know.
    `children`: the table naming the children it concerns, if any.
    `when`: the column a list's `from`/`to` window filters, if any.
    `public`: its public shape, where the record shows as it is stored.
    `path`: the collection it is read from in the API (a new record's Location is under it).
    `descending`: its lists run from the highest of `order` down (newest first).
    """

    kind: str
    model: type[Record]
    label: str
    order: tuple[Any, ...]
    subject: str | None = "mother_id"
    subject_shown: bool = False
    children: ChildLinks | None = None
    when: Any = None
    public: type[BaseModel] | None = None
    path: str | None = None  # where one lives in the API: /v1/<path>/{id}
    plural: bool = False  # "No proceedings ... are visible"
    descending: bool = False  # its lists run from the highest `order` down (newest first)

    @property
    def visible(self) -> Rule:
        return KINDS[self.kind].visible

    @property
    def id_column(self) -> Any:
        return KINDS[self.kind].id_column

    def id_of(self, record: Any) -> uuid.UUID:
        """A record's id: a model, a row's mapping, or the shape it was shown in."""
        return _field(record, "id")

    def subject_of(self, record: Any) -> uuid.UUID | None:
        if self.subject is None:
            return None
        if self.subject_shown:
            return _field(record, self.subject, missing=None)
        return _field(record, self.subject)

    def not_found(self, record_id: Any) -> NotFound:
        verb = "are" if self.plural else "is"
        return NotFound(f"No {self.label} with id {record_id} {verb} visible to you.")

    def location_of(self, record: Any) -> str:
        assert self.path is not None, f"{self.kind} has no path of its own"
        return f"{self.path}/{self.id_of(record)}"

    def to_public(self, record: Any) -> Any:
        assert self.public is not None, f"{self.kind} has no plain public shape"
        return self.public.model_validate(record)


_REQUIRED = object()


def _field(record: Any, name: str, missing: Any = _REQUIRED) -> Any:
    """A field of a record, whether it is a model or a row's mapping (sync's upserts)."""
    if isinstance(record, Mapping):
        return record[name] if missing is _REQUIRED else record.get(name, missing)
    return getattr(record, name) if missing is _REQUIRED else getattr(record, name, missing)


async def get_visible(
    session: AsyncSession,
    caller: Caller,
    resource: Resource[Record],
    record_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Record:
    """The record, if this caller may see it; 404 otherwise, the same whether it does not exist
    or is outside the caller's scope. `for_update` locks its row until the request commits, so
    that two changes sent with the same ETag cannot both pass the If-Match check (the second
    waits, then gets 412)."""
    statement = select(resource.model).where(
        resource.id_column == record_id, resource.visible(caller)
    )
    if for_update:
        statement = statement.with_for_update(of=resource.model)
    found = await session.scalar(statement)
    if found is None:
        raise resource.not_found(record_id)
    return found


class OneOfHers(Resource[Record]):
    """A record she has at most one of (her release plan, her support plan), asked for by her
    id rather than its own: its 404 names her."""

    def not_found(self, record_id: Any) -> NotFound:
        return NotFound(f"No {self.label} for mother {record_id} is visible to you.")


async def get_hers(
    session: AsyncSession,
    caller: Caller,
    resource: OneOfHers[Record],
    mother_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Record:
    """Her one record of this kind, if this caller may see it (its kind's rule, read on this
    request); 404 otherwise, the same as none. `for_update`: as `get_visible`'s."""
    statement = select(resource.model).where(
        _mother_column(resource) == mother_id, resource.visible(caller)
    )
    if for_update:
        statement = statement.with_for_update(of=resource.model)
    found = await session.scalar(statement)
    if found is None:
        raise resource.not_found(mother_id)
    return found


# -- A read and its audit trail in one round trip --------------------------------------------


def audited_in_one(session: AsyncSession, resource: Resource[Any] | None = None) -> bool:
    """Whether this session reads a record and writes its audit rows in one statement: on
    PostgreSQL, in autocommit (a read; a write's audit rows go with its commit), for a record
    whose audit names come from its own columns (not a `subject_shown` one)."""
    if resource is not None and resource.subject_shown:
        return False
    return bool(session.info.get(READ_ONLY)) and session.get_bind().dialect.name == "postgresql"


def audits_in_one(
    session: AsyncSession,
    caller: Caller,
    params: dict[str, Any],
    resource: Resource[Any] | None = None,
) -> bool:
    """`audited_in_one`, for a read that picks its statement by it: when the statement is to
    write its own audit rows, `params` gain the audit's per-request values (who, when, which
    request) and the session is marked audited."""
    if not audited_in_one(session, resource):
        return False
    params |= audit.consulting_params(session, caller)
    return True


def consulted_as(resource: Resource[Any]) -> audit.Consulted:
    """The audit trail's names for the rows of a statement selecting the record itself."""
    return audit.Consulted(resource.kind, resource.id_column.key, resource.subject)


@cache
def _visible_and_consulted(resource: Resource[Any], role: Role) -> Select[Any]:
    """`get_visible`'s statement with its audit row written by the same statement, built once
    per kind of record and role (the caller's prison or authority is a parameter)."""
    shown = (
        select(resource.model)
        .where(resource.id_column == bindparam("record_id"), resource.visible(role))
        .cte("shown")
    )
    written = audit.consulting(shown, [consulted_as(resource)])
    return select(aliased(resource.model, shown)).add_cte(written)


async def consult_visible(
    session: AsyncSession, caller: Caller, resource: Resource[Record], record_id: uuid.UUID
) -> Record:
    """The record, if this caller may see it (404 otherwise, as `get_visible`), audited as
    consulted. On PostgreSQL the read writes its own audit row, in the same statement (see
    README, "Reads in two round trips"); elsewhere the row is noted for the session to write."""
    if not audited_in_one(session, resource):
        record = await get_visible(session, caller, resource, record_id)
        audit.consulted(session, resource, [record])
        return record
    params = {
        "record_id": record_id,
        **scope_params(caller),
        **audit.consulting_params(session, caller),
    }
    found = await session.scalar(_visible_and_consulted(resource, caller.role), params)
    if found is None:
        raise resource.not_found(record_id)
    return found


def page_consulted(resource: Resource[Any], limit: int) -> Callable[[Select[Any]], Select[Any]]:
    """For `fetch_page`: a page's statement (its look-ahead row included) made to write the
    audit rows of the records it shows as well, in its resource's order (`audit.consulting`)."""
    names = [column.key for column in resource.order]

    def consulted(page: Select[Any]) -> Select[Any]:
        shown = page.cte("shown")
        written = audit.consulting(shown, [consulted_as(resource)], order=names, limit=limit)
        return (
            select(aliased(resource.model, shown))
            .add_cte(written)
            .order_by(*(shown.c[name] for name in names))
        )

    return consulted


def check_window(start: Moment | None, end: Moment | None) -> None:
    """A `from`/`to` window must run forwards."""
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to", "must be after from", location="query")


def list_visible(
    caller: Caller,
    resource: Resource[Any],
    *,
    prison_code: str | None = None,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    mother_id: uuid.UUID | None = None,
    child_id: uuid.UUID | None = None,
) -> Select[Any]:
    """The records this caller may see, with the filters lists share: the prison she is held in,
    a `from` (inclusive) `to` (exclusive) window on `resource.when`, her, and one of her
    children (only one the caller may see). A domain adds its own filters to what this returns."""
    statement = select(resource.model).where(resource.visible(caller))
    if prison_code:
        statement = statement.where(held_in(_mother_column(resource), prison_code))
    check_window(start, end)
    if start is not None:
        statement = statement.where(resource.when >= start)
    if end is not None:
        statement = statement.where(resource.when < end)
    if mother_id is not None:
        statement = statement.where(_mother_column(resource) == mother_id)
    if child_id is not None:
        links = _links(resource)
        statement = statement.where(
            concerning_child(caller, resource.id_column, links.record_id, links.child_id, child_id)
        )
    return statement


async def page_of(
    session: AsyncSession,
    resource: Resource[Record],
    statement: Select[Any],
    page: PageParams,
    request: Request,
    response: Response,
    *,
    id_of: Callable[[Any], Any] | None = None,
) -> tuple[list[Record], str | None]:
    """One page of a list in the resource's order, and the cursor to the next. A statement
    selecting more than the record (a row: the record and what is shown with it) says how to
    read the record's id off a row (`id_of`)."""
    return await fetch_page(
        session,
        statement,
        list(resource.order),
        page,
        request,
        response,
        id_of=id_of,
        descending=resource.descending,
    )


def _mother_column(resource: Resource[Any]) -> Any:
    assert resource.subject is not None, f"{resource.kind} is no one's record"
    assert not resource.subject_shown, f"{resource.kind} holds no mother's id"
    return getattr(resource.model, resource.subject)


def _links(resource: Resource[Any]) -> ChildLinks:
    assert resource.children is not None, f"{resource.kind} concerns no children"
    return resource.children


# -- The children a record concerns ------------------------------------------------------------


async def children_of(
    session: AsyncSession,
    shown_to: Caller | None,
    resource: Resource[Any],
    record_ids: Iterable[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The children of every record on a page, in one statement (never one per record). Shown
    to a local authority, its own children only: another authority's child is not its to know
    about here. `shown_to` None: every child, for the record's own rules and history."""
    return await children_through(session, shown_to, _links(resource), record_ids)


async def children_through(
    session: AsyncSession,
    shown_to: Caller | None,
    links: ChildLinks,
    record_ids: Iterable[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """`children_of`, given the link table itself: for a module the record's description
    cannot be imported into (it would import that module back)."""
    ids = list(record_ids)
    found: dict[uuid.UUID, list[uuid.UUID]] = {record_id: [] for record_id in ids}
    if not ids:
        return found
    statement = (
        select(links.record_id, links.child_id)
        .where(links.record_id.in_(ids))
        .order_by(links.record_id, links.child_id)
    )
    if shown_to is not None and shown_to.is_local_authority:
        statement = statement.join(Child, Child.id == links.child_id).where(
            Child.local_authority_code == shown_to.local_authority_code
        )
    for record_id, child_id in await session.execute(statement):
        found[record_id].append(child_id)
    return found


async def every_child_of(
    session: AsyncSession, resource: Resource[Any], record_id: uuid.UUID
) -> list[uuid.UUID]:
    """Every child one record concerns, not only those a caller is shown: for the record's own
    rules, its history and the authorities its events go to."""
    return (await children_of(session, None, resource, [record_id]))[record_id]


async def children_and_hidden_placements(
    session: AsyncSession, caller: Caller, resource: Resource[Any], record_ids: Iterable[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[uuid.UUID]], set[uuid.UUID]]:
    """`children_of` as shown to this caller, and the records naming a child whose confidential
    placement the caller may not see (every child counts there, shown or not): a carer named on
    such a record (escorting, relaying) is that child's carer, and is named to nobody else.
    One statement for the whole page, as `children_of`."""
    # Imported here: the children's service stands on this module.
    from tac_api.children.service import sees_placement

    links = _links(resource)
    ids = list(record_ids)
    found: dict[uuid.UUID, list[uuid.UUID]] = {record_id: [] for record_id in ids}
    hidden: set[uuid.UUID] = set()
    if not ids:
        return found, hidden
    rows = await session.execute(
        select(
            links.record_id.label("record_id"),
            links.child_id.label("child_id"),
            Child.local_authority_code,
            Child.placement_confidential,
        )
        .join(Child, Child.id == links.child_id)
        .where(links.record_id.in_(ids))
        .order_by(links.record_id, links.child_id)
    )
    for row in rows.mappings():
        if not sees_placement(caller, row):
            hidden.add(row["record_id"])
        if (
            not caller.is_local_authority
            or row["local_authority_code"] == caller.local_authority_code
        ):
            found[row["record_id"]].append(row["child_id"])
    return found, hidden


async def check_children(
    session: AsyncSession,
    caller: Caller,
    mother_id: uuid.UUID,
    child_ids: list[uuid.UUID],
    *,
    field: str = "child_ids",
) -> None:
    """Which children a record may name: her children, each once; for a local authority, its
    own children of hers only. A local authority hears the same about another authority's
    child of hers as about a child that is not hers at all: which children she has elsewhere
    is not its to learn. One statement, whatever the number of children."""
    problems = []
    if len(set(child_ids)) != len(child_ids):
        problems.append((field, "names a child more than once"))
    rows = (
        await session.execute(
            select(Child.id, Child.mother_id, Child.local_authority_code).where(
                Child.id.in_(child_ids)
            )
        )
        if child_ids
        else []
    )
    known = {row.id: row for row in rows}
    for position, child_id in enumerate(child_ids):
        child = known.get(child_id)
        hers = child is not None and child.mother_id == mother_id
        if caller.is_local_authority:
            if not hers or child.local_authority_code != caller.local_authority_code:
                problems.append(
                    (field, f"item {position + 1} is not one of your authority's children of hers")
                )
        elif not hers:
            problems.append((field, f"item {position + 1} is not one of her children"))
    InvalidInput.raise_any(problems)


async def check_only_own_children(
    session: AsyncSession, caller: Caller, resource: Resource[Any], record_id: uuid.UUID
) -> None:
    """A local authority changes a record only while every child it concerns is its own: the
    other authorities' children are theirs (and the prison side's) to speak for, and a change
    would change their record unseen."""
    if not caller.is_local_authority:
        return
    links = _links(resource)
    others = await session.scalar(
        select(links.child_id)
        .join(Child, Child.id == links.child_id)
        .where(
            links.record_id == record_id,
            Child.local_authority_code != caller.local_authority_code,
        )
        .limit(1)
    )
    if others is not None:
        raise InvalidInput(
            "child_ids",
            f"this {resource.label} also concerns another authority's children: only the "
            "prison side can change it",
        )


async def set_children(
    session: AsyncSession,
    resource: Resource[Any],
    record_id: uuid.UUID,
    child_ids: Iterable[uuid.UUID],
) -> None:
    """Make these the children the record concerns (replacing any it named before)."""
    links = _links(resource)
    await session.execute(delete(links.table).where(links.record_id == record_id))
    rows = [
        {links.record_id.key: record_id, links.child_id.key: child_id} for child_id in child_ids
    ]
    if rows:
        await session.execute(insert(links.table.__table__), rows)


# -- Changing a record -------------------------------------------------------------------------


def apply_changes(record: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Set what differs from the record as it stands, and say what that was. A change that
    changes nothing keeps the record's version (its ETag): nothing was altered, and a client
    holding the ETag has not been overtaken."""
    changed = {field: value for field, value in changes.items() if getattr(record, field) != value}
    for field, value in changed.items():
        setattr(record, field, value)
    if changed:
        touch(record)
    return changed


# -- Writing a record about her ----------------------------------------------------------------


async def lock_her(session: AsyncSession, mother_id: uuid.UUID) -> None:
    """Her row, locked until the request commits: for a rule over several of her records (one
    open support, a milestone review once per period), two requests checking it at once run one
    after the other, and the second sees what the first wrote."""
    await session.execute(select(Mother.id).where(Mother.id == mother_id).with_for_update())


async def mother_for_writing(session: AsyncSession, caller: Caller, mother_id: uuid.UUID) -> Mother:
    """The mother a new record names in its body: one this caller may see, or 422 (the body is
    wrong, not the address), the same whether she does not exist or is outside the caller's
    scope."""
    mother = await session.scalar(
        select(Mother).where(Mother.id == mother_id, mother_visible(caller))
    )
    if mother is None:
        raise InvalidInput("mother_id", "no mother with this id is visible to you")
    return mother


async def add_with_children(
    session: AsyncSession, resource: Resource[Record], record: Record, child_ids: list[uuid.UUID]
) -> None:
    """A new record, and the children it concerns. The record's row first: SQLAlchemy orders
    the rows of unrelated models by class, not by key."""
    session.add(record)
    await session.flush()
    await set_children(session, resource, resource.id_of(record), child_ids)


async def replace_children(
    session: AsyncSession,
    resource: Resource[Any],
    record: Any,
    new_ids: list[uuid.UUID] | None,
    current_ids: list[uuid.UUID],
    changed: dict[str, Any],
) -> list[uuid.UUID]:
    """A change naming its children (`new_ids`; None: not named): made only if they differ
    from the current ones (the same children in another order are no change), noted in
    `changed`, and the record's version moved with them even when nothing else changed, as
    its children are part of what its ETag covers. Answers the children it concerns now."""
    if new_ids is None or sorted(new_ids) == sorted(current_ids):
        return current_ids
    new_ids = sorted(new_ids)
    await set_children(session, resource, resource.id_of(record), new_ids)
    if not changed:
        touch(record)
    changed["child_ids"] = new_ids
    return new_ids


async def rows_by(
    session: AsyncSession, key: Any, ids: list[uuid.UUID], order: Iterable[Any]
) -> dict[uuid.UUID, list[Any]]:
    """The rows of a table hanging off a page of records (a visit's history, a report's
    recipients), grouped by the record they belong to (`key`, their column naming it), in
    `order`: one statement for the whole page, none for an empty one."""
    found: dict[uuid.UUID, list[Any]] = {record_id: [] for record_id in ids}
    if not ids:
        return found
    for row in await session.scalars(select(key.class_).where(key.in_(ids)).order_by(*order)):
        found[getattr(row, key.key)].append(row)
    return found


async def get_for_change(
    session: AsyncSession,
    caller: Caller,
    resource: Resource[Record],
    record_id: uuid.UUID,
    if_match: str | None,
) -> Record:
    """The record a change is asked for: visible to the caller (404 otherwise), its row locked
    until the request commits, and still at the version the caller last saw (If-Match; 412
    otherwise), so that two changes sent with the same ETag cannot both pass."""
    record = await get_visible(session, caller, resource, record_id, for_update=True)
    check_if_match(if_match, _field(record, "version"))
    return record
