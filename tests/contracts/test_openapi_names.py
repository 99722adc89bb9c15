"""A client generated from the contract reads like the API: each operation a clear verb and noun
(`getMother`, `listCourtHearings`), each in one of the declared groups (`Mothers`, `Court`).
Driven from the generated document and app.routes: a route added with a poor name fails here."""

import re
from collections import Counter
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tac_api.api_names import operation_id
from tac_api.main import create_app

# What an operation may begin with. A new verb is a decision: add it here, with a reason to.
VERBS = {
    "get",  # one record, report or view
    "list",  # a page of records
    "create",  # a new record (POST)
    "update",  # changes to a record (PATCH)
    "delete",  # erasing a record
    "put",  # a whole record by the caller's own id (sync) or the one plan of a mother
    "sync",  # many records at once from an authority's system
    "record",  # what happened, on a record that exists (a hearing's outcome)
    "change",  # a move in a record's lifecycle (a visit's status)
    "extend",  # proceedings past their 26 weeks
    "link",  # a practitioner to a family
    "unlink",
    "confirm",  # a link request
    "decline",
    "rotate",  # a webhook's secret
    "end",  # her allocation, with no one after it
    "clear",  # a flag for review, once what it raised is dealt with
}
CAMEL_CASE = re.compile(r"^[a-z]+[A-Za-z]*$")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_id_is_a_verb_and_a_noun_in_camel_case(document: dict[str, Any]) -> None:
    wrong = {}
    for name, operation in operations(document):
        identifier = operation.get("operationId", "")
        verb = re.match(r"[a-z]*", identifier).group()  # type: ignore[union-attr]
        if not CAMEL_CASE.match(identifier) or verb not in VERBS or verb == identifier:
            wrong[name] = identifier
    assert wrong == {}


def test_operation_ids_are_unique(document: dict[str, Any]) -> None:
    counted = Counter(operation["operationId"] for _, operation in operations(document))
    assert [identifier for identifier, times in counted.items() if times > 1] == []


def test_each_operation_id_is_its_route_function_name() -> None:
    """So the name is chosen where the route is written, and read there."""
    app = create_app()
    document = app.openapi()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods:
                operation = document["paths"][context.path][method.lower()]
                assert operation["operationId"] == operation_id(route), route.name


def test_a_route_function_name_becomes_lower_camel_case() -> None:
    async def record_hearing_outcome() -> None: ...

    route = APIRoute("/v1/court-hearings/{court_hearing_id}/outcome", record_hearing_outcome)
    assert operation_id(route) == "recordHearingOutcome"


def test_every_operation_has_exactly_one_declared_tag(document: dict[str, Any]) -> None:
    declared = [tag["name"] for tag in document["tags"]]
    wrong = {
        name: operation.get("tags")
        for name, operation in operations(document)
        if len(operation.get("tags", [])) != 1 or operation["tags"][0] not in declared
    }
    assert wrong == {}


def test_every_declared_tag_is_described_and_used(document: dict[str, Any]) -> None:
    used = {operation["tags"][0] for _, operation in operations(document)}
    declared = Counter(tag["name"] for tag in document["tags"])
    assert set(declared) == used
    assert max(declared.values()) == 1
    for tag in document["tags"]:
        assert tag["name"][0].isupper() and tag.get("description"), tag
