"""HTTP conventions every operation shares: ETag out (If-Match in: see `preconditions`), no
unknown parameters, no control characters in parameters."""

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tac_api.errors import InvalidInput
from tac_api.schemas import CONTROL_CHARACTER, HAS_CONTROL_CHARACTER


def etag_for(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


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
    # Every request comes here: the common one, with no query string and a clean path (whose
    # pieces the path parameters are), is done without building the parameters.
    if not request.scope.get("query_string") and not CONTROL_CHARACTER.search(
        request.scope["path"]
    ):
        return
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
