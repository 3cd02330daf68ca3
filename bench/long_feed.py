"""One order with a long tracking feed, over HTTP, and the same feed through the bare-Temporal
skeleton (issue 16 targets: flat event-accept latency over 2,000 scans, no run's history over
2 MB, history bytes at 200 scans <= 1.5x the skeleton's).

Starts the stack of bench/stack.py, creates one order, walks it to in_transit, posts N tracking
scans one after another (each timed from POST to answer), then delivers it, returns the receipt
and answers the survey so it closes; then the skeleton does the same. Prints, per system, the
accept latency of the first and the last 100 scans (median and mean, and last over first), every
run of the order's workflow (Waybill's continues as new as its history grows: workflows/case.py)
with its events, bytes on the server and the size of the input it started from; then Waybill's
history bytes and latencies over the skeleton's.

    python -m bench.long_feed --scans 2000
    python -m bench.long_feed --scans 200        # the history-bytes target
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.client import Client

import logs
from bench.drivers import STEPS, SURVEY, Driver, Failed, SkeletonDriver, WaybillDriver
from bench.stack import Stack, StackFailed, bench_stack

WINDOW = 100  # scans in each of the first and last latency windows
# Temporal refuses a run's 2,001st distinct update (FAILED_PRECONDITION, "the limit on the total
# number of distinct updates in this workflow has been reached (2000)"). The skeleton never
# continues as new, so its measured order takes at most this many scans (with its 3 steps
# before and 3 after); Waybill's order continues as new and takes any number.
SKELETON_MAX_SCANS = 2000 - 6


@dataclass(frozen=True)
class Run:
    run_id: str
    events: int
    bytes: int
    input_bytes: int  # the start event's input: the resume, for every run but the first


async def runs_of(client: Client, workflow_id: str) -> list[Run]:
    """Every run of the workflow, first first, following each run's start event back to the
    run it continued from."""
    run_id: str | None = (await client.get_workflow_handle(workflow_id).describe()).run_id
    runs = []
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        runs.append(Run(run_id=run_id, events=len(history.events),
                        bytes=sum(e.ByteSize() for e in history.events),
                        input_bytes=started.input.ByteSize()))
        run_id = started.continued_execution_run_id or None
    return runs[::-1]


@dataclass
class Feed:
    system: str
    order_id: str
    stage: str
    accept: list[float]  # seconds from POST (or update) to answer, one per scan
    runs: list[Run]


def window_line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"  {name:<9} {len(ms):>4} scans: median {statistics.median(ms):6.1f} ms, " \
           f"mean {statistics.fmean(ms):6.1f} ms"


async def in_transit(driver: Driver, prefix: str) -> str:
    """A new order through `driver`, walked to in_transit (confirmed, picked, shipped)."""
    order_id = f"{prefix}-{driver.name[0]}-{uuid.uuid4().hex[:8]}"
    await driver.create(order_id)
    for step, type_, data in STEPS[:3]:
        await driver.event(order_id, f"{order_id}.{step}", type_, data)
    return order_id


async def warm_up(driver: Driver, scans: int) -> None:
    """Scans on an order of its own, not measured, right before the measured feed.

    Any sustained feed here slows every order after ~4 s (~100 scans) by ~10 ms, the skeleton's
    too, and recovers after ~20 s idle: a new order fed right after another is at once as slow
    as the old one's last scans, and the same order is fast again after a pause, so it is the
    machine's or the dev server's steady state, not the order's history (bench/README.md). The
    measured feed starts in that steady state, so its first and last windows compare the order
    at 100 scans with the order at N, which is what "flat" asks."""
    if scans:
        order_id = await in_transit(driver, "LF-warm")
        for i in range(scans):
            await driver.event(order_id, f"{order_id}.scan-{i}", "tracking_scan",
                               {"location": f"hub {i % 40}", "status": "departed"})


async def feed(driver: Driver, client: Client, scans: int, warm_scans: int = 0) -> Feed:
    """One order through `driver`: to in_transit, `scans` scans one after another, then
    delivered, receipt, survey (closed); after `warm_scans` on another order."""
    await warm_up(driver, warm_scans)
    order_id = await in_transit(driver, "LF")
    accept: list[float] = []
    began = time.monotonic()
    for i in range(scans):
        sent = time.perf_counter()
        await driver.event(order_id, f"{order_id}.scan-{i}", "tracking_scan",
                           {"location": f"hub {i % 40}", "status": "departed"})
        accept.append(time.perf_counter() - sent)
        if (i + 1) % 500 == 0:
            print(f"  {driver.name}: {i + 1} scans in {time.monotonic() - began:.0f} s",
                  flush=True)
    await driver.event(order_id, f"{order_id}.delivered", *STEPS[4][1:])
    await driver.receipt(order_id)
    while not await driver.survey_due(order_id):
        await asyncio.sleep(0.2)
    stage = await driver.event(order_id, f"{order_id}.survey", "survey_response", SURVEY)
    return Feed(driver.name, order_id, stage, accept,
                await runs_of(client, driver.workflow_id(order_id)))


def feed_lines(f: Feed) -> list[str]:
    first, last = f.accept[:WINDOW], f.accept[-WINDOW:]
    medians = [statistics.median(f.accept[i:i + WINDOW]) * 1000
               for i in range(0, len(f.accept), WINDOW)]
    return [
        f"{f.system}: accept latency over {len(f.accept)} scans (order {f.order_id}, "
        f"ended {f.stage}):",
        window_line("first", first), window_line("last", last),
        f"  last / first: median x{statistics.median(last) / statistics.median(first):.2f}, "
        f"mean x{statistics.fmean(last) / statistics.fmean(first):.2f} (target <= 1.2)",
        f"  median per {WINDOW}: " + " ".join(f"{m:.0f}" for m in medians),
        f"  history: {len(f.runs)} runs, {sum(r.bytes for r in f.runs)} bytes in all, largest "
        f"{max(r.bytes for r in f.runs)} (target < 2 MB)",
        *(f"    run {n}: {r.events:>5} events, {r.bytes:>8} bytes, input {r.input_bytes:>6} bytes"
          for n, r in enumerate(f.runs, 1)),
    ]


def ratio_lines(w: Feed, s: Feed) -> list[str]:
    w_bytes, s_bytes = (sum(r.bytes for r in f.runs) for f in (w, s))
    first, last = slice(WINDOW), slice(-WINDOW, None)
    ratio = [statistics.median(w.accept[part]) / statistics.median(s.accept[part])
             for part in (first, last)]
    return [
        "waybill / skeleton:",
        f"  history bytes x{w_bytes / s_bytes:.2f} ({w_bytes} / {s_bytes}; "
        "target at 200 scans <= 1.5)",
        f"  accept median, first {WINDOW} x{ratio[0]:.2f}, last {WINDOW} x{ratio[1]:.2f}",
    ]


async def drive(stack: Stack, scans: int, timeout: float, skeleton: bool,
                warm_scans: int = 0) -> int:
    client = await Client.connect(stack.temporal_target)
    drivers: list[Driver] = [WaybillDriver(stack.api_url, stack.key, stack.survey_after, timeout)]
    if skeleton:
        drivers.append(SkeletonDriver(client, stack.skeleton_queue, stack.survey_after, timeout))
    try:
        feeds = []
        for driver in drivers:
            try:
                n = min(scans, SKELETON_MAX_SCANS) if driver.name == "skeleton" else scans
                if n < scans:
                    print(f"  skeleton: {n} scans, not {scans}: Temporal takes at most 2,000 "
                          "updates in one run, and the skeleton never continues as new",
                          flush=True)
                feeds.append(await feed(driver, client, n, min(warm_scans, SKELETON_MAX_SCANS)))
            except Failed as exc:
                print(f"{driver.name}: the feed failed: {exc.label}", flush=True)
                return 1
            print("\n".join(feed_lines(feeds[-1])), flush=True)
        if len(feeds) == 2:
            print("\n".join(ratio_lines(*feeds)))
        return 0 if all(f.stage == "closed" for f in feeds) else 1
    finally:
        for driver in drivers:
            await driver.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_feed",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--warm-up-scans", type=int, default=200,
                        help="scans on another order first, not measured (default 200; 0: "
                             "measure from a cold start)")
    parser.add_argument("--no-skeleton", action="store_true",
                        help="skip the same feed through the bare-Temporal skeleton")
    args = parser.parse_args(argv)
    if args.scans < WINDOW:
        parser.error(f"--scans must be at least {WINDOW}")
    logs.configure("WARNING")
    print(f"bench.long_feed: db={args.db} scans={args.scans} "
          f"warm-up scans={args.warm_up_scans} "
          f"at {datetime.now(UTC):%H:%M:%S}; starting the stack", flush=True)
    try:
        with bench_stack(args.db, survey_after=1.0) as stack:
            return asyncio.run(drive(stack, args.scans, args.request_timeout,
                                     not args.no_skeleton, args.warm_up_scans))
    except StackFailed as exc:
        print(f"bench.long_feed: the stack did not start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
