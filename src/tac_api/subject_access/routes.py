import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from tac_api.audit import service as audit
from tac_api.auth.schemas import Caller
from tac_api.children.service import CHILDREN
from tac_api.errors import COMMON_PROBLEMS
from tac_api.mothers.service import MOTHERS
from tac_api.pipeline import requires
from tac_api.resources import get_visible
from tac_api.session import SessionDep
from tac_api.subject_access import service
from tac_api.subject_access.schemas import SubjectAccessExport

router = APIRouter(tags=["Subject access"], responses=COMMON_PROBLEMS)
AdminOnly = Annotated[Caller, Depends(requires())]


@router.get(
    "/v1/mothers/{mother_id}/subject-access-export",
    summary="Everything held about her, as one document, for her subject access request",
)
async def get_subject_access_export(
    mother_id: uuid.UUID, caller: AdminOnly, session: SessionDep, response: Response
) -> SubjectAccessExport:
    mother = await get_visible(session, caller, MOTHERS, mother_id)
    export = await service.export(session, mother_id)
    audit.disclosed(session, MOTHERS, [mother])
    # Each child is a person in their own right: their records' trails show the disclosure too.
    children = export.records.get("child", [])
    audit.disclosed(
        session,
        CHILDREN,
        ({"id": uuid.UUID(str(c["id"])), "mother_id": mother_id} for c in children),
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="subject-access-{mother_id}.json"'
    )
    return export
