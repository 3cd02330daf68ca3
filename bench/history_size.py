"""How big an order's history is, Waybill against the skeleton (bench/skeleton.py).

Starts the same stack as `bench.throughput` (bench/stack.py), walks one happy-path order and
one order with `--scans` tracking scans (default 200) through each system, one after the
other, then reads each closed order's history: its events, its bytes as JSON (the history's
protobuf JSON, as `tests/histories/` stores it) and the server's own size (describe's
`history_size_bytes`, what Temporal's 10/50 MiB limits count). Prints a table with
Waybill/skeleton ratios and, with `--json`, the figures as JSON. Targets (issue 16): bytes on
the server at most 1.5x the skeleton's on both walks.

    .venv/bin/python -m bench.history_size                # happy path and 200 scans
    .venv/bin/python -m bench.history_size --scans 50 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from temporalio.client import Client

import logs
from bench.drivers import STEPS, SURVEY, Driver, Failed, SkeletonDriver, WaybillDriver
from bench.stack import Stack, StackFailed, bench_stack
from workflows.ids import order_workflow_id

TARGET_RATIO = 1.5  # bytes on the server, Waybill over the skeleton


@dataclass
class Size:
    system: str
    walk: str
    events: int
    json_bytes: int
    server_bytes: int


async def walk(driver: Driver, order_id: str, scans: int) -> None:
    """Create, confirm, pick, ship, `scans` tracking scans, deliver, receipt, survey: closed."""
    await driver.create(order_id)
    for step, type_, data in STEPS:
        if type_ == "tracking_scan":
            for k in range(1, scans + 1):
                await driver.event(order_id, f"{order_id}.scan-{k}", type_,
                                   {"location": f"hub {k}", "status": "departed"})
            continue
        await driver.event(order_id, f"{order_id}.{step}", type_, data)
    await driver.receipt(order_id)
    give_up = time.monotonic() + driver.survey_after + driver.timeout
    while not await driver.survey_due(order_id):
        if time.monotonic() > give_up:
            raise Failed("survey never fell due")
        await asyncio.sleep(0.2)
    stage = await driver.event(order_id, f"{order_id}.survey", "survey_response", SURVEY)
    if stage != "closed":
        raise Failed(f"ended in stage {stage}")


async def measure(client: Client, workflow_id: str, system: str, walk_name: str,
                  dump: Path | None) -> Size:
    handle = client.get_workflow_handle(workflow_id)
    await handle.result()  # the last projection is in the history once the run has closed
    history = await handle.fetch_history()
    desc = await handle.describe()
    server = desc.raw_description.workflow_execution_info.history_size_bytes
    if dump is not None:  # to see where the bytes go
        dump.mkdir(parents=True, exist_ok=True)
        (dump / f"{system}-{walk_name.replace(' ', '-')}.json").write_text(history.to_json())
    return Size(system=system, walk=walk_name, events=len(history.events),
                json_bytes=len(history.to_json().encode()), server_bytes=server)


async def run(stack: Stack, scans: int, timeout: float, dump: Path | None) -> list[Size]:
    client = await Client.connect(stack.temporal_target)
    drivers: list[tuple[Driver, Callable[[str], str]]] = [
        (WaybillDriver(stack.api_url, stack.key, stack.survey_after, timeout), order_workflow_id),
        (SkeletonDriver(client, stack.skeleton_queue, stack.survey_after, timeout),
         lambda order_id: f"skeleton-{order_id}")]
    run_id = uuid.uuid4().hex[:6]
    sizes = []
    for driver, workflow_id in drivers:
        for walk_name, n in (("happy path", 1), (f"{scans} scans", scans)):
            order_id = f"H{run_id}-{driver.name[0]}-{n}"
            await walk(driver, order_id, n)
            sizes.append(await measure(client, workflow_id(order_id), driver.name, walk_name,
                                       dump))
        await driver.aclose()
    return sizes


def table(sizes: list[Size]) -> list[str]:
    lines = ["| walk | system | events | JSON bytes | server bytes |",
             "|---|---|---|---|---|"]
    lines += [f"| {s.walk} | {s.system} | {s.events:,} | {s.json_bytes:,} | "
              f"{s.server_bytes:,} |" for s in sizes]
    by = {(s.system, s.walk): s for s in sizes}
    met = True
    for walk_name in dict.fromkeys(s.walk for s in sizes):
        w, k = by.get(("waybill", walk_name)), by.get(("skeleton", walk_name))
        if w is None or k is None:
            continue
        ratio = w.server_bytes / k.server_bytes
        met = met and ratio <= TARGET_RATIO
        lines.append(f"| {walk_name} | ratio | {w.events / k.events:.2f} | "
                     f"{w.json_bytes / k.json_bytes:.2f} | {ratio:.2f} |")
    lines.append(f"target (server bytes <= {TARGET_RATIO}x the skeleton's on every walk): "
                 f"{'met' if met else 'NOT met'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history_size",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--dump", type=Path, help="write each history as JSON in this folder")
    args = parser.parse_args(argv)
    logs.configure("WARNING")
    try:
        with bench_stack("sqlite", 1.0) as stack:
            sizes = asyncio.run(run(stack, args.scans, args.request_timeout, args.dump))
    except StackFailed as exc:
        print(f"bench.history_size: the stack did not start: {exc}", file=sys.stderr)
        return 1
    print("\n".join(table(sizes)), flush=True)
    if args.json:
        print(json.dumps([asdict(s) for s in sizes], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
