"""Where a round's time goes (issue 16 §3 and its targets): CPU seconds per closed order by
process, and the size of one order's history on the server, Waybill against the skeleton.

CPU comes from /proc (user + system time of each process of the stack, and of the bench's own
client), read before and after a round; the rounds never overlap, so the Temporal server's share
is the round's own. History bytes are the serialized size of each event as the server stores it.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client
from temporalio.service import RPCError

_TICK = os.sysconf("SC_CLK_TCK")
CLIENT = "client"  # the bench process: the HTTP client (Waybill) or the Temporal client (skeleton)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14, 15)


def _own() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {**{name: cpu_seconds(pid) for name, pid in pids.items()}, CLIENT: _own()}


def cpu_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


# Which processes count for which system (the server and the client count for both).
OWN_PROCESSES = {"waybill": ("api", "worker"), "skeleton": ("skeleton-worker",)}
SHARED_PROCESSES = ("temporal", CLIENT)


def system_cpu(system: str, cpu: dict[str, float]) -> dict[str, float]:
    return {name: cpu.get(name, 0.0) for name in (*OWN_PROCESSES[system], *SHARED_PROCESSES)}


@dataclass
class HistorySize:
    events: int = 0
    bytes: int = 0
    payload_bytes: dict[str, int] = field(default_factory=dict)  # by event type


async def history_size(client: Client, workflow_id: str) -> HistorySize:
    """Events and bytes of a workflow's history as the server stores it."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    if dump := os.environ.get("WAYBILL_BENCH_HISTORY_DIR"):  # to read what the bytes are
        (Path(dump) / f"{workflow_id}.json").write_text(history.to_json())
    size = HistorySize()
    for event in history.events:
        size.events += 1
        size.bytes += event.ByteSize()
        kind = event.WhichOneof("attributes") or "?"
        size.payload_bytes[kind] = size.payload_bytes.get(kind, 0) + event.ByteSize()
    return size


# Orders per round whose histories are read. One order's event count varies by up to a tenth
# with how the server happened to batch its workflow tasks (the skeleton's happy path: 97 to
# 106 events), so a round reports the order with the median count of a few.
HISTORY_SAMPLE = 5


async def median_history(client: Client, workflow_ids: list[str]) -> HistorySize | None:
    """The history with the median event count among these workflows (those that exist)."""
    sizes = []
    for workflow_id in workflow_ids:
        try:
            sizes.append(await history_size(client, workflow_id))
        except RPCError:  # an order that never started
            continue
    sizes.sort(key=lambda s: (s.events, s.bytes))
    return sizes[len(sizes) // 2] if sizes else None


def cpu_line(system: str, cpu: dict[str, float], closed: int) -> str:
    mine = system_cpu(system, cpu)
    if not closed:
        return "  cpu: no order closed"
    parts = "  ".join(f"{name} {seconds / closed * 1000:5.0f}" for name, seconds in mine.items())
    return f"  cpu ms/order: {parts}  total {sum(mine.values()) / closed * 1000:5.0f}"


def history_line(size: HistorySize) -> str:
    top = sorted(size.payload_bytes.items(), key=lambda kv: -kv[1])[:4]
    biggest = ", ".join(f"{kind.removesuffix('_event_attributes')} {n}" for kind, n in top)
    return (f"  history (median of the first {HISTORY_SAMPLE} orders): {size.events} events, "
            f"{size.bytes} bytes (largest: {biggest})")
