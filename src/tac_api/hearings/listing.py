"""A list of visible records as one statement built once per role and set of filters, its
values (the caller's prison or authority, each filter, the page's cursor and size) parameters
filled in at each request, for `db.fetch_rows`.

`resources.list_visible` builds the same list for one caller with the values bound in: right for
lists read now and then, but building it (the scope's aliases and EXISTS clauses, SQLAlchemy's
compiling) costs more CPU than PostgreSQL spends running it, on the lists read all day (the
week's court hearings). The conditions are the same functions (the resource's visibility rule,
`scope.held_in`, `scope.concerning_child`); only their values are parameters here.
(Its place is beside `list_visible` in `tac_api.resources`, once that module's list path settles.)
"""

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select, tuple_

from tac_api.auth.schemas import Role
from tac_api.resources import Resource
from tac_api.scope import concerning_child, held_in

# The filters `list_visible` shares, by the name of the parameter each is sent as.
FILTERS = frozenset({"prison_code", "start", "end", "mother_id", "child_id"})


def given(filters: dict[str, Any]) -> frozenset[str]:
    """The filters asked for (one left out is None): which statement a request needs."""
    named = frozenset(name for name, value in filters.items() if value is not None)
    assert named <= FILTERS, f"not a list filter: {sorted(named - FILTERS)}"
    return named


@cache
def visible(role: Role, resource: Resource[Any], filters: frozenset[str]) -> Select[Any]:
    """Every column of the records a caller of this role may see, filtered as `list_visible`
    filters: her prison (`prison_code`), a `start` (inclusive) to `end` (exclusive) window on
    `resource.when`, her (`mother_id`), one of her children the caller may see (`child_id`)."""
    mother = getattr(resource.model, resource.subject or "mother_id")
    statement = select(*resource.model.__table__.c).where(resource.visible(role))
    if "prison_code" in filters:
        statement = statement.where(held_in(mother, bindparam("prison_code")))
    if "start" in filters:
        statement = statement.where(resource.when >= bindparam("start"))
    if "end" in filters:
        statement = statement.where(resource.when < bindparam("end"))
    if "mother_id" in filters:
        statement = statement.where(mother == bindparam("mother_id"))
    if "child_id" in filters:
        assert resource.children is not None, f"{resource.kind} concerns no children"
        links = resource.children
        statement = statement.where(
            concerning_child(
                role, resource.id_column, links.record_id, links.child_id, bindparam("child_id")
            )
        )
    return statement


@cache
def cursor_row(role: Role, resource: Resource[Any], filters: frozenset[str]) -> Select[Any]:
    """The list's own row a cursor names (`after_id`), and its sort key: a cursor carries the
    id only (see tac_api.pagination), and names no row outside the list."""
    order = list(resource.order)
    return (
        visible(role, resource, filters)
        .with_only_columns(*order, maintain_column_froms=True)
        .where(order[-1] == bindparam("after_id"))
    )


@cache
def page(role: Role, resource: Resource[Any], filters: frozenset[str], after: bool) -> Select[Any]:
    """One page in the resource's order, `limit` rows, after the cursor's row if `after`: a
    keyset seek, so page 1,000 costs what page 1 does."""
    order = list(resource.order)
    statement = visible(role, resource, filters)
    if after:
        # Not correlated: its tables are its own, whatever the outer statement names alike.
        position = cursor_row(role, resource, filters).correlate(None).scalar_subquery()
        statement = statement.where(tuple_(*order) > position)
    return statement.order_by(*order).limit(bindparam("limit"))
