"""Fault-injection soak (issue item 7): orders driven through every stage while the stack is hurt.

    .venv/bin/python -m bench.soak                 # the full run: 300 orders
    .venv/bin/python -m bench.soak --small         # the `make test` variant: 20 orders, < 4 min
    .venv/bin/python -m bench.soak --orders 50 --pg-stop-for 30 --keep

Starts a durable PostgreSQL, the Temporal dev server on a file DB, two workers, the API and a
webhook receiver, all on free loopback ports in a temporary directory; drives the orders (every
write sent three times: two at once, one later; scans shuffled) while it SIGKILLs a worker every
10-15 s, restarts Temporal once, stops PostgreSQL for a while and SIGKILLs the API once; waits
for the outbox to drain; then checks and prints what it found. Exit status 1 if a check failed.
Everything it started is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

import httpx
from temporalio.client import Client

import logs
from bench import soak_checks as checks
from bench.soak_client import SoakClient
from bench.soak_driver import Driver, DriverConfig
from bench.soak_faults import FaultPlan, Faults, HealthProber
from bench.soak_receiver import Receiver
from bench.soak_stack import Stack
from config import Settings
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.migrate import upgrade
from db.notifications.outbox import NotificationEvent
from shared.audit_keys import verifying_keys
from shared.codec import EncryptionCodec, stored_keyring
from shared.payloads import data_converter

log = logging.getLogger("bench.soak")
report = logging.getLogger("bench.soak.report")


@dataclass
class SoakConfig:
    orders: int = 300
    concurrency: int = 24
    ramp: float = 300.0
    scans: int = 3
    worker_kill_min: float = 10.0
    worker_kill_max: float = 15.0
    worker_kills: int | None = None
    api_kill_at: float = 60.0
    temporal_restart_at: float = 120.0
    pg_stop_at: float = 180.0
    pg_stop_for: float = 60.0
    request_deadline: float = 30.0  # the API's own deadline (WAYBILL_UPDATE_TIMEOUT_SECONDS)
    settle: float = 300.0
    deadline: float = 2400.0
    receiver_delay: float = 0.1  # a receiver's work before its 2xx: deliveries in flight
    seed: int = 7
    keep: bool = False

    @property
    def request_timeout(self) -> float:
        return self.request_deadline + 5


SMALL = {"orders": 20, "concurrency": 10, "ramp": 40.0, "worker_kills": 3, "api_kill_at": 8.0,
         "temporal_restart_at": 18.0, "pg_stop_at": 32.0, "pg_stop_for": 20.0,
         "settle": 75.0, "deadline": 225.0}


def parse_args(argv: list[str] | None = None) -> SoakConfig:
    defaults = SoakConfig()
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    p.add_argument("--small", action="store_true",
                   help="the make-test variant: " + ", ".join(f"{k}={v}" for k, v in SMALL.items()))
    for f in fields(SoakConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "keep":
            p.add_argument(flag, action="store_true", help="keep the temp dir (logs) at the end")
        elif f.name == "worker_kills":
            p.add_argument(flag, type=int, default=None, help="stop after this many worker "
                           "kills (default: keep killing until the drive ends)")
        else:
            p.add_argument(flag, type=type(getattr(defaults, f.name)), default=None,
                           help=f"default {getattr(defaults, f.name)}")
    ns = p.parse_args(argv)
    values = {**(SMALL if ns.small else {}),
              **{k: v for k, v in vars(ns).items() if v is not None and k != "small"}}
    if not values.get("keep"):
        values.pop("keep", None)
    return SoakConfig(**values)


def _provision(stack: Stack) -> tuple[str, str]:
    """Migrate and make the soak's two keys: (integration, admin)."""
    upgrade(stack.pg.url)
    engine = make_engine(stack.pg.url)
    try:
        with transaction(session_factory(engine)) as session:
            _, integration = create_key(session, "soak-driver", "integration")
            _, admin = create_key(session, "soak-admin", "admin")
    finally:
        engine.dispose()
    return integration, admin


