"""One demo order's walk through the public API, as the WMS, the carrier and the POD app would
post it: created, confirmed, picked, shipped, scanned, delivered, receipt uploaded, survey
answered, with its plan's trouble on the way."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from demo.catalog import CARRIERS, HUBS, SIGNERS, Customer, order_body
from demo.client import Fatal, Refused
from demo.documents import receipt_pdf, receipt_png
from demo.plans import Plan
from workflows.order.types import MOVING, TERMINAL_STAGES

if TYPE_CHECKING:
    from demo.traffic import Generator

log = logging.getLogger("waybill.demo")

# Where the order waits while a late step is held back: once it is elsewhere, someone (an
# operator in the console) did the step, and the demo leaves it to them.
_WAITING_IN: dict[str, Collection[str]] = {
    "confirm_late": ("received",), "pick_late": ("confirmed",), "delivery_late": MOVING,
    "receipt_late": ("delivered", "followed_up")}


class OrderEnded(Exception):  # noqa: N818 - control flow: the order needs nothing more from us
    pass


def _now() -> datetime:
    return datetime.now(UTC)


class OrderRun:
    def __init__(self, gen: Generator, n: int, plan: Plan, customer: Customer) -> None:
        self.gen, self.n, self.plan, self.customer = gen, n, plan, customer
        self.order_id = f"DEMO-{gen.cfg.run_id}-{n + 1:03d}"
        self.rng = gen.rng
        self.lines: dict[str, int] = {}
        self.promised_delivery_by = _now()

    def _log(self, message: str, level: int = logging.INFO, **fields: Any) -> None:
        log.log(level, message, extra={"order_id": self.order_id, "plan": self.plan.name,
                                       **fields})

    async def run(self) -> None:
        try:
            await self._walk()
            self._log("demo order done")
        except OrderEnded as exc:
            self._log("demo order left to the operators", reason=str(exc))
        except Fatal:
            raise
        except Refused as exc:
            self._log("demo order stopped: the API refused a step", logging.WARNING,
                      status=exc.status, code=exc.code, details=exc.details)
        except Exception:
            # One order going wrong must not end the traffic the console is showing.
            self._log("demo order failed", logging.ERROR, exc_info=True)

    # -- the walk -----------------------------------------------------------------------------

    async def _walk(self) -> None:
        p = self.plan
        await self._create()
        await self._pause()
        if p.late != "confirm" or await self._after_breach("confirm_late"):
            await self._event("confirmed", "confirmed", {"by": "order desk"})
        if p.shortage:
            await self._shortage()
        await self._pause()
        if p.cancel:
            await self._event("cancelled", "cancelled",
                              {"reason": "customer changed the order before shipment"})
            raise OrderEnded("cancelled")
        if p.late != "pick" or await self._after_breach("pick_late"):
            await self._event("picked", "picked", {"lines": self._qty_lines()})
        await self._pause()
        carrier, prefix = self.rng.choice(CARRIERS)
        await self._event("shipped", "shipped", {
            "carrier": carrier, "tracking_no": f"{prefix}{self.rng.randint(10**9, 10**10 - 1)}",
            "vehicle": f"HU-A{self.rng.randint(10000, 99999)}",
            "driver": self.rng.choice(("Wang Qiang", "Liu Bo", "Huang Tao", "Ma Jun")),
            "lines": self._qty_lines()})
        for i, hub in enumerate(self.rng.sample(HUBS, self.rng.randint(1, 3)), start=1):
            await self._pause(self.gen.cfg.transit_pause)
            await self._event(f"scan-{i}", "tracking_scan", {
                "location": hub, "status": "departed" if i > 1 else "arrived",
                "eta": self._eta().isoformat()})
        if p.late == "delivery":
            await self._after_breach("delivery_late")
        else:
            await self._pause(self.gen.cfg.transit_pause)
        await self._event("delivered", "delivered", {
            "signer": self.rng.choice(SIGNERS), "condition": p.condition,
            "pod": {"kind": "photo" if p.condition != "intact" else "signature",
                    "ref": f"pod/{self.order_id}.jpg"}})
        if p.late == "receipt":
            await self._survey()
            if await self._after_breach("receipt_late"):
                await self._receipt()
        else:
            await self._pause(self.gen.cfg.receipt_pause)
            await self._receipt()
            await self._survey()

    def _qty_lines(self) -> list[dict[str, Any]]:
        return [{"sku": sku, "qty": qty} for sku, qty in self.lines.items()]

    def _eta(self) -> datetime:
        if self.plan.late == "delivery":  # the carrier already knows it will be late
            return self.promised_delivery_by + timedelta(seconds=self.gen.scaled(600))
        return self.promised_delivery_by - timedelta(seconds=self.gen.scaled(600))

    async def _create(self) -> None:
        cfg = self.gen.cfg
        late = self.plan.late == "delivery"
        deliver_in = self.gen.scaled(cfg.late_deliver_in if late else cfg.deliver_in)
        ship_in = deliver_in * 0.8 if late else self.gen.scaled(cfg.ship_in)
        body = order_body(self.order_id, self.customer, self.rng, _now(), ship_in, deliver_in,
                          cfg.policies[self.customer.tier])
        self.lines = {line["sku"]: line["qty"] for line in body["lines"]}
        await self.gen.turn()
        view = await self.gen.client.create_order(body)
        self.promised_delivery_by = datetime.fromisoformat(view["promised_delivery_by"])
        self.gen.stats["orders"] += 1
        self._log("demo order created", customer_id=self.customer.id, tier=self.customer.tier,
                  sla_policy=view["sla_policy"]["name"])

    async def _shortage(self) -> None:
        await self._pause()
        sku = next(iter(self.lines))
        available = self.lines[sku] // 2
        await self._event("stock-shortage", "stock_shortage", {
            "lines": [{"sku": sku, "qty": available}],
            "note": "stock count lower than the system showed"})
        await self._pause(self.gen.cfg.decision_pause)
        contact = self.customer.contact
        if self.plan.shortage == "cancel":
            await self._event("decision", "shortage_decision", {
                "decision": "cancel", "decided_by": contact,
                "note": "cannot wait for the rest; will reorder"})
            raise OrderEnded("cancelled after a shortage")
        await self._event("decision", "shortage_decision", {
            "decision": "partial", "decided_by": contact,
            "lines": [{"sku": sku, "qty": available}], "note": "ship what is in stock"})
        self.lines[sku] = available

    async def _receipt(self) -> None:
        if self.n % 2:
            name, ctype = f"receipt-{self.order_id}.png", "image/png"
            content = receipt_png(self.order_id)
        else:
            name, ctype = f"receipt-{self.order_id}.pdf", "application/pdf"
            content = receipt_pdf(self.order_id, self.customer.contact, _now().isoformat())
        await self.gen.turn()
        try:
            done = await self.gen.client.upload_receipt(self.order_id, name, content, ctype)
        except Refused as exc:
            self._refused("receipt", exc)
            return
        self.gen.stats["receipts"] += 1
        self._log("demo receipt uploaded", version=done.get("version"),
                  sha256=done.get("sha256"))

    async def _survey(self) -> None:
        scores = self.plan.scores
        if scores is None:
            return
        view = await self._poll(lambda v: (v.get("follow_up") or {}).get("status") != "pending"
                                and v.get("follow_up") is not None, "survey due")
        if (view.get("follow_up") or {}).get("status") != "due":
            return  # answered by the customer's link or a call, or its window closed
        timeliness, completeness, courtesy = scores
        await self._event("survey", "survey_response", {
            "goods_ok": self.plan.goods_ok,
            "scores": {"timeliness": timeliness, "completeness": completeness,
                       "courtesy": courtesy},
            "suggestions": ("The driver was rude and no one called about the delay."
                            if min(scores) <= 2 else "Thanks, all fine."),
            "channel": "api"})
        self.gen.stats["surveys"] += 1

    # -- waiting and posting ------------------------------------------------------------------

    async def _pause(self, span: tuple[float, float] | None = None) -> None:
        await self.gen.sleep(self.rng.uniform(*(span or self.gen.cfg.step_pause)))

    async def _poll(self, done: Any, what: str) -> dict[str, Any]:
        """The order view once `done(view)` holds; ends the walk if the order ends first."""
        deadline = self.gen.loop_time() + self.gen.cfg.wait_cap
        while True:
            view = await self.gen.client.order(self.order_id)
            if view["stage"] in TERMINAL_STAGES:
                raise OrderEnded(f"{view['stage']} while waiting for {what}")
            if done(view) or self.gen.loop_time() > deadline:
                return view
            # Not below half a second however fast the pace: many orders may be waiting.
            await self.gen.sleep(max(self.gen.scaled(self.gen.cfg.poll_every), 0.5),
                                 scale=False)

    async def _after_breach(self, kind: str) -> bool:
        """Hold the step back until its deadline has breached, then a little (the escalation
        resolves itself) or long enough to climb the ladder. False: someone else did it."""
        stages = _WAITING_IN[kind]

        def breached_or_moved(v: dict[str, Any]) -> bool:
            return (v["stage"] not in stages
                    or any(b.get("kind") == kind for b in v.get("breaches") or []))

        view = await self._poll(breached_or_moved, kind)
        if view["stage"] not in stages:
            return False
        self._log("demo deadline missed on purpose", breach=kind,
                  escalations=[e["id"] for e in view.get("open_escalations") or []])
        await self.gen.sleep(self.gen.cfg.hold if self.plan.stuck else self.gen.cfg.late_hold)
        view = await self.gen.client.order(self.order_id)
        if view["stage"] in TERMINAL_STAGES:
            raise OrderEnded(view["stage"])
        return view["stage"] in stages

    async def _event(self, step: str, type_: str, data: dict[str, Any]) -> str | None:
        """Post one event under a fixed id (`<order>.<step>`): a retry is a duplicate."""
        body = {"event_id": f"{self.order_id}.{step}", "type": type_,
                "occurred_at": _now().isoformat(), "data": data}
        await self.gen.turn()
        try:
            result = await self.gen.client.event(self.order_id, body)
        except Refused as exc:
            self._refused(type_, exc)
            return None
        self.gen.stats["events"] += 1
        self._log("demo event", event=type_, event_id=body["event_id"], stage=result["stage"],
                  duplicate=result["duplicate"])
        return str(result["stage"])

    def _refused(self, what: str, exc: Refused) -> None:
        """A 409 is a race with someone's action in the console: skip the step, unless the
        order has ended. Anything else is the demo's own mistake and stops this order."""
        if exc.status != 409:
            raise exc
        self.gen.stats["refused"] += 1
        stage = exc.details.get("current_stage")
        self._log("demo step refused", step=what, code=exc.code, stage=stage)
        if stage in TERMINAL_STAGES or exc.code == "order_closed":
            raise OrderEnded(f"{what} refused: order {stage or 'closed'}")
