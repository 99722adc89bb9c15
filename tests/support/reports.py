"""Reading reports in the tests of their counting: the true counts, not the published ones."""

from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.api import Api


@contextmanager
def exact_figures(api: Api, threshold: int | None = None) -> Iterator[None]:
    """Reports read inside show the true counts, unperturbed (`app.state.exact_report_figures`,
    which only the tests set). Counts from 1 to the threshold are still `c`; `threshold` sets it
    for the while (0: no `c` at all). Both are put back after, for the next test's app."""
    state = api.client.app.state  # type: ignore[attr-defined]
    settings = state.settings
    original = state.exact_report_figures, settings.report_suppression_threshold
    state.exact_report_figures = True
    if threshold is not None:
        settings.report_suppression_threshold = threshold
    try:
        yield
    finally:
        state.exact_report_figures, settings.report_suppression_threshold = original
