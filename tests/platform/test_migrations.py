"""Migrations make the schema on both databases, agree with the models, and reverse cleanly."""

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

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
                await connection.execute(
                    text("INSERT INTO prison (code, name) VALUES ('EWI', 'HMP')")
                )
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
            await connection.execute(text("INSERT INTO prison (code, name) VALUES ('EWI', 'HMP')"))
            await connection.execute(
                text(
                    "INSERT INTO local_authority (dfe_number, ons_code, name, country, valid_from) "
                    "VALUES ('801', 'E06000023', 'Bristol', 'England', :day)"
                ),
                {"day": date(2009, 4, 1)},
            )
    finally:
        await engine.dispose()


# Who made a change and when, as each history table named it before one history shape.
WHO_AND_WHEN_BEFORE = {
    "court_hearing_amendment": ("amended_at", "client_id", "client_name", "role"),
    "child_history": ("changed_at", "client_id", "client_name", "role"),
}
WHO_AND_WHEN = ("changed_at", "changed_by_client_id", "changed_by_name", "changed_by_role")
ORDER_INDEXES = {
    "court_hearing_amendment": ("ix_court_hearing_amendment_order", "court_hearing_id"),
    "child_history": ("ix_child_history_order", "child_id"),
}


def _who_and_when(url: str, columns: tuple[str, ...]) -> dict[str, tuple[Any, ...]]:
    def read(connection):  # type: ignore[no-untyped-def]
        return {
            name: tuple(connection.execute(text(f"SELECT {', '.join(columns)} FROM {name}")).one())
            for name in WHO_AND_WHEN_BEFORE
        }

    return run(_inspect(url, read))


def _order_indexes(url: str) -> dict[str, list[str]]:
    def read(connection):  # type: ignore[no-untyped-def]
        found = {}
        for name, (index, _) in ORDER_INDEXES.items():
            (columns,) = [
                i["column_names"]
                for i in inspect(connection).get_indexes(name)
                if i["name"] == index
            ]
            found[name] = columns
        return found

    return run(_inspect(url, read))


async def _execute(url: str, *statements: tuple[str, dict[str, Any]]) -> None:
    engine = make_engine(Settings(database_url=url), pool=False)
    try:
        async with engine.begin() as connection:
            for statement, values in statements:
                await connection.execute(text(statement), values)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", backends())
def test_every_history_says_who_and_when_alike_and_back(backend: str, make_database) -> None:  # type: ignore[no-untyped-def]
    """A hearing's amendments and a child's history keep who made each change and when under
    the names a visit's status changes use, ordered by the same index; going back restores the
    old names, and refuses while a change made by no client (demo data) would lose its maker."""
    url = make_database(backend)
    upgrade(url, "683c7b25b05f")  # the revision before one history shape
    run(_load_reference_for(url))

    def as_stored(value: uuid.UUID) -> Any:
        return value if backend == "postgres" else value.hex

    made = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    client_id, mother_id, hearing_id, child_id = (uuid.uuid4() for _ in range(4))
    ids = {
        "mother": as_stored(mother_id),
        "hearing": as_stored(hearing_id),
        "child": as_stored(child_id),
        "client": as_stored(client_id),
        "made": made,
    }
    run(
        _execute(
            url,
            (
                "INSERT INTO mother (id, created_at, updated_at, version, prison_number, "
                "first_name, last_name, date_of_birth, prison_code, reception_date, status, "
                "supported_from) VALUES (:mother, :made, :made, 1, 'A1234BC', 'Siân', "
                "'O''Connor', :born, 'EWI', :born, 'active', :born)",
                {**ids, "born": date(1990, 4, 12)},
            ),
            (
                "INSERT INTO court_hearing (id, created_at, updated_at, version, mother_id, "
                "court_name, hearing_type, starts_at, notified_at, social_worker_attends) VALUES "
                "(:hearing, :made, :made, 1, :mother, 'Bristol Family Court', 'case_management', "
                ":made, :made, false)",
                ids,
            ),
            (
                "INSERT INTO child (id, created_at, updated_at, version, mother_id, first_name, "
                "last_name, sex, local_authority_code, lives_with, placement_confidential, "
                "contact_arrangement, authority_fields) VALUES (:child, :made, :made, 1, :mother, "
                "'Rhys', 'O''Connor', 'male', '801', 'foster_carer', false, 'direct', '[]')",
                ids,
            ),
            (
                "INSERT INTO court_hearing_amendment (id, court_hearing_id, amended_at, client_id, "
                "client_name, role, changes) VALUES (:id, :hearing, :made, :client, 'ewi_worker', "
                "'prison_social_worker', '[]')",
                {**ids, "id": as_stored(uuid.uuid4())},
            ),
            (
                "INSERT INTO child_history (id, child_id, changed_at, client_id, client_name, "
                "role, source, local_authority_code, placement_confidential, changes) VALUES "
                "(:id, :child, :made, :client, 'ewi_worker', 'prison_social_worker', "
                "'prison_side', '801', false, '[]')",
                {**ids, "id": as_stored(uuid.uuid4())},
            ),
        )
    )
    before = _who_and_when(url, WHO_AND_WHEN_BEFORE["child_history"][1:])

    upgrade(url)
    assert differences(url) == []
    after = _who_and_when(url, WHO_AND_WHEN[1:])
    assert after == before
    assert {name: row[1:] for name, row in after.items()} == {
        name: ("ewi_worker", "prison_social_worker") for name in WHO_AND_WHEN_BEFORE
    }
    assert _order_indexes(url) == {
        name: [whose, "changed_at", "id"] for name, (_, whose) in ORDER_INDEXES.items()
    }

    # Demo data names no client: the old tables could not hold it.
    run(_execute(url, ("UPDATE child_history SET changed_by_client_id = NULL", {})))
    with pytest.raises(RuntimeError, match="1 rows of child_history were made by no client"):
        downgrade(url, "683c7b25b05f")
    run(_execute(url, ("UPDATE child_history SET changed_by_client_id = :client", ids)))

    downgrade(url, "683c7b25b05f")
    assert _who_and_when(url, WHO_AND_WHEN_BEFORE["child_history"][1:]) == before
    assert _order_indexes(url) == {
        "court_hearing_amendment": ["court_hearing_id", "amended_at", "id"],
        "child_history": ["child_id", "changed_at", "id"],
    }


