"""The test helpers that stop the processes a test started (tests/support/processes.py): every
one is stopped however the others fare, so that no test leaves a server running behind it."""

import os
import signal
import sys
from pathlib import Path

import pytest

from tests.support.processes import start_command, stop_all, wait_for

# Ignores SIGTERM (as a server stuck in its shutdown would), and says when it does.
STUCK = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
PLAIN = "import time; print('ready', flush=True); time.sleep(60)"


def test_stop_all_stops_every_process_when_one_will_not_stop_and_then_says_so(
    tmp_path: Path,
) -> None:
    commands = [
        start_command([sys.executable, "-c", code], tmp_path / f"{n}.log", os.environ)
        for n, code in enumerate([STUCK, PLAIN, STUCK])
    ]
    try:
        for command in commands:  # its signal handling in place
            wait_for(lambda: "ready" in command.output(), 30, "start")  # noqa: B023
        with pytest.raises(AssertionError, match="did not stop"):
            stop_all(commands, timeout=1)
        assert [command.alive() for command in commands] == [False, False, False]
        assert [command.process.returncode for command in commands] == [
            -signal.SIGKILL,
            -signal.SIGTERM,
            -signal.SIGKILL,
        ]
    finally:
        for command in commands:
            if command.alive():
                command.process.kill()
                command.process.wait()
