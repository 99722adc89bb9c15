import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from tac_api import printing
from tac_api.chronology import document, service
from tac_api.chronology.schemas import Chronology, ChronologyKind
from tac_api.db import utcnow
from tac_api.documents import answer
from tac_api.errors import COMMON_PROBLEMS
from tac_api.pipeline import CaseReader
from tac_api.session import SessionDep

router = APIRouter(tags=["Chronology"], responses=COMMON_PROBLEMS)


@router.get(
    "/v1/mothers/{mother_id}/chronology",
    summary="Every dated event of her case, oldest first: the social worker's chronology",
    description="As JSON by default; as the significant-events chronology a family court "
    "reads (date, event, source, significance; her name, date of birth and prison number (not "
    "to a local authority), the court's case numbers, who prepared it and when) with "
    "`Accept: text/html` or `?format=html`, `Accept: application/pdf` or `?format=pdf` "
    "(`?format=` wins over the header). The same events, filters and scope in every format; "
    "reading it is recorded as a combination of her records.",
    responses=printing.responses("Her chronology"),
)
async def get_chronology(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    request: Request,
    response: Response,
    child_id: Annotated[
        uuid.UUID | None, Query(description="Only the events that name this child.")
    ] = None,
    kind: Annotated[
        list[ChronologyKind] | None, Query(description="Only these kinds (repeat to add more).")
    ] = None,
    format: printing.FormatQuery = None,
) -> Chronology:
    # Her records from every part of the service, put in one order: a combination of records
    # (the service notes it, or writes it with the read on PostgreSQL).
    asked = set(kind or ())
    wanted = printing.wanted(request, format)
    read = service.Read() if wanted != "json" else None
    # A court's document holds the events of her case, not the service's working notes on it
    # (unless asked for by kind): they are not read, so not disclosed either.
    kinds = asked if asked or read is None else set(document.EVENTS_OF_HER_CASE)
    found = await service.chronology(session, caller, mother_id, child_id, kinds, read)
    response.headers["Vary"] = "Accept"
    if read is None:
        return found
    generated_at = utcnow()
    # A local authority reads its papers as one: no other authority named, nor her date of
    # birth and prison number.
    reader = caller.local_authority_code if caller.is_local_authority else None
    page = document.render(
        found,
        read,
        kinds=asked,
        child_named=child_id is not None,
        prepared_by=await answer.preparer(session, caller),
        generated_at=generated_at,
        authorities=await answer.authority_names(session, document.authorities_named(read, reader)),
        reader_authority=reader,
    )
    return await answer.document(  # type: ignore[return-value]
        wanted, page, "chronology", mother_id, generated_at
    )
