"""`tac-api retention run`: cases closed longer than TAC_RETENTION_DAYS are listed (dry run) or
erased from every table of the case (--apply), leaving ids-only audit rows and no orphans."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from tac_api.cli import app as cli
from tac_api.config import get_settings
from tac_api.db import load_models
from tac_api.retention.service import CLIENT_ID, count_rows
from tac_api.subject_access.service import case_tables
from tests.support.api import Api
from tests.support.bodies import TODAY
from tests.support.sql import db_id

runner = CliRunner()
RETENTION_DAYS = 2190


@pytest.fixture
def retention(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run the command against the test database, as an operator would."""
    monkeypatch.setenv("TAC_DATABASE_URL", api.database_url)
    monkeypatch.setenv("TAC_RETENTION_DAYS", str(RETENTION_DAYS))
    get_settings.cache_clear()

    def run(*args: str) -> str:
        result = runner.invoke(cli, ["retention", "run", *args])
        assert result.exit_code == 0, result.output
        return result.output

    yield run
    get_settings.cache_clear()


def case(api: Api, closed_days_ago: int | None) -> dict[str, Any]:
    """A mother with a child, a practitioner linked to the child, and a transfer; closed that
    many days ago (None: still open)."""
    mother = api.mother()
    child = api.child(mother["id"])
    solicitor = api.post(
        "admin", "/v1/practitioners", {"role": "solicitor", "name": "Máire O'Donnell"}
    ).json()
    link = api.post(
        "admin",
        f"/v1/mothers/{mother['id']}/practitioners",
        {"practitioner_id": solicitor["id"], "child_id": child["id"]},
    )
    assert link.status_code == 201
    url = f"/v1/mothers/{mother['id']}"
    changes = {"prison_code": "SDI"} | ({} if closed_days_ago is None else {"status": "closed"})
    assert api.patch("admin", url, changes, if_match='"1"').status_code == 200
    assert api.get("admin", f"/v1/children/{child['id']}").status_code == 200  # a consultation
    if closed_days_ago is not None:
        api.sql(
            "UPDATE mother SET closed_on = :closed_on WHERE id = :id",
            closed_on=TODAY - timedelta(days=closed_days_ago),
            id=db_id(api, mother["id"]),
        )
    return {"mother": mother, "child": child, "practitioner": solicitor}


def rows_of_case(api: Api, mother_id: str) -> dict[str, int]:
    """Her rows in each case table (found by the same metadata paths the erasure follows)."""

    async def count() -> dict[str, int]:
        async with api.client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
            return await count_rows(session, uuid.UUID(mother_id))

    return api.client.portal.call(count)  # type: ignore[union-attr]


def totals(api: Api) -> dict[str, int]:
    return {t.name: api.sql(f"SELECT count(*) FROM {t.name}")[0][0] for t in case_tables()}


def orphans(api: Api) -> list[str]:
    """Rows pointing at a row that is not there, across every foreign key in the metadata."""
    found = []
    for table in load_models().sorted_tables:
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            count = api.sql(
                f"SELECT count(*) FROM {table.name} WHERE {fk.parent.name} IS NOT NULL AND NOT "
                f"EXISTS (SELECT 1 FROM {parent} WHERE {parent}.{fk.column.name} = "
                f"{table.name}.{fk.parent.name})"
            )[0][0]
            if count:
                found.append(f"{table.name}.{fk.parent.name}: {count}")
    return found


def audit_rows(api: Api, mother_id: str, action: str) -> list[Any]:
    return api.sql(
        "SELECT resource_type, resource_id, client_id, client_name, role, request_id, outcome "
        "FROM audit_event WHERE subject_id = :id AND action = :action",
        id=db_id(api, mother_id),
        action=action,
    )


def test_dry_run_lists_only_what_is_due_and_changes_nothing(api: Api, retention: Any) -> None:
    old = case(api, closed_days_ago=RETENTION_DAYS + 30)
    recent = case(api, closed_days_ago=30)
    active = case(api, closed_days_ago=None)
    before = totals(api)

    output = retention()
    assert old["mother"]["id"] in output
    assert recent["mother"]["id"] not in output and active["mother"]["id"] not in output
    assert "dry run: 1 case" in output
    assert "child 1" in output and "prison_stay 2" in output and "practitioner_link 1" in output
    assert "Siân" not in output and "O'Connor" not in output  # ids, dates and counts only
    assert totals(api) == before

    # As of a later day, the recently closed case is due too; the open one never is.
    later = (TODAY + timedelta(days=RETENTION_DAYS)).isoformat()
    output = retention("--as-of", later)
    assert recent["mother"]["id"] in output and active["mother"]["id"] not in output


