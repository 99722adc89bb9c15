"""The tac-api command: serve, migrate, demo data, the OpenAPI contract, API clients, webhooks."""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tac_api.auth.schemas import Role
from tac_api.config import Settings, get_settings
from tac_api.db import load_models, make_engine, sessionmaker_for, transactional
from tac_api.errors import Problem

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
# The commands whose figures are added up across processes, in PROMETHEUS_MULTIPROC_DIR's files.
COUNTING_IN_FILES = frozenset({"serve"})


@app.callback()
def counting_mode(ctx: typer.Context) -> None:
    # PROMETHEUS_MULTIPROC_DIR, set for a container's `tac-api serve`, is inherited by every
    # command run in it: its health check (`db check`, every 30 s), `clients create` by hand.
    # prometheus-client writes a file per process there from its first figure: each would
    # leave its own, to pile up. Only serve's processes count there; the others count in their
    # own memory (the workers serve theirs on TAC_METRICS_PORT). Decided before any command
    # imports prometheus-client, which reads the variable once (tac_api.db imports it lazily).
    if ctx.invoked_subcommand not in COUNTING_IN_FILES:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


def command_group(name: str, description: str) -> typer.Typer:
    """`tac-api <name> ...`: a group of commands, which lists them when given none."""
    group = typer.Typer(help=description, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


db_app = command_group("db", "The database schema and reference data.")
clients_app = command_group("clients", "API clients and their tokens.")

T = TypeVar("T")
# Exit codes: 1 the work failed (or the database is not ready for it), 2 refused input.
FAILED, REFUSED = 1, 2


def fail(message: str, code: int = FAILED) -> typer.Exit:
    """One line on stderr, and the exit to raise: a command's failures are sentences, not
    tracebacks."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def print_table(header: str, rows: list[str]) -> None:
    """A listing as tab-separated lines under its header, for a person or `cut`."""
    typer.echo(header)
    for row in rows:
        typer.echo(row)


@contextmanager
def running_until_stopped(settings: Settings) -> Iterator[asyncio.Event]:
    """A long-running command (webhooks, events): the event set on Ctrl-C or SIGTERM, when it
    finishes the work under way and stops, and its own figures served on TAC_METRICS_PORT
    meanwhile (it has no API to serve /metrics). Entered inside the command's event loop."""
    import signal

    from tac_api.metrics.service import served_on_own_port

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    with served_on_own_port(settings):
        yield stop


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a command's database work, its known failures said in one line."""
    from tac_api.migrations import RoleRefused, SchemaBehind
    from tac_api.webhooks.dispatcher import PassFailed

    try:
        return asyncio.run(work)
    except (SchemaBehind, PassFailed) as exc:
        raise fail(str(exc)) from exc
    except (Problem, RoleRefused) as exc:
        raise fail(getattr(exc, "detail", str(exc)), REFUSED) from exc
    except OSError as exc:  # refused, unknown host, timed out: the server, not the work
        reason = exc.strerror or type(exc).__name__
        raise fail(f"cannot reach the database in TAC_DATABASE_URL ({reason})") from exc


@asynccontextmanager
async def database(
    settings: Settings, *, pool: bool = False, schema_check: bool = True
) -> AsyncIterator[AsyncEngine]:
    """An engine for a command, on a schema this code can use (unless told not to check)."""
    from tac_api.migrations import require_current_schema

    load_models()  # a command may touch any table, and a flush orders them all
    engine = make_engine(settings, pool=pool)
    try:
        if schema_check:
            await require_current_schema(engine)
        yield engine
    finally:
        await engine.dispose()


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]], *, schema_check: bool = True) -> T:
    """Run `work` in one committed transaction against TAC_DATABASE_URL."""

    async def transaction() -> T:
        async with (
            database(get_settings(), schema_check=schema_check) as engine,
            sessionmaker_for(engine)() as session,
            session.begin(),
        ):
            return await work(session)

    return run(transaction())


