"""Every operation of the API, read from app.routes: what the contract tests walk."""

from fastapi.routing import APIRoute, iter_route_contexts

from tac_api.main import create_app


def operations() -> list[str]:
    found = []
    # FastAPI nests included routers; iter_route_contexts walks app.routes through them.
    for context in iter_route_contexts(create_app().routes):
        if isinstance(context.original_route, APIRoute):
            found += [f"{method} {context.path}" for method in sorted(context.methods or [])]
    return found


OPERATIONS = operations()
