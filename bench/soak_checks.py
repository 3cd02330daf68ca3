"""After the soak: gather what the database, Temporal, the API and the receiver hold, and judge it
against what the driver was told.

Each check is a name, pass/fail and the figures behind it; the report prints them all and the
soak exits 1 if any failed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from temporalio.client import Client

from bench.soak_client import Record, SoakClient
from bench.soak_driver import OrderRun
from bench.soak_faults import Probe, Window
from bench.soak_receiver import Delivery
from db.audit import queries as audit
from workflows.ids import order_workflow_id
from workflows.order.workflow import OrderWorkflow

# The order-level notices every order that closes has sent, once each.
NOTICES = ("order.confirmed", "order.shipped", "order.delivered", "order.survey_due")
# Events an order takes once; a second timeline row of one is a duplicated effect.
ONCE = ("confirmed", "picked", "shipped", "delivered", "receipt_returned", "survey_response")
# Windows in which the API may answer only 2xx/4xx or 503 with Retry-After (JSON).
OUTAGES = ("postgres_down", "temporal_down")
TIMEOUT_ERRORS = ("ReadTimeout", "WriteTimeout", "ConnectTimeout", "PoolTimeout")
HEALTHZ_MAX = 0.5
READ_TIMEOUT = 10.0  # each read-back request of the checks
RECOVERY = 10.0  # seconds after an outage shown on their own in the report


@dataclass
class Check:
    name: str
    ok: bool
    figures: str
    details: list[str] = field(default_factory=list)


@dataclass
class Observed:
    """What the stack holds at the end."""

    stages: dict[str, str]  # orders table
    timeline: dict[str, list[tuple[str, str]]]  # order -> [(event_id, type)]
    outbox: list[dict[str, Any]]
    api: dict[str, dict[str, Any] | None]  # GET /v1/orders/{id}
    temporal: dict[str, Any]  # OrderState, or the error's text
    chains: dict[str, str] = field(default_factory=dict)  # order -> its chain's first break


def _pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile, as the KPIs use."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def outbox_open(engine: Engine, prefix: str) -> int:
    """Outbox rows of the soak's orders still to be delivered (the settle phase waits on it)."""
    with engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM outbox WHERE order_id LIKE :p AND status IN "
            "('pending', 'sending')"), {"p": prefix + "%"}).scalar_one())


def broken_chains(engine: Engine, order_ids: list[str], keys: dict[str, bytes]
                  ) -> dict[str, str]:
    """Each order whose audit chain does not verify (db/audit), with its first break: worker
    kills between a row's insert and its commit must leave no row unlinked or linked twice."""
    broken = {}
    with Session(engine) as session:
        for oid in order_ids:
            verdict = audit.verify(session, oid, keys)
            if not verdict.ok:
                broken[oid] = str(verdict.first_broken)
    return broken


def check_chains(order_ids: list[str], seen: Observed) -> Check:
    return Check("every order's audit chain verifies", not seen.chains,
                 f"{len(order_ids) - len(seen.chains)}/{len(order_ids)} verify",
                 _first(f"{oid}: {why}" for oid, why in seen.chains.items()))


async def observe(engine: Engine, client: SoakClient, temporal: Client,
                  order_ids: list[str], prefix: str, until: float) -> Observed:
    """Read everything back by `until` (time.monotonic()): a wedged API must not keep the
    soak from reporting, so what is not read by then is reported as missing."""
    with engine.connect() as conn:
        stages = dict(conn.execute(text(
            "SELECT order_id, stage FROM orders WHERE order_id LIKE :p"),
            {"p": prefix + "%"}).tuples().all())
        timeline: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for oid, event_id, type_ in conn.execute(text(
                "SELECT order_id, event_id, type FROM order_events WHERE order_id LIKE :p"),
                {"p": prefix + "%"}):
            timeline[oid].append((event_id, type_))
        outbox = [dict(r._mapping) for r in conn.execute(text(
            "SELECT id, channel, status, event_type, order_id, recipient, payload FROM outbox "
            "WHERE order_id LIKE :p"), {"p": prefix + "%"})]
    slots = asyncio.Semaphore(8)

    async def view(oid: str) -> dict[str, Any] | None:
        if oid not in stages:
            return None  # never created: nothing for the API to show
        async with slots:
            while time.monotonic() + READ_TIMEOUT < until:
                resp = await client.request("GET", f"/v1/orders/{oid}", "GET /v1/orders/{id}",
                                            timeout=READ_TIMEOUT)
                if resp is not None and resp.status_code == 200:
                    return resp.json()
                await asyncio.sleep(1)
            return None

    async def state(oid: str) -> Any:
        async with slots:
            try:
                return await temporal.get_workflow_handle(order_workflow_id(oid)).query(
                    OrderWorkflow.state, rpc_timeout=timedelta(seconds=10))
            except Exception as exc:  # reported per order, not raised: one bad order of 300
                return f"{type(exc).__name__}: {exc}"

    views = await asyncio.gather(*(view(o) for o in order_ids))
    states = await asyncio.gather(*(state(o) for o in order_ids))
    return Observed(stages, timeline, outbox, dict(zip(order_ids, views, strict=True)),
                    dict(zip(order_ids, states, strict=True)))