def _wait_ready(url: str, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API at {url} was not ready within {within:.0f} s")


def _subscribe(stack: Stack, admin_key: str, receiver: Receiver) -> None:
    resp = httpx.post(f"{stack.api_url}/v1/subscriptions", timeout=30,
                      headers={"Authorization": f"Bearer {admin_key}"},
                      json={"url": receiver.url, "description": "soak receiver",
                            "event_types": [e.value for e in NotificationEvent]})
    if resp.status_code != 201:
        raise RuntimeError(f"subscribing the receiver: {resp.status_code} {resp.text}")
    receiver.secret = resp.json()["secret"]


async def _soak(cfg: SoakConfig, stack: Stack, receiver: Receiver, key: str,
                started: float) -> list[checks.Check]:
    t_end = started + cfg.deadline
    # Writes stop being retried in time to leave the settle phase and the checks their share.
    drive_deadline = t_end - min(cfg.settle, cfg.deadline / 3) - 20
    client = SoakClient(stack.api_url, key, cfg.request_timeout, drive_deadline,
                        max_connections=cfg.concurrency * 3 + 8)
    run_id = uuid.uuid4().hex[:6]
    driver = Driver(DriverConfig(
        orders=cfg.orders, concurrency=cfg.concurrency, ramp=cfg.ramp, scans=cfg.scans,
        step_pause=(0.2, 1.5), late_send=(1.0, 6.0), run_id=run_id, seed=cfg.seed), client)
    rng = random.Random(cfg.seed)
    faults = Faults(stack, FaultPlan(
        api_kill_at=cfg.api_kill_at, temporal_restart_at=cfg.temporal_restart_at,
        pg_stop_at=cfg.pg_stop_at, pg_stop_for=cfg.pg_stop_for,
        worker_kill_every=(cfg.worker_kill_min, cfg.worker_kill_max),
        worker_kills_max=cfg.worker_kills), rng)
    prober = HealthProber(f"{stack.api_url}/healthz")
    drive_done, stop = asyncio.Event(), asyncio.Event()
    prober.start()
    supervisor = asyncio.create_task(faults.supervise(stop))
    reporter = asyncio.create_task(_progress(driver, client, drive_done))
    drive_started = time.monotonic()
    try:
        fault_task = asyncio.create_task(faults.run(drive_done))
        await driver.run()
        drive_done.set()
        log.info("drive done", extra={"seconds": round(time.monotonic() - drive_started, 1),
                                      "requests": len(client.records)})
        await fault_task
        prefix = f"SOAK-{run_id}-"
        engine = make_engine(stack.pg.url)
        try:
            settle_end = min(time.monotonic() + cfg.settle, t_end - 20)
            while (left := checks.outbox_open(engine, prefix)) and time.monotonic() < settle_end:
                log.info("waiting for the outbox to drain", extra={"open_rows": left})
                await asyncio.sleep(2)
            # Waybill's workers encrypt (shared/codec.py): the state queries read with the
            # stack's development key.
            converter = data_converter(EncryptionCodec(stored_keyring(stack.base / "data")))
            temporal = await asyncio.wait_for(
                Client.connect(stack.temporal_address, data_converter=converter), 30)
            seen = await checks.observe(engine, client, temporal,
                                        [r.order_id for r in driver.runs], prefix, t_end - 10)
            seen.chains = await asyncio.to_thread(
                checks.broken_chains, engine, list(seen.stages),
                verifying_keys(Settings(data_dir=stack.base / "data")))
        finally:
            engine.dispose()
    finally:
        stop.set()
        drive_done.set()
        prober.stop()
        await supervisor
        await reporter
        await client.aclose()
    found = checks.check_orders(driver.runs, seen)
    found += checks.check_webhooks(driver.runs, seen, receiver.snapshot(), receiver.incomplete)
    found.append(checks.check_outbox(seen))
    found.append(checks.check_chains(list(seen.stages), seen))
    req_checks, tables = checks.check_requests(client.records, faults.windows,
                                               cfg.request_timeout, drive_started)
    health, health_lines = checks.check_healthz(prober.probes, faults.windows)
    found += [*req_checks, health, checks.check_rejections(driver.runs)]
    found.append(checks.Check("no process died on its own", not faults.unexpected_exits,
                              f"{len(faults.unexpected_exits)} unexpected exits",
                              faults.unexpected_exits))
    kills = sum(w.kind == "worker_kill" for w in faults.windows)
    _print_report(cfg, found, [f"worker SIGKILLs: {kills}", *tables, *health_lines],
                  time.monotonic() - started)
    return found


async def _progress(driver: Driver, client: SoakClient, done: asyncio.Event,
                    every: float = 30.0) -> None:
    """A line every `every` seconds: a long soak that stalls says so while it runs."""
    seen = 0
    while not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), every)
        records = client.records[seen:]
        seen += len(records)
        log.info("progress", extra={**driver.progress(), "requests": len(records),
                                    "answers": dict(Counter(str(r.status or r.error)
                                                            for r in records))})


def _print_report(cfg: SoakConfig, found: list[checks.Check], lines: list[str],
                  seconds: float) -> None:
    report.info("")
    report.info("== soak: %d orders, %.0f s ==", cfg.orders, seconds)
    for line in lines:
        report.info("  %s", line)
    report.info("")
    for c in found:
        report.info("%s  %s: %s", "PASS" if c.ok else "FAIL", c.name, c.figures)
        if not c.ok:
            for d in c.details:
                report.info("        %s", d)
    failed = [c.name for c in found if not c.ok]
    report.info("")
    report.info("%s", f"FAILED {len(failed)} of {len(found)} checks: " + "; ".join(failed)
                if failed else f"all {len(found)} checks passed")


def run(cfg: SoakConfig) -> int:
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="waybill-soak-"))
    stack = Stack(base, update_timeout=cfg.request_deadline)
    receiver = Receiver(cfg.receiver_delay)
    ok = False
    try:
        log.info("starting the stack", extra={"dir": str(base), "orders": cfg.orders})
        stack.pg.init()
        integration_key, admin_key = _provision(stack)
        stack.start_temporal()
        stack.start_apps()
        _wait_ready(stack.api_url, 90)
        receiver.start()
        _subscribe(stack, admin_key, receiver)
        log.info("stack ready", extra={"seconds": round(time.monotonic() - started, 1)})
        left = cfg.deadline - (time.monotonic() - started)
        found = asyncio.run(asyncio.wait_for(
            _soak(cfg, stack, receiver, integration_key, started), timeout=left + 30))
        ok = all(c.ok for c in found)
        return 0 if ok else 1
    except Exception:
        log.exception("the soak could not finish")
        return 2
    finally:
        stack.stop_all()
        receiver.stop()
        if ok and not cfg.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            log.info("logs kept", extra={"dir": str(base)})


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    # SIGTERM (a test's timeout, a CI cancel) unwinds through the finally that stops the stack.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logs.configure("INFO")
    # The report goes to stdout as plain lines; progress stays JSON on stderr.
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    report.addHandler(handler)
    report.propagate = False
    return run(cfg)


if __name__ == "__main__":
    sys.exit(main())
