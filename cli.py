"""The `waybill` command: keys, migrations, and the processes `make run` starts."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

import logs
import owner_only
from config import Settings

app = typer.Typer(help="Waybill: order lifecycle on Temporal.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

ROLES = ("operator", "supervisor", "integration", "auditor", "admin")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    name: Annotated[str, typer.Option(help="Who holds the key; shown as the actor of events")],
    team: Annotated[str | None, typer.Option(
        help="Team whose in-app inbox the key reads (default: the role's name)")] = None,
) -> None:
    """Create an API key; the key itself is printed once, alone on the last line."""
    from db.engine import make_engine, session_factory, transaction
    from db.keys import create_key
    from db.migrate import upgrade

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    if not name.strip():
        raise typer.BadParameter("name must not be empty", param_hint="--name")
    if team is not None and not (team := team.strip()):
        raise typer.BadParameter("team must not be empty", param_hint="--team")
    settings = Settings()
    owner_only.prepare(settings)
    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    with transaction(session_factory(engine)) as session:
        row, key = create_key(session, name.strip(), role, team)
    engine.dispose()
    typer.echo(f"created {role} key for {row.name!r} (prefix {row.prefix})", err=True)
    typer.echo(key)


@app.command()
def migrate() -> None:
    """Bring the application database to the newest schema."""
    from db.migrate import upgrade

    settings = Settings()
    owner_only.prepare(settings)
    upgrade(settings.db_url)


@app.command()
def worker() -> None:
    """Run the Temporal worker (order workflows and their activities)."""
    import worker as worker_module

    settings = Settings()
    logs.configure(settings.log_level)
    owner_only.prepare(settings)  # the survey secret and a SQLite database are made owner-only
    asyncio.run(worker_module.run(settings))


@app.command()
def api() -> None:
    """Serve the HTTP API."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    logs.configure(settings.log_level)
    owner_only.prepare(settings)  # uploads reach the archive; the survey secret is made here
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_config=None, access_log=False)


@app.command()
def demo(
    api_url: Annotated[str | None, typer.Option(
        help="Base URL of the API (default: http://API_HOST:API_PORT)")] = None,
    key: Annotated[str | None, typer.Option(
        envvar="WAYBILL_DEMO_KEY", show_envvar=True,
        help="An integration key; without one, the demo's key and SLA policies are created "
             "in the local database")] = None,
    pace: Annotated[float, typer.Option(
        min=0.01, help="Multiplies every wait: 1 = an event every 1-3 s; 0.1 = ten times "
                       "faster")] = 1.0,
    max_orders: Annotated[int, typer.Option(min=1, help="Orders to create, then stop")] = 50,
    max_minutes: Annotated[float, typer.Option(min=0.1, help="Stop after this long")] = 60.0,
    seed: Annotated[int | None, typer.Option(help="Same seed, same traffic")] = None,
) -> None:
    """Demo traffic: orders for a few customers walked through the API, some late or damaged."""
    from demo.traffic import DemoConfig, run_until_signalled

    settings = Settings()
    logs.configure(settings.log_level)
    if key is None:
        from db.migrate import upgrade
        from demo.provision import provision

        owner_only.prepare(settings)
        upgrade(settings.db_url)
        key = provision(settings.db_url)
    cfg = DemoConfig(base_url=api_url or f"http://{settings.api_host}:{settings.api_port}",
                     key=key, pace=pace, max_orders=max_orders, max_seconds=max_minutes * 60,
                     seed=seed)
    raise typer.Exit(asyncio.run(run_until_signalled(cfg)))


@app.command()
def dev() -> None:
    """Everything on one machine: Temporal dev server, migrations, worker and API."""
    import devstack

    settings = Settings()
    logs.configure(settings.log_level)
    raise typer.Exit(devstack.run(settings))


if __name__ == "__main__":
    app()
