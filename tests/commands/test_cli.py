"""The tac-api command, run as a user would, against a SQLite file."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tac_api.cli import app as cli
from tac_api.config import Settings, get_settings
from tac_api.db import async_url
from tac_api.main import create_app

runner = CliRunner()


@pytest.fixture
def database(tmp_path, monkeypatch) -> Iterator[str]:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TAC_DATABASE_URL", url)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    yield url
    get_settings.cache_clear()


def invoke(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_clients_create_list_and_revoke(database: str) -> None:
    output = invoke(
        "clients", "create", "--name", "ewi-sw", "--role", "prison_social_worker", "--prison", "EWI"
    )
    token = output.strip().splitlines()[-1]
    assert token.startswith("tac_") and " " not in token
    listing = invoke("clients", "list")
    assert "ewi-sw\tprison_social_worker\tEWI\tactive" in listing
    assert token not in listing

    with TestClient(create_app(Settings(database_url=database))) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/v1/mothers", headers=headers).status_code == 200
        invoke("clients", "revoke", "ewi-sw")
        # Revocation takes effect on the very next request.
        assert client.get("/v1/mothers", headers=headers).status_code == 401
    assert "ewi-sw\tprison_social_worker\tEWI\trevoked" in invoke("clients", "list")


def test_tokens_are_stored_only_as_hashes(database: str) -> None:
    token = invoke("clients", "create", "--name", "admin", "--role", "admin").splitlines()[-1]
    with open(database.removeprefix("sqlite:///"), "rb") as handle:
        raw = handle.read()
    assert token.encode() not in raw


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "prison_social_worker"], "exactly one prison"),
        (["--role", "la_practitioner", "--la", "999"], "unknown local authority"),
        (["--role", "governor", "--prison", "XXX"], "unknown prison"),
        (["--role", "admin", "--prison", "EWI"], "no prison or local authority"),
    ],
)
def test_clients_need_the_right_scope(database: str, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["clients", "create", "--name", "x", *args])
    assert result.exit_code == 2 and message in result.output


def test_demo_data_is_synthetic_and_varied(database: str) -> None:
    output = invoke("demo-data", "--mothers", "25", "--seed", "7", "--admin-token")
    assert "loaded 25 mothers" in output
    token = output.strip().splitlines()[-1]
    with TestClient(create_app(Settings(database_url=database))) as client:
        headers = {"Authorization": f"Bearer {token}"}
        mothers = client.get("/v1/mothers?limit=200", headers=headers).json()["items"]
        assert len(mothers) == 25
        names = " ".join(m["first_name"] + " " + m["last_name"] for m in mothers)
        assert "'" in names and any(ord(ch) > 127 for ch in names)
        families = [
            client.get(f"/v1/mothers/{m['id']}/family", headers=headers).json() for m in mothers
        ]
        assert any(f["separated"] for f in families)
        assert any(len(f["local_authorities"]) > 1 for f in families)
        assert max(len(f["children"]) + len(f["unborn"]) for f in families) >= 3


def test_openapi_writes_the_contract(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "openapi.json"
    invoke("openapi", "--out", str(out))
    assert '"title": "tac-api"' in out.read_text()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://tac@db:5432/tac", "postgresql+asyncpg"),
        ("postgres://tac@db/tac", "postgresql+asyncpg"),
        ("postgresql+psycopg://tac@db/tac", "postgresql+asyncpg"),
        ("sqlite:///var/tac.db", "sqlite+aiosqlite"),
    ],
)
def test_the_service_picks_its_driver(given: str, driver: str) -> None:
    assert async_url(given).drivername == driver


def test_production_refuses_the_embedded_default() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        Settings(environment="production")
    key = "a report key of at least thirty-two characters"
    assert Settings(environment="production", database_url="postgresql://db/tac", report_key=key)
