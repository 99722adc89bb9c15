"""What every route does the same way once it has its record: say what it did with it (the audit
trail's names follow from the record's description) and answer with its ETag, and for a new
record its Location. A route calls one of these instead of writing the three steps again."""

import uuid
from typing import Annotated, Any

from fastapi import Query, Response
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller
from tac_api.http import set_etag
from tac_api.pagination import Paging, fetch_page
from tac_api.resources import (
    Record,
    Resource,
    audited_in_one,
    consult_visible,
    page_consulted,
    page_of,
)
from tac_api.schemas import IsoDatetime, PrisonCode


def answer_created(
    session: AsyncSession, response: Response, resource: Resource[Any], record: Any
) -> None:
    """A record was collected: audited, and where it now lives and its version answered."""
    audit.collected(session, resource, record)
    response.headers["Location"] = resource.location_of(record)
    set_etag(response, record.version)


def answer_put(
    session: AsyncSession,
    response: Response,
    resource: Resource[Any],
    record: Any,
    *,
    created: bool,
    changed: object,
    location: str,
) -> None:
    """A PUT of her one record of a kind (her release plan, her support plan), which lives at her
    own address rather than in a collection: created, it is collected, answered 201 with that
    address as its Location; otherwise audited as a change (or the consultation it was, when
    nothing changed). Its version answered either way."""
    if not created:
        answer_changed(session, response, resource, record, changed)
        return
    audit.collected(session, resource, record)
    response.status_code = 201
    response.headers["Location"] = location
    set_etag(response, record.version)


def answer_shown(
    session: AsyncSession, response: Response, resource: Resource[Any], record: Any
) -> None:
    """One record was shown: audited as consulted, and its version answered."""
    audit.consulted(session, resource, [record])
    set_etag(response, record.version)


async def show_visible(
    session: AsyncSession,
    caller: Caller,
    resource: Resource[Record],
    record_id: uuid.UUID,
    response: Response,
) -> Record:
    """One record, if this caller may see it (404 otherwise), audited as consulted and its
    version answered: `get_visible` then `answer_shown`, with the read and its audit row in one
    statement on PostgreSQL (`tac_api.resources.consult_visible`)."""
    record = await consult_visible(session, caller, resource, record_id)
    set_etag(response, record.version)  # type: ignore[attr-defined]
    return record


def answer_changed(
    session: AsyncSession, response: Response, resource: Resource[Any], record: Any, changed: object
) -> None:
    """A change was asked for: audited as an alteration, or, when it changed nothing, as the
    consultation it was; the version answered (the same one, if nothing changed)."""
    audit.altered(session, resource, record, changed)
    set_etag(response, record.version)


def answer_erased(session: AsyncSession, resource: Resource[Any], record: Any) -> None:
    audit.erased(session, resource, record)


async def page_shown(
    session: AsyncSession,
    resource: Resource[Record],
    statement: Select[Any],
    paging: Paging,
) -> tuple[list[Record], str | None]:
    """One page of a list in the resource's order, audited as consulted (every record on it is
    shown), and the cursor to the next. A list whose rows are more than the record audits
    what it shows itself."""
    caller = audit.caller_of(paging.request)
    # A list running newest first (rarely read) takes the two statements: the one-statement
    # audit (`page_consulted`) numbers its rows in ascending order.
    if caller is None or resource.descending or not audited_in_one(session, resource):
        records, cursor = await page_of(
            session, resource, statement, paging.params, paging.request, paging.response
        )
        audit.consulted(session, resource, records)
        return records, cursor
    # PostgreSQL: the page writes its own audit rows, in the same statement.
    return await fetch_page(
        session,
        statement,
        list(resource.order),
        paging.params,
        paging.request,
        paging.response,
        shown=page_consulted(resource, paging.params.limit),
        shown_params=audit.consulting_params(session, caller),
    )


# The list filters several routes describe alike (their own wording stays with the others).
HeldInQuery = Annotated[PrisonCode | None, Query(description="Mothers held in this prison.")]
StartsFromQuery = Annotated[
    IsoDatetime | None, Query(alias="from", description="Starting from this time (inclusive).")
]
StartsBeforeQuery = Annotated[
    IsoDatetime | None, Query(alias="to", description="Starting before this time (exclusive).")
]
