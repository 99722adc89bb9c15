"""Bad input never answers 500: control characters, booleans that are not booleans, numbers out
of any range and values of the wrong type, sent to every operation of the committed contract,
are refused with 422 naming what was wrong, on both databases."""

import http.client
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tac_api.main import create_app
from tests.support.api import Api
from tests.support.bodies import HERE, child_body, communication_body, mother_body
from tests.support.examples import (
    BATCH,
    REQUIRED_QUERY,
    bodies,
    caller_of,
    every_record,
    fill,
    other_records,
    sync_child,
)
from tests.support.servers import serving

CONTRACT = json.loads((HERE.parent / "openapi" / "openapi.json").read_text())
SCHEMAS = CONTRACT["components"]["schemas"]
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, operations in CONTRACT["paths"].items()
    for method in operations
)

NUL = "a\x00b"
# What each kind of value is sent as instead.
WRONG = {
    "string": [NUL, 12345],
    "boolean": [0, 1, "yes", "on", "false"],
    "integer": [10**30, 1.5e308, "many"],
    "number": [10**30, 1.5e308, "many"],
}
# Tab, line feed and carriage return are text (kept in free text); every other C0 character and
# DEL are not.
REFUSED_CHARACTERS = [chr(c) for c in (*range(0x20), 0x7F) if chr(c) not in "\t\n\r"]


@pytest.fixture
def records(api: Api) -> dict[str, str]:
    return every_record(api)


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema itself: references followed, `X | null` taken as X."""
    while True:
        if "$ref" in schema:
            schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
        elif "anyOf" in schema:
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


def leaves(
    schema: dict[str, Any], path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every value a body can hold, as (where it is, its JSON type); a list's first item stands
    for the list's items."""
    for name, field in resolve(schema).get("properties", {}).items():
        field = resolve(field)
        kind = field.get("type", "string" if "enum" in field else "object")
        if kind == "object":
            yield from leaves(field, (*path, name))
        elif kind == "array":
            items = resolve(field["items"])
            if items.get("type", "object") == "object" and "enum" not in items:
                yield from leaves(items, (*path, name, 0))
            else:
                yield (*path, name, 0), items.get("type", "string")
        else:
            yield (*path, name), kind


