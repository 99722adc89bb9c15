"""`make bench` as README gives it, run small on PostgreSQL: it seeds, serves tac-api beside its
floors, finds that they answer alike (the bare floor, the same-work floor, the liaison reads' own
floors), measures the phases asked for without an error and prints a line per target. The figures
themselves are the bench's to report (README), never asserted here."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("TAC_TEST_POSTGRES_URL")
# Small and short: a smoke run of the real thing. Left out, since each costs the suite a minute
# and `make bench` runs them: the lists' page 1,000 phase (it first fills every list to 5,000 rows)
# and the timing of the liaison reads and the worklist (the same measuring as the record reads',
# on other paths; their floors still answer alike, checked before any timing).
SMALL = (
    "--only postgres --mothers 300 --duration 0.4 --warmup 0.2 --extra-duration 0 "
    "--page-duration 0 --statement-cache both --sync-children 0 --report-mothers '' "
    "--connections 4"
)


@pytest.mark.skipif(not POSTGRES, reason="the bench measures PostgreSQL: set TAC_TEST_POSTGRES_URL")
def test_make_bench_measures_every_read_beside_its_floors() -> None:
    env = {
        **os.environ,
        "TAC_BENCH_POSTGRES_URL": POSTGRES or "",
        "TAC_BENCH_DATABASE": f"tac_bench_{uuid.uuid4().hex[:12]}",
    }
    done = subprocess.run(
        ["make", "bench", f"BENCH_ARGS={SMALL}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    shown = done.stdout[-4000:] + done.stderr[-4000:]
    assert done.returncode == 0, shown
    out = done.stdout
    assert "same answers from tac-api, the floor and the bare floor" in out, shown
    assert "liaison floors (prison_social_worker): same status, JSON, headers and audit rows" in out
    rows = {
        cells[2].strip(): cells
        for line in out.splitlines()
        if line.startswith("| PostgreSQL")
        for cells in [line.split("|")]
        if len(cells) == 15  # the main table's 13 columns, not the statement cache's
    }
    assert len(rows) == 2, rows  # the two record reads
    for endpoint, cells in rows.items():
        # Columns: database, endpoint, req/s, p50, p99, errors, CPU, same-work floor req/s, ...
        assert cells[6].strip() == "0", (endpoint, cells)
        # A dash (U+2013) where a read has no floor.
        assert cells[8].strip() not in ("", "\u2013"), f"{endpoint} has no floor beside it"
    assert "Statement cache off" in out
    for target in ("record reads, tac-api/bare floor", "record reads, tac-api/same-work floor"):
        assert f"Target ({target}" in out, out[-2000:]
    assert "dropped database" in out