def _warn_if_behind(settings: Settings) -> None:
    """Say so at start: the API serves (its readiness answers 503 until `db upgrade` has run,
    as in a rolling upgrade), but whoever started it should know why it is not ready."""
    from tac_api.migrations import SchemaBehind

    async def check() -> None:
        async with database(settings):
            pass

    try:
        asyncio.run(check())
    except SchemaBehind as exc:
        typer.echo(f"warning: {exc}; /health/ready answers 503 until then", err=True)
    except (OSError, SQLAlchemyError):  # unreachable now: /health/ready reports it, start anyway
        pass


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default TAC_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default TAC_PORT")] = None,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
) -> None:
    """Serve the API with uvicorn. On SIGTERM: no new connections, the requests in flight
    finished (up to TAC_SHUTDOWN_GRACE_SECONDS), background work stopped, exit 0."""
    from tac_api.logs import configure_logging
    from tac_api.metrics.service import multiprocess_directory
    from tac_api.serving import serve as serve_http

    settings = get_settings()
    _warn_if_behind(settings)
    # Where the workers add up their figures for /metrics (PROMETHEUS_MULTIPROC_DIR).
    multiprocess_directory(workers)
    serve_http(
        "tac_api.serving:make_app",  # create_app, whose failure is a failure to start
        log_config=configure_logging(settings.log_level),
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations, then bring the reference data (prisons, authorities, codes) up to date."""
    from tac_api.migrations import upgrade
    from tac_api.reference.service import load_reference_data

    upgrade(get_settings().database_url, revision)
    # An older REVISION on purpose is not behind for this command.
    count = in_transaction(load_reference_data, schema_check=False)
    typer.echo(f"schema at {revision}; {count} reference rows up to date")


@db_app.command("downgrade")
def db_downgrade(
    revision: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Undo migrations down to REVISION ('base' for an empty database): what they added is
    dropped, with its data."""
    from tac_api.migrations import downgrade

    if not yes:
        if not sys.stdin.isatty():  # nobody to answer: refuse rather than wait or guess
            raise fail(
                f"downgrading to {revision} drops what later migrations added, with its data: "
                "confirm at a terminal, or pass --yes",
                REFUSED,
            )
        typer.confirm(
            f"Downgrade to {revision}? What later migrations added is dropped, with its data.",
            abort=True,
        )
    downgrade(get_settings().database_url, revision)
    typer.echo(f"schema at {revision}")


@db_app.command("grant")
def db_grant(
    role: Annotated[str, typer.Option(help="The role the API connects as (PostgreSQL)")],
) -> None:
    """Give the API's database role what it needs, and no more: reads and writes on every
    table, but only SELECT and INSERT on the audit trail. Run as the schema's owner after
    every `db upgrade` (new tables grant nothing by themselves)."""
    from tac_api.migrations import APPEND_ONLY, grant_api_role

    async def grant() -> int:
        async with database(get_settings()) as engine:
            return await grant_api_role(engine, role)

    tables = run(grant())
    append_only = ", ".join(sorted(APPEND_ONLY))
    typer.echo(f"granted {role} its privileges on {tables} tables ({append_only}: SELECT, INSERT)")


@db_app.command("check")
def db_check() -> None:
    """Exit 0 when the database answers with the schema this version needs (what the API's
    /health/readiness asks), 1 otherwise: the health check of the processes that serve no HTTP
    (`webhooks run`, `events consume`, `events publish`), whose work is all in the database."""

    async def check() -> None:
        async with database(get_settings()):
            pass

    try:
        run(check())
    except SQLAlchemyError as exc:  # refused by the server: a wrong password, no such database
        raise fail(f"the database in TAC_DATABASE_URL refused ({type(exc).__name__})") from exc
    typer.echo("database ready: the schema is this version's")


@app.command("demo-data")
def demo_data(
    mothers: Annotated[int, typer.Option(min=1, max=200_000)] = 40,
    seed: Annotated[int, typer.Option()] = 2026,
    admin_token: Annotated[
        bool, typer.Option("--admin-token", help="Also create an admin client and print its token")
    ] = False,
) -> None:
    """Load realistic synthetic mothers, children and practitioners (never real people)."""
    from tac_api.demo import load_demo_data

    summary = in_transaction(lambda session: load_demo_data(session, mothers=mothers, seed=seed))
    typer.echo(summary)
    if admin_token:
        from tac_api.auth.service import create_client

        async def make(session: AsyncSession) -> str:
            import secrets

            name = f"demo-admin-{secrets.token_hex(3)}"
            _, token = await create_client(session, name=name, role=Role.admin)
            return token

        token = in_transaction(make)
        typer.echo("admin token (shown once):")
        typer.echo(token)


@app.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the contract")] = Path(
        "openapi/openapi.json"
    ),
) -> None:
    """Write the OpenAPI contract that local authorities code against."""
    from tac_api.main import create_app

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n")
    typer.echo(f"wrote {out}")


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="A unique name, e.g. ewi-social-worker")],
    role: Annotated[Role, typer.Option(help="What the client may do")],
    prison: Annotated[str | None, typer.Option(help="Prison code, for prison roles")] = None,
    la: Annotated[str | None, typer.Option(help="DfE number, for local authority roles")] = None,
    expires_in_days: Annotated[
        int, typer.Option(min=0, help="Days until the token stops working by itself; 0: never")
    ] = 365,
) -> None:
    """Create a client. Its token is printed once, alone on the last line, and never stored."""
    from datetime import timedelta

    from tac_api.auth.service import create_client
    from tac_api.db import utcnow

    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None

    async def create(session: AsyncSession) -> str:
        _, token = await create_client(
            session,
            name=name,
            role=role,
            prison_code=prison,
            local_authority_code=la,
            expires_at=expires_at,
        )
        return token

    token = in_transaction(create)
    scope = prison or la or "all"
    expiry = f"expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "never expires"
    typer.echo(f"created {name} ({role.value}, scope {scope}, {expiry}); its token is shown once:")
    typer.echo(token)


