"""One order with a long tracking feed, over HTTP (issue 16 targets: flat event-accept latency
over 2,000 scans, no run's history over 2 MB).

Starts the stack of bench/stack.py, creates one order, walks it to in_transit, posts N tracking
scans one after another (each timed from POST to answer), then delivers it, returns the receipt
and answers the survey so it closes. Prints the accept latency of the first and the last 100
scans (median and mean, and last over first), then every run of the order's workflow (it
continues as new as its history grows: workflows/case.py) with its events, bytes on the
server and the size of the input it started from (the resume the run before handed it).

    python -m bench.long_feed --scans 2000
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
from bench.drivers import STEPS, SURVEY, WaybillDriver
from bench.stack import Stack, StackFailed, bench_stack
from workflows.ids import order_workflow_id

WINDOW = 100  # scans in each of the first and last latency windows


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


def window_line(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"  {name:<9} {len(ms):>4} scans: median {statistics.median(ms):6.1f} ms, " \
           f"mean {statistics.fmean(ms):6.1f} ms"


async def drive(stack: Stack, scans: int, timeout: float) -> int:
    order_id = f"LF-{uuid.uuid4().hex[:8]}"
    driver = WaybillDriver(stack.api_url, stack.key, stack.survey_after, timeout)
    client = await Client.connect(stack.temporal_target)
    try:
        await driver.create(order_id)
        for step, type_, data in STEPS[:3]:  # confirmed, picked, shipped
            await driver.event(order_id, f"{order_id}.{step}", type_, data)
        accept: list[float] = []
        began = time.monotonic()
        for i in range(scans):
            sent = time.perf_counter()
            await driver.event(order_id, f"{order_id}.scan-{i}", "tracking_scan",
                               {"location": f"hub {i % 40}", "status": "departed"})
            accept.append(time.perf_counter() - sent)
            if (i + 1) % 500 == 0:
                print(f"  {i + 1} scans in {time.monotonic() - began:.0f} s", flush=True)
        await driver.event(order_id, f"{order_id}.delivered", *STEPS[4][1:])
        await driver.receipt(order_id)
        while not await driver.survey_due(order_id):
            await asyncio.sleep(0.2)
        stage = await driver.event(order_id, f"{order_id}.survey", "survey_response", SURVEY)
        first, last = accept[:WINDOW], accept[-WINDOW:]
        print(f"accept latency over {scans} scans (order {order_id}, ended {stage}):")
        print(window_line("first", first))
        print(window_line("last", last))
        print(f"  last / first: median x{statistics.median(last) / statistics.median(first):.2f}"
              f", mean x{statistics.fmean(last) / statistics.fmean(first):.2f} (target <= 1.2)")
        medians = [statistics.median(accept[i:i + WINDOW]) * 1000
                   for i in range(0, scans, WINDOW)]
        print(f"  median per {WINDOW}: " + " ".join(f"{m:.0f}" for m in medians))
        runs = await runs_of(client, order_workflow_id(order_id))
        print(f"history: {len(runs)} runs, largest {max(r.bytes for r in runs)} bytes "
              "(target < 2 MB)")
        for n, r in enumerate(runs, 1):
            print(f"  run {n}: {r.events:>5} events, {r.bytes:>8} bytes, "
                  f"input {r.input_bytes:>6} bytes")
        return 0 if stage == "closed" else 1
    finally:
        await driver.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_feed",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.scans < WINDOW:
        parser.error(f"--scans must be at least {WINDOW}")
    logs.configure("WARNING")
    print(f"bench.long_feed: db={args.db} scans={args.scans} "
          f"at {datetime.now(UTC):%H:%M:%S}; starting the stack", flush=True)
    try:
        with bench_stack(args.db, survey_after=1.0) as stack:
            return asyncio.run(drive(stack, args.scans, args.request_timeout))
    except StackFailed as exc:
        print(f"bench.long_feed: the stack did not start: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
