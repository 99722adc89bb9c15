"""The page `GET /metrics` answers: every process's figures (`figures`), and those read from the
database as it is scraped; and the directory that several worker processes count in.

Read at scrape time, with one statement whose every part is an index seek per active webhook (or
one seek): how long the oldest work has been waiting.
- tac_webhook_oldest_pending_delivery_age_seconds: since the oldest delivery still pending to an
  active webhook was made (its first attempt was due then; it is being retried since);
- tac_change_feed_lag_seconds: since the oldest change event that an active webhook has not yet
  had (delivered or given up) happened: its pending delivery's event, or the first event after
  its cursor. How far behind the changes pushed to local authorities are; 0 when every active
  webhook is up to date. (A reader polling GET /v1/sync/changes keeps its own cursor, which the
  service never sees: its lag is its own.)
- tac_event_publishing_lag_seconds: since the oldest change not yet published to the estate's
  topic (TAC_EVENTS_TOPIC_ARN) happened: the first service_event after the topic's cursor.
  Only when TAC_EVENTS_TOPIC_ARN is set.
- tac_metrics_database_read_ok: 1, or 0 when the database could not be read (the ages above left
  out, the rest of the page served).
"""

import atexit
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import ColumnElement, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.changes.models import ChangeEvent
from tac_api.config import Settings
from tac_api.db import unavailable, utcnow
from tac_api.events.models import EventPublication, ServiceEvent
from tac_api.webhooks.dispatcher import PENDING
from tac_api.webhooks.models import Webhook, WebhookDelivery

# prometheus-client's own variable: set, every process that imports it counts in files there.
DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
# Prometheus' classic text format, which every version of Prometheus reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# The names prometheus-client (0.26, values.MultiProcessValue) gives its files: `<type>_<pid>.db`,
# a gauge's type with its multiprocess mode (`gauge_livesum_<pid>.db`). Nothing else in the
# directory is ever read or removed: it may hold anything (a SQLite database, var/tac.db).
OWN_FILE = re.compile(
    r"(?:counter|histogram|summary|gauge_(?:live)?(?:all|min|max|sum|mostrecent))_(\d+)\.db"
)
logger = logging.getLogger(__name__)


def own_files(directory: Path) -> list[Path]:
    """prometheus-client's files in `directory`, and nothing else that may be there."""
    return sorted(path for path in directory.iterdir() if OWN_FILE.fullmatch(path.name))


def multiprocess_directory(workers: int) -> Path | None:
    """The directory the API processes of one `tac-api serve` count in, ready for them.

    Given (PROMETHEUS_MULTIPROC_DIR): emptied of the figures a previous run left, which would
    otherwise be added to this run's. Not given, with several workers: a new one, set for them
    and removed when serve exits. Not given, one process: none (it counts in its memory)."""
    given = os.environ.get(DIRECTORY)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        # This process may have made its own files already (with one worker it is the worker).
        for stale in own_files(directory):
            match = OWN_FILE.fullmatch(stale.name)
            if match and int(match[1]) != os.getpid():
                stale.unlink(missing_ok=True)
        return directory
    if workers <= 1:
        return None
    directory = Path(tempfile.mkdtemp(prefix="tac-api-metrics-"))
    os.environ[DIRECTORY] = str(directory)  # inherited by the workers uvicorn starts
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def counting_in_files() -> str | None:
    """The directory this process counts in (decided when prometheus-client was imported, from
    the same variable), or None."""
    return os.environ.get(DIRECTORY) or None