@clients_app.command("list")
def clients_list() -> None:
    """List clients (never their tokens)."""
    from tac_api.auth.models import ApiClient
    from tac_api.auth.service import list_clients
    from tac_api.db import utcnow

    now = utcnow()

    def state(client: ApiClient) -> str:
        if client.revoked_at:
            return "revoked"
        if client.expires_at and client.expires_at <= now:
            return "expired"
        return "active"

    async def rows(session: AsyncSession) -> list[str]:
        return [
            "\t".join(
                [
                    c.name,
                    c.role,
                    c.prison_code or c.local_authority_code or "-",
                    state(c),
                    c.created_at.isoformat(timespec="seconds"),
                    c.expires_at.isoformat(timespec="seconds") if c.expires_at else "never",
                ]
            )
            for c in await list_clients(session)
        ]

    print_table("name\trole\tscope\tstate\tcreated_at\texpires_at", in_transaction(rows))


@clients_app.command("revoke")
def clients_revoke(name: str) -> None:
    """Revoke a client's token; it stops working on the next request."""
    from tac_api.auth.service import revoke_client

    in_transaction(lambda session: revoke_client(session, name))
    typer.echo(f"revoked {name}")


retention_app = command_group("retention", "Erase cases closed longer than the retention period.")


@retention_app.command("run")
def retention_run(
    apply: Annotated[
        bool, typer.Option("--apply", help="Erase them (without it: only list what would go)")
    ] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Count the period up to this day"),
    ] = None,
) -> None:
    """List the cases closed longer than TAC_RETENTION_DAYS ago; with --apply, erase them.
    Expired idempotency keys (TAC_IDEMPOTENCY_KEY_HOURS), with the answers they keep, likewise,
    local authorities' link requests older than TAC_LINK_REQUEST_EXPIRY_DAYS, and referrals
    declined or not eligible, with no record behind them, TAC_REFERRAL_RETENTION_DAYS after
    their decision, and what sending prisons kept of the cases they transferred out, after its
    kept_until (TAC_TRANSFER_SUMMARY_DAYS)."""
    from tac_api.idempotency import service as idempotency
    from tac_api.retention.service import (
        erase_expired_transfer_summaries,
        erase_refused_referrals,
        expire_link_requests,
        report_lines,
    )
    from tac_api.retention.service import run as erase_due

    settings = get_settings()
    hours = settings.idempotency_key_hours

    async def retention() -> list[str]:
        async with database(settings) as engine:
            report = await erase_due(
                engine,
                as_of=as_of.date() if as_of else date.today(),
                retention_days=settings.retention_days,
                apply=apply,
            )
            async with sessionmaker_for(engine)() as session, session.begin():
                if apply:
                    keys = f"purged {await idempotency.purge_expired(session, hours)}"
                else:
                    keys = f"dry run: {await idempotency.count_expired(session, hours)} would go"
            requests = await expire_link_requests(
                engine,
                as_of=as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC),
                expiry_days=settings.link_request_expiry_days,
                apply=apply,
                request_id=report.request_id,
            )
            referrals = await erase_refused_referrals(
                engine,
                as_of=as_of.date() if as_of else date.today(),
                retention_days=settings.referral_retention_days,
                apply=apply,
                request_id=report.request_id,
            )
            summaries = await erase_expired_transfer_summaries(
                engine,
                as_of=as_of.date() if as_of else date.today(),
                apply=apply,
                request_id=report.request_id,
            )
        return [
            *report_lines(report),
            f"idempotency keys older than {hours} h: {keys}.",
            requests,
            referrals,
            summaries,
        ]

    for line in run(retention()):
        typer.echo(line)


