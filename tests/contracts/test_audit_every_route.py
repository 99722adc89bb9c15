"""Every operation that touches personal data, read from app.routes, leaves its audit trail: a
successful call its rows, every one naming what was done to which kind of record; a refused,
unknown or invalid call its one failure row. A route added tomorrow is covered as it is added."""

import re
import uuid
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts

from tac_api.main import create_app
from tests.support.api import CLIENTS, Api
from tests.support.audit import trail
from tests.support.examples import (
    REQUIRED_QUERY,
    bodies,
    caller_of,
    every_record,
    fill,
    other_records,
)
from tests.support.operations import OPERATIONS

APP = create_app()
CONTRACT = APP.openapi()
# A path's `{link_id}` is a practitioner link: the one id not named after its kind.
KINDS = {"link": "practitioner_link", "flag": "review_flag"}
ACTIONS = {"collect", "consult", "alter", "combine", "disclose", "erase"}


def caller_dependency(route: APIRoute) -> Any:
    """The `requires(...)` dependency of a route (the one that carries its roles), or None."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if hasattr(dependency.call, "allowed_roles"):
            return dependency.call
        pending += dependency.dependencies
    return None


def touches_personal_data(dependency: Any) -> bool:
    """The `personal_data` flag given to `requires()`, kept on the dependency."""
    return bool(dependency.personal_data)


def guarded() -> dict[str, Any]:
    found = {}
    for context in iter_route_contexts(APP.routes):
        route = context.original_route
        dependency = caller_dependency(route) if isinstance(route, APIRoute) else None
        if dependency is not None:
            for method in sorted(context.methods or []):
                found[f"{method} {context.path}"] = dependency
    return found


GUARDED = guarded()
PERSONAL = sorted(op for op, dependency in GUARDED.items() if touches_personal_data(dependency))


def test_the_flag_is_read_for_every_operation() -> None:
    # Only health, /info and the docs page have no caller; everything else says whether it is
    # personal.
    assert set(OPERATIONS) - set(GUARDED) == {
        "GET /health",
        "GET /health/ready",
        "GET /health/liveness",
        "GET /health/readiness",
        "GET /info",
        "GET /docs",
    }
    assert "GET /v1/mothers/{mother_id}" in PERSONAL
    assert "GET /v1/reference/prisons" not in PERSONAL


def conditional(operation: str) -> bool:
    method, path = operation.split(" ")
    parameters = CONTRACT["paths"][path][method.lower()].get("parameters", [])
    return any(parameter["name"] == "If-Match" for parameter in parameters)


def kind_of(path: str) -> str | None:
    """The kind of record a path names last (`/v1/evidence/{evidence_id}`: evidence)."""
    names = [name for name in re.findall(r"{(\w+)_id}", path) if name != "external"]
    return KINDS.get(names[-1], names[-1]) if names else None


def test_a_successful_call_leaves_its_rows(api: Api) -> None:
    ids = every_record(api)
    valid = bodies(ids)
    wrong: list[str] = []
    # Deletions last: the records they remove are named by the other calls.
    for operation in sorted(PERSONAL, key=lambda op: (op.startswith("DELETE"), op)):
        method, template = operation.split(" ")
        who = caller_of(operation)
        url = fill(template, ids, **other_records(operation, ids))
        # The records exist: any version will do. A sync PUT needs none (it creates or updates).
        extra = {"If-Match": "*"} if conditional(operation) and who != "bristol_system" else {}
        response = api.client.request(
            method,
            url,
            params=REQUIRED_QUERY.get(operation),
            json=None if method == "GET" else valid.get(operation, {}),
            headers=api.headers(who, **extra),
        )
        if not response.is_success:
            wrong.append(f"{operation}: {response.status_code} {response.text[:200]}")
            continue
        rows = trail(api, response)
        kind, named = kind_of(template), url.rsplit("/", 1)[-1]
        if not rows:
            wrong.append(f"{operation}: no audit row")
        elif any(row[0] != who or row[6] != "succeeded" or row[2] not in ACTIONS for row in rows):
            wrong.append(f"{operation}: {rows}")
        elif kind and template.endswith("_id}") and (kind, named) not in {r[3:5] for r in rows}:
            # The record the path names is in the trail, under its own kind's name.
            wrong.append(f"{operation}: no row for the {kind} {named}: {rows}")
    assert wrong == [], "\n".join(wrong)


def refuser(dependency: Any) -> str | None:
    """A client whose role this operation does not admit."""
    return next(
        (who for who, (role, *_) in CLIENTS.items() if role not in dependency.allowed_roles), None
    )


def test_a_failed_call_leaves_its_failure_row(api: Api) -> None:
    wrong: list[str] = []
    for operation in PERSONAL:
        wrong += failure_rows_missing(api, operation)
    assert wrong == [], "\n".join(wrong)


def failure_rows_missing(api: Api, operation: str) -> list[str]:
    """Each failed attempt at `operation` and what its row lacked (nothing, if all is well)."""
    method, template = operation.split(" ")
    unknown = str(uuid.uuid4())
    url = re.sub(r"{(\w+)}", lambda m: unknown if m.group(1).endswith("_id") else "X-1", template)
    named = unknown if kind_of(template) else None
    allowed = caller_of(operation)
    ids = {"mother_id": unknown, "child_id": unknown, "prison_number": "Z9999ZZ"}
    valid = bodies(ids | {"practitioner_id": unknown})
    attempts = [
        # Refused for the caller's role.
        (refuser(GUARDED[operation]), {}, "refused", 403),
    ]
    if method == "POST":
        # A query parameter the operation does not take: invalid (once per kind of write is
        # enough, the row is written by the same step for every route).
        attempts.append((allowed, {"unexpected": "1"}, "invalid", 422))
    if named and not template.startswith("/v1/sync/link-requests"):
        # A record that is not there (or not the caller's to know of).
        attempts.append((allowed, {}, "not_found", 404))
    wrong = []
    for who, params, outcome, status in attempts:
        if who is None:
            continue
        extra = {"If-Match": "*"} if conditional(operation) and who != "bristol_system" else {}
        response = api.client.request(
            method,
            url,
            params=params,
            json=valid.get(operation, {}),
            headers=api.headers(who, **extra),
        )
        rows = trail(api, response)
        if response.status_code != status:
            wrong.append(f"{operation} as {who}: {response.status_code}, not {status}")
        elif len(rows) != 1 or rows[0][0] != who or rows[0][6] != outcome:
            wrong.append(f"{operation} as {who}: {rows}, not one {outcome} row")
        elif rows[0][2] not in ACTIONS or (outcome == "not_found" and rows[0][4] != named):
            wrong.append(f"{operation} as {who}: {rows[0]} does not name the {named}")
    return wrong
