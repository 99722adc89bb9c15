"""Every history (a hearing's amendments, a visit's status changes, a child's history, and those to
come) holds and shows who made a change and when one way: tac_api.history."""

from datetime import UTC, datetime

from sqlmodel import SQLModel

from tac_api.db import load_models
from tac_api.history import HistoryEntryPublic, HistoryFields
from tac_api.main import create_app

HISTORIES = {
    "court_hearing_amendment",
    "contact_visit_status_change",
    "child_history",
    "release_plan_history",
}
PUBLIC_HISTORIES = {"CourtHearingAmendmentPublic", "StatusChangePublic", "ChildHistoryEntryPublic"}
WHO_AND_WHEN = ("changed_at", "changed_by_client_id", "changed_by_name", "changed_by_role")


def _models_of(tables: set[str]) -> list[type]:
    return [
        mapper.class_
        for mapper in SQLModel._sa_registry.mappers
        if mapper.local_table.name in tables
    ]


def _shape(column):  # type: ignore[no-untyped-def]
    return type(column.type).__name__, getattr(column.type, "length", None), column.nullable


def test_every_history_table_holds_who_and_when_alike() -> None:
    tables = load_models().tables
    histories = {name for name, table in tables.items() if "changed_at" in table.c}
    assert histories >= HISTORIES
    shapes = {name: {c: _shape(tables[name].c[c]) for c in WHO_AND_WHEN} for name in histories}
    assert len({tuple(shape.items()) for shape in shapes.values()}) == 1, shapes
    models = _models_of(histories)
    assert len(models) == len(histories)
    assert all(issubclass(model, HistoryFields) for model in models)


def test_every_history_shows_who_and_when_alike() -> None:
    schemas = create_app().openapi()["components"]["schemas"]
    histories = {
        name for name, schema in schemas.items() if "changed_at" in schema.get("properties", {})
    }
    assert histories >= PUBLIC_HISTORIES
    for name in histories:
        shown = schemas[name]["properties"]
        assert shown["changed_by"] == {"$ref": "#/components/schemas/ChangedBy"}, name
        assert {"changed_at", "changed_by"} <= set(schemas[name]["required"]), name
    assert set(schemas["ChangedBy"]["properties"]) == {"client_id", "name", "role"}


def test_a_change_the_service_made_names_no_client() -> None:
    shown = HistoryEntryPublic.model_validate(
        {
            "changed_at": datetime(2026, 3, 1, 9, 30),
            "changed_by_client_id": None,
            "changed_by_name": "demo data",
            "changed_by_role": "system",
        }
    )
    assert shown.changed_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert shown.changed_by.model_dump() == {
        "client_id": None,
        "name": "demo data",
        "role": "system",
    }
