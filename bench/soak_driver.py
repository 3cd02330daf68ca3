"""Drives orders through every stage, each write sent three times: two at once, one later.

The ground truth the checks compare against is what this driver was told: an event counts as
acknowledged when any of its sends got a 2xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.soak_client import Outcome, SoakClient
from demo.documents import receipt_pdf

log = logging.getLogger("bench.soak.driver")

EVENTS = "POST /v1/orders/{id}/events"
SURVEY_POLL_EVERY = 0.5


@dataclass
class Step:
    key: str  # the event id, "create" or the receipt's event id
    kind: str  # event type, "create" or "receipt"
    acked: bool = False
    statuses: list[int | None] = field(default_factory=list)  # final answer of each send
    rejections: list[str] = field(default_factory=list)  # "409 invalid_transition", ...


@dataclass
class OrderRun:
    order_id: str
    steps: list[Step] = field(default_factory=list)
    scans: int = 0  # scans sent (acknowledged or not)
    stopped: str | None = None  # why the walk ended early

    def acked(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.kind == kind and s.acked]


def _now() -> datetime:
    return datetime.now(UTC)


def _code(outcome: Outcome) -> str:
    resp = outcome.response
    if resp is None:
        return "no answer"
    try:
        return f"{resp.status_code} {resp.json()['error']['code']}"
    except (ValueError, KeyError, TypeError):
        return str(resp.status_code)


@dataclass
class DriverConfig:
    orders: int
    concurrency: int
    ramp: float  # orders start spread over this many seconds
    scans: int
    step_pause: tuple[float, float]
    late_send: tuple[float, float]  # the third send goes this long after the first two
    run_id: str
    seed: int


class Driver:
    def __init__(self, cfg: DriverConfig, client: SoakClient) -> None:
        self.cfg, self.client = cfg, client
        self.rng = random.Random(cfg.seed)
        self.runs = [OrderRun(f"SOAK-{cfg.run_id}-{n + 1:04d}") for n in range(cfg.orders)]
        self._late: list[asyncio.Task[None]] = []
        self._slots = asyncio.Semaphore(cfg.concurrency)

    async def run(self) -> None:
        await asyncio.gather(*(self._order(n, run) for n, run in enumerate(self.runs)))
        # The late sends still out (bounded by the client's deadline).
        await asyncio.gather(*self._late)

    def progress(self) -> dict[str, int]:
        """Walks finished, in flight, and stopped early, for the soak's progress log."""
        started = [r for r in self.runs if r.steps]
        finished = sum(1 for r in started if r.stopped is None and r.steps[-1].kind
                       == "survey_response" and r.steps[-1].acked)
        stopped = sum(1 for r in started if r.stopped is not None)
        return {"finished": finished, "stopped": stopped,
                "in_flight": len(started) - finished - stopped,
                "not_started": len(self.runs) - len(started)}

    async def _order(self, n: int, run: OrderRun) -> None:
        await asyncio.sleep(self.cfg.ramp * n / max(self.cfg.orders, 1))
        async with self._slots:
            if time.monotonic() > self.client.deadline:
                run.stopped = "not started: the drive's deadline had passed"
                return
            try:
                await self._walk(run)
            except Exception as exc:  # a driver bug must show in the report, not end the soak
                run.stopped = f"driver error: {exc!r}"
                log.exception("order walk failed", extra={"order_id": run.order_id})
        if run.stopped:
            log.warning("order walk stopped early", extra={"order_id": run.order_id,
                                                            "reason": run.stopped})

    # -- one order ----------------------------------------------------------------------------

    async def _walk(self, run: OrderRun) -> None:
        oid, now = run.order_id, _now()
        lines = [{"sku": f"SKU-{i}", "qty": self.rng.choice((1, 2, 5, 10))}
                 for i in range(1, self.rng.randint(1, 3) + 1)]
        body = {"order_id": oid,
                "customer": {"id": f"C-{oid[-2:]}", "name": "Soak Customer",
                             "tier": "standard"},
                "lines": lines,
                "destination": {"address": "1 Loopback Rd", "city": "Shanghai",
                                "contact": "Li Lei"},
                # Promises days away: no breach, delay risk or escalation joins the traffic.
                "promised_ship_by": (now + timedelta(days=2)).isoformat(),
                "promised_delivery_by": (now + timedelta(days=4)).isoformat()}
        if not await self._thrice(run, Step("create", "create"), "POST", "/v1/orders",
                                  "POST /v1/orders", lambda: {"json": body}):
            return
        eta = (now + timedelta(days=3)).isoformat()
        for type_, data in (("confirmed", {"by": "soak"}), ("picked", {"lines": lines}),
                            ("shipped", {"carrier": "SF Express", "tracking_no": f"SF{oid[-8:]}",
                                         "lines": lines})):
            if not await self._event(run, type_, data):
                return
        shipped_at = _now()
        await self._pause()
        # Scans happened in order between shipment and now; the carrier posts them shuffled.
        span = (_now() - shipped_at) / (self.cfg.scans + 1)
        scans = [(f"{oid}.scan-{i}", shipped_at + span * i,
                  {"location": f"hub {i}", "status": "departed", "eta": eta})
                 for i in range(1, self.cfg.scans + 1)]
        self.rng.shuffle(scans)
        for event_id, at, data in scans:
            run.scans += 1  # sent: one without an answer may still have been applied
            if not await self._event(run, "tracking_scan", data, event_id, at):
                return
        if not await self._event(run, "delivered", {
                "signer": "Li Lei", "condition": "intact",
                "pod": {"kind": "signature", "ref": f"pod/{oid}.png"}}):
            return
        content = receipt_pdf(oid, "Li Lei", _now().isoformat())
        receipt_id = f"receipt-{hashlib.sha256(content).hexdigest()[:32]}"
        if not await self._thrice(
                run, Step(receipt_id, "receipt"), "POST", f"/v1/orders/{oid}/receipt",
                "POST /v1/orders/{id}/receipt",
                lambda: {"files": {"file": (f"{oid}.pdf", content, "application/pdf")}}):
            return
        if not await self._survey_due(run):
            return
        await self._event(run, "survey_response", {
            "goods_ok": True, "scores": {"timeliness": 5, "completeness": 5, "courtesy": 4},
            "suggestions": "none", "channel": "api"})

    async def _event(self, run: OrderRun, type_: str, data: dict[str, Any],
                     event_id: str | None = None, at: datetime | None = None) -> bool:
        await self._pause()
        event_id = event_id or f"{run.order_id}.{type_}"
        body = {"event_id": event_id, "type": type_,
                "occurred_at": (at or _now()).isoformat(), "data": data}
        return await self._thrice(run, Step(event_id, type_), "POST",
                                  f"/v1/orders/{run.order_id}/events", EVENTS,
                                  lambda: {"json": body})

    async def _thrice(self, run: OrderRun, step: Step, method: str, path: str, endpoint: str,
                      args: Any) -> bool:
        """Two sends at once now, a third later in the background; True once acknowledged."""
        run.steps.append(step)

        async def send() -> None:
            outcome = await self.client.write(method, path, endpoint, args)
            step.statuses.append(outcome.status)
            if outcome.acked:
                step.acked = True
            elif outcome.response is not None:
                step.rejections.append(_code(outcome))

        async def later() -> None:
            await asyncio.sleep(self.rng.uniform(*self.cfg.late_send))
            await send()

        await asyncio.gather(send(), send())
        self._late.append(asyncio.create_task(later()))
        if not step.acked:
            why = step.rejections or "deadline"
            run.stopped = f"{step.kind} {step.key} not acknowledged: {why}"
        return step.acked

    async def _survey_due(self, run: OrderRun) -> bool:
        """Wait until the order's survey is due (survey_after after delivery)."""
        path = f"/v1/orders/{run.order_id}"
        while time.monotonic() < self.client.deadline:
            resp = await self.client.request("GET", path, "GET /v1/orders/{id}")
            if resp is not None and resp.status_code == 200:
                status = (resp.json().get("follow_up") or {}).get("status")
                if status == "due":
                    return True
                if status not in (None, "pending"):
                    run.stopped = f"survey is {status}, not due"
                    return False
            await asyncio.sleep(SURVEY_POLL_EVERY)
        run.stopped = "survey never became due before the deadline"
        return False

    async def _pause(self) -> None:
        await asyncio.sleep(self.rng.uniform(*self.cfg.step_pause))
