"""The `waybill` command: keys, migrations, and the processes `make run` starts."""

from __future__ import annotations

import asyncio
import os
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated

import typer

import logs
from api.permissions import Role
from config import Settings
from shared import owner_only

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

app = typer.Typer(help="Waybill: order lifecycle on Temporal.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
# Issue 17 §3: the tamper-evident audit chain.
audit_app = typer.Typer(help="The audit chain: verify it, seal a checkpoint.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")
# Issue 17 §6: retention of closed orders' personal data.
retention_app = typer.Typer(help="Personal data retention: redact closed orders' personal "
                                 "data after personal_data_retention_days.",
                            no_args_is_help=True)
app.add_typer(retention_app, name="retention")

ROLES = tuple(Role)  # the permission table's roles, in its order


def _csv(value: str | None) -> list[str] | None:
    """`a,b` -> ["a", "b"]; None stays None (no limit)."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _keys_session() -> tuple[Engine, AbstractContextManager[Session]]:
    """A migrated database and one transaction on it."""
    from db.engine import make_engine, session_factory, transaction
    from db.migrate import upgrade

    settings = Settings()
    owner_only.prepare(settings)
    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    return engine, transaction(session_factory(engine))


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}")],
    name: Annotated[str, typer.Option(help="Who holds the key; shown as the actor of events")],
    team: Annotated[str | None, typer.Option(
        help="Team whose in-app inbox the key reads (default: the role's name)")] = None,
    event_types: Annotated[str | None, typer.Option(
        help="Integration keys: only these order event types, e.g. confirmed,picked")] = None,
    customers: Annotated[str | None, typer.Option(
        help="Integration keys: only these customer ids, e.g. C-1,C-2")] = None,
    carriers: Annotated[str | None, typer.Option(
        help="Integration keys: only orders shipped by these carriers")] = None,
    expires_in_days: Annotated[float | None, typer.Option(
        min=0.001, help="The key stops working after this many days (default: never)")] = None,
) -> None:
    """Create an API key; the key itself is printed once, alone on the last line."""
    from datetime import UTC, datetime, timedelta

    from pydantic import ValidationError

    from api.errors import ApiError
    from api.keys import service as key_admin
    from api.keys.schemas import KeyCreate

    if role not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}", param_hint="--role")
    if not name.strip():
        raise typer.BadParameter("name must not be empty", param_hint="--name")
    if team is not None and not (team := team.strip()):
        raise typer.BadParameter("team must not be empty", param_hint="--team")
    scope = {"event_types": _csv(event_types), "customers": _csv(customers),
             "carriers": _csv(carriers)}
    try:
        body = KeyCreate(
            name=name, role=role, team=team,
            scope=scope if any(v is not None for v in scope.values()) else None,
            expires_at=(datetime.now(UTC) + timedelta(days=expires_in_days)
                        if expires_in_days else None))
    except ValidationError as exc:
        raise typer.BadParameter("; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from exc
    engine, unit = _keys_session()
    try:
        with unit as session:
            row, key = key_admin.create(session, body, "cli")
    except ApiError as exc:
        raise typer.BadParameter(f"{exc.code}: {exc.message}") from exc
    finally:
        engine.dispose()
    typer.echo(f"created {role} key for {row.name!r} (prefix {row.prefix})", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: name, role, prefix, scope, created, expires, revoked (never a key or hash)."""
    from api.keys import service as key_admin
    from db.keys.queries import list_keys

    engine, unit = _keys_session()
    with unit as session:
        views = [key_admin.view(r) for r in list_keys(session)]
    engine.dispose()

    def when(value: object) -> str:
        return value.isoformat(timespec="seconds") if value else "-"  # type: ignore[attr-defined]

    def listed(values: list[str] | None) -> str:
        return ",".join(str(getattr(v, "value", v)) for v in values) if values else "*"

    header = ("id", "name", "role", "prefix", "state", "event types", "customers", "carriers",
              "created", "expires", "revoked")
    rows = [header] + [
        (str(v.id), v.name, v.role, v.prefix, v.state, listed(v.scope.event_types),
         listed(v.scope.customers), listed(v.scope.carriers), when(v.created_at),
         when(v.expires_at), when(v.revoked_at)) for v in views]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


@keys_app.command("revoke")
def keys_revoke(
    name_or_prefix: Annotated[str, typer.Argument(
        help="The key's name, or the start of its prefix (as `waybill keys list` shows)")],
) -> None:
    """Revoke a key at once: its next request is refused and its console sessions end."""
    from api.keys import service as key_admin
    from db.keys.queries import find_by_name_or_prefix

    engine, unit = _keys_session()
    try:
        with unit as session:
            matches = find_by_name_or_prefix(session, name_or_prefix.strip())
            if len(matches) != 1:
                names = ", ".join(f"{m.name} ({m.prefix})" for m in matches[:10])
                raise typer.BadParameter(
                    f"{len(matches)} active keys match {name_or_prefix!r}"
                    + (f": {names}; give a longer prefix" if matches else ""))
            row = key_admin.revoke(session, matches[0].id, "cli")
            typer.echo(f"revoked {row.role} key {row.name!r} (prefix {row.prefix})")
    finally:
        engine.dispose()


@audit_app.command("verify")
def audit_verify(
    order: Annotated[str | None, typer.Option(
        "--order", help="One order's chain (or `complaint:<id>` for a complaint without one)")]
        = None,
    all_: Annotated[bool, typer.Option(
        "--all", help="Every chain, and every checkpoint's signature")] = False,
) -> None:
    """Walk audit chains and print a line per break found (each edited, deleted or inserted
    row, each broken link); exit status 1 if anything is broken."""
    from db.audit import queries as audit
    from shared.audit_keys import verifying_keys

    if (order is None) == (not all_):
        raise typer.BadParameter("give --order ID or --all")
    settings = Settings()
    engine, unit = _keys_session()
    broken = checked = 0
    try:
        with unit as session:
            keys = verifying_keys(settings)
            if order is not None and not audit.known(session, order):
                typer.echo(f"no order or audit chain {order!r}", err=True)
                raise typer.Exit(2)
            for chain in [order] if order is not None else audit.chains(session):
                verdict = audit.verify(session, chain, keys)
                checked += 1
                broken += not verdict.ok
                for b in verdict.problems:
                    where = f" at link {b.seq}" if b.seq is not None else ""
                    typer.echo(f"BROKEN {chain}{where}: {b.problem}: {b.message}")
                if verdict.ok and order is not None:
                    typer.echo(f"ok {chain}: {verdict.links_checked} links")
            if all_:
                for problem in audit.broken_checkpoints(session, keys):
                    broken += 1
                    typer.echo(f"BROKEN checkpoints: {problem.problem}: {problem.message}")
    finally:
        engine.dispose()
    if all_:
        typer.echo(f"{checked} chains checked, {broken} broken")
    raise typer.Exit(1 if broken else 0)


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Seal a signed checkpoint of the chains that moved now (the worker's schedule does it
    every 15 minutes)."""
    from db.audit.queries import seal
    from shared.audit_keys import signing_key

    settings = Settings()
    engine, unit = _keys_session()
    try:
        key_id, key = signing_key(settings)
        with unit as session:
            sealed = seal(session, key, key_id, settings.audit_checkpoint_batch)
        typer.echo("nothing moved since the last checkpoint" if sealed is None else
                   f"checkpoint {sealed.checkpoint_id}: {sealed.heads} chains, key {key_id}")
    finally:
        engine.dispose()


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what is due, change nothing")] = False,
    order: Annotated[str | None, typer.Option(
        "--order", help="Only this order (redacted if it is past the period)")] = None,
    days: Annotated[int | None, typer.Option(
        "--days", min=1, help="The period; default: personal_data_retention_days")] = None,
) -> None:
    """Redact the personal data of orders (and complaints with no order) closed longer than
    the retention period, as the worker's daily schedule does; one line per order."""
    from datetime import UTC, datetime

    from db.personal import retention

    settings = Settings()
    period = days or settings.personal_data_retention_days
    engine, _ = _keys_session()
    try:
        from db.engine import session_factory
        report = retention.run(session_factory(engine), period, datetime.now(UTC),
                               batch=settings.personal_data_retention_batch,
                               dry_run=dry_run, order_id=order)
    finally:
        engine.dispose()
    verb = "due" if dry_run else "redacted"
    for subject in report.orders:
        typer.echo(f"{verb} order {subject}")
    for subject in report.complaints:
        typer.echo(f"{verb} complaint {subject}")
    for subject, why in report.skipped.items():
        typer.echo(f"skipped {subject}: {why}")
    typer.echo(f"{len(report.orders)} orders, {len(report.complaints)} complaints {verb} "
               f"(closed before {report.cutoff.isoformat()}); {report.values} values redacted, "
               f"{report.inline_kept} kept inline in rows chained before migration 0017, "
               f"{report.late_values} written after an earlier redaction")
    raise typer.Exit(2 if order is not None and order in report.skipped
                     and report.skipped[order] == "unknown_order" else 0)


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
    import uvloop

    import worker as worker_module

    settings = Settings()
    logs.configure(settings.log_level)
    owner_only.restrict(settings)  # the survey secret and a SQLite database are made owner-only
    # uvloop, as uvicorn runs the API: the worker's own loop (activity completions handed back
    # from the thread pool, the SDK's polls) was a sixth of its CPU under load (py-spy).
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(worker_module.run(settings))


@app.command()
def replay(
    since: Annotated[str, typer.Option(
        help="Closed workflows: those closed within this span (30m, 12h, 7d, 2w); running "
             "ones are taken whatever their age")] = "7d",
    limit_per_type: Annotated[int, typer.Option(min=1, help="Histories per workflow type")] = 50,
    limit: Annotated[int, typer.Option(min=1, help="Histories in all")] = 500,
    query: Annotated[str | None, typer.Option(
        help="A visibility filter AND-ed to every list query, e.g. \"WorkflowId STARTS_WITH "
             "'ORD-'\"")] = None,
    deadline_seconds: Annotated[float, typer.Option(
        min=1, help="Give up (exit 3) after this long")] = 300.0,
) -> None:
    """Replay recent histories from Temporal against the workflow code on disk, before rolling
    a new worker: exit 1 naming each workflow the code cannot replay (non-determinism), 3 if the
    check could not finish (Temporal unreachable or refusing, the deadline passed)."""
    import logging
    from datetime import timedelta

    from temporalio.service import RPCError

    import worker as worker_module
    from shared.replay import ReplayBounds, parse_span, replay_recent
    from shared.temporal import connect

    try:
        span = parse_span(since)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from exc
    settings = Settings()
    logs.configure(settings.log_level)
    # The SDK logs each failed activation with its traceback; the report below names them.
    logging.getLogger("temporalio.worker._workflow_instance").setLevel(logging.ERROR)
    bounds = ReplayBounds(since=span, per_type=limit_per_type, total=limit,
                          deadline=timedelta(seconds=deadline_seconds), query=query)

    async def check() -> int:
        try:
            client = await connect(settings, attempts=3)
        except RuntimeError as exc:
            typer.echo(f"cannot reach Temporal at {settings.temporal_target}: {exc}", err=True)
            return 3
        try:
            report = await replay_recent(client, worker_module.WORKFLOWS, bounds)
        except RPCError as exc:  # a --query the server refuses, a lost connection
            typer.echo(f"Temporal refused: {exc.message}", err=True)
            return 3
        for t in report.tallies:
            state = "ok" if not t.failed and t.replayed == t.selected else "FAILED"
            typer.echo(f"{t.workflow_type}: {t.replayed} replayed, {t.failed} failed "
                       f"of {t.selected} selected  {state}")
        for f in report.failures:
            kind = "non-deterministic" if f.nondeterministic else "replay failed"
            typer.echo(f"{kind}: {f.workflow_type} {f.workflow_id} (run {f.run_id}): {f.error}",
                       err=True)
        if report.deadline_passed:
            typer.echo(f"deadline of {deadline_seconds:g} s passed before every history was "
                       "replayed", err=True)
        return 1 if report.failures else 3 if report.deadline_passed else 0

    code = asyncio.run(check())
    # Straight out: the SDK's core threads can abort the interpreter while it finalizes (seen:
    # "PyGILState_Release ... must be current", exit -6), turning an answered check into a crash.
    # The report is written and nothing is left to clean up.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def api() -> None:
    """Serve the HTTP API."""
    import uvicorn

    from api.app import create_app

    settings = Settings()
    logs.configure(settings.log_level)
    owner_only.restrict(settings)  # uploads reach the archive; the survey secret is made here
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_config=None, access_log=False)


@app.command()
def demo(
    api_url: Annotated[str | None, typer.Option(
        help="Base URL of the API (default: http://API_HOST:API_PORT)")] = None,
    key: Annotated[str | None, typer.Option(
        envvar="WAYBILL_DEMO_KEY", show_envvar=True,
        help="An operator key; without one, the demo's key and SLA policies are created "
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
