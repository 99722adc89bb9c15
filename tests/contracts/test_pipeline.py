"""The request pipeline's steps, checked on every route from `app.routes`, so that a new route
cannot forget one: an idempotency claim on every POST, If-Match on every change to a record."""

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from tac_api.idempotency.steps import declares_claim
from tac_api.main import create_app
from tac_api.preconditions import check_if_match, if_match_holds, if_none_match_holds

# (path, route): the path as the contract has it.
ROUTES = [
    (context.path, context.original_route)
    for context in iter_route_contexts(create_app().routes)
    if isinstance(context.original_route, APIRoute)
]
# POSTs that change an existing record rather than make one (PATCH and DELETE always do).
CHANGES_BY_POST = {
    "/v1/contact-visits/{contact_visit_id}/status",
    "/v1/proceedings/{proceedings_id}/extensions",
    "/v1/sync/webhooks/{webhook_id}/secret",
}


def _has_caller(dependant: Dependant) -> bool:
    return any(
        hasattr(sub.call, "allowed_roles") or _has_caller(sub) for sub in dependant.dependencies
    )


def _header_names(route: APIRoute) -> set[str]:
    return {param.alias for param in route.dependant.header_params}


def test_every_post_declares_its_idempotency_claim() -> None:
    posts = [(path, route) for path, route in ROUTES if "POST" in route.methods]
    assert len(posts) >= 18
    missing = [path for path, route in posts if not declares_claim(route)]
    assert not missing, f"POST routes without `claim: IdempotencyClaim`: {missing}"


def test_every_claim_is_made_by_a_caller_step() -> None:
    """The claim is made on the caller's gate connection: a route without one would never claim."""
    lonely = [
        route.path for route in ROUTES if declares_claim(route) and not _has_caller(route.dependant)
    ]
    assert not lonely


def test_no_read_declares_a_claim() -> None:
    assert not [path for path, route in ROUTES if "GET" in route.methods and declares_claim(route)]


def test_every_change_to_a_record_takes_if_match() -> None:
    changes = [
        (path, route)
        for path, route in ROUTES
        if route.methods & {"PATCH", "DELETE"}
        or ("POST" in route.methods and path in CHANGES_BY_POST)
    ]
    assert len(changes) >= 16
    missing = [
        f"{sorted(route.methods)} {path}"
        for path, route in changes
        if "If-Match" not in _header_names(route)
    ]
    assert not missing


def test_if_match_compares_strongly() -> None:
    assert if_match_holds('"3"', 3)
    assert if_match_holds('"2", "3"', 3)
    assert if_match_holds("*", 3)
    assert not if_match_holds("*", None)  # no such record yet
    assert not if_match_holds('W/"3"', 3)
    assert not if_match_holds("3", 3)  # not an entity-tag: matches nothing
    assert not if_match_holds('"2"', 3)


def test_if_none_match_compares_weakly() -> None:
    assert not if_none_match_holds('W/"3"', 3)
    assert not if_none_match_holds('"1", "3"', 3)
    assert not if_none_match_holds("*", 3)
    assert if_none_match_holds('"2"', 3)
    assert if_none_match_holds("*", None)


def test_blank_if_match_is_absent() -> None:
    check_if_match("  ", 3, required=False)
    try:
        check_if_match("  ", 3)
    except Exception as exc:
        assert getattr(exc, "status", None) == 428
    else:
        raise AssertionError("a blank If-Match passed where one is required")
