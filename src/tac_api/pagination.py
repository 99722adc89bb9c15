"""Keyset pagination: each page seeks past the sort key of the last row seen, so page 1,000
costs what page 1 costs (an index seek, never an OFFSET scan).

A cursor names that row by its id (the order's last, unique column) and nothing else: cursors
travel in URLs, logs and browser histories, and a sort key can be a surname, a date of birth or
a release date. The server reads the row's sort key back inside the page's own statement (the
list's own query, scope and filters included, narrowed to that id), so a cursor cannot place a
page after a record the list does not show. A cursor naming a record that has left the list
since (erased, transferred, changed out of its filters), or never was in it, is refused (422):
the client starts again from the first page, rather than silently missing the rest.
"""

import base64
import binascii
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Select, TypeDecorator, tuple_
from sqlalchemy.sql.elements import ColumnElement

from tac_api.errors import InvalidInput

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class PageParams(BaseModel):
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page (at most 200).")] = 50,
    cursor: Annotated[
        str | None,
        Query(min_length=1, max_length=512, description="`next_cursor` from the previous page."),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | date | datetime):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    return value


def encode_cursor(values: tuple[Any, ...]) -> str:
    raw = orjson.dumps([_plain(v) for v in values])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _typed(column: ColumnElement[Any], value: Any) -> Any:
    if value is None:
        return None
    column_type = column.type
    # SQLModel's UTCDateTime wraps DateTime and reports no python type of its own: ask the
    # type it wraps, or a time would be compared as text (which PostgreSQL refuses).
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    python_type = column_type.python_type
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if not isinstance(value, python_type):
        raise TypeError(f"expected {python_type.__name__}")
    return value


def decode_cursor(cursor: str, columns: list[ColumnElement[Any]]) -> tuple[Any, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong shape")
        return tuple(_typed(col, v) for col, v in zip(columns, values, strict=True))
    except (ValueError, TypeError, AttributeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidInput(
            "cursor", "is not a cursor this list gave out", location="query"
        ) from exc


def _position(
    statement: Select[Any], order_by: list[ColumnElement[Any]], row_id: Any
) -> Select[Any]:
    """The list's own row with this id, and its sort key."""
    return (
        statement.with_only_columns(*order_by, maintain_column_froms=True)
        .where(order_by[-1] == row_id)
        .order_by(None)
        .limit(None)
    )


def _cursor_row_id(cursor: str, order_by: list[ColumnElement[Any]]) -> Any:
    (row_id,) = decode_cursor(cursor, order_by[-1:])
    return row_id


def keyset(
    statement: Select[Any],
    order_by: list[ColumnElement[Any]],
    params: PageParams,
    descending: bool = False,
) -> Select[Any]:
    """Order by a unique key (its last column must be unique) and seek past the cursor;
    `descending`: the key's every column from the highest (newest first)."""
    if params.cursor:
        row_id = _cursor_row_id(params.cursor, order_by)
        if len(order_by) == 1:  # the order is the id itself
            key, at = order_by[0], row_id
        else:
            # A row value compared with the row the subquery finds, on SQLite as on PostgreSQL;
            # none found: NULL, no row passes (see `require_cursor_row`). Not correlated: its
            # tables are its own, whatever the outer statement names alike.
            key = tuple_(*order_by)
            at = _position(statement, order_by, row_id).correlate(None).scalar_subquery()
        statement = statement.where(key < at if descending else key > at)
    # One extra row tells whether there is a next page without a count(*).
    ordered = [column.desc() for column in order_by] if descending else order_by
    return statement.order_by(*ordered).limit(params.limit + 1)


async def require_cursor_row(session: Any, position: Select[Any]) -> None:
    """422 unless the list still holds the row a cursor names. Asked only when a page after a
    cursor comes back empty: a page with rows proves it (without it, none would pass the seek)."""
    if (await session.execute(position.limit(1))).first() is None:
        raise cursor_row_missing()


def cursor_row_missing() -> InvalidInput:
    return InvalidInput(
        "cursor",
        "names a record no longer in this list (or never in it): start again from the first page",
        location="query",
    )


def link_next(
    last_id: Any | None, params: PageParams, request: Request, response: Response
) -> str | None:
    """The cursor after the row `last_id` (None: this was the last page), also as an RFC 8288
    Link header."""
    if last_id is None:
        return None
    next_cursor = encode_cursor((last_id,))
    next_url = request.url.include_query_params(cursor=next_cursor, limit=params.limit)
    response.headers["Link"] = f'<{next_url}>; rel="next"'
    return next_cursor


def page_of(
    rows: list[Any], params: PageParams, id_of: Any, request: Request, response: Response
) -> tuple[list[Any], str | None]:
    """Trim the look-ahead row, and set the RFC 8288 Link header when there is more. `id_of`
    reads a row's id (the order's last column)."""
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    return rows, link_next(id_of(rows[-1]), params, request, response)


async def fetch_page(
    session: Any,
    statement: Select[Any],
    order_by: list[ColumnElement[Any]],
    params: PageParams,
    request: Request,
    response: Response,
    *,
    id_of: Callable[[Any], Any] | None = None,
    shown: Callable[[Select[Any]], Select[Any]] | None = None,
    shown_params: dict[str, Any] | None = None,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Run a keyset-paginated query: one page of ORM objects (or of rows, given an `id_of`
    that reads the order's last column off a row) and the next cursor. `shown`: what the page's
    statement becomes before it is sent (its audit rows written by it too, see
    `tac_api.resources.page_consulted`), with its own parameters (`shown_params`).
    `descending`: as `keyset`'s."""
    paged = keyset(statement, order_by, params, descending)
    if shown is not None:
        paged = shown(paged)
    result = await session.execute(paged, shown_params)
    if id_of is None:
        key = order_by[-1].key
        rows = list(result.scalars())
        id_of = lambda row: getattr(row, key)  # noqa: E731
    else:
        rows = list(result.all())
    if not rows and params.cursor and len(order_by) > 1:
        row_id = _cursor_row_id(params.cursor, order_by)
        await require_cursor_row(session, _position(statement, order_by, row_id))
    return page_of(rows, params, id_of, request, response)


PageQuery = Annotated[PageParams, Depends(page_params)]


@dataclass(frozen=True)
class Paging:
    """The page asked for, with the request its next link is read from and the response that
    link is written to: what a paged list hands on together."""

    params: PageParams
    request: Request
    response: Response


async def paging(params: PageQuery, request: Request, response: Response) -> Paging:
    return Paging(params, request, response)


PagingQuery = Annotated[Paging, Depends(paging)]
