"""Throughput of an order's happy path: Waybill over HTTP against a bare-Temporal skeleton of
the same path, in the same run, rounds interleaved (issue item 8).

    .venv/bin/python -m bench.throughput [--orders-per-client N] [--concurrency 1,4,20,50]
                                         [--db sqlite|postgresql]

Starts its own stack on free loopback ports (bench/stack.py), warms both systems with one
order each, then for each concurrency c runs a Waybill round and a skeleton round: c clients,
each walking N orders one after another (bench/drivers.py). Per round it prints orders closed
out of started, orders/s, the accept latency of every write (create, each event, the receipt,
the survey answer) at p50/p90/p99, and errors by HTTP status and code; then the ratio
Waybill/skeleton per concurrency, with each write's p50 side by side. Every request has a
timeout and the run a deadline; a round cut short by the deadline says so. Exit 1 only if the
stack could not start.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
import uuid
from dataclasses import dataclass, field

from temporalio.client import Client

import logs
from bench.breakdown import (
    CLIENT,
    HISTORY_SAMPLE,
    HistorySize,
    cpu_between,
    cpu_line,
    cpu_snapshot,
    history_line,
    median_history,
    system_cpu,
)
from bench.drivers import Driver, SkeletonDriver, Tally, WaybillDriver
from bench.stack import Stack, StackFailed, bench_stack

# The target: at these concurrencies every order closes and Waybill reaches this share
# of the skeleton's orders/s.
TARGET_CONCURRENCY = (20, 50)
TARGET_RATIO = 0.85
DEADLINE_LABEL = "not finished by the run's deadline"


@dataclass
class Round:
    system: str
    concurrency: int
    planned: int
    tally: Tally
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by process
    history: HistorySize | None = None  # the median of the round's first orders

    @property
    def rate(self) -> float:
        return self.tally.closed / self.seconds if self.seconds > 0 else 0.0


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q% of values at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)) - 1, 0)] if ordered else math.nan


async def run_round(driver: Driver, concurrency: int, per_client: int, prefix: str,
                    deadline: float, pids: dict[str, int] | None = None) -> Round:
    tally = Tally()
    cpu_before = cpu_snapshot(pids or {})

    async def client(i: int) -> None:
        for n in range(per_client):
            try:
                await driver.walk(f"{prefix}-{i}-{n}", tally)
            except Exception as exc:  # noqa: BLE001 - a bench bug is counted; the report comes out
                tally.errors[f"bench error {type(exc).__name__}: {exc}"] += 1

    began = time.perf_counter()
    tasks = [asyncio.create_task(client(i)) for i in range(concurrency)]
    _, pending = await asyncio.wait(tasks, timeout=max(deadline - time.monotonic(), 0.0))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    seconds = time.perf_counter() - began
    planned = concurrency * per_client
    unfinished = planned - tally.closed - sum(tally.errors.values())
    if unfinished:
        tally.errors[DEADLINE_LABEL] += unfinished
    cpu = cpu_between(cpu_before, cpu_snapshot(pids or {}))
    return Round(driver.name, concurrency, planned, tally, seconds, cpu)


def round_line(r: Round) -> str:
    lat = r.tally.accept_seconds
    p50, p90, p99 = (percentile(lat, q) * 1000 for q in (50, 90, 99))
    accept = (f"accept p50/p90/p99 {p50:6.0f}/{p90:6.0f}/{p99:6.0f} ms ({len(lat)} writes)"
              if lat else "accept p50/p90/p99 -: no write was accepted")
    errors = ", ".join(f"{label} x{n}" for label, n in r.tally.errors.most_common()) or "none"
    return (f"{r.system:<8} c={r.concurrency:<3} closed {r.tally.closed}/{r.tally.started} "
            f"(of {r.planned}) in {r.seconds:6.1f} s  {r.rate:6.2f} orders/s  {accept}  "
            f"errors: {errors}")


def ratio_lines(rounds: list[Round]) -> list[str]:
    lines = ["", "waybill / skeleton per concurrency (orders/s ratio; accept p50 and p99 ratio):"]
    met = True
    for c in sorted({r.concurrency for r in rounds}):
        pair = {r.system: r for r in rounds if r.concurrency == c}
        w, s = pair.get("waybill"), pair.get("skeleton")
        if w is None or s is None:
            lines.append(f"  c={c:<3} not run (deadline)")
            met = met and c not in TARGET_CONCURRENCY
            continue
        ratio = w.rate / s.rate if s.rate else math.nan
        lat = [percentile(x.tally.accept_seconds, q) for x in (w, s) for q in (50, 99)]
        p50 = lat[0] / lat[2] if lat[2] else math.nan
        p99 = lat[1] / lat[3] if lat[3] else math.nan
        all_closed = w.tally.closed == w.planned and s.tally.closed == s.planned
        lines.append(f"  c={c:<3} {w.rate:6.2f} / {s.rate:6.2f} orders/s = {ratio:5.2f}   "
                     f"p50 x{p50:4.2f}  p99 x{p99:4.2f}   "
                     f"{'all closed' if all_closed else 'NOT all closed'}{_extra_ratios(w, s)}")
        lines.append(by_write_line(w, s))
        if c in TARGET_CONCURRENCY:
            met = met and all_closed and ratio >= TARGET_RATIO
    targets = [c for c in TARGET_CONCURRENCY if any(r.concurrency == c for r in rounds)]
    if targets:
        lines.append(f"target (c={', '.join(map(str, targets))}: every order closed and ratio "
                     f">= {TARGET_RATIO}): {'met' if met else 'NOT met'}")
    return lines


def by_write_line(w: Round, s: Round) -> str:
    """Accept p50 of each write, Waybill / skeleton in ms: which writes make the gap (Waybill's
    create also stores the order, its receipt is an upload archived before the event)."""
    parts = []
    for write, took in w.tally.by_write.items():
        theirs = s.tally.by_write.get(write)
        if theirs:
            mine, yard = (percentile(x, 50) * 1000 for x in (took, theirs))
            parts.append(f"{write} {mine:.0f}/{yard:.0f}")
    return "         p50 by write, ms: " + (", ".join(parts) or "-")


def _extra_ratios(w: Round, s: Round) -> str:
    """CPU per closed order and history events/bytes, Waybill over skeleton."""
    parts = []
    if w.tally.closed and s.tally.closed and w.cpu and s.cpu:
        per = [sum(system_cpu(r.system, r.cpu).values()) / r.tally.closed for r in (w, s)]
        parts.append(f"cpu/order x{per[0] / per[1]:4.2f}" if per[1] else "")
        # The same without the bench's own client (HTTP for Waybill, the SDK for the skeleton):
        # what the two systems cost to serve an order.
        served = [sum(v for k, v in system_cpu(r.system, r.cpu).items() if k != CLIENT)
                  / r.tally.closed for r in (w, s)]
        parts.append(f"(servers only x{served[0] / served[1]:4.2f})" if served[1] else "")
    if w.history and s.history:
        parts.append(f"history events x{w.history.events / s.history.events:4.2f} "
                     f"bytes x{w.history.bytes / s.history.bytes:4.2f}")
    return "   " + "   ".join(p for p in parts if p) if parts else ""


async def run_rounds(stack: Stack, args: argparse.Namespace, deadline: float) -> list[Round]:
    run_id = uuid.uuid4().hex[:6]  # order ids unique per run
    client = await Client.connect(stack.temporal_target)
    drivers: list[Driver] = [
        WaybillDriver(stack.api_url, stack.key, stack.survey_after, args.request_timeout),
        SkeletonDriver(client, stack.skeleton_queue, stack.survey_after, args.request_timeout)]
    rounds: list[Round] = []
    try:
        for driver in drivers:  # first orders pay for imports and caches: not counted
            warm = await run_round(driver, 1, args.warmup, f"B{run_id}-warm-{driver.name[0]}",
                                   deadline)
            print(f"warm-up  {round_line(warm)}", flush=True)
        for n, c in enumerate(args.concurrency):  # a concurrency may come twice (`50,50`)
            for driver in drivers:  # interleaved, so machine noise hits both
                if time.monotonic() >= deadline:
                    print(f"{driver.name:<8} c={c:<3} not run: the run's deadline passed",
                          flush=True)
                    continue
                prefix = f"B{run_id}-{driver.name[0]}{c}-{n}"
                r = await run_round(driver, c, args.orders_per_client, prefix, deadline,
                                    stack.pids)
                if r.tally.closed:
                    walks = [(i, k) for k in range(args.orders_per_client) for i in range(c)]
                    r.history = await median_history(client, [
                        driver.workflow_id(f"{prefix}-{i}-{k}")
                        for i, k in walks[:HISTORY_SAMPLE]])
                rounds.append(r)
                print(round_line(r), flush=True)
                print(cpu_line(r.system, r.cpu, r.tally.closed), flush=True)
                if r.history is not None:
                    print(history_line(r.history), flush=True)
    finally:
        for driver in drivers:
            await driver.aclose()
    return rounds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders-per-client", type=int, default=5)
    parser.add_argument("--concurrency", default="1,4,20,50",
                        type=lambda s: [int(c) for c in s.split(",") if c.strip()])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--survey-after", type=float, default=1.0,
                        help="seconds from delivery to the survey falling due (default 1)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted orders per system")
    parser.add_argument("--request-timeout", type=float, default=30.0,
                        help="seconds per request (default 30)")
    parser.add_argument("--deadline-minutes", type=float, default=30.0,
                        help="the whole run stops after this long (default 30)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logs.configure("WARNING")  # the stack's own warnings (a child that will not stop) as JSON
    deadline = time.monotonic() + args.deadline_minutes * 60
    print(f"bench.throughput: db={args.db} concurrency={args.concurrency} "
          f"orders/client={args.orders_per_client} survey_after={args.survey_after:g}s; "
          "starting the stack", flush=True)
    try:
        with bench_stack(args.db, args.survey_after) as stack:
            rounds = asyncio.run(run_rounds(stack, args, deadline))
    except StackFailed as exc:
        print(f"bench.throughput: the stack did not start: {exc}", file=sys.stderr)
        return 1
    print("\n".join(ratio_lines(rounds)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
