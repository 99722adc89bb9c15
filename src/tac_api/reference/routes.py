from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from tac_api.errors import COMMON_PROBLEMS, NotFound
from tac_api.pagination import Page, PageQuery, fetch_page
from tac_api.pipeline import AnyCaller
from tac_api.reference import service
from tac_api.reference.models import (
    CpPlanCategory,
    Ethnicity,
    LegalStatus,
    LocalAuthority,
    PlacementType,
    Prison,
)
from tac_api.reference.schemas import (
    CodePublic,
    EthnicityPublic,
    LocalAuthorityPublic,
    PrisonPublic,
)
from tac_api.schemas import IsoDate
from tac_api.session import SessionDep

router = APIRouter(prefix="/v1/reference", tags=["Reference data"], responses=COMMON_PROBLEMS)


@router.get("/local-authorities", summary="English and Welsh local authorities, by DfE number")
async def list_local_authorities(
    _: AnyCaller,
    session: SessionDep,
    page: PageQuery,
    request: Request,
    response: Response,
    country: Literal["England", "Wales"] | None = None,
    current_on: Annotated[
        IsoDate | None, Query(description="Only authorities that existed on this date.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Part of its name: every word of it, in any order, whatever the case "
            "and accents (`bristol`, `rhondda`, `city of bristol`, `st helens`).",
        ),
    ] = None,
) -> Page[LocalAuthorityPublic]:
    named = await service.authorities_named(session, q) if q is not None else None
    statement = service.local_authorities_query(country, current_on, named)
    items, cursor = await fetch_page(
        session, statement, [LocalAuthority.dfe_number], page, request, response
    )
    return Page(
        items=[LocalAuthorityPublic.model_validate(i, from_attributes=True) for i in items],
        next_cursor=cursor,
    )


@router.get("/local-authorities/{dfe_number}", summary="One local authority")
async def get_local_authority(
    _: AnyCaller,
    session: SessionDep,
    dfe_number: Annotated[str, Path(pattern=r"^[0-9]{3}$")],
) -> LocalAuthorityPublic:
    authority = await session.get(LocalAuthority, dfe_number)
    if authority is None:
        raise NotFound(f"No local authority numbered {dfe_number}.")
    return LocalAuthorityPublic.model_validate(authority, from_attributes=True)


def _code_list_route(path: str, model: type, schema: type[BaseModel], summary: str) -> None:
    """A paginated list of a table keyed by `code`."""

    async def list_codes(
        _: AnyCaller, session: SessionDep, page: PageQuery, request: Request, response: Response
    ) -> Page[schema]:  # type: ignore[valid-type]
        items, cursor = await fetch_page(
            session, select(model), [model.code], page, request, response
        )
        return Page[schema](  # type: ignore[valid-type]
            items=[schema.model_validate(i, from_attributes=True) for i in items],
            next_cursor=cursor,
        )

    list_codes.__name__ = "list_" + path.strip("/").replace("-", "_")
    router.add_api_route(path, list_codes, methods=["GET"], summary=summary)


_code_list_route("/prisons", Prison, PrisonPublic, "Prisons the service works in")
_code_list_route("/legal-statuses", LegalStatus, CodePublic, "Children's legal status (SSDA903)")
_code_list_route("/placement-types", PlacementType, CodePublic, "Placement types (SSDA903)")
_code_list_route(
    "/cp-plan-categories", CpPlanCategory, CodePublic, "Child protection plan categories"
)
_code_list_route("/ethnicities", Ethnicity, EthnicityPublic, "Ethnic groups (ONS 2021 census)")
