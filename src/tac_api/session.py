"""The request's session: one transaction per request, committed once, with its audit trail."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.changes import service as changes
from tac_api.db import REQUEST_ID, unavailable
from tac_api.errors import DatabaseUnavailable, Problem
from tac_api.idempotency import service as idempotency

READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def status_of(exc: BaseException) -> int:
    if isinstance(exc, Problem):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    return DatabaseUnavailable.status if unavailable(exc) else 500


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session and one transaction per request: committed once when the route succeeds.

    Services only flush, so a constraint they break surfaces inside the route as a domain error;
    anything raised rolls the whole request back, which is how bad input writes nothing.
    Reads run in autocommit (see `db.transactional`): a BEGIN and a COMMIT would be two more
    round trips to the database for each GET.

    The audit events the route recorded are written just before the commit, in the same
    transaction, so a change and its record of who made it stand or fall together. A read's are
    written before its response leaves: nothing is disclosed unrecorded. A POST's Idempotency-Key,
    if it sent one, is marked completed in the same transaction too (see tac_api.idempotency); a
    failed request's key is released for a retry. The change events a write emitted for local
    authorities' feeds (`changes.emit`) are written in the same transaction, last of all.
    """
    state = request.app.state
    reading = request.method in READ_ONLY_METHODS
    maker = state.read_sessionmaker if reading else state.sessionmaker
    failed_with: int | None = None
    try:
        async with maker() as session:
            session.info[REQUEST_ID] = audit.request_id_of(request)
            try:
                yield session
                if getattr(request.state, "audit_required", False) and not session.info.get(
                    audit.AUDITED
                ):
                    raise RuntimeError(
                        f"{request.method} {request.url.path} recorded no audit event"
                    )
                if not reading:
                    # Before the audit events are written: it reads which records they name.
                    await idempotency.complete(session, request)
                await audit.write_pending(session, request)
                if not reading:
                    # Last, just before the commit: the change events take the feed's lock.
                    await changes.write_pending(session)
                if not reading and session.in_transaction():
                    await session.commit()
                    idempotency.committed(request)
            except BaseException as exc:
                if not reading:
                    await session.rollback()
                # A replayed answer skipped the route: nothing failed (its audit is written).
                if isinstance(exc, Exception) and not isinstance(exc, idempotency.AnswerReplayed):
                    failed_with = status_of(exc)
                raise
    finally:
        # Once the session has given its connection back: a request never holds two at once.
        if failed_with is not None:
            await idempotency.release(state.read_sessionmaker, request)
            await audit.write_failure(state.sessionmaker, request, failed_with)


# scope="function": the commit happens when the route returns, before the response is sent, so a
# commit that fails answers 500 instead of a success the database never recorded.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
