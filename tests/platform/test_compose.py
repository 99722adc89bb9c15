"""docker-compose.yml as an operator runs it, read (there is no Docker engine where the suite
runs): the API in two replicas behind nginx, the webhook dispatcher and the estate's consumer and
publisher as services of their own, each with a health check that means something, every TAC_*
variable a real setting, and the pools inside PostgreSQL's connections. And the workers' health
check itself, `tac-api db check`."""

import re
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from tac_api.cli import app as cli
from tac_api.config import Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
WORKERS = {
    "webhooks": ["tac-api", "webhooks", "run"],
    "events-consumer": ["tac-api", "events", "consume"],
    "events-publisher": ["tac-api", "events", "publish"],
}
WORKER_HEALTHCHECK = ["CMD", "tac-api", "db", "check"]
POSTGRES_CONNECTIONS = 100  # the postgres image's max_connections
MARGIN = 10  # for migrations, `tac-api` commands run by hand, and an operator's psql
runner = CliRunner()


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def tac_api_services(services: dict[str, Any]) -> dict[str, Any]:
    """The services that run this image (the others are PostgreSQL and nginx)."""
    return {name: service for name, service in services.items() if service.get("build") == "."}


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", duration)
    assert match, f"a duration such as 40s: {duration!r}"
    return int(match[1]) * (60 if match[2] == "m" else 1)


