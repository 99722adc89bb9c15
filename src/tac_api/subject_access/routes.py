import re
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.audit import service as audit
from tac_api.audit.schemas import Action
from tac_api.children.service import CHILDREN
from tac_api.errors import COMMON_PROBLEMS, NotFound, Problem, problems
from tac_api.mothers.service import MOTHERS
from tac_api.pipeline import SubjectAccess
from tac_api.referrals.service import REFERRALS
from tac_api.resources import get_visible
from tac_api.schemas import PrisonNumber
from tac_api.session import SessionDep
from tac_api.subject_access import service
from tac_api.subject_access.schemas import HmppsSubjectAccessContent, SubjectAccessExport

router = APIRouter(tags=["Subject access"], responses=COMMON_PROBLEMS)


@router.get(
    "/v1/mothers/{mother_id}/subject-access-export",
    summary="Everything held about her, as one document, for her subject access request",
)
async def get_subject_access_export(
    mother_id: uuid.UUID, caller: SubjectAccess, session: SessionDep, response: Response
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
    caller: SubjectAccess,
    session: SessionDep,
    response: Response,
) -> SubjectAccessExport:
    found = await service.export_for_prison_number(session, prison_number)
    if found is None:
        raise NotFound(f"Nothing is held under prison number {prison_number}.")
    _disclosed(session, found)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="subject-access-{prison_number}.json"'
    )
    return found


# The request itself, when the answer names no record (nothing held, or not our identifier).
SUBJECT_ACCESS_REQUEST = "subject_access_request"
NOT_OUR_IDENTIFIER = 209  # hmpps-kotlin-lib's "Subject Identifier is not recognised"


def _day(name: str, value: str | None) -> date | None:
    """A YYYY-MM-DD day, or None; anything else is a 400, as the library's LocalDate is."""
    if value is None or value == "":
        return None
    try:
        # Not the other ISO forms Python reads (20260105, 2026-W01-1).
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise Problem(f"{name} must be a date, YYYY-MM-DD.")


@router.get(
    "/subject-access-request",
    summary="Everything held under a prison number, for the estate's subject access service",
    description="HMPPS's subject access contract (hmpps-kotlin-lib): `prn` is a NOMIS prison "
    "number; `crn` (nDelius) is not an identifier this service uses. 200: `content` is her "
    "export, as /v1/subject-access-export gives it, with only what the service came to hold "
    "from `fromDate` to `toDate` (whole days in UK time, both included): each record by when "
    "it was recorded (`created_at`; a history's change or an event by its own time; a part of "
    "a record, such as a hearing's child, with its record), the audit trail by when each event "
    "occurred, and the directory entries those records name. 204: nothing held (in those "
    "dates). 209: only a `crn` given. 400: neither given, or a date that is not YYYY-MM-DD.",
    responses={
        204: {"description": "Nothing is held under this prison number (in these dates)"},
        NOT_OUR_IDENTIFIER: {"description": "Only a crn: not an identifier this service uses"},
        **problems(400),
    },
    # Set here: besides her content, the route answers 204 and 209 with no body.
    response_model=HmppsSubjectAccessContent,
)
async def get_subject_access_request(
    caller: SubjectAccess,
    session: SessionDep,
    prn: Annotated[str | None, Query(description="NOMIS prison number")] = None,
    crn: Annotated[str | None, Query(description="nDelius case reference number")] = None,
    from_date: Annotated[
        str | None, Query(alias="fromDate", description="The first day (YYYY-MM-DD)")
    ] = None,
    to_date: Annotated[
        str | None, Query(alias="toDate", description="The last day (YYYY-MM-DD)")
    ] = None,
) -> HmppsSubjectAccessContent | Response:
    prn = (prn or "").strip()
    if not prn and not (crn or "").strip():
        raise Problem("One of prn or crn must be supplied.")  # 400, the library's words
    first, last = _day("fromDate", from_date), _day("toDate", to_date)
    if not prn:
        audit.record_many(session, Action.disclose, SUBJECT_ACCESS_REQUEST, [(None, None)])
        return Response(status_code=NOT_OUR_IDENTIFIER)
    found = await service.export_for_prison_number(session, prn)
    limited = service.limited_to(found, first, last) if found is not None else None
    if limited is None:
        audit.record_many(session, Action.disclose, SUBJECT_ACCESS_REQUEST, [(None, None)])
        return Response(status_code=204)
    _disclosed(session, limited)
    return HmppsSubjectAccessContent(content=limited)