def with_value(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `body` with `value` at `path`, whatever was (or was not) there."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(body) if isinstance(body, list) and body else [None]
        items[0] = with_value(items[0], rest, value)
        return items
    copy = dict(body) if isinstance(body, dict) else {}
    copy[head] = with_value(copy.get(head), rest, value)
    return copy


def names(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path)


def test_every_operation_has_a_valid_body_here() -> None:
    with_body = {
        operation
        for operation in OPERATIONS
        if "requestBody" in operation_of(operation) and not operation.startswith("PATCH")
    }
    assert with_body == set(bodies({"mother_id": "", "child_id": "", "prison_number": ""}))


def operation_of(operation: str) -> dict[str, Any]:
    method, path = operation.split(" ")
    return CONTRACT["paths"][path][method.lower()]


def body_schema(operation: str) -> dict[str, Any] | None:
    body = operation_of(operation).get("requestBody")
    return body["content"]["application/json"]["schema"] if body else None


def test_every_operation_refuses_bad_input_with_422(api: Api, records: dict[str, str]) -> None:
    """Each string, boolean and number of every body, query and path, sent wrong, one at a time,
    to an operation the caller may use, on records that exist: 422 naming it, never a 5xx."""
    wrong: list[str] = []
    valid = bodies(records)

    def send(
        operation: str,
        *,
        body: Any = None,
        query: dict[str, Any] | None = None,
        path: dict[str, str] | None = None,
    ) -> Any:
        method, template = operation.split(" ")
        url = fill(template, records, **(path or {}))
        query = {**REQUIRED_QUERY.get(operation, {}), **(query or {})}
        if query:
            url += "?" + urlencode(query, doseq=True)
        # The records exist: any version will do. A sync PUT needs none (it creates or updates).
        conditional = any(
            p["name"] == "If-Match" for p in operation_of(operation).get("parameters", [])
        )
        who = caller_of(operation)
        upsert = method == "PUT" and template.startswith("/v1/sync/")
        extra = {"If-Match": "*"} if conditional and not upsert else {}
        headers = api.headers(who, **extra)
        if body is None:
            return api.client.request(method, url, headers=headers)
        return api.client.request(method, url, json=body, headers=headers)

    def expect(operation: str, sent: str, response: Any, location: str, fields: set[str]) -> None:
        """422 naming each of `fields`."""
        if operation == BATCH and location == "body" and response.status_code == 200:
            (result,) = response.json()["results"]
            problem = result["problem"] or {"detail": ""}
            if result["result"] != "failed" or not problem["detail"].startswith("item 0:"):
                wrong.append(f"{operation} {sent}: the item did not fail alone: {response.text}")
                return
            errors = problem["errors"]
            fields = {field.removeprefix("items.0.") for field in fields}
        elif response.status_code != 422:
            wrong.append(f"{operation} {sent}: {response.status_code} {response.text[:300]}")
            return
        else:
            errors = response.json()["errors"]
        unnamed = fields - {e["field"] for e in errors if e["location"] == location}
        if unnamed:
            wrong.append(f"{operation} {sent}: {sorted(unnamed)} not named in {errors}")

    for operation in OPERATIONS:
        details = operation_of(operation)
        if "security" not in details:
            continue  # /health: no parameters, no body
        schema = body_schema(operation)
        base = valid.get(operation, {}) if schema else None
        parameters = details.get("parameters", [])
        # Every one of a kind at once: each must be named, so none can slip through unchecked.
        in_path = {p["name"]: NUL for p in parameters if p["in"] == "path"}
        if in_path:
            response = send(operation, body=base, path=in_path)
            expect(operation, f"{NUL!r} in the path", response, "path", set(in_path))
        in_query = {p["name"]: NUL for p in parameters if p["in"] == "query"}
        if in_query:
            response = send(operation, body=base, query=in_query)
            expect(operation, f"{NUL!r} in the query", response, "query", set(in_query))
        numbers = {
            p["name"]: 10**30
            for p in parameters
            if p["in"] == "query" and resolve(p["schema"]).get("type") == "integer"
        }
        if numbers:
            response = send(operation, body=base, query=numbers)
            expect(operation, "10**30 in the query", response, "query", set(numbers))
        if schema is None:
            continue
        for body in ([], "text"):
            expect(operation, f"{body!r} as the body", send(operation, body=body), "body", set())
        for kind, values in WRONG.items():
            paths = [path for path, its_kind in leaves(schema) if its_kind == kind]
            for value in values if paths else []:
                body = base
                for path in paths:
                    body = with_value(body, path, value)
                response = send(operation, body=body)
                fields = {names(path) for path in paths}
                expect(operation, f"{value!r} in every {kind}", response, "body", fields)
    # The same requests sent right are answered, so each refusal above was the bad value's.
    # Deletions last: they take away records the others name.
    # A request once decided cannot be decided again: `other_records` names the other one.
    for operation in sorted(OPERATIONS, key=lambda operation: operation.startswith("DELETE")):
        response = send(
            operation,
            body=valid.get(operation, {}) if body_schema(operation) else None,
            path=other_records(operation, records) or None,
        )
        if response.status_code >= 400:
            wrong.append(f"{operation} sent right: {response.status_code} {response.text[:300]}")
    assert not wrong, "\n".join(wrong)


def test_free_text_keeps_tabs_and_line_breaks_and_refuses_every_other_control_character(
    api: Api,
) -> None:
    mother = api.mother()
    url = f"/v1/mothers/{mother['id']}/communications"
    kept = api.post("admin", url, communication_body(summary="Rhys:\tsettled.\r\nEnjoys football."))
    assert kept.status_code == 201, kept.text
    assert kept.json()["summary"] == "Rhys:\tsettled.\r\nEnjoys football."
    for character in REFUSED_CHARACTERS:
        response = api.post("admin", url, communication_body(summary=f"Rhys{character}Cerys"))
        assert response.status_code == 422, repr(character)
        assert response.json()["errors"] == [
            {
                "location": "body",
                "field": "summary",
                "message": "must not contain a control character",
            }
        ]
    assert api.sql("SELECT count(*) FROM communication")[0][0] == 1


def test_a_name_is_one_line(api: Api) -> None:
    for name in ("Siân\nO'Connor", "Siân\tO'Connor", "Siân\rO'Connor"):
        response = api.post("admin", "/v1/mothers", mother_body(first_name=name))
        assert response.status_code == 422, repr(name)
        assert [e["field"] for e in response.json()["errors"]] == ["first_name"]
    # Around a name, white space of any kind is only trimmed.
    assert api.mother(first_name="\tSiân\r\n")["first_name"] == "Siân"
    assert api.sql("SELECT count(*) FROM mother")[0][0] == 1


@pytest.mark.parametrize("value", [0, 1, "yes", "on", "false", "true", "", None])
def test_a_boolean_is_true_or_false(api: Api, value: Any) -> None:
    mother = api.mother()
    response = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/children",
        child_body(placement_confidential=value),
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["placement_confidential"]
    changed = api.patch(
        "admin", f"/v1/mothers/{mother['id']}", {"domestic_abuse_history": value}, if_match="*"
    )
    if value is None:  # not recorded: null is hers to send
        assert changed.status_code == 200, changed.text
    else:
        assert changed.status_code == 422, changed.text
        assert changed.json()["errors"][0]["field"] == "domestic_abuse_history"
    assert api.sql("SELECT count(*) FROM child")[0][0] == 0
    for right in (True, False):
        assert (
            api.child(mother["id"], placement_confidential=right)["placement_confidential"] is right
        )


def test_searches_and_filters_refuse_control_characters(api: Api) -> None:
    for url, name in (
        ("/v1/mothers?q=Si%00n", "q"),
        ("/v1/practitioners?q=Ffion%0A", "q"),
        ("/v1/audit?client=admin%00", "client"),
        ("/v1/mothers?prison_code=EWI&q=%7F", "q"),
    ):
        response = api.get("admin", url)
        assert response.status_code == 422, url
        assert response.json()["errors"] == [
            {"location": "query", "field": name, "message": "must not contain a control character"}
        ]
    response = api.get("admin", "/v1/reference/local-authorities/80%001")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "location": "path",
        "field": "dfe_number",
        "message": "must not contain a control character",
    }


