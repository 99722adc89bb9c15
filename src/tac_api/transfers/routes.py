import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tac_api.errors import COMMON_PROBLEMS
from tac_api.pagination import Page, PagingQuery
from tac_api.pipeline import PrisonSide
from tac_api.routing import page_shown, show_visible
from tac_api.schemas import PrisonCode
from tac_api.session import SessionDep
from tac_api.transfers import service
from tac_api.transfers.schemas import TransferSummaryPublic

# Read-only: a summary is written by the transfer itself, and never changed.
router = APIRouter(tags=["Transfers"], responses=COMMON_PROBLEMS)

KEPT = (
    "Her prison's social workers (and an admin) read what their prison keeps of a case it "
    "transferred out, until its `kept_until` (inclusive): after it, 404. The receiving prison "
    "reads her case itself, never the summary (404). Every read is audited as consulted."
)


@router.get(
    "/v1/transfer-summaries",
    summary="What your prison keeps of the cases it transferred out, newest first",
    description=KEPT,
)
async def list_transfer_summaries(
    caller: PrisonSide,
    session: SessionDep,
    paging: PagingQuery,
    prison_code: Annotated[
        PrisonCode | None, Query(description="The sending prison's summaries.")
    ] = None,
    mother_id: Annotated[uuid.UUID | None, Query(description="Summaries of her.")] = None,
) -> Page[TransferSummaryPublic]:
    statement = service.search(caller, prison_code=prison_code, mother_id=mother_id)
    summaries, cursor = await page_shown(session, service.SUMMARIES, statement, paging)
    service.consulted_within(session, summaries)
    return Page[TransferSummaryPublic](
        items=[service.to_public(summary) for summary in summaries], next_cursor=cursor
    )


@router.get(
    "/v1/transfer-summaries/{transfer_summary_id}",
    summary="Her case as it stood when she left your prison",
    description=KEPT,
)
async def get_transfer_summary(
    transfer_summary_id: uuid.UUID, caller: PrisonSide, session: SessionDep, response: Response
) -> TransferSummaryPublic:
    summary = await show_visible(session, caller, service.SUMMARIES, transfer_summary_id, response)
    service.consulted_within(session, [summary])
    return service.to_public(summary)
