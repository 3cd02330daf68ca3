"""The fault timeline (worker SIGKILLs, a Temporal restart, a PostgreSQL outage, an API SIGKILL),
a supervisor that restarts anything that died on its own, and the /healthz prober."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bench.soak_stack import Child, Stack, wait_port

log = logging.getLogger("bench.soak.faults")


@dataclass
class Window:
    """When a fault was in force (time.monotonic()); `end` None while it still is."""

    kind: str  # worker_kill, temporal_down, postgres_down, api_down
    start: float
    end: float | None = None
    note: str = ""

    def holds(self, t: float, slack: float = 0.0) -> bool:
        return self.start - slack <= t <= (self.end if self.end is not None else t) + slack


@dataclass
class FaultPlan:
    api_kill_at: float  # seconds after the drive starts
    temporal_restart_at: float
    pg_stop_at: float
    pg_stop_for: float
    worker_kill_every: tuple[float, float]
    worker_kills_max: int | None  # None: keep killing until the drive ends

    @property
    def last_at(self) -> float:
        return max(self.api_kill_at, self.temporal_restart_at, self.pg_stop_at + self.pg_stop_for)


class Faults:
    def __init__(self, stack: Stack, plan: FaultPlan, rng: random.Random) -> None:
        self.stack, self.plan, self.rng = stack, plan, rng
        self.windows: list[Window] = []
        self.unexpected_exits: list[str] = []
        self._busy: set[str] = set()  # children a fault is handling: not the supervisor's

    async def run(self, drive_done: asyncio.Event) -> None:
        t0 = time.monotonic()
        await asyncio.gather(
            self._at(t0, self.plan.api_kill_at, self._kill_api),
            self._at(t0, self.plan.temporal_restart_at, self._restart_temporal),
            self._at(t0, self.plan.pg_stop_at, self._postgres_outage),
            self._kill_workers(drive_done, t0),
        )

    async def _at(self, t0: float, offset: float, action: Callable[[], None]) -> None:
        await asyncio.sleep(max(t0 + offset - time.monotonic(), 0))
        await asyncio.to_thread(action)

    @contextmanager
    def _fault(self, kind: str, note: str, child: Child | None = None) -> Iterator[None]:
        """A fault's window, while `child` (if any) is the fault's, not the supervisor's."""
        if child is not None:
            self._busy.add(child.name)
        w = Window(kind, time.monotonic(), note=note)
        self.windows.append(w)
        log.info("fault begins", extra={"fault": kind, "note": note})
        try:
            yield
            w.end = time.monotonic()
            log.info("fault ends", extra={"fault": kind, "seconds": round(w.end - w.start, 1)})
        finally:
            if child is not None:
                self._busy.discard(child.name)

    def _kill_api(self) -> None:
        api = self.stack.api
        assert api is not None
        with self._fault("api_down", "SIGKILL", api):
            api.kill(signal.SIGKILL)
            api.start()
            wait_port(self.stack.api_port, 60, api.proc)

    def _restart_temporal(self) -> None:
        temporal = self.stack.temporal
        with self._fault("temporal_down", "SIGTERM, start again on the same file DB", temporal):
            assert temporal is not None
            temporal.stop()
            self.stack.start_temporal()

    def _postgres_outage(self) -> None:
        with self._fault("postgres_down", f"pg_ctl stop -m fast for {self.plan.pg_stop_for:.0f} s"):
            self.stack.pg.stop("fast")
            time.sleep(self.plan.pg_stop_for)
            self.stack.pg.start()

    async def _kill_workers(self, drive_done: asyncio.Event, t0: float) -> None:
        kills = 0
        while self.plan.worker_kills_max is None or kills < self.plan.worker_kills_max:
            await asyncio.sleep(self.rng.uniform(*self.plan.worker_kill_every))
            # Keep killing while orders are driven and until the one-shot faults are over.
            if drive_done.is_set() and time.monotonic() > t0 + self.plan.last_at:
                return
            worker = self.stack.workers[kills % len(self.stack.workers)]
            await asyncio.to_thread(self._kill_worker, worker)
            kills += 1

    def _kill_worker(self, worker: Child) -> None:
        with self._fault("worker_kill", worker.name, worker):
            worker.kill(signal.SIGKILL)
            worker.start()

    async def supervise(self, stop: asyncio.Event) -> None:
        """Restart a child that died by itself (a crash is a finding; a dead stack proves
        nothing more), and note it for the report."""
        while not stop.is_set():
            for child in self.stack.children():
                if child.name in self._busy or child.alive() or child.proc is None:
                    continue
                code = child.proc.returncode
                self.unexpected_exits.append(f"{child.name} exited {code}")
                log.error("process exited on its own; restarting it",
                          extra={"child": child.name, "code": code})
                if child is self.stack.temporal:
                    await asyncio.to_thread(self.stack.start_temporal)
                else:
                    child.start()
            await asyncio.sleep(1.0)


@dataclass(frozen=True)
class Probe:
    at: float
    latency: float
    status: int | None  # None: no answer within the probe's timeout, or refused


class HealthProber:
    """GET /healthz every `every` seconds from its own thread, so the driver's event loop
    cannot delay a probe and make the API look slower than it is."""

    def __init__(self, url: str, every: float = 0.1, timeout: float = 2.0) -> None:
        self.url, self.every, self.timeout = url, every, timeout
        self.probes: list[Probe] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz-prober", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as http:
            while not self._stop.is_set():
                start = time.monotonic()
                try:
                    status: int | None = http.get(self.url).status_code
                except httpx.HTTPError:
                    status = None
                end = time.monotonic()
                self.probes.append(Probe(start, end - start, status))
                self._stop.wait(max(self.every - (end - start), 0))
