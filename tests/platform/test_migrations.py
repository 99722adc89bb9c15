"""Migrations make the schema on both databases, agree with the models, and reverse cleanly."""

import json
import uuid
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, text
from sqlalchemy.engine import make_url

from tac_api.children.schemas import ChildDetails
from tac_api.config import Settings
from tac_api.db import load_models, make_engine
from tac_api.migrations import downgrade, upgrade
from tac_api.mothers.models import Mother
from tac_api.reference.models import Prison
from tests.support.bodies import mother_row
from tests.support.databases import backends, run


async def _inspect(url: str, work):  # type: ignore[no-untyped-def]
    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


def differences(url: str) -> list:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, load_models())

    return run(_inspect(url, diff))


def tables(url: str) -> set[str]:
    return set(run(_inspect(url, lambda c: inspect(c).get_table_names())))


@pytest.mark.parametrize("backend", backends())
def test_upgrade_matches_models_downgrade_and_upgrade_again(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database(backend)
    upgrade(url)
    assert differences(url) == []
    assert {"mother", "child", "api_client", "local_authority"} <= tables(url)
    downgrade(url, "base")
    assert tables(url) <= {"alembic_version"}
    upgrade(url)
    assert differences(url) == []


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'pragmas.db'}"

    def pragmas(connection):  # type: ignore[no-untyped-def]
        return {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("foreign_keys", "journal_mode", "busy_timeout")
        }

    assert run(_inspect(url, pragmas)) == {
        "foreign_keys": 1,
        "journal_mode": "wal",
        "busy_timeout": 5000,
    }


@pytest.mark.parametrize("backend", backends())
def test_support_began_the_utc_day_her_record_was_made(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    """The reports' migration fills `supported_from` of the mothers already recorded: the day,
    in UTC, her record was made, whatever the database server's own time zone."""
    url = make_database(backend)
    upgrade(url, "919ce09b21a4")  # the revision before supported_from
    made = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Auckland

    async def record_a_mother() -> None:
        engine = make_engine(Settings(database_url=url), pool=False)
        try:
            async with engine.begin() as connection:
                if backend == "postgres":
                    name = make_url(url).database
                    await connection.execute(
                        text(f"ALTER DATABASE \"{name}\" SET timezone = 'Pacific/Auckland'")
                    )
                await connection.execute(insert(Prison.__table__).values(code="EWI", name="HMP"))
                await connection.execute(insert(Mother.__table__).values(mother_row(made)))
        finally:
            await engine.dispose()

    run(record_a_mother())
    upgrade(url)

    def supported_from(connection):  # type: ignore[no-untyped-def]
        return connection.execute(text("SELECT supported_from FROM mother")).scalar()

    found = run(_inspect(url, supported_from))
    assert str(found) == "2026-03-01"


@pytest.mark.parametrize("backend", backends())
def test_children_already_synced_stay_the_authoritys_whole(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    """A child an authority's system synced before the history migration was synced under the
    old rule (its PUT owned every field): it keeps owning them all; one never synced, none."""
    url = make_database(backend)
    upgrade(url, "30b16e2a4410")  # the revision before authority_fields
    run(_load_reference_for(url))
    made = datetime(2026, 3, 1, tzinfo=UTC)

    async def record_children() -> None:
        engine = make_engine(Settings(database_url=url), pool=False)
        try:
            async with engine.begin() as connection:
                mother_id = uuid.uuid4()
                await connection.execute(
                    insert(Mother.__table__).values(
                        mother_row(made, id=mother_id, supported_from=date(2025, 9, 1))
                    )
                )
                for external_id in ("BR-1", None):
                    await connection.execute(
                        text(
                            "INSERT INTO child (id, created_at, updated_at, version, mother_id, "
                            "external_id, first_name, last_name, date_of_birth, sex, "
                            "local_authority_code, lives_with, placement_confidential, "
                            "contact_arrangement) VALUES (:id, :made, :made, 1, :mother_id, "
                            ":external_id, 'Rhys', 'O''Connor', :born, 'male', '801', "
                            "'foster_carer', false, 'direct')"
                        ),
                        {
                            "id": uuid.uuid4() if backend == "postgres" else uuid.uuid4().hex,
                            "made": made,
                            "mother_id": mother_id if backend == "postgres" else mother_id.hex,
                            "external_id": external_id,
                            "born": date(2016, 2, 3),
                        },
                    )
        finally:
            await engine.dispose()

    run(record_children())
    upgrade(url)

    def sent(connection):  # type: ignore[no-untyped-def]
        rows = connection.execute(
            text("SELECT external_id, authority_fields FROM child ORDER BY external_id")
        ).all()
        return {row[0]: row[1] if isinstance(row[1], list) else json.loads(row[1]) for row in rows}

    found = run(_inspect(url, sent))
    assert found["BR-1"] == sorted(ChildDetails.model_fields)
    assert found[None] == []


async def _load_reference_for(url: str) -> None:
    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(Prison.__table__).values(code="EWI", name="HMP"))
            await connection.execute(
                text(
                    "INSERT INTO local_authority (dfe_number, ons_code, name, country, valid_from) "
                    "VALUES ('801', 'E06000023', 'Bristol', 'England', :day)"
                ),
                {"day": date(2009, 4, 1)},
            )
    finally:
        await engine.dispose()
