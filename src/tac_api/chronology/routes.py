import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from tac_api.chronology import service
from tac_api.chronology.schemas import Chronology, ChronologyKind
from tac_api.errors import COMMON_PROBLEMS
from tac_api.pipeline import CaseReader
from tac_api.session import SessionDep

router = APIRouter(tags=["Chronology"], responses=COMMON_PROBLEMS)


@router.get(
    "/v1/mothers/{mother_id}/chronology",
    summary="Every dated event of her case, oldest first: the social worker's chronology",
)
async def get_chronology(
    mother_id: uuid.UUID,
    caller: CaseReader,
    session: SessionDep,
    child_id: Annotated[
        uuid.UUID | None, Query(description="Only the events that name this child.")
    ] = None,
    kind: Annotated[
        list[ChronologyKind] | None, Query(description="Only these kinds (repeat to add more).")
    ] = None,
) -> Chronology:
    # Her records from every part of the service, put in one order: a combination of records
    # (the service notes it, or writes it with the read on PostgreSQL).
    return await service.chronology(session, caller, mother_id, child_id, set(kind or ()))
