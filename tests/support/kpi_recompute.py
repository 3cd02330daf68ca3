"""KPI figures recomputed from the raw event log (`order_events`), written apart from kpis/ and
db/kpis/: a check on them, as an auditor would do it with the definitions in hand.

From `orders` it reads only what the order was created with (customer, tier, policy, ordered
lines); everything that happened comes from the events, each applied at min(occurred, recorded)
(an event sent from a clock running ahead happened when it was received).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.orders.models import Order, OrderEvent

# The shipped policies (policies/default.yaml), by hand: no calendar, so plain durations.
RECEIPT_WITHIN = {"standard": timedelta(days=7), "key_account": timedelta(days=3)}
SURVEY_AFTER = timedelta(days=1)
STAGES = ("received", "confirmed", "picked", "shipped", "delivered", "receipt_archived",
          "followed_up")
TRANSITIONS = (("received", "confirmed"), ("confirmed", "picked"), ("picked", "shipped"),
               ("shipped", "delivered"), ("delivered", "receipt_archived"),
               ("delivered", "followed_up"), ("received", "delivered"))


@dataclass
class OrderFacts:
    key: tuple[str, str, str | None, str]  # customer, tier, carrier, sla_policy
    promise: datetime
    cancelled: bool = False
    on_time: bool = False
    in_full: bool = False
    times: dict[str, datetime] = field(default_factory=dict)
    attempted: bool = False
    answered: bool = False
    scores: dict[str, int] = field(default_factory=dict)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def order_facts(engine: Engine) -> list[OrderFacts]:
    with Session(engine) as session:
        orders = {r.order_id: r for r in session.execute(select(
            Order.order_id, Order.customer_id, Order.customer_tier, Order.sla_policy,
            Order.lines))}
        events: dict[str, list[Any]] = defaultdict(list)
        for r in session.execute(select(
                OrderEvent.order_id, OrderEvent.type, OrderEvent.occurred_at,
                OrderEvent.recorded_at, OrderEvent.data).order_by(OrderEvent.id)):
            events[r.order_id].append(r)
    return [_facts(orders[oid], evs) for oid, evs in events.items() if oid in orders]


def _facts(order: Any, events: list[Any]) -> OrderFacts:
    ordered = {line["sku"]: line["ordered"] for line in order.lines}
    due, picked, shipped, delivered_qty = dict(ordered), None, None, None
    carrier, facts = None, None
    for e in events:
        data, at = e.data or {}, min(e.occurred_at, e.recorded_at)
        if e.type == "order_created":
            facts = OrderFacts(key=("", "", None, ""), promise=_ts(data["promised_delivery_by"]))
            facts.times["received"] = e.occurred_at
            continue
        assert facts is not None, "an order's first event is its creation"
        t = facts.times
        match e.type:
            case "confirmed":
                t["confirmed"] = at
            case "picked":
                picked = _qty(data["lines"], ordered)
                t["picked"] = at
            case "shipped":
                carrier = data["carrier"]
                shipped = _qty(data["lines"], ordered) if data.get("lines") else None
                t["shipped"] = at
            case "promise_changed" if data.get("promised_delivery_by"):
                facts.promise = _ts(data["promised_delivery_by"])
            case "shortage_decision" if data["decision"] == "backorder":
                facts.promise = _ts(data["promised_delivery_by"])
            case "shortage_decision" if data["decision"] == "partial":
                due.update({line["sku"]: line["qty"] for line in data["lines"]})
            case "cancelled":
                facts.cancelled = True
            case "delivered":
                t["delivered"] = at
                facts.on_time = e.occurred_at <= facts.promise
                delivered_qty = (_qty(data["lines"], ordered) if data.get("lines")
                                 else shipped or picked or ordered)
                facts.in_full = data["condition"] == "intact" and all(
                    delivered_qty[sku] >= due[sku] for sku in ordered)
            case "receipt_returned":
                t.setdefault("receipt_archived", at)
            case "survey_due":
                facts.attempted = True
            case "survey_response":
                _answer(facts, data, at)
            case "follow_up_call":
                facts.attempted = True
                if data["outcome"] == "answered":
                    _answer(facts, data, at)
                elif data["outcome"] == "refused":
                    t.setdefault("followed_up", at)
            case "follow_up_unsuccessful":
                t.setdefault("followed_up", e.occurred_at)
    assert facts is not None
    facts.key = (order.customer_id, order.customer_tier, carrier, order.sla_policy)
    return facts


def _qty(lines: list[dict[str, Any]], ordered: dict[str, int]) -> dict[str, int]:
    sent = {line["sku"]: line["qty"] for line in lines}
    return {sku: sent.get(sku, 0) for sku in ordered}


def _answer(facts: OrderFacts, data: dict[str, Any], at: datetime) -> None:
    facts.attempted = facts.answered = True
    facts.scores = dict(data["scores"])
    facts.times.setdefault("followed_up", at)


# -- figures -----------------------------------------------------------------------------------

def _durations(values: list[int]) -> dict[str, int | None]:
    ranked = sorted(values)

    def rank(q: int) -> int | None:
        return ranked[math.ceil(q / 100 * len(ranked)) - 1] if ranked else None

    return {"count": len(ranked), "p50": rank(50), "p90": rank(90),
            "max": ranked[-1] if ranked else None}


def _secs(a: datetime, b: datetime) -> int:
    return math.floor(b.timestamp()) - math.floor(a.timestamp())


def figures(facts: list[OrderFacts], start: datetime, end: datetime) -> dict[str, Any]:
    """The figures of one group (or all) over [start, end): each as (numerator, denominator)
    or the durations' count, p50, p90 and max, in the API's names."""
    def inside(t: datetime | None) -> bool:
        return t is not None and start <= t < end

    due = [f for f in facts if not f.cancelled and inside(f.promise)]
    out: dict[str, Any] = {
        "otif": (sum(f.on_time and f.in_full for f in due), len(due)),
        "on_time": (sum(f.on_time for f in due), len(due)),
        "in_full": (sum(f.in_full for f in due), len(due)),
    }
    for a, b in TRANSITIONS:
        out[f"{a}_to_{b}"] = _durations([
            _secs(f.times[a], f.times[b]) for f in facts
            if a in f.times and inside(f.times.get(b))])
    receipts = [(f, f.times["delivered"] + RECEIPT_WITHIN[f.key[3]]) for f in facts
                if "delivered" in f.times]
    receipts = [(f, d) for f, d in receipts if inside(d)]
    out["receipt_return"] = (sum(f.times.get("receipt_archived") is not None
                                 and f.times["receipt_archived"] <= d for f, d in receipts),
                             len(receipts))
    follow_ups = [f for f in facts if "delivered" in f.times
                  and inside(f.times["delivered"] + SURVEY_AFTER)]
    out["follow_up"] = (sum(f.attempted for f in follow_ups), len(follow_ups))
    out["successful_follow_up"] = (sum(f.answered for f in follow_ups), len(follow_ups))
    by_question: dict[str, list[int]] = defaultdict(list)
    for f in follow_ups:
        if f.answered:
            for q, score in f.scores.items():
                by_question[q].append(score)
    out["satisfaction"] = {q: {"count": len(v), "sum": sum(v),
                               "distribution": {str(s): v.count(s) for s in range(1, 6)}}
                           for q, v in sorted(by_question.items())}
    return out


def reported(figs: dict[str, Any]) -> dict[str, Any]:
    """The same figures read from one `KpiFigures` of the API's JSON."""
    out: dict[str, Any] = {name: (figs[name]["numerator"], figs[name]["denominator"])
                           for name in ("otif", "on_time", "in_full", "receipt_return",
                                        "follow_up", "successful_follow_up")}
    for name, d in figs["cycle_times"].items():
        out[name] = {k: d[k] for k in ("count", "p50", "p90", "max")}
    out["satisfaction"] = {q: {k: s[k] for k in ("count", "sum", "distribution")}
                           for q, s in sorted(figs["satisfaction"].items()) if s["count"]}
    return out


def by_group(facts: list[OrderFacts], start: datetime, end: datetime
             ) -> dict[tuple[str | None, ...], dict[str, Any]]:
    groups: dict[tuple[str | None, ...], list[OrderFacts]] = defaultdict(list)
    for f in facts:
        groups[f.key].append(f)
    return {key: figures(members, start, end) for key, members in groups.items()}
