"""Record workflow histories for the replay test: `python -m tests.record_histories`.

Runs real scenarios on the time-skipping server and saves each history as JSON under
tests/histories/. Re-record only for a deliberate, patched change of workflow logic; keep the old
files so old histories keep being replayed.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.migrate import upgrade
from tests.builders import FULL_PICK, POD, RECEIPT, SHIP, SURVEY, event, order_input
from tests.conftest import running_worker
from worker import ensure_search_attributes
from workflows.escalation import EscalationWorkflow
from workflows.order import OrderWorkflow
from workflows.types import (
    AcknowledgeInput,
    EventType,
    ReassignInput,
    ResolveInput,
    SnoozeInput,
)

HISTORIES = Path(__file__).parent / "histories"
TASK_QUEUE = "record-histories"

Scenario = Callable[[WorkflowEnvironment, WorkflowHandle], Awaitable[None]]


async def _send(env: WorkflowEnvironment, h: WorkflowHandle, type_: EventType,
                data: dict | None = None, **extra: object) -> None:
    ev = event(type_, await env.get_current_time(), data, event_id=f"{type_}-{extra or 1}")
    await h.execute_update(OrderWorkflow.apply_event, ev, id=ev.event_id)


async def happy_path(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.PICKED, FULL_PICK)
    await _send(env, h, EventType.SHIPPED, SHIP)
    await _send(env, h, EventType.TRACKING_SCAN, {"location": "Hub", "status": "departed"})
    await _send(env, h, EventType.DELIVERED, POD)
    await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await env.sleep(timedelta(days=1, minutes=1))
    await _send(env, h, EventType.SURVEY_RESPONSE, SURVEY)
    await h.result()


async def breaches_then_cancel(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    await env.sleep(timedelta(hours=25))
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.NOTE, {"text": "stock check"})
    await _send(env, h, EventType.CANCELLED, {"reason": "customer withdrew"})
    await h.result()


async def transit_trouble_and_unanswered_survey(env: WorkflowEnvironment,
                                                h: WorkflowHandle) -> None:
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.PICKED, {"lines": [{"sku": "SKU-1", "qty": 10}]})
    await _send(env, h, EventType.SHIPPED, SHIP)
    await env.sleep(timedelta(hours=13))
    late = (await env.get_current_time()) + timedelta(days=30)
    await _send(env, h, EventType.TRACKING_SCAN,
                {"location": "Hub", "status": "delayed", "eta": late.isoformat()}, n=2)
    await _send(env, h, EventType.DELIVERED, {**POD, "condition": "damaged"})
    await env.sleep(timedelta(days=8))
    await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await h.result()


async def _record_ladders(env: WorkflowEnvironment, h: WorkflowHandle, name: str) -> None:
    """Save the escalation ladders the scenario opened, once each has finished."""
    state = await h.query(OrderWorkflow.state)
    for breach in state.breaches:
        ladder = env.client.get_workflow_handle(breach.escalation_id)
        await ladder.result()
        history = await ladder.fetch_history()
        (HISTORIES / f"{name}.ladder-{breach.id}.json").write_text(history.to_json())


async def ladder_climbs_then_resolved(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    await env.sleep(timedelta(hours=24, minutes=31))  # confirm_late, then L1 unacknowledged
    ladder = env.client.get_workflow_handle(
        (await h.query(OrderWorkflow.state)).breaches[0].escalation_id)
    await ladder.execute_update(EscalationWorkflow.acknowledge, AcknowledgeInput("sup", "ok"))
    await ladder.execute_update(EscalationWorkflow.reassign, ReassignInput("sup", "desk-2"))
    until = await env.get_current_time() + timedelta(hours=1)
    await ladder.execute_update(EscalationWorkflow.snooze, SnoozeInput("sup", until))
    await env.sleep(timedelta(hours=10))
    await ladder.execute_update(EscalationWorkflow.resolve,
                                ResolveInput("mgr", "customer_informed", "called"))
    await _send(env, h, EventType.CANCELLED, {"reason": "customer withdrew"})
    await h.result()


async def shortage_calls_and_receipt_versions(env: WorkflowEnvironment,
                                              h: WorkflowHandle) -> None:
    """Issue 4's order paths: a short pick decided partial, a phone follow-up retried, a
    receipt replaced by a second version (recorded with the exceptions patch)."""
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.PICKED, {"lines": [{"sku": "SKU-1", "qty": 8},
                                                     {"sku": "SKU-2", "qty": 4}]})
    await _send(env, h, EventType.SHORTAGE_DECISION, {
        "decision": "partial", "decided_by": "Ms Zhang", "lines": [{"sku": "SKU-1", "qty": 8}]})
    await _send(env, h, EventType.SHIPPED, SHIP)
    await _send(env, h, EventType.DELIVERY_EXCEPTION, {"reason": "weather", "text": "storm"})
    await _send(env, h, EventType.DELIVERED, POD)
    await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await _send(env, h, EventType.RECEIPT_RETURNED,
                {"document": {"ref": "archive:sha256:" + "b" * 64, "sha256": "b" * 64}}, n=2)
    await env.sleep(timedelta(days=1, minutes=1))
    await _send(env, h, EventType.FOLLOW_UP_CALL, {"outcome": "no_answer"})
    await env.sleep(timedelta(hours=4, minutes=1))
    await _send(env, h, EventType.FOLLOW_UP_CALL, {"outcome": "answered", "goods_ok": True,
                "scores": {"timeliness": 4, "completeness": 5, "courtesy": 5}}, n=2)
    await h.result()


SCENARIOS: dict[str, Scenario] = {
    "shortage_calls_and_receipt_versions": shortage_calls_and_receipt_versions,
    "happy_path": happy_path,
    "breaches_then_cancel": breaches_then_cancel,
    "transit_trouble_and_unanswered_survey": transit_trouble_and_unanswered_survey,
    "ladder_climbs_then_resolved": ladder_climbs_then_resolved,
}


async def main() -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=shutil.which("temporal-test-server")
        or str(Path(sys.executable).parent / "temporal-test-server"))
    await ensure_search_attributes(env.client, "default")
    HISTORIES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/record.db"
        upgrade(url)
        async with running_worker(env.client, url, TASK_QUEUE):
            # `python -m tests.record_histories NAME...` records only those (keep old files).
            chosen = sys.argv[1:] or list(SCENARIOS)
            for name, scenario in ((n, SCENARIOS[n]) for n in chosen):
                inp = order_input(await env.get_current_time(), order_id=f"SO-{name}")
                h = await env.client.start_workflow(OrderWorkflow.run, inp, id=f"order-{name}",
                                                    task_queue=TASK_QUEUE)
                await scenario(env, h)
                history = await h.fetch_history()
                (HISTORIES / f"{name}.json").write_text(history.to_json())
                await _record_ladders(env, h, name)
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
