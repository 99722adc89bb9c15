"""The figures each process counts as it works, in prometheus-client's metrics.

With PROMETHEUS_MULTIPROC_DIR set when this module is first imported (`tac-api serve --workers N`
sets it for its workers: see `service.multiprocess_directory`), each value lives in a file of
that directory, one per process, and `GET /metrics` adds up every process's; without it (one
process, the tests) in this process's memory.

A label never holds a personal value, a raw path or an id: a route's template
(`/v1/mothers/{mother_id}`), a method from a fixed list, a status code, a fixed word.
"""

import os
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from sqlalchemy.pool import AsyncAdaptedQueuePool
from starlette.types import Scope

# prometheus-client writes there from the first metric made below, and fails (at import, so every
# `tac-api` command would) if the directory is missing: made here rather than refused.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
# Each counter's creation time, as a series of its own: not summed across processes (multiprocess
# mode drops it), so the page would differ with the number of workers. Prometheus does not need it.
disable_created_metrics()

# A request no route took: no route matched its path, or it was refused before routing (a body
# over the limit). One value, whatever the path was.
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"  # anything a client may send as a method: never a label of its own
# A hot read takes about a millisecond of CPU: buckets from there to a request's worst.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "tac_http_requests",
    "Requests, by route template, method and status (none: ended before an answer started).",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "tac_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
# Gauges of live processes only, summed: a process that stops takes its connections with it.
CONNECTIONS_IN_USE = Gauge(
    "tac_database_connections_in_use",
    "Database connections checked out of the API processes' pools.",
    multiprocess_mode="livesum",
)
CONNECTIONS_WAITING = Gauge(
    "tac_database_connections_waiting",
    "Requests waiting for a database connection (a free one, or a new one being opened).",
    multiprocess_mode="livesum",
)
RATE_LIMITED = Counter(
    "tac_rate_limited_requests", "Requests refused with 429: their client over its rate limit."
)
IDEMPOTENCY_CONFLICTS = Counter(
    "tac_idempotency_conflicts",
    "POSTs refused over their Idempotency-Key: in_progress (409, its first request still "
    "running), completed (409, completed but its answer not kept), reused (422, the key used "
    "for another request), taken_over (409, it ran past the key's lock time and a retry took the "
    "key over: nothing of it saved).",
    ["reason"],
)
IDEMPOTENCY_REPLAYS = Counter(
    "tac_idempotency_replays",
    "POSTs answered with the stored answer to their Idempotency-Key's first request.",
)
WEBHOOK_DELIVERIES = Counter(
    "tac_webhook_deliveries",
    "Webhook delivery attempts recorded by this service's dispatchers, by result: delivered "
    "(2xx), retrying (failed, to be tried again), given_up (failed for the last time, or its "
    "event erased with its case before it was sent).",
    ["result"],
)

# The status of a request that ended before its answer started.
NO_ANSWER = "none"

# Per (route template, method, status): the two series a request moves, looked up once.
_series: dict[tuple[str, str, int | None], tuple[Any, Any]] = {}


def route_of(scope: Scope) -> str:
    """The template of the route that took the request, never its path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    # Starlette's own routes (the OpenAPI document, /docs' assets) say which endpoint they are.
    endpoint = scope.get("endpoint")
    if endpoint is not None:
        return _other_routes(scope["app"]).get(id(endpoint), UNMATCHED)
    return UNMATCHED


def _other_routes(app: Any) -> dict[int, str]:
    """Endpoint -> template of an app's routes that are not FastAPI's own (made once)."""
    known: dict[int, str] | None = getattr(app.state, "metrics_routes", None)
    if known is None:
        known = {}
        for route in app.routes:
            endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
            template = getattr(route, "path_format", None)
            if endpoint is not None and isinstance(template, str):
                known[id(endpoint)] = template
        app.state.metrics_routes = known
    return known


def record_request(scope: Scope, status: int | None, seconds: float) -> None:
    """Count a request and its time (the request context middleware calls this); `status`
    None: it ended before any answer started (cancelled, its client gone), counted as `none`."""
    method = scope["method"]
    if method not in METHODS:
        method = OTHER_METHOD
    key = (route_of(scope), method, status)
    series = _series.get(key)
    if series is None:
        route = key[0]
        series = _series[key] = (
            REQUESTS.labels(route, method, NO_ANSWER if status is None else str(status)),
            LATENCY.labels(route, method),
        )
    count, latency = series
    count.inc()
    latency.observe(seconds)


class MeteredPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's pool for asyncio, counting its connections in use and the requests waiting
    for one, as it hands them out and takes them back (the two places every connection passes)."""

    # Its log lines under SQLAlchemy's pool's name, where the logging configuration expects them.
    _sqla_logger_namespace = "sqlalchemy.pool.impl.AsyncAdaptedQueuePool"

    def _do_get(self) -> Any:
        CONNECTIONS_WAITING.inc()
        try:
            record = super()._do_get()
        finally:
            CONNECTIONS_WAITING.dec()
        CONNECTIONS_IN_USE.inc()
        return record

    def _do_return_conn(self, record: Any) -> None:
        CONNECTIONS_IN_USE.dec()
        super()._do_return_conn(record)