def test_apply_erases_the_case_from_every_table(api: Api, retention: Any) -> None:
    old = case(api, closed_days_ago=RETENTION_DAYS + 1)
    recent = case(api, closed_days_ago=RETENTION_DAYS - 1)
    active = case(api, closed_days_ago=None)
    mother_id = old["mother"]["id"]
    earlier = audit_rows(api, mother_id, "consult") + audit_rows(api, mother_id, "collect")
    assert earlier
    hers = rows_of_case(api, mother_id)
    assert {t: n for t, n in hers.items() if n} == {
        "mother": 1,
        "child": 1,
        "child_history": 1,  # the child's record as first made
        "prison_stay": 2,
        "practitioner_link": 1,
        "change_event": 1,  # her transfer, told to her child's authority
        "service_event": 1,  # and in the service's outbox to the estate's topic
        "transfer_summary": 1,  # what Eastwood Park keeps: erased with her case
        "task": 1,  # Send's handover
    }
    before = totals(api)
    others = {c["mother"]["id"]: rows_of_case(api, c["mother"]["id"]) for c in (recent, active)}

    output = retention("--apply")
    assert "erased 1 case (10 records)" in output and mother_id in output

    # Gone from every case table, whatever its path to her; nobody else's rows touched.
    assert set(rows_of_case(api, mother_id).values()) == {0}
    assert totals(api) == {table: count - hers[table] for table, count in before.items()}
    assert {m: rows_of_case(api, m) for m in others} == others
    assert orphans(api) == []
    # The directory keeps its practitioners: professionals, not her case.
    solicitor = api.get("admin", f"/v1/practitioners/{old['practitioner']['id']}")
    assert solicitor.status_code == 200

    erased = audit_rows(api, mother_id, "erase")
    assert sorted(row[0] for row in erased) == sorted(t for t, n in hers.items() for _ in range(n))
    # (A change event and an outbox row are numbered, not UUIDs: their erase rows name no id.)
    erased_ids = {str(uuid.UUID(str(row[1]))) for row in erased if row[1] is not None}
    assert erased_ids >= {mother_id, old["child"]["id"]}
    assert {str(uuid.UUID(str(row[2]))) for row in erased} == {str(CLIENT_ID)}
    assert {(row[3], row[4], row[6]) for row in erased} == {
        ("tac-api retention", "system", "succeeded")
    }
    assert len({row[5] for row in erased}) == 1 and erased[0][5].startswith("retention-")
    # Her earlier audit rows stay as they were.
    still = audit_rows(api, mother_id, "consult") + audit_rows(api, mother_id, "collect")
    assert sorted(map(tuple, still)) == sorted(map(tuple, earlier))

    again = retention("--apply")
    assert "erased 0 cases" in again
    assert len(audit_rows(api, mother_id, "erase")) == len(erased)
    assert {m: rows_of_case(api, m) for m in others} == others


def test_a_carer_known_only_through_the_erased_case_goes_with_it(api: Api, retention: Any) -> None:
    old = case(api, closed_days_ago=RETENTION_DAYS + 1)
    other = case(api, closed_days_ago=None)

    def carer(name: str, *mothers: dict[str, Any]) -> str:
        found = api.post("admin", "/v1/practitioners", {"role": "carer", "name": name}).json()
        for mother in mothers:
            link = {"practitioner_id": found["id"]}
            api.post("admin", f"/v1/mothers/{mother['mother']['id']}/practitioners", link)
        return found["id"]

    only_hers = carer("Eirlys Price", old)
    shared = carer("Siôn Bevan", old, other)
    output = retention("--apply")
    assert "practitioner 1" in output
    # A private person with no other case: erased. One still caring for another: kept.
    assert api.get("admin", f"/v1/practitioners/{only_hers}").status_code == 404
    assert api.get("admin", f"/v1/practitioners/{shared}").status_code == 200
    erased = audit_rows(api, old["mother"]["id"], "erase")
    named = {(r[0], str(uuid.UUID(str(r[1])))) for r in erased if r[1] is not None}
    assert ("practitioner", only_hers) in named
    assert orphans(api) == []
