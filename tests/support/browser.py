"""A real browser for the tests of pages people read: Debian's chromium (installed by
`make browser`), driven by Playwright, headless."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Playwright makes a fresh profile (--user-data-dir) for each launch, and adds --no-sandbox.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Launched for one test: while Playwright runs, its event loop holds this thread, where the
    database fixtures of other tests run theirs."""
    if not CHROMIUM.exists():  # never skipped: CI installs it through `make test`
        pytest.fail(
            f"{CHROMIUM} is missing: run `make browser` (as root), or apt-get install chromium"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()