def process_stopped() -> None:
    """A worker's last act: its connections are no longer in use (its live gauges go); what it
    counted stays in the totals."""
    directory = counting_in_files()
    if directory:
        multiprocess.mark_process_dead(os.getpid(), directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def forget_dead_processes(directory: str) -> None:
    """A worker killed (SIGKILL, out of memory) never ran `process_stopped`: its live gauges
    (connections in use when it died) are dropped here, at the next scrape."""
    for file in own_files(Path(directory)):
        match = OWN_FILE.fullmatch(file.name)
        if match and file.name.startswith("gauge_live") and not _alive(int(match[1])):
            multiprocess.mark_process_dead(int(match[1]), directory)


class EveryProcess:
    """prometheus-client's MultiProcessCollector, reading its own files only (its `collect`
    reads every *.db in the directory, and would fail on a SQLite database there)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def collect(self) -> Iterable[Metric]:
        files = [str(path) for path in own_files(self.directory)]
        return multiprocess.MultiProcessCollector.merge(files, accumulate=True)


def _oldest_pending_delivery() -> ColumnElement[datetime]:
    per_webhook = (
        select(func.min(WebhookDelivery.created_at))
        .where(WebhookDelivery.webhook_id == Webhook.id, WebhookDelivery.status == PENDING)
        .scalar_subquery()
    )
    return select(func.min(per_webhook)).where(Webhook.active).scalar_subquery()


def _oldest_not_pushed() -> ColumnElement[datetime]:
    # A pending delivery's event is where the webhook's cursor stands; with none, the next one.
    pending_position = (
        select(func.min(WebhookDelivery.event_position))
        .where(WebhookDelivery.webhook_id == Webhook.id, WebhookDelivery.status == PENDING)
        # To the outermost query's webhook, two levels up (auto-correlation looks one level).
        .correlate(Webhook)
        .scalar_subquery()
    )
    first_not_had = (
        select(ChangeEvent.occurred_at)
        .where(
            ChangeEvent.local_authority_code == Webhook.local_authority_code,
            ChangeEvent.position  # type: ignore[operator]
            >= func.coalesce(pending_position, Webhook.cursor_position + 1),
        )
        .order_by(ChangeEvent.position)
        .limit(1)
        .scalar_subquery()
    )
    return select(func.min(first_not_had)).where(Webhook.active).scalar_subquery()


def _oldest_unpublished(topic_arn: str) -> ColumnElement[datetime]:
    published_through = (
        select(EventPublication.last_position)
        .where(EventPublication.topic_arn == topic_arn)
        .scalar_subquery()
    )
    return (
        select(ServiceEvent.occurred_at)
        .where(ServiceEvent.position > func.coalesce(published_through, 0))  # type: ignore[operator]
        .order_by(ServiceEvent.position)
        .limit(1)
        .scalar_subquery()
    )


async def waiting_figures(session: AsyncSession, settings: Settings) -> list[Metric]:
    """The ages of the oldest work waiting, in seconds, read in one statement."""
    topic = settings.events_topic_arn
    unpublished = _oldest_unpublished(topic) if topic else null()
    row = (
        await session.execute(select(_oldest_pending_delivery(), _oldest_not_pushed(), unpublished))
    ).one()
    now = utcnow()

    def age(since: datetime | None) -> float:
        return max(0.0, (now - since).total_seconds()) if since is not None else 0.0

    figures = [
        GaugeMetricFamily(
            "tac_webhook_oldest_pending_delivery_age_seconds",
            "Seconds since the oldest delivery pending to an active webhook was made; 0: none.",
            value=age(row[0]),
        ),
        GaugeMetricFamily(
            "tac_change_feed_lag_seconds",
            "Seconds since the oldest change event an active webhook has not yet had happened; "
            "0: every active webhook is up to date.",
            value=age(row[1]),
        ),
    ]
    if topic:
        figures.append(
            GaugeMetricFamily(
                "tac_event_publishing_lag_seconds",
                "Seconds since the oldest change not yet published to TAC_EVENTS_TOPIC_ARN "
                "happened; 0: all published.",
                value=age(row[2]),
            )
        )
    return figures


class _Figures:
    """Figures already read, as a collector: prometheus-client collects synchronously, and the
    database is read asynchronously, before."""

    def __init__(self, figures: list[Metric]) -> None:
        self.figures = figures

    def collect(self) -> list[Metric]:
        return self.figures


async def read_figures(session: AsyncSession, settings: Settings) -> list[Metric]:
    """The database's figures, and whether it could be read: a database that fails now leaves
    the ages out, not the page (the figures each process counted are what shows why)."""
    try:
        figures, read_ok = await waiting_figures(session, settings), True
    except Exception as exc:
        if not unavailable(exc):  # the one test of what answers 503 elsewhere
            raise
        logger.warning("metrics: the database's figures left out (%s)", type(exc).__name__)
        figures, read_ok = [], False
    read = GaugeMetricFamily(
        "tac_metrics_database_read_ok",
        "1: this scrape read the ages of waiting work from the database; 0: it could not (the "
        "database unavailable), and they are left out.",
        value=1 if read_ok else 0,
    )
    return [*figures, read]


async def page(session: AsyncSession, settings: Settings) -> bytes:
    """The text Prometheus scrapes: every process's figures, then the database's."""
    read_now = CollectorRegistry(auto_describe=False)
    read_now.register(_Figures(await read_figures(session, settings)))
    directory = counting_in_files()
    if directory is None:
        counted = generate_latest(REGISTRY)  # this process's, and its CPU, memory and files
    else:
        forget_dead_processes(directory)
        every_process = CollectorRegistry(auto_describe=False)
        every_process.register(EveryProcess(directory))
        counted = generate_latest(every_process)
    return counted + generate_latest(read_now)


@contextmanager
def served_on_own_port(settings: Settings) -> Iterator[None]:
    """A worker command's own figures (`webhooks run`: deliveries by result; its pool; its
    process), in Prometheus' format on TAC_METRICS_HOST:TAC_METRICS_PORT while it runs; nothing
    when the port is not set.

    A port of its own rather than a token: a worker serves no HTTP, has no API to check a token
    with, and the page holds counts only, never a person. The ages of waiting work are the API's
    /metrics' (read from the database, the same whichever process reads them)."""
    if settings.metrics_port is None:
        yield
        return
    # In this process's memory: `tac-api` counts in files for `serve` only (cli.counting_mode).
    server, thread = start_http_server(settings.metrics_port, addr=settings.metrics_host)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
