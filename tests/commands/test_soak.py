"""`make soak` as README gives it, run tiny on PostgreSQL: it seeds, serves two API processes with
the webhook dispatcher, the outbox publisher and a webhook receiver beside them, measures the
capacity, sends the mix open loop, and reports every figure, with no wrong answer. The figures
themselves are the soak's to report (README: Soak), never asserted here beyond being there."""

import contextlib
import json
import math
import os
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support.databases import run, run_as_server_admin

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("TAC_TEST_POSTGRES_URL")
TINY = "--minutes 0.2 --capacity-seconds 2 --mothers 100 --drain-seconds 30"
# Each of these is a tenth or more of the mix: a quarter-minute run cannot miss one.
MAIN_KINDS = {"GET mother", "GET her children", "POST court hearing", "PATCH court hearing"}


SOAK_SECONDS = 300
# After SIGTERM the soak stops its processes (each SIGTERM, then SIGKILL after 10 s) and drops
# its database: this long, or it and what it started are killed.
STOP_SECONDS = 60


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, now (the soak starts its servers in sessions of their own, out
    of reach of a signal to its process group)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):  # gone since listed
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    below = [pid]
    while below:
        under = children.get(below.pop(), [])
        found += under
        below += under
    return found


def run_bounded(argv: list[str], env: dict[str, str], timeout: float) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of `argv` run in a process group of its own. Past `timeout`,
    the group is sent SIGTERM (make passes it on; the soak unwinds: its processes stopped, its
    database dropped), and whatever is still running STOP_SECONDS later is killed, the soak's
    servers too; then the test fails."""
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
        return stdout, stderr, process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            stdout, stderr = process.communicate(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            for pid in [*descendants(process.pid), process.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            stdout, stderr = process.communicate(timeout=10)
        pytest.fail(f"{argv} did not finish in {timeout} s:\n{stdout[-4000:]}{stderr[-4000:]}")


def number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.mark.skipif(not POSTGRES, reason="the soak runs on PostgreSQL: set TAC_TEST_POSTGRES_URL")
def test_make_soak_reports_every_figure_without_an_error(tmp_path: Path) -> None:
    report_path = tmp_path / "soak.json"
    database = f"tac_soak_{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "TAC_BENCH_POSTGRES_URL": POSTGRES or "",
        "TAC_SOAK_DATABASE": database,
    }
    try:
        stdout, stderr, code = run_bounded(
            ["make", "soak", f"SOAK_ARGS={TINY} --json {report_path}"], env, SOAK_SECONDS
        )
    finally:  # the soak drops it, unless it had to be killed
        run(run_as_server_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    shown = stdout[-4000:] + stderr[-4000:]
    assert code == 0, shown
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
    assert "| errors | 0 | 0 | PASS |" in stdout, shown
    assert stdout.count("Target (") == len(report["targets"]), shown
    assert f"dropped database {database}" in stdout
    for log in (ROOT / "var").glob(f"soak-{database}-*.log"):  # its processes' own, this run's
        log.unlink()