def test_the_api_runs_two_replicas_behind_nginx_checked_on_readiness(
    services: dict[str, Any],
) -> None:
    api = services["api"]
    assert api["deploy"]["replicas"] == 2
    assert "ports" not in api, "two replicas cannot publish one host port: lb does"
    assert api["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    probe = " ".join(api["healthcheck"]["test"])
    assert api["healthcheck"]["test"][0] == "CMD"
    assert "http://127.0.0.1:8000/health/readiness" in probe
    # Delivery is the dispatcher's service, not each replica's.
    assert api["environment"]["TAC_WEBHOOK_DISPATCH"] == "false"
    # Docker kills a container 10 s after SIGTERM unless told: the replica's own grace is longer.
    assert seconds(api["stop_grace_period"]) > Settings().shutdown_grace_seconds

    lb = services["lb"]
    assert lb["image"].startswith("nginx:")
    assert lb["ports"] == ["127.0.0.1:8000:8000"]
    assert lb["depends_on"] == {"api": {"condition": "service_healthy"}}
    mount = next(v for v in lb["volumes"] if v.endswith(":/etc/nginx/conf.d/default.conf:ro"))
    nginx = (ROOT / mount.split(":")[0]).read_text()
    assert re.search(r"^\s*server api:8000 resolve;", nginx, re.MULTILINE), nginx
    assert re.search(r"^\s*listen 8000;", nginx, re.MULTILINE)
    # nginx's default (1 MiB) would refuse a sync batch the API accepts.
    body = re.search(r"client_max_body_size (\d+)m;", nginx)
    assert body and int(body[1]) * 1024 * 1024 > Settings().max_batch_body_bytes


def test_each_worker_is_a_service_of_its_own_checked_on_its_database(
    services: dict[str, Any],
) -> None:
    for name, command in WORKERS.items():
        worker = services[name]
        assert worker["command"] == command, name
        assert worker["healthcheck"]["test"] == WORKER_HEALTHCHECK, name
        assert worker["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert worker["restart"] == "unless-stopped", name
    # The estate's queue and topic are needed by these two only: a profile of their own.
    assert services["events-consumer"]["profiles"] == ["estate"]
    assert services["events-publisher"]["profiles"] == ["estate"]
    assert "profiles" not in services["webhooks"] and "profiles" not in services["api"]
    # The check the workers run is a command the image has.
    assert runner.invoke(cli, ["db", "check", "--help"]).exit_code == 0


def test_every_tac_variable_is_a_setting_and_only_migrate_is_the_owner(
    services: dict[str, Any],
) -> None:
    settings = {f"TAC_{name.upper()}" for name in Settings.model_fields}
    for name, service in tac_api_services(services).items():
        environment = service["environment"]
        unknown = {key for key in environment if key.startswith("TAC_")} - settings
        assert not unknown, f"{name}: {unknown} are not settings in tac_api/config.py"
        assert environment["TAC_ENVIRONMENT"] == "production", name
        assert "TAC_REPORT_KEY" in environment, name  # production settings are checked whole
        role = re.match(r"postgresql://(\w+):", environment["TAC_DATABASE_URL"])
        assert role and role[1] == ("tac" if name == "migrate" else "tac_api"), name


def test_the_pools_fit_inside_postgres_connections(services: dict[str, Any]) -> None:
    defaults = Settings()
    held = 0
    # retention is a one-off, but may well run (from cron) while everything else does.
    for name in ("api", *WORKERS, "retention"):
        environment = services[name]["environment"]
        pool = int(environment.get("TAC_DATABASE_POOL_SIZE", defaults.database_pool_size))
        overflow = int(environment.get("TAC_DATABASE_MAX_OVERFLOW", defaults.database_max_overflow))
        held += (pool + overflow) * services[name].get("deploy", {}).get("replicas", 1)
    assert held <= POSTGRES_CONNECTIONS - MARGIN, held


def nginx_conf(services: dict[str, Any]) -> str:
    mount = next(
        v for v in services["lb"]["volumes"] if v.endswith(":/etc/nginx/conf.d/default.conf:ro")
    )
    return (ROOT / mount.split(":")[0]).read_text()


def test_nginx_passes_the_host_with_its_port_and_the_api_believes_its_forwarded_headers(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Next-page and change-feed `Link`s are built from the Host header: $host drops :8000."""
    nginx = nginx_conf(services)
    hosts = re.findall(r"^\s*proxy_set_header Host (\S+);", nginx, re.MULTILINE)
    assert hosts == ["$http_host"], hosts
    assert re.search(r"^\s*proxy_set_header X-Forwarded-Proto \$scheme;", nginx, re.MULTILINE)
    # uvicorn believes X-Forwarded-* from 127.0.0.1 only unless told, by its own variable.
    allowed = services["api"]["environment"]["FORWARDED_ALLOW_IPS"]
    assert allowed == "*"
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", allowed)
    assert uvicorn.Config("tac_api.main:create_app", proxy_headers=True).forwarded_allow_ips == "*"


def test_nginx_drops_idle_connections_before_uvicorn_does(services: dict[str, Any]) -> None:
    """A request sent on a kept connection uvicorn has just closed is a 502 (never retried for a
    POST): nginx's idle timeout for its upstream connections must be the shorter."""
    upstream = re.search(r"upstream tac_api \{(.*?)\}", nginx_conf(services), re.DOTALL)
    assert upstream and re.search(r"^\s*keepalive \d+;", upstream[1], re.MULTILINE)
    idle = re.search(r"^\s*keepalive_timeout (\d+)s;", upstream[1], re.MULTILINE)
    assert idle, "nginx's default is 60 s"
    # `tac-api serve` leaves uvicorn's own (serving.py passes none).
    assert int(idle[1]) < uvicorn.Config("tac_api.main:create_app").timeout_keep_alive


def test_the_webhook_dispatcher_serves_its_figures_inside_the_network_only(
    services: dict[str, Any],
) -> None:
    webhooks = services["webhooks"]
    environment = webhooks["environment"]
    port = environment["TAC_METRICS_PORT"]
    assert environment["TAC_METRICS_HOST"] == "0.0.0.0"  # reached by the container's name
    assert webhooks["expose"] == [port]
    assert "ports" not in webhooks, "no token guards it: never on the host"


@pytest.fixture
def database_at(monkeypatch: pytest.MonkeyPatch) -> Any:
    def point(url: str) -> None:
        monkeypatch.setenv("TAC_DATABASE_URL", url)
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


def test_db_check_says_whether_the_database_is_ready(tmp_path: Path, database_at: Any) -> None:
    database_at(f"sqlite:///{tmp_path / 'check.db'}")
    behind = runner.invoke(cli, ["db", "check"])
    assert behind.exit_code == 1 and "run `tac-api db upgrade`" in behind.output

    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    ready = runner.invoke(cli, ["db", "check"])
    assert ready.exit_code == 0, ready.output
    assert "database ready" in ready.output

    database_at("postgresql://tac_api@127.0.0.1:1/tac")  # nothing listens on port 1
    unreachable = runner.invoke(cli, ["db", "check"])
    assert unreachable.exit_code == 1
    assert "cannot reach the database in TAC_DATABASE_URL" in unreachable.output
