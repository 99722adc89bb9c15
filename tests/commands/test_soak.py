"""`make soak` as README gives it, run tiny on PostgreSQL: it seeds, serves two API processes with
the webhook dispatcher, the outbox publisher and a webhook receiver beside them, measures the
capacity, sends the mix open loop, and reports every figure, with no wrong answer. The figures
themselves are the soak's to report (README: Soak), never asserted here beyond being there."""

import json
import math
import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("TAC_TEST_POSTGRES_URL")
TINY = "--minutes 0.2 --capacity-seconds 2 --mothers 100 --drain-seconds 30"
# Each of these is a tenth or more of the mix: a quarter-minute run cannot miss one.
MAIN_KINDS = {"GET mother", "GET her children", "POST court hearing", "PATCH court hearing"}


def number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.mark.skipif(not POSTGRES, reason="the soak runs on PostgreSQL: set TAC_TEST_POSTGRES_URL")
def test_make_soak_reports_every_figure_without_an_error(tmp_path: Path) -> None:
    report_path = tmp_path / "soak.json"
    env = {
        **os.environ,
        "TAC_BENCH_POSTGRES_URL": POSTGRES or "",
        "TAC_SOAK_DATABASE": f"tac_soak_{uuid.uuid4().hex[:12]}",
    }
    done = subprocess.run(
        ["make", "soak", f"SOAK_ARGS={TINY} --json {report_path}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    shown = done.stdout[-4000:] + done.stderr[-4000:]
    assert done.returncode == 0, shown
    report = json.loads(report_path.read_text())

    capacity, soak = report["capacity"], report["soak"]
    assert capacity["requests"] > 0 and number(capacity["rate"]), capacity
    assert soak["requests"] > 0 and soak["errors"] == 0, soak["error_samples"]
    for figure in ("rate", "target_rate", "p50_ms", "p99_ms", "p99_first_ms", "p99_last_ms"):
        assert number(soak[figure]) and soak[figure] > 0, (figure, soak)
    assert set(soak["by_kind"]) >= MAIN_KINDS, soak["by_kind"]
    assert all(kind["errors"] == 0 for kind in soak["by_kind"].values())

    memory = {m["process"]: m for m in report["memory"]}
    assert set(memory) == {"api-1", "api-2", "dispatcher", "publisher"}
    for m in memory.values():
        assert m["start_kb"] > 0 and m["end_kb"] > 0 and m["peak_kb"] >= m["end_kb"], m
        assert number(m["growth"]), m
    assert [name for name, m in memory.items() if m["target"]] == ["api-1", "api-2"]

    connections = report["database_connections"]
    assert 0 < connections["end"] <= connections["peak"] <= connections["ceiling"], connections

    # Deliveries flowed to the receiver, and the outbox was published to moto's SNS.
    webhooks, outbox = report["webhooks"], report["outbox"]
    assert webhooks["delivered"] > 0 and webhooks["failed"] == 0, webhooks
    assert webhooks["received"] >= webhooks["delivered"] and webhooks["unsigned"] == 0
    assert number(webhooks["backlog_at_end"]) and webhooks["backlog_after_drain"] == 0
    assert outbox["events"] > 0 and outbox["published_through"] > 0, outbox
    assert number(outbox["backlog_at_end"]) and outbox["backlog_after_drain"] == 0

    # Where the machine's CPU went during the soak, so that a disturbed run shows as one.
    cpu = report["cpu_cores"]
    assert set(cpu) == {*memory, "receiver", "moto", "load generator", "PostgreSQL", "other"}
    assert all(number(cores) and cores >= 0 for cores in cpu.values()), cpu
    assert cpu["api-1"] > 0 and cpu["PostgreSQL"] > 0, cpu
    assert isinstance(report["disturbed"], bool)

    figures = {target["figure"] for target in report["targets"]}
    assert {"errors", "p99, last window over first", "backlogs drained after the load"} <= figures
    assert "resident memory growth, api-2" in figures
    # The Markdown table and a verdict per target are printed.
    assert "| errors | 0 | 0 | PASS |" in done.stdout, shown
    assert done.stdout.count("Target (") == len(report["targets"]), shown
    assert "dropped database tac_soak_" in done.stdout