# -- what the driver's acknowledgements imply --------------------------------------------------

def implied_stages(run: OrderRun) -> set[str | None]:
    """Stages the order may be in: the one its acknowledged events imply, or, when a step got
    no acknowledgement (it may have been applied all the same), the one after it."""
    acked = {s.kind for s in run.steps if s.acked}
    tried = acked | {s.kind for s in run.steps}
    return {_stage_after(acked), _stage_after(tried)}


def _stage_after(kinds: set[str]) -> str | None:
    if "receipt" in kinds and "survey_response" in kinds:
        return "closed"
    for kind, stage in (("receipt", "receipt_archived"), ("delivered", "delivered"),
                        ("tracking_scan", "in_transit"), ("shipped", "in_transit"),
                        ("picked", "picked"), ("confirmed", "confirmed"), ("create", "received")):
        if kind in kinds:
            return stage
    return None


# -- the checks --------------------------------------------------------------------------------

def check_orders(runs: list[OrderRun], seen: Observed) -> list[Check]:
    done = [r for r in runs if r.stopped is None]
    stage_bad, view_bad, missing, dup_rows, dup_effects = [], [], [], [], []
    for run in runs:
        oid, api, state = run.order_id, seen.api[run.order_id], seen.temporal[run.order_id]
        allowed = implied_stages(run)
        # A scan posted after shipment leaves the stage `shipped` until one arrives.
        if "in_transit" in allowed and not run.acked("tracking_scan"):
            allowed.add("shipped")
        if seen.stages.get(oid) not in allowed:
            stage_bad.append(f"{oid}: database {seen.stages.get(oid)}, "
                             f"implied {sorted(map(str, allowed))}")
        if oid in seen.stages:
            view_bad += _api_vs_temporal(oid, api, state)
        rows = seen.timeline.get(oid, [])
        counts = Counter(event_id for event_id, _ in rows)
        dup_rows += [f"{oid}: {e} x{n}" for e, n in counts.items() if n > 1]
        for step in run.steps:
            if step.acked and step.kind != "create" and step.key not in counts:
                missing.append(f"{oid}: {step.kind} {step.key} acknowledged, not on the timeline")
        if run.steps and run.steps[0].acked and oid not in seen.stages:
            missing.append(f"{oid}: creation acknowledged, no order row")
        by_type = Counter(type_ for _, type_ in rows)
        dup_effects += [f"{oid}: {t} x{by_type[t]} on the timeline" for t in ONCE
                        if by_type[t] > 1]
        if by_type["tracking_scan"] > run.scans:
            dup_effects.append(f"{oid}: {by_type['tracking_scan']} scans on the timeline, "
                               f"{run.scans} sent")
        if not isinstance(state, str) and len(state.scans) > run.scans:
            dup_effects.append(f"{oid}: workflow holds {len(state.scans)} scans, "
                               f"{run.scans} sent")
    not_closed = [f"{r.order_id}: {seen.stages.get(r.order_id)} ({r.stopped or 'walk done'})"
                  for r in runs if seen.stages.get(r.order_id) != "closed"]
    return [
        Check("orders driven through every stage", not not_closed,
              f"{len(runs) - len(not_closed)}/{len(runs)} closed; walks finished "
              f"{len(done)}/{len(runs)}", _first(not_closed)),
        Check("every order at the stage its events imply", not stage_bad,
              f"{len(stage_bad)} off", _first(stage_bad)),
        Check("API view equals Temporal's query", not view_bad, f"{len(view_bad)} differ",
              _first(view_bad)),
        Check("one timeline row per event_id", not dup_rows, f"{len(dup_rows)} repeated",
              _first(dup_rows)),
        Check("no 2xx-acknowledged event missing (0 lost effects)", not missing,
              f"{len(missing)} missing", _first(missing)),
        Check("0 duplicated effects", not dup_effects, f"{len(dup_effects)} duplicated",
              _first(dup_effects)),
    ]


