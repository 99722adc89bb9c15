import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.chronology import service
from tac_api.chronology.schemas import Chronology, ChronologyKind
from tac_api.errors import COMMON_PROBLEMS
from tac_api.mothers.service import MOTHERS
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
    found = await service.chronology(session, caller, mother_id, child_id, set(kind or ()))
    # Her records from every part of the service, put in one order: a combination of records.
    audit.combined(session, MOTHERS, [{"id": mother_id}])
    shown = {(event.resource_type, event.resource_id) for event in found.events}
    for resource_type in sorted({kind for kind, _ in shown}):
        audit.record_many(
            session,
            Action.combine,
            resource_type,
            sorted((rid, mother_id) for kind, rid in shown if kind == resource_type),
        )
    return found