oidc_app = command_group("oidc", "People signed in through the identity provider (OIDC tokens).")


@oidc_app.command("revoke")
def oidc_revoke(
    subject: Annotated[str, typer.Argument(help="The person's 'sub' claim")],
    issuer: Annotated[
        str | None,
        typer.Option(help="Whose subject: default TAC_OIDC_ISSUER, or the one issuer trusted"),
    ] = None,
) -> None:
    """Refuse this person's tokens issued until now, from the next request on.

    A subject is revoked at one issuer: the same `sub` from another provider is someone else.
    Tokens the identity provider issues afterwards are accepted: disable the person there too.
    """
    from tac_api.auth.service import revoke_subject

    settings = get_settings()
    trusted = [entry.issuer for entry in settings.trusted_issuers()]
    chosen = issuer or settings.oidc_issuer or (trusted[0] if len(trusted) == 1 else None)
    if not chosen:
        typer.echo("error: give --issuer, or set TAC_OIDC_ISSUER", err=True)
        raise typer.Exit(2)
    revoked = in_transaction(lambda session: revoke_subject(session, chosen, subject))
    when = revoked.revoked_at.isoformat(timespec="seconds")
    typer.echo(f"revoked {subject} ({chosen}): tokens issued until {when} are refused")


@oidc_app.command("list-revoked")
def oidc_list_revoked() -> None:
    """List the people whose earlier tokens are refused, and since when."""
    from tac_api.auth.service import list_revoked_subjects

    async def rows(session: AsyncSession) -> list[str]:
        return [
            f"{r.issuer}\t{r.subject}\t{r.revoked_at.isoformat(timespec='seconds')}"
            for r in await list_revoked_subjects(session)
        ]

    print_table("issuer\tsubject\trevoked_at", in_transaction(rows))


events_app = command_group(
    "events",
    "HMPPS domain events: prison events in from the service's queue, its own out to the topic.",
)

# -- Prison events in (tac_api.events.consumer) ------------------------------------------------


@events_app.command("consume")
def events_consume(
    once: Annotated[
        bool, typer.Option("--once", help="One pass, then stop: counts by outcome")
    ] = False,
) -> None:
    """Consume prison events from TAC_EVENTS_QUEUE_URL until stopped (Ctrl-C or SIGTERM),
    beside or instead of the API processes' own (TAC_EVENTS_CONSUME); any number may run at
    once on one queue."""

    from tac_api.events import aws, consumer
    from tac_api.logs import configure_logging

    settings = get_settings()
    if not settings.events_queue_url:
        raise fail(
            "TAC_EVENTS_QUEUE_URL is not set: the queue to consume "
            "(`tac-api events create-queues` makes a local one)",
            REFUSED,
        )
    # Failures are logged as the API's are: JSON, with nothing of a message's content.
    configure_logging(settings.log_level)

    async def consume() -> dict[str, int]:
        async with database(settings, pool=True) as engine:
            sessionmaker = sessionmaker_for(transactional(engine))
            handler = consumer.default_handler(sessionmaker)
            if once:
                sqs = aws.client(settings, "sqs")
                return dict(await consumer.consume_once(sqs, settings, handler))
            with running_until_stopped(settings) as stop:
                await consumer.run(sessionmaker, settings, stop, handler)
            return {}

    try:
        outcomes = run(consume())
    except consumer.QueueUnreachable as exc:
        raise fail(str(exc)) from exc
    if once:
        typer.echo(f"{sum(outcomes.values())} messages received")
        for outcome, count in sorted(outcomes.items()):
            typer.echo(f"{outcome}\t{count}")