def _api_vs_temporal(oid: str, api: dict[str, Any] | None, state: Any) -> list[str]:
    if isinstance(state, str):
        return [f"{oid}: Temporal query failed: {state[:160]}"]
    if api is None:
        return [f"{oid}: API gave no view"]
    ours = {"stage": api["stage"], "breached": api["breached"],
            "shipment": api.get("shipment") is not None,
            "delivery": api.get("delivery") is not None,
            "receipt": api.get("receipt") is not None,
            "survey": (api.get("follow_up") or {}).get("status"),
            "stages": sorted(k for k, v in (api.get("stage_times") or {}).items() if v)}
    theirs = {"stage": state.stage.value, "breached": bool(state.breaches),
              "shipment": state.shipment is not None, "delivery": state.delivery is not None,
              "receipt": state.receipt is not None,
              "survey": state.survey.status.value if state.survey else None,
              "stages": sorted(k for k, v in state.stage_times.items() if v)}
    return [f"{oid}: {k} API {ours[k]!r} vs Temporal {theirs[k]!r}"
            for k in ours if ours[k] != theirs[k]]


def check_webhooks(runs: list[OrderRun], seen: Observed, deliveries: list[Delivery],
                   incomplete: int) -> list[Check]:
    """`incomplete`: requests the receiver dropped because their body ended early (a worker
    killed mid-send; bench/soak_receiver.py): reported, not deliveries."""
    rows = [r for r in seen.outbox if r["channel"] == "webhook"]
    got_ids = {d.delivery_id for d in deliveries}
    got_bodies = {d.body_id for d in deliveries}
    lost = [f"{r['order_id']} {r['event_type']} row {r['id'][:12]} ({r['status']})"
            for r in rows
            if r["id"] not in got_ids and (r["payload"] or {}).get("id") not in got_bodies]
    ids_per_body: dict[str | None, set[str | None]] = defaultdict(set)
    for d in deliveries:
        ids_per_body[d.body_id].add(d.delivery_id)
    twice = [f"body {b}: webhook ids {sorted(map(str, ids))}"
             for b, ids in ids_per_body.items() if len(ids) > 1]
    repeats = len(deliveries) - len(ids_per_body)
    closed = {r.order_id for r in runs if seen.stages.get(r.order_id) == "closed"}
    enqueued = Counter((r["order_id"], r["event_type"]) for r in rows)
    unnoticed = [f"{oid}: {t} x{enqueued[(oid, t)]}" for oid in sorted(closed) for t in NOTICES
                 if enqueued[(oid, t)] != 1]
    signatures = Counter(d.signature for d in deliveries)
    schemes = Counter(d.scheme for d in deliveries)
    return [
        Check("every due webhook received at least once (0 lost)", not lost,
              f"{len(rows)} due, {len(lost)} lost; {len(deliveries)} deliveries received",
              _first(lost)),
        Check("duplicates only with the same webhook-id", not twice,
              f"{repeats} repeated deliveries, {len(twice)} with a different id", _first(twice)),
        Check("each closed order's notices due exactly once", not unnoticed,
              f"{len(closed)} closed orders x {len(NOTICES)} notices, {len(unnoticed)} off",
              _first(unnoticed)),
        Check("every delivery signed and verified", signatures.keys() <= {"ok"},
              f"signatures {dict(signatures)}, headers {dict(schemes)}; {incomplete} "
              "requests cut short by their sender (not deliveries)"),
    ]


def check_outbox(seen: Observed) -> Check:
    by_status = Counter(r["status"] for r in seen.outbox)
    by_channel = Counter((r["channel"], r["status"]) for r in seen.outbox)
    stuck = {s: by_status[s] for s in ("uncertain", "pending", "sending") if by_status[s]}
    return Check("outbox: 0 uncertain, 0 stuck pending/sending", not stuck,
                 f"by status {dict(by_status)}",
                 [f"{c}/{s}: {n}" for (c, s), n in sorted(by_channel.items())])


def _overlaps(rec: Record, w: Window) -> bool:
    end = w.end if w.end is not None else rec.end
    return rec.start <= end and rec.end >= w.start


def _label(rec: Record) -> str:
    if rec.status is None:
        return f"no answer ({rec.error})"
    return str(rec.status) + (" +Retry-After" if rec.retry_after else "")


