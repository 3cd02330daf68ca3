"""Lean projections (LEAN_PROJECTION_PATCH): the history does not grow with the order's state.

An order with two SLA breaches and 30 tracking scans on the time-skipping server, projected by
the real worker into SQLite: the projections run as local activities, so what the history gains
per scan stays the same however many scans came before, yet the read model holds every scan;
the breached search attribute is written once, however many breaches follow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, session_factory
from db.orders.models import Order
from tests.support.builders import FULL_PICK, SHIP
from tests.support.order_workflow_harness import send, start
from tests.support.order_workflow_harness import state as order_state
from tests.support.worker_harness import running_worker
from workflows.order.types import EventType

SCANS = 30


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, sqlite_url: str,
                 task_queue: str) -> AsyncIterator[Client]:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        yield ts_env.client


def _read_model(url: str, order_id: str) -> tuple[int, list[str]]:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            row = session.get(Order, order_id)
            assert row is not None
            return row.projection_seq, [scan["location"] for scan in row.detail["scans"]]
    finally:
        engine.dispose()


async def test_payloads_stay_small_while_the_read_model_holds_every_scan(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str, sqlite_url: str) -> None:
    h = await start(ts_env, client, task_queue)
    await ts_env.sleep(timedelta(hours=25))  # confirm_late
    await send(ts_env, h, EventType.CONFIRMED)
    await send(ts_env, h, EventType.PICKED, FULL_PICK)
    await send(ts_env, h, EventType.SHIPPED, SHIP)
    await ts_env.sleep(timedelta(hours=13))  # scan_gap
    for n in range(1, SCANS + 1):
        await send(ts_env, h, EventType.TRACKING_SCAN,
                   {"location": f"Hub {n}", "status": "departed"})

    events = (await h.fetch_history()).events
    scheduled = [e.activity_task_scheduled_event_attributes.activity_type.name for e in events
                 if e.HasField("activity_task_scheduled_event_attributes")]
    assert not [name for name in scheduled if name.startswith("project_")]
    markers = [e for e in events if e.HasField("marker_recorded_event_attributes")
               and e.marker_recorded_event_attributes.marker_name == "core_local_activity"]
    state = await order_state(h)
    assert len(markers) == state.seq  # one local projection per write

    # Bytes the history gains per scan (from its update to the next), first against last.
    accepted = [i for i, e in enumerate(events)
                if e.HasField("workflow_execution_update_accepted_event_attributes")]
    per_scan = [sum(e.ByteSize() for e in events[a:b])
                for a, b in zip(accepted[-SCANS:], [*accepted[-SCANS + 1:], len(events)],
                               strict=True)]
    assert per_scan[-2] <= per_scan[0] + 64, per_scan

    upserts = [e.upsert_workflow_search_attributes_event_attributes for e in events
               if e.HasField("upsert_workflow_search_attributes_event_attributes")]
    breached = [u for u in upserts if "WaybillSlaBreached" in u.search_attributes.indexed_fields]
    assert len(breached) == 1  # two breaches, one write
    assert [b.kind.value for b in state.breaches] == ["confirm_late", "scan_gap"]

    seq, locations = _read_model(sqlite_url, state.order_id)
    assert seq == state.seq
    assert locations == [f"Hub {n}" for n in range(1, SCANS + 1)]
