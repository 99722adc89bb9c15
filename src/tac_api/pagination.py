"""Keyset pagination: a cursor is the sort key of the last row seen, so page 1,000 costs what
page 1 costs (an index seek, never an OFFSET scan)."""

import base64
import binascii
import uuid
from collections.abc import Callable
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


def keyset(
    statement: Select[Any], order_by: list[ColumnElement[Any]], params: PageParams
) -> Select[Any]:
    """Order by a unique key (its last column must be unique) and seek past the cursor."""
    if params.cursor:
        after = decode_cursor(params.cursor, order_by)
        statement = statement.where(tuple_(*order_by) > tuple_(*after))
    # One extra row tells whether there is a next page without a count(*).
    return statement.order_by(*order_by).limit(params.limit + 1)


def link_next(
    last: tuple[Any, ...] | None, params: PageParams, request: Request, response: Response
) -> str | None:
    """The cursor after `last` (None: this was the last page), also as an RFC 8288 Link header."""
    if last is None:
        return None
    next_cursor = encode_cursor(last)
    next_url = request.url.include_query_params(cursor=next_cursor, limit=params.limit)
    response.headers["Link"] = f'<{next_url}>; rel="next"'
    return next_cursor


def page_of(
    rows: list[Any], params: PageParams, sort_key: Any, request: Request, response: Response
) -> tuple[list[Any], str | None]:
    """Trim the look-ahead row, and set the RFC 8288 Link header when there is more."""
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    return rows, link_next(sort_key(rows[-1]), params, request, response)


async def fetch_page(
    session: Any,
    statement: Select[Any],
    order_by: list[ColumnElement[Any]],
    params: PageParams,
    request: Request,
    response: Response,
    *,
    sort_key: Callable[[Any], tuple[Any, ...]] | None = None,
) -> tuple[list[Any], str | None]:
    """Run a keyset-paginated query: one page of ORM objects (or of rows, given a sort_key that
    reads the order_by values off a row) and the next cursor."""
    paged = keyset(statement, order_by, params)
    result = await session.execute(paged)
    if sort_key is None:
        keys = [col.key for col in order_by]
        rows = list(result.scalars())
        return page_of(
            rows, params, lambda row: tuple(getattr(row, k) for k in keys), request, response
        )
    return page_of(list(result.all()), params, sort_key, request, response)


PageQuery = Annotated[PageParams, Depends(page_params)]
