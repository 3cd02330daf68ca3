"""The demo traffic generator (`waybill demo`, or `make run DEMO=1`).

Orders for a few made-up customers of both tiers, started a little apart, each walked through
the public API by its plan (demo/plans.py); one event at a time across all of them, every
`event_gap` seconds, so a person can follow the board. Bounded by an order count and a
duration; stops at once on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import uuid
from collections import Counter
from dataclasses import dataclass, field

from demo.catalog import CUSTOMERS
from demo.client import DemoClient, Fatal
from demo.plans import OPENING, plan_for
from demo.script import OrderRun

log = logging.getLogger("waybill.demo")

DEMO_POLICIES = {"standard": "demo_standard", "key_account": "demo_key_account"}


@dataclass(frozen=True)
class DemoConfig:
    """Durations in seconds at pace 1; `pace` multiplies every wait the generator makes (0.1:
    ten times faster). The SLA deadlines are the server's (policies/demo.yaml), not scaled."""

    base_url: str
    key: str
    pace: float = 1.0
    max_orders: int = 50
    max_seconds: float | None = 3600.0
    seed: int | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:4].upper())
    policies: dict[str, str] = field(default_factory=lambda: dict(DEMO_POLICIES))
    event_gap: tuple[float, float] = (1.0, 3.0)  # between any two requests that change things
    opening_gap: tuple[float, float] = (5.0, 10.0)  # between the first orders
    order_gap: tuple[float, float] = (20.0, 40.0)  # between later orders
    step_pause: tuple[float, float] = (3.0, 10.0)  # an order's own pace, stage to stage
    transit_pause: tuple[float, float] = (8.0, 20.0)  # between scans on the road
    decision_pause: tuple[float, float] = (20.0, 40.0)  # the customer thinking over a shortage
    receipt_pause: tuple[float, float] = (10.0, 25.0)  # the signed receipt coming back
    hold: float = 200.0  # a stuck step, after its breach: long enough to climb the ladder
    late_hold: float = 15.0  # a late step, after its breach: the escalation clears itself
    ship_in: float = 1800.0  # promises of an ordinary order, from its creation
    deliver_in: float = 3600.0
    late_deliver_in: float = 100.0  # the promise of an order that will be delivered late
    poll_every: float = 2.0  # reading the order while waiting for a breach or the survey
    wait_cap: float = 900.0  # unscaled: give up waiting for a breach or the survey after this


class Generator:
    def __init__(self, cfg: DemoConfig, client: DemoClient | None = None) -> None:
        self.cfg = cfg
        self.client = client or DemoClient(cfg.base_url, cfg.key)
        self.rng = random.Random(cfg.seed)
        self.stats: Counter[str] = Counter()
        self._turn_lock = asyncio.Lock()
        self._next_turn = 0.0

    def scaled(self, seconds: float) -> float:
        return seconds * self.cfg.pace

    def loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float, scale: bool = True) -> None:
        await asyncio.sleep(max(self.scaled(seconds) if scale else seconds, 0.01))

    async def turn(self) -> None:
        """Wait for this request's turn: requests go out one at a time, `event_gap` apart."""
        async with self._turn_lock:
            wait = self._next_turn - self.loop_time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_turn = self.loop_time() + self.scaled(self.rng.uniform(*self.cfg.event_gap))

    async def run(self, stop: asyncio.Event | None = None) -> Counter[str]:
        """Run until every order has walked its plan, `max_seconds` pass or `stop` is set.

        Raises Fatal when the API refuses the key or lacks the demo's policies.
        """
        stop = stop or asyncio.Event()
        cfg = self.cfg
        try:
            traffic = asyncio.create_task(self._traffic())
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({traffic, stopper}, timeout=cfg.max_seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
            reason = ("all orders walked" if traffic in done
                      else "stopped" if stopper in done else "time limit")
            for task in (traffic, stopper):
                task.cancel()
            outcome, _ = await asyncio.gather(traffic, stopper, return_exceptions=True)
            if isinstance(outcome, Fatal):
                raise outcome
            if isinstance(outcome, BaseExceptionGroup):
                raise _first_fatal(outcome) or outcome
            log.info("demo traffic ended", extra={"reason": reason, **self.stats})
            return self.stats
        finally:
            await self.client.aclose()

    async def _traffic(self) -> None:
        cfg = self.cfg
        await self.client.wait_ready(60)  # here, so a signal stops the waiting too
        log.info("demo traffic starting", extra={
            "api": cfg.base_url, "run_id": cfg.run_id, "max_orders": cfg.max_orders,
            "max_seconds": cfg.max_seconds, "pace": cfg.pace, "policies": cfg.policies})
        async with asyncio.TaskGroup() as group:  # a Fatal in any order cancels them all
            for n in range(self.cfg.max_orders):
                customer = (CUSTOMERS[n % len(CUSTOMERS)] if n < len(CUSTOMERS)
                            else self.rng.choice(CUSTOMERS))
                group.create_task(OrderRun(self, n, plan_for(n, self.rng), customer).run())
                if n + 1 < self.cfg.max_orders:
                    opening = n + 1 < len(OPENING)
                    await self.sleep(self.rng.uniform(
                        *(self.cfg.opening_gap if opening else self.cfg.order_gap)))


def _first_fatal(group: BaseExceptionGroup) -> Fatal | None:
    fatal = group.subgroup(Fatal)
    while isinstance(fatal, BaseExceptionGroup):
        fatal = fatal.exceptions[0]
    return fatal


async def run_until_signalled(cfg: DemoConfig) -> int:
    """The `waybill demo` process: 0 when done or stopped by a signal, 2 on a Fatal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Generator(cfg).run(stop)
    except Fatal as exc:
        log.error("demo traffic cannot run", extra={"reason": str(exc)})
        return 2
    return 0
