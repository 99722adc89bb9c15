"""HTTP conventions every operation shares: ETag out, If-Match in, no unknown parameters, no
control characters in parameters."""

from typing import Annotated

from fastapi import Header, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tac_api.errors import InvalidInput, PreconditionFailed, PreconditionRequired
from tac_api.schemas import CONTROL_CHARACTER, HAS_CONTROL_CHARACTER


def etag_for(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=256,
        description="The ETag you last read; required, so that no one overwrites a change unseen.",
    ),
]


def check_if_match(if_match: str | None, current_version: int) -> None:
    """428 without If-Match, 412 when it names a version that is no longer current."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag from your last read of this record."
        )
    tags = {tag.strip() for tag in if_match.split(",")}
    if "*" not in tags and etag_for(current_version) not in tags:
        raise PreconditionFailed(
            f"This record is now at version {current_version}; read it again, then reapply."
        )


def _query_parameter_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub_dependant in dependant.dependencies:
        names |= _query_parameter_names(sub_dependant)
    return names


# By id(route) (routes are not hashable), keeping the route alive so that its id is never reused.
_known_parameters: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def _query_parameters_of(route: APIRoute) -> frozenset[str]:
    known = _known_parameters.get(id(route))
    if known is None:
        known = _known_parameters[id(route)] = (
            route,
            frozenset(_query_parameter_names(route.dependant)),
        )
    return known[1]


def reject_unknown_query_parameters(request: Request) -> None:
    """A mistyped filter (`?prisoncode=EWI`) must fail loudly, not quietly return everything."""
    route = request.scope.get("route")
    if not request.scope.get("query_string") or not isinstance(route, APIRoute):
        return
    known = _query_parameters_of(route)
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        problem = InvalidInput(unknown[0], "is not a parameter of this operation", location="query")
        problem.errors = [
            {"location": "query", "field": name, "message": "is not a parameter of this operation"}
            for name in unknown
        ]
        raise problem


def reject_control_characters(request: Request) -> None:
    """An id, a code or a search term is one line of printable text: a NUL in one would reach
    the database, which (PostgreSQL) cannot hold it."""
    for location, parameters in (
        ("path", request.path_params.items()),
        ("query", request.query_params.multi_items()),
    ):
        InvalidInput.raise_any(
            [
                (name, HAS_CONTROL_CHARACTER)
                for name in dict.fromkeys(
                    name
                    for name, value in parameters
                    if isinstance(value, str) and CONTROL_CHARACTER.search(value)
                )
            ],
            location=location,
        )