def check_requests(records: list[Record], windows: list[Window], request_timeout: float,
                   origin: float) -> tuple[list[Check], list[str]]:
    """Checks on the answers; also the per-window tables for the report."""
    api_down = [w for w in windows if w.kind == "api_down"]

    def during_api_down(rec: Record) -> bool:
        return any(_overlaps(rec, w) for w in api_down)

    tables = []
    for w in windows:
        inside = [r for r in records if _overlaps(r, w)]
        counts = Counter(_label(r) for r in inside)
        span = (w.end or w.start) - w.start
        tables.append(f"{w.kind:14} at +{w.start - origin:5.0f} s for {span:5.1f} s "
                      f"{w.note[:36]:36} " + ", ".join(f"{k}: {n}" for k, n in
                                                       counts.most_common()))
        if w.kind in OUTAGES and w.end is not None:
            # Does it recover at once, or do stale pooled connections fail the next requests?
            after = Window(f"{w.kind} +{RECOVERY:.0f}s", w.end, w.end + RECOVERY)
            counts = Counter(_label(r) for r in records
                             if r.start >= after.start and _overlaps(r, after))
            tables.append(f"  the {RECOVERY:.0f} s after: "
                          + ", ".join(f"{k}: {n}" for k, n in counts.most_common()))
    bad_outage = []
    for w in (w for w in windows if w.kind in OUTAGES):
        for r in records:
            if not _overlaps(r, w) or during_api_down(r):
                continue
            if r.status is None or (r.status >= 500 and not (
                    r.status == 503 and r.retry_after and r.json_body)):
                bad_outage.append(f"{w.kind}: {r.endpoint} -> {_label(r)}"
                                  f"{'' if r.json_body else ' (not JSON)'} in {r.latency:.1f} s")
    unanswered = [r for r in records if r.status is None and not during_api_down(r)]
    timeouts = [r for r in unanswered if r.error in TIMEOUT_ERRORS]
    dropped = [r for r in unanswered if r.error not in TIMEOUT_ERRORS]
    plain = [r for r in records if r.status is not None and r.status >= 500 and not r.json_body]
    statuses = Counter(_label(r) for r in records)
    latencies = [r.latency for r in records if r.status is not None]
    summary = (f"{len(records)} requests: " + ", ".join(f"{k}: {n}" for k, n in
                                                         statuses.most_common())
               + f"; answered p50 {_pct(latencies, 50):.2f} s, p99 {_pct(latencies, 99):.2f} s,"
               f" max {max(latencies, default=0):.2f} s")

    def at(r: Record) -> str:
        return (f"{r.endpoint.split()[0]} {r.path} at +{r.start - origin:.1f} s: {r.error} "
                f"after {r.latency:.1f} s")

    return [
        Check("while PostgreSQL or Temporal is down: only 503 + Retry-After (JSON) as errors",
              not bad_outage, f"{len(bad_outage)} other answers", _first(bad_outage)),
        Check(f"0 requests without an answer past the deadline + 5 s ({request_timeout:.0f} s)",
              not timeouts, f"{len(timeouts)} timed out", _first(map(at, timeouts))),
        Check("0 connections dropped without an answer (outside API restarts)", not dropped,
              f"{len(dropped)} dropped ({dict(Counter(r.error for r in dropped))})",
              _first(map(at, dropped))),
        Check("0 plain-text 5xx", not plain, f"{len(plain)} 5xx not JSON "
              f"({dict(Counter(r.status for r in plain))})",
              _first(f"{r.endpoint} {r.status} {r.content_type}" for r in plain)),
    ], [summary, *tables]


def check_rejections(runs: list[OrderRun]) -> Check:
    """A repeat of an acknowledged write must be answered as a duplicate, never refused."""
    refused = [f"{r.order_id} {s.kind} {s.key}: {', '.join(s.rejections)}"
               for r in runs for s in r.steps if s.rejections]
    codes = Counter(code for r in runs for s in r.steps for code in s.rejections)
    return Check("no write refused (4xx) and no send left unanswered at the deadline",
                 not refused, f"{dict(codes)}", _first(refused))


def check_healthz(probes: list[Probe], windows: list[Window]) -> tuple[Check, list[str]]:
    api_down = [w for w in windows if w.kind == "api_down"]
    outside = [p for p in probes if not any(w.holds(p.at, slack=0.5) for w in api_down)]
    lat = [p.latency for p in outside]
    failed = [p for p in outside if p.status != 200]
    worst = max(lat, default=0.0)
    lines = []
    for kind in sorted({w.kind for w in windows}):
        inside = [p.latency for p in outside
                  if any(w.holds(p.at) for w in windows if w.kind == kind)]
        if inside:
            lines.append(f"/healthz during {kind:14} n={len(inside):5} max {max(inside):.3f} s"
                         f" p99 {_pct(inside, 99):.3f} s")
    return Check(f"/healthz max < {HEALTHZ_MAX} s throughout (outside API restarts)",
                 worst < HEALTHZ_MAX and not failed,
                 f"{len(outside)} probes: max {worst:.3f} s, p99 {_pct(lat, 99):.3f} s, "
                 f"p50 {_pct(lat, 50):.3f} s, {len(failed)} failed",
                 _first(f"at +{p.at - probes[0].at:.1f} s: {p.status} in {p.latency:.2f} s"
                        for p in failed)), lines


def _first(items: Iterable[str], n: int = 12) -> list[str]:
    items = list(items)
    return items[:n] + ([f"... and {len(items) - n} more"] if len(items) > n else [])