@pytest.mark.parametrize("backend", backends())
def test_hearings_recorded_before_their_status_keep_everything_and_are_scheduled(
    backend: str,
    make_database,  # type: ignore[no-untyped-def]
) -> None:
    """Adding a hearing's and a meeting's status copies those tables on SQLite: the rows that
    refer to them (a hearing's children and amendments) are kept, not deleted with the old copy,
    and every hearing and meeting recorded before it is `scheduled`; going back keeps them too."""
    url = make_database(backend)
    upgrade(url, "d4f6a8c0e2b3")  # the revision before the social worker's day
    run(_load_reference_for(url))

    def as_stored(value: uuid.UUID) -> Any:
        return value if backend == "postgres" else value.hex

    made = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    ids = {
        name: as_stored(uuid.uuid4()) for name in ("mother", "hearing", "child", "meeting", "id")
    }
    ids["made"] = made
    run(
        _execute(
            url,
            (
                "INSERT INTO mother (id, created_at, updated_at, version, prison_number, "
                "first_name, last_name, date_of_birth, prison_code, reception_date, status, "
                "supported_from) VALUES (:mother, :made, :made, 1, 'A1234BC', 'Siân', "
                "'O''Connor', :born, 'EWI', :born, 'active', :born)",
                {**ids, "born": date(1990, 4, 12)},
            ),
            (
                "INSERT INTO child (id, created_at, updated_at, version, mother_id, first_name, "
                "last_name, sex, local_authority_code, lives_with, placement_confidential, "
                "contact_arrangement, authority_fields) VALUES (:child, :made, :made, 1, :mother, "
                "'Rhys', 'O''Connor', 'male', '801', 'foster_carer', false, 'direct', '[]')",
                ids,
            ),
            (
                "INSERT INTO court_hearing (id, created_at, updated_at, version, mother_id, "
                "court_name, hearing_type, starts_at, notified_at, social_worker_attends) VALUES "
                "(:hearing, :made, :made, 1, :mother, 'Bristol Family Court', 'case_management', "
                ":made, :made, false)",
                ids,
            ),
            (
                "INSERT INTO court_hearing_child (court_hearing_id, child_id) "
                "VALUES (:hearing, :child)",
                ids,
            ),
            (
                "INSERT INTO court_hearing_amendment (id, court_hearing_id, changed_at, "
                "changed_by_client_id, changed_by_name, changed_by_role, changes) VALUES "
                "(:id, :hearing, :made, NULL, 'demo data', 'system', '[]')",
                ids,
            ),
            (
                "INSERT INTO meeting (id, created_at, updated_at, version, mother_id, "
                "meeting_type, starts_at, notified_at, platform, prison_can_join, invited) "
                "VALUES (:meeting, :made, :made, 1, :mother, 'core_group', :made, :made, "
                "'teams', false, true)",
                ids,
            ),
            (
                "INSERT INTO meeting_child (meeting_id, child_id) VALUES (:meeting, :child)",
                ids,
            ),
        )
    )

    def counts(connection):  # type: ignore[no-untyped-def]
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in (
                "court_hearing",
                "court_hearing_child",
                "court_hearing_amendment",
                "meeting",
                "meeting_child",
            )
        }

    every_one = dict.fromkeys(
        ("court_hearing", "court_hearing_child", "court_hearing_amendment", "meeting"), 1
    ) | {"meeting_child": 1}
    upgrade(url)
    assert differences(url) == []
    assert run(_inspect(url, counts)) == every_one
    statuses = run(
        _inspect(
            url,
            lambda c: (
                c.execute(
                    text("SELECT status FROM court_hearing UNION ALL SELECT status FROM meeting")
                )
                .scalars()
                .all()
            ),
        )
    )
    assert statuses == ["scheduled", "scheduled"]
    downgrade(url, "d4f6a8c0e2b3")
    assert run(_inspect(url, counts)) == every_one