@events_app.command("create-queues")
def events_create_queues(
    topic_name: Annotated[str, typer.Option(help="The estate's topic")] = "hmpps-domain-events",
    queue_name: Annotated[
        str, typer.Option(help="This service's queue (its dead-letter queue: <name>-dlq)")
    ] = "tac-api-prison-events",
) -> None:
    """For development: the topic, this service's queue subscribed to it (filtered to the event
    types it consumes) and the queue's dead-letter queue, on the local SQS and SNS in
    TAC_AWS_ENDPOINT_URL (LocalStack, moto). Prints the settings to use them."""
    import re

    from tac_api.events import consumer

    names = (("--topic-name", topic_name, 256), ("--queue-name", queue_name, 76))
    for option, name, longest in names:
        if not re.fullmatch(rf"[A-Za-z0-9_-]{{1,{longest}}}", name):
            raise fail(f"{option}: letters, digits, - and _, {longest} at most", REFUSED)
    settings = get_settings()
    if not settings.aws_endpoint_url:
        raise fail(
            "TAC_AWS_ENDPOINT_URL is not set: create-queues makes queues on a local SQS and SNS "
            "only (the estate's are made by its infrastructure code)",
            REFUSED,
        )
    try:
        made = consumer.create_queues(settings, topic_name, queue_name)
    except consumer.QueueUnreachable as exc:
        raise fail(str(exc)) from exc
    for name, value in made.items():
        typer.echo(f"{name}={value}")


# -- The service's events out (tac_api.events.publisher) ---------------------------------------


@events_app.command("publish")
def events_publish(
    once: Annotated[
        bool,
        typer.Option("--once", help="Publish what is waiting, then stop (for a scheduler)"),
    ] = False,
) -> None:
    """Publish the service's changes to the estate's topic (TAC_EVENTS_TOPIC_ARN) as HMPPS
    domain events, from where publishing last got to, until stopped (Ctrl-C or SIGTERM); beside
    or instead of the API processes' own (TAC_EVENTS_PUBLISH). At least once: a publisher
    stopped mid-pass publishes that pass's events again."""

    from tac_api.events import publisher
    from tac_api.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)

    async def publish() -> int:
        async with database(settings, pool=True) as engine:
            sessionmaker = sessionmaker_for(transactional(engine))
            if once:
                total = 0
                while True:
                    published = await publisher.publish_once(sessionmaker, settings)
                    total += published
                    if published < publisher.EVENTS_PER_PASS:
                        break
                await publisher.prune(sessionmaker, settings)
                return total
            with running_until_stopped(settings) as stop:
                await publisher.run(sessionmaker, settings, stop)
            return 0

    try:
        published = run(publish())
    except (publisher.PublishFailed, publisher.NoTopic) as exc:
        raise fail(str(exc)) from exc
    if once:
        typer.echo(f"{published} events published")


webhooks_app = command_group(
    "webhooks", "Deliver the change events to local authorities' webhooks."
)


@webhooks_app.command("run")
def webhooks_run(
    once: Annotated[
        bool, typer.Option("--once", help="One pass, then stop (for a scheduler)")
    ] = False,
) -> None:
    """Deliver until stopped (Ctrl-C or SIGTERM), beside or instead of the API processes' own
    delivery (TAC_WEBHOOK_DISPATCH); any number may run at once against one PostgreSQL."""

    from tac_api.logs import configure_logging
    from tac_api.webhooks import dispatcher

    settings = get_settings()
    # Failures are logged as the API's are: JSON, with no exception's message (personal values).
    configure_logging(settings.log_level)

    async def deliver() -> int:
        async with database(settings, pool=True) as engine:
            sessionmaker = sessionmaker_for(transactional(engine))
            if once:
                return await dispatcher.dispatch_once(sessionmaker, settings, strict=True)
            with running_until_stopped(settings) as stop:
                await dispatcher.run(sessionmaker, settings, stop)
            return 0

    attempts = run(deliver())
    if once:
        typer.echo(f"{attempts} delivery attempts made")
