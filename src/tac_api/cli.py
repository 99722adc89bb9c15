"""The tac-api command: serve, migrate, demo data, the OpenAPI contract, API clients, webhooks."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Role
from tac_api.config import get_settings
from tac_api.db import make_engine, sessionmaker_for, transactional
from tac_api.errors import Problem

app = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="The database schema and reference data.", no_args_is_help=True)
clients_app = typer.Typer(help="API clients and their tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(clients_app, name="clients")

T = TypeVar("T")


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one committed transaction against TAC_DATABASE_URL."""

    async def run() -> T:
        engine = make_engine(get_settings(), pool=False)
        try:
            async with sessionmaker_for(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except Problem as problem:
        typer.echo(f"error: {problem.detail}", err=True)
        raise typer.Exit(2) from problem


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default TAC_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Default TAC_PORT")] = None,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    from tac_api.logs import configure_logging

    settings = get_settings()
    uvicorn.run(
        "tac_api.main:create_app",
        log_config=configure_logging(settings.log_level),
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations, then bring the reference data (prisons, authorities, codes) up to date."""
    from tac_api.migrations import upgrade
    from tac_api.reference.service import load_reference_data

    upgrade(get_settings().database_url, revision)
    count = in_transaction(load_reference_data)
    typer.echo(f"schema at {revision}; {count} reference rows up to date")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ('base' for an empty database)."""
    from tac_api.migrations import downgrade

    downgrade(get_settings().database_url, revision)
    typer.echo(f"schema at {revision}")


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

    typer.echo("name\trole\tscope\tstate\tcreated_at\texpires_at")
    for row in in_transaction(rows):
        typer.echo(row)


@clients_app.command("revoke")
def clients_revoke(name: str) -> None:
    """Revoke a client's token; it stops working on the next request."""
    from tac_api.auth.service import revoke_client

    in_transaction(lambda session: revoke_client(session, name))
    typer.echo(f"revoked {name}")


retention_app = typer.Typer(
    help="Erase cases closed longer than the retention period.", no_args_is_help=True
)
app.add_typer(retention_app, name="retention")


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
    and local authorities' link requests older than TAC_LINK_REQUEST_EXPIRY_DAYS."""
    from tac_api.idempotency import service as idempotency
    from tac_api.retention.service import expire_link_requests, report_lines, run

    settings = get_settings()
    hours = settings.idempotency_key_hours

    async def retention() -> list[str]:
        engine = make_engine(settings, pool=False)
        try:
            report = await run(
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
        finally:
            await engine.dispose()
        return [*report_lines(report), f"idempotency keys older than {hours} h: {keys}.", requests]

    for line in asyncio.run(retention()):
        typer.echo(line)


oidc_app = typer.Typer(
    help="People signed in through the identity provider (OIDC tokens).", no_args_is_help=True
)
app.add_typer(oidc_app, name="oidc")


@oidc_app.command("revoke")
def oidc_revoke(
    subject: Annotated[str, typer.Argument(help="The person's 'sub' claim")],
    issuer: Annotated[str | None, typer.Option(help="Default TAC_OIDC_ISSUER")] = None,
) -> None:
    """Refuse this person's tokens issued until now, from the next request on.

    Tokens the identity provider issues afterwards are accepted: disable the person there too.
    """
    from tac_api.auth.service import revoke_subject

    chosen = issuer or get_settings().oidc_issuer
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

    typer.echo("issuer\tsubject\trevoked_at")
    for row in in_transaction(rows):
        typer.echo(row)


webhooks_app = typer.Typer(
    help="Deliver the change events to local authorities' webhooks.", no_args_is_help=True
)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("run")
def webhooks_run(
    once: Annotated[
        bool, typer.Option("--once", help="One pass, then stop (for a scheduler)")
    ] = False,
) -> None:
    """Deliver until stopped (Ctrl-C or SIGTERM), beside or instead of the API processes' own
    delivery (TAC_WEBHOOK_DISPATCH); any number may run at once against one PostgreSQL."""
    import signal

    from tac_api.webhooks import dispatcher

    settings = get_settings()

    async def deliver() -> int:
        engine = make_engine(settings)
        sessionmaker = sessionmaker_for(transactional(engine))
        try:
            if once:
                return await dispatcher.dispatch_once(sessionmaker, settings)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(stop_signal, stop.set)
            await dispatcher.run(sessionmaker, settings, stop)
            return 0
        finally:
            await engine.dispose()

    attempts = asyncio.run(deliver())
    if once:
        typer.echo(f"{attempts} delivery attempts made")
