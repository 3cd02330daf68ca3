"""A month of order traffic through the public API, posted after the fact as an intake system
catching up would: every order and event carries the time it really happened.

Each order walks its plan from its receipt to wherever "now" stops it: on time, late, with its
promise moved by agreement, short of stock and shipped in part by agreement, back-ordered after
a short pick, delivered damaged, cancelled, or left in flight. What the API refuses (a survey
whose window closed while the order waited) is skipped, as an integration would.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.api_harness import Api

CUSTOMERS = (("C-ANT", "Anta Retail", "standard"), ("C-BEI", "Beiji Foods", "standard"),
             ("C-KAI", "Kaiyuan Medical", "key_account"), ("C-LUX", "Luxin Auto", "key_account"))
CARRIERS = ("SF Express", "ZTO Express", "JD Logistics")
PLANS = {"plain": 8, "late": 3, "promise_moved": 2, "partial": 2, "backorder": 2,
         "damaged": 1, "cancelled": 1, "stuck": 1}
H = timedelta(hours=1)


@dataclass
class Walk:
    order_id: str
    plan: str
    customer: tuple[str, str, str]
    received: datetime
    rng: random.Random
    lines: dict[str, int] = field(default_factory=dict)
    posted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


async def month_of_orders(api: Api, start: datetime, end: datetime, orders: int,
                          seed: int = 7, parallel: int = 6) -> list[Walk]:
    """`orders` orders received from a few days before `start` until `end` (at most now)."""
    rng = random.Random(seed)
    plans = [p for p, weight in PLANS.items() for _ in range(weight)]
    run = uuid.uuid4().hex[:6].upper()  # not seeded: workflow ids are unique per server
    span = (min(end, datetime.now(UTC)) - start + timedelta(days=4)).total_seconds()
    now = datetime.now(UTC)

    def received(recent: bool) -> datetime:
        if recent:  # delivered a few days ago, its survey still open
            return now - timedelta(days=rng.uniform(3.5, 4.5))
        return start - timedelta(days=4) + timedelta(seconds=rng.uniform(0, span))

    walks = [Walk(order_id=f"MONTH-{run}-{n:03d}", plan="recent" if n % 6 == 5
                  else rng.choice(plans), customer=CUSTOMERS[n % len(CUSTOMERS)],
                  received=received(n % 6 == 5).replace(microsecond=0),
                  rng=random.Random(rng.random()))
             for n in range(orders)]
    gate = asyncio.Semaphore(parallel)

    async def walk(w: Walk) -> None:
        async with gate:
            await _walk(api, w)

    await asyncio.gather(*(walk(w) for w in walks))
    return walks


class _Now(Exception):  # noqa: N818 - the walk reached the present: the order stays in flight
    pass


async def _walk(api: Api, w: Walk) -> None:
    rng = w.rng
    w.lines = {"SKU-1": rng.randint(2, 20), "SKU-2": rng.randint(1, 6)}
    fast = w.plan == "recent"
    ship_by = w.received + (20 if fast else rng.choice((20, 30, 48))) * H
    deliver_by = ship_by + (24 if fast else rng.choice((24, 48, 72))) * H
    body = {"order_id": w.order_id,
            "customer": {"id": w.customer[0], "name": w.customer[1], "tier": w.customer[2]},
            "lines": [{"sku": sku, "qty": qty} for sku, qty in w.lines.items()],
            "destination": {"address": "1 Harbour Rd", "city": "Ningbo"},
            "promised_ship_by": ship_by.isoformat(), "promised_delivery_by": deliver_by.isoformat(),
            "received_at": w.received.isoformat()}
    resp = await api.create(body, role="integration")
    assert resp.status_code == 201, resp.text
    with contextlib.suppress(_Now):
        await _steps(api, w, ship_by, deliver_by)


async def _steps(api: Api, w: Walk, ship_by: datetime, deliver_by: datetime) -> None:
    rng, t = w.rng, w.received
    t += rng.uniform(0.5, 30 if w.plan == "stuck" else 6) * H
    await _post(api, w, "confirmed", t, {"by": "order desk"})
    if w.plan == "partial":
        t += 2 * H
        sku, short = "SKU-1", w.lines["SKU-1"] // 2
        await _post(api, w, "stock_shortage", t, {"lines": [{"sku": sku, "qty": short}]})
        t += rng.uniform(1, 6) * H
        await _post(api, w, "shortage_decision", t, {
            "decision": "partial", "decided_by": "buyer",
            "lines": [{"sku": sku, "qty": short}]})
        w.lines[sku] = short
    if w.plan == "cancelled":
        await _post(api, w, "cancelled", t + 3 * H, {"reason": "customer withdrew the order"})
        return
    t += rng.uniform(2, 14) * H
    if w.plan == "backorder":
        short = {**w.lines, "SKU-2": w.lines["SKU-2"] - 1}
        await _post(api, w, "picked", t, {"lines": _lines(short)})
        t += rng.uniform(1, 3) * H
        deliver_by += 48 * H
        await _post(api, w, "shortage_decision", t, {
            "decision": "backorder", "decided_by": "buyer",
            "promised_delivery_by": deliver_by.isoformat()})
        t += 30 * H
    await _post(api, w, "picked", t, {"lines": _lines(w.lines)}, step="picked-2"
                if w.plan == "backorder" else None)
    t += rng.uniform(1, 10) * H
    carrier = rng.choice(CARRIERS)
    fast = w.plan == "recent"
    await _post(api, w, "shipped", t, {"carrier": carrier, "lines": _lines(w.lines),
                                       "tracking_no": f"T{rng.randint(1, 10**9)}"})
    if w.plan == "stuck" or (not fast and rng.random() < 0.08):
        return  # never delivered: counts against OTIF once its promise has passed
    t += rng.uniform(4, 20) * H
    await _post(api, w, "tracking_scan", t, {"location": "Hangzhou hub", "status": "arrived"})
    if w.plan == "promise_moved":
        deliver_by += 36 * H
        await _post(api, w, "promise_changed", t + H, {
            "promised_delivery_by": deliver_by.isoformat(), "reason": "customer asked for Monday"})
    late = w.plan in ("late", "promise_moved") and rng.random() < 0.7
    t = max(t + 2 * H, deliver_by + rng.uniform(1, 30) * H if late
            else deliver_by - rng.uniform(1, 20) * H)
    delivered = _lines(w.lines)
    if rng.random() < 0.15:  # one line came short without any agreement
        delivered = _lines({**w.lines, "SKU-2": w.lines["SKU-2"] - 1})
    await _post(api, w, "delivered", t, {
        "signer": "Zhou Min", "condition": "damaged" if w.plan == "damaged" else "intact",
        "pod": {"kind": "signature", "ref": f"pod/{w.order_id}.jpg"}, "lines": delivered})
    delivered_at = t
    back = delivered_at + rng.uniform(6, 200) * H
    if rng.random() < 0.85 and back < datetime.now(UTC) - timedelta(minutes=1):
        # The receipt and the follow-up are separate tracks: one not back yet stops neither.
        await _post(api, w, "receipt_returned", back, api.archived_receipt(w.order_id))
    await _follow_up(api, w, delivered_at)


async def _follow_up(api: Api, w: Walk, delivered_at: datetime) -> None:
    """The survey opens a day after delivery for three days; answers come in that window."""
    rng = w.rng
    roll = rng.random()
    if roll < 0.25:
        return  # nobody answers: the follow-up expires
    at = delivered_at + rng.uniform(25, 90) * H
    at = min(at, max(datetime.now(UTC) - timedelta(minutes=5), delivered_at + 25 * H))
    scores = {"timeliness": rng.randint(2, 5), "completeness": rng.randint(3, 5),
              "courtesy": rng.randint(1, 5)}
    if roll < 0.6:
        await _post(api, w, "survey_response", at, {"scores": scores, "channel": "api",
                                                    "goods_ok": True})
    else:
        await _post(api, w, "follow_up_call", at, {"outcome": "answered", "scores": scores})


def _lines(qty: dict[str, int]) -> list[dict[str, Any]]:
    return [{"sku": sku, "qty": n} for sku, n in qty.items()]


async def _post(api: Api, w: Walk, type_: str, at: datetime, data: dict[str, Any],
                step: str | None = None) -> None:
    if at > datetime.now(UTC) - timedelta(minutes=1):
        raise _Now
    event_id = f"{w.order_id}.{step or type_}"
    resp = await api.event(w.order_id, type_, data, event_id=event_id, occurred_at=at)
    if resp.status_code == 409:
        w.refused.append(f"{type_}: {resp.json()['error']['code']}")
        return
    assert resp.status_code == 200, (type_, resp.text)
    w.posted.append(type_)
