"""The tac-api command: serve, migrate, demo data, the OpenAPI contract, API clients."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from tac_api.auth.schemas import Role
from tac_api.config import get_settings
from tac_api.db import make_engine, sessionmaker_for
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
) -> None:
    """Create a client. Its token is printed once, alone on the last line, and never stored."""
    from tac_api.auth.service import create_client

    async def create(session: AsyncSession) -> str:
        _, token = await create_client(
            session, name=name, role=role, prison_code=prison, local_authority_code=la
        )
        return token

    token = in_transaction(create)
    scope = prison or la or "all"
    typer.echo(f"created {name} ({role.value}, scope {scope}); its token is shown once:")
    typer.echo(token)


@clients_app.command("list")
def clients_list() -> None:
    """List clients (never their tokens)."""
    from tac_api.auth.service import list_clients

    async def rows(session: AsyncSession) -> list[str]:
        return [
            "\t".join(
                [
                    c.name,
                    c.role,
                    c.prison_code or c.local_authority_code or "-",
                    "revoked" if c.revoked_at else "active",
                    c.created_at.isoformat(timespec="seconds"),
                ]
            )
            for c in await list_clients(session)
        ]

    typer.echo("name\trole\tscope\tstate\tcreated_at")
    for row in in_transaction(rows):
        typer.echo(row)


@clients_app.command("revoke")
def clients_revoke(name: str) -> None:
    """Revoke a client's token; it stops working on the next request."""
    from tac_api.auth.service import revoke_client

    in_transaction(lambda session: revoke_client(session, name))
    typer.echo(f"revoked {name}")
