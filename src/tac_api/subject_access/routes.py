import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.children.service import CHILDREN
from tac_api.errors import COMMON_PROBLEMS, NotFound
from tac_api.mothers.service import MOTHERS, mother_named
from tac_api.pipeline import AdminOnly
from tac_api.referrals.service import REFERRALS
from tac_api.resources import get_visible
from tac_api.schemas import PrisonNumber
from tac_api.session import SessionDep
from tac_api.subject_access import service
from tac_api.subject_access.schemas import SubjectAccessExport

router = APIRouter(tags=["Subject access"], responses=COMMON_PROBLEMS)


@router.get(
    "/v1/mothers/{mother_id}/subject-access-export",
    summary="Everything held about her, as one document, for her subject access request",
)
async def get_subject_access_export(
    mother_id: uuid.UUID, caller: AdminOnly, session: SessionDep, response: Response
) -> SubjectAccessExport:
    await get_visible(session, caller, MOTHERS, mother_id)
    export = await service.export(session, mother_id)
    _disclosed(session, export)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="subject-access-{mother_id}.json"'
    )
    return export


def _disclosed(session: AsyncSession, export: SubjectAccessExport) -> None:
    """Her record's trail, each child's, and each unlinked referral's show the disclosure."""
    mother_id = export.subject.mother_id
    if mother_id is not None:
        audit.disclosed(session, MOTHERS, [{"id": mother_id}])
    # A referral naming her prison number with no record of hers behind it is not reached
    # through her record's trail: its own trail shows the disclosure (naming her, if known).
    unlinked = (r for r in export.records.get("referral", []) if r["mother_id"] is None)
    audit.record_many(
        session,
        Action.disclose,
        REFERRALS.kind,
        ((uuid.UUID(str(r["id"])), mother_id) for r in unlinked),
    )
    # Each child is a person in their own right: their records' trails show the disclosure too.
    children = export.records.get("child", [])
    audit.disclosed(
        session,
        CHILDREN,
        ({"id": uuid.UUID(str(c["id"])), "mother_id": mother_id} for c in children),
    )


@router.get(
    "/v1/subject-access-export",
    summary="Everything held under a prison number, for her subject access request",
    description="For a prison number with no record of hers: the referrals naming it (and "
    "who referred her). When a mother has that number (or had it, before NOMIS merged it into "
    "hers), her whole export, as "
    "/v1/mothers/{mother_id}/subject-access-export gives it. 404 when nothing is held.",
)
async def get_subject_access_export_by_prison_number(
    prison_number: Annotated[PrisonNumber, Query(description="NOMIS prisoner number")],
    caller: AdminOnly,
    session: SessionDep,
    response: Response,
) -> SubjectAccessExport:
    # Her number, or one merged into it: her whole case either way.
    mother_id = await session.scalar(select(mother_named(prison_number)))
    found = (
        await service.export(session, mother_id)
        if mother_id is not None
        else await service.export_by_prison_number(session, prison_number)
    )
    if found is None:
        raise NotFound(f"Nothing is held under prison number {prison_number}.")
    _disclosed(session, found)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="subject-access-{prison_number}.json"'
    )
    return found