def test_a_bad_item_in_a_batch_fails_alone(api: Api) -> None:
    mother = api.mother()
    api.child(mother["id"], first_name="Gwen")  # in Bristol: Bristol is linked to her
    good = {**sync_child(mother["prison_number"]), "external_id": "BR-1"}
    items = [
        good,
        {
            **good,
            "external_id": "BR-2",
            "first_name": "Cai",
            "contact_arrangement_reason": "Agreed\x00",
        },
        {**good, "external_id": "BR-3", "first_name": "Cerys", "placement_confidential": "yes"},
        {**good, "external_id": "BR-4", "first_name": "Dylan"},
    ]
    response = api.post("bristol_system", "/v1/sync/children:batch", {"items": items})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["created"], answer["failed"]) == (2, 2)
    failed = {r["index"]: r["problem"] for r in answer["results"] if r["result"] == "failed"}
    assert (
        failed[1]["detail"]
        == "item 1: contact_arrangement_reason: must not contain a control character"
    )
    assert failed[2]["detail"] == "item 2: placement_confidential: Input should be a valid boolean"
    pushed = api.sql("SELECT external_id FROM child WHERE external_id IS NOT NULL")
    assert sorted(row[0] for row in pushed) == ["BR-1", "BR-4"]


def test_a_server_error_closes_the_connection_and_the_next_request_gets_a_new_one(
    api: Api,
) -> None:
    """After an unhandled error the server drops the connection: told so with `Connection:
    close`, a keep-alive client opens a new one for its next request instead of losing it."""
    app = create_app(api.client.app.state.settings)  # type: ignore[attr-defined]

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    with serving(app) as url:
        address = urlsplit(url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        try:
            connection.request("GET", "/boom")
            failed = connection.getresponse()
            failed.read()
            assert failed.status == 500
            assert failed.getheader("Connection") == "close"
            assert failed.getheader("Content-Type") == "application/problem+json"
            connection.request("GET", "/health")  # the same client, as a pool would reuse it
            after = connection.getresponse()
            after.read()
            assert after.status == 200
        finally:
            connection.close()


def test_a_changed_field_is_named_once_as_itself(api: Api) -> None:
    """A PATCH field may be left out but not sent as null: a bad value is one error, named as
    the field (not as the member of the union it failed as, nor again as "not null")."""
    mother = api.mother()
    response = api.patch(
        "admin", f"/v1/mothers/{mother['id']}", {"last_name": 7, "ethnicity": "x\x00"}, "*"
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"location": "body", "field": "last_name", "message": "Input should be a valid string"},
        {
            "location": "body",
            "field": "ethnicity",
            "message": "must not contain a control character",
        },
    ]
    cleared = api.patch("admin", f"/v1/mothers/{mother['id']}", {"last_name": None}, "*")
    assert cleared.status_code == 422
    assert [e["field"] for e in cleared.json()["errors"]] == ["last_name"]


def test_every_post_replayed_with_its_key_answers_as_the_first_time(
    api: Api, records: dict[str, str]
) -> None:
    """A retry with the same `Idempotency-Key` gets the first answer again, for every POST of the
    contract: a kind of record without a visibility rule for replays would answer 404."""
    valid = bodies(records)
    wrong: list[str] = []
    for operation in OPERATIONS:
        if not operation.startswith("POST "):
            continue
        url = fill(operation.split(" ")[1], records, **other_records(operation, records))
        headers = {**api.headers(caller_of(operation)), "Idempotency-Key": str(uuid.uuid4())}
        if any(p["name"] == "If-Match" for p in operation_of(operation).get("parameters", [])):
            headers["If-Match"] = "*"  # a change to a record that exists: any version will do
        body = valid.get(operation, {}) if body_schema(operation) else None
        first = api.client.post(url, json=body, headers=headers)
        again = api.client.post(url, json=body, headers=headers)
        if first.status_code >= 400:
            wrong.append(f"{operation}: {first.status_code} {first.text[:200]}")
        elif (again.status_code, again.json()) != (first.status_code, first.json()):
            wrong.append(f"{operation} replayed: {again.status_code} {again.text[:200]}")
    assert not wrong, "\n".join(wrong)
