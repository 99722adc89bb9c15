"""`tac-api serve`'s exit code when it cannot start, as a process manager reads it: not 0, so
that systemd's Restart=on-failure (or an orchestrator) sees the failure, with one process or
several (`--workers`, where uvicorn's supervisor would otherwise return as after a signal)."""

from pathlib import Path
from typing import Any

import pytest
from uvicorn.config import STARTUP_FAILURE

from tests.support.processes import start_api

# The app refuses to be made (create_app raises): consuming events needs a queue to read.
BROKEN = {"TAC_EVENTS_CONSUME": "true", "TAC_EVENTS_QUEUE_URL": ""}


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_that_fails_to_start_exits_startup_failure(
    make_database: Any, tmp_path: Path, workers: int
) -> None:
    url = make_database("sqlite")
    api = start_api(url, tmp_path, BROKEN, wait=False, workers=workers)
    code = api.wait(timeout=60)
    output = api.output()
    assert code == STARTUP_FAILURE, output[-3000:]
    assert "the app could not be made" in output and "ValueError" in output
    if workers > 1:
        assert "failed to start, stopping the parent process" in output  # uvicorn's supervisor
