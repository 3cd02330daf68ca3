"""Record workflow histories for the replay test: `python -m tests.record_histories`.

Runs real scenarios on the time-skipping server and saves each history as JSON under
tests/histories/. Re-record only for a deliberate, patched change of workflow logic; keep the old
files so old histories keep being replayed. Recorded as Waybill writes payloads, encrypted
(with the tests' key, tests/support/codec.py): the replay test then reads sealed payloads too.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.migrate import upgrade
from shared.temporal import ensure_search_attributes
from tests.support.builders import (
    FULL_PICK,
    POD,
    RECEIPT,
    SHIP,
    STANDARD,
    SURVEY,
    event,
    order_input,
)
from tests.support.codec import TEST_CONVERTER
from tests.support.worker_harness import running_worker
from workflows.claim.types import ClaimEventInput, ClaimEventType
from workflows.claim.workflow import ClaimWorkflow
from workflows.complaint.types import ComplaintEventInput, ComplaintEventType
from workflows.complaint.workflow import ComplaintWorkflow
from workflows.escalation.types import AcknowledgeInput, ReassignInput, ResolveInput, SnoozeInput
from workflows.escalation.workflow import EscalationWorkflow
from workflows.order import search
from workflows.order.types import EventType, FollowUpStatus
from workflows.order.workflow import OrderWorkflow

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


async def scans_running_late(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    """A feed of scans (one shuffled), a late-risk ETA and a scan gap."""
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.PICKED, FULL_PICK)
    await _send(env, h, EventType.SHIPPED, SHIP)
    await env.sleep(timedelta(hours=13))
    late = (await env.get_current_time()) + timedelta(days=30)
    for n, (hours_ago, status) in enumerate([(2, "departed"), (3, "arrived"), (1, "delayed")]):
        at = (await env.get_current_time()) - timedelta(hours=hours_ago)
        ev = event(EventType.TRACKING_SCAN, at, {"location": f"Hub {n}", "status": status,
                                                  "eta": late.isoformat()}, event_id=f"scan-{n}")
        await h.execute_update(OrderWorkflow.apply_event, ev, id=ev.event_id)
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
    # Still not confirmed: resolving is a waiver (issue 18 §2); the cancellation clears it.
    await ladder.execute_update(EscalationWorkflow.resolve,
                                ResolveInput("mgr", "customer_informed", "called", waive=True,
                                             reason="customer withdraws"))
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


async def damage_claim_paid_and_complaint(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    """Damaged at delivery: a claim run to payout (its contact deadline missed first), and a
    low survey score opening a complaint run to closed; the order closes after the claim."""
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.PICKED, FULL_PICK)
    await _send(env, h, EventType.SHIPPED, SHIP)
    await _send(env, h, EventType.DELIVERED, {**POD, "condition": "damaged"})
    order = await h.query(OrderWorkflow.state)
    claim = env.client.get_workflow_handle(f"claim-{order.claims[0].claim_id}")
    await env.sleep(timedelta(hours=5))  # past contact_within: the claim escalates

    async def claim_event(type_: ClaimEventType, data: dict, role: str = "operator") -> None:
        at = await env.get_current_time()
        event_id = f"{type_}-{len(data)}-{data.get('kind', '')}"
        await claim.execute_update(ClaimWorkflow.apply, ClaimEventInput(
            event_id=event_id, type=type_, data=data, actor="desk", actor_role=role,
            source=role, body_hash=event_id, occurred_at=at), id=event_id)

    await claim_event(ClaimEventType.CUSTOMER_CONTACTED, {"note": "called the buyer"})
    for kind in ("accident_report", "delivery_note"):
        await claim_event(ClaimEventType.DOCUMENT_ADDED, {"kind": kind, "sha256": "c" * 64})
    await claim_event(ClaimEventType.LIABILITY_DECIDED, {"liability": "carrier"})
    await claim_event(ClaimEventType.COMPENSATION_SET, {
        "amount_minor": 90000, "currency": "CNY", "weight_kg": 30,
        "override": {"reason": "fragile goods, agreed with the carrier"}}, role="supervisor")
    await claim_event(ClaimEventType.PAYOUT_ISSUED, {"voucher": "PV-2026-0042"})
    await claim.result()

    await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await env.sleep(timedelta(days=1, minutes=1))
    await _send(env, h, EventType.SURVEY_RESPONSE, {
        "goods_ok": False, "scores": {"timeliness": 4, "completeness": 2, "courtesy": 4},
        "suggestions": "pack fragile goods better", "channel": "web"})
    await h.result()
    order = await h.query(OrderWorkflow.state)
    complaint = env.client.get_workflow_handle(f"complaint-{order.complaints[0]}")
    for type_, data in ((ComplaintEventType.ROUTED, {"department": "warehouse"}),
                        (ComplaintEventType.FIRST_REPLY, {
                            "text": "sorry", "plan": "repack and resend",
                            "promised_by": (await env.get_current_time()
                                            + timedelta(days=2)).isoformat()}),
                        (ComplaintEventType.RESOLVED, {"text": "resent, packed in crates"}),
                        (ComplaintEventType.SATISFACTION, {"score": 4})):
        await complaint.execute_update(ComplaintWorkflow.apply_event, ComplaintEventInput(
            event_id=type_.value, type=type_, occurred_at=await env.get_current_time(),
            data=data, actor="desk", source="operator", body_hash=type_.value), id=type_.value)
    await complaint.result()
    for child in (claim, complaint):
        history = await child.fetch_history()
        (HISTORIES / f"damage_claim_paid_and_complaint.{child.id.split('-')[0]}.json") \
            .write_text(history.to_json())


async def backlog_caught_up(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    """An order posted three days after it was received (BACKDATED), then its steps moments
    apart with their own times (recorded with the catch-up patch): the late confirmation pages
    nobody; the scans that never came breach once the grace has passed."""
    received = await env.get_current_time() - BACKDATED["backlog_caught_up"]
    for type_, hours, data in ((EventType.CONFIRMED, 30, None), (EventType.PICKED, 40, FULL_PICK),
                               (EventType.SHIPPED, 50, SHIP)):
        ev = event(type_, received + timedelta(hours=hours), data, event_id=f"{type_}-1")
        await h.execute_update(OrderWorkflow.apply_event, ev, id=ev.event_id)
    await env.sleep(timedelta(minutes=11))
    await _send(env, h, EventType.DELIVERED, POD)
    await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await env.sleep(timedelta(days=1, minutes=1))
    await _send(env, h, EventType.SURVEY_RESPONSE, SURVEY)
    await h.result()


async def alarms_breach_then_close(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    """Recorded with the lean-timers patch: a deadline's alarm rings (confirm late), events
    move the next deadline on, the order closes."""
    await env.sleep(timedelta(hours=3))
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.PICKED, FULL_PICK)
    await _send(env, h, EventType.SHIPPED, SHIP)
    await _send(env, h, EventType.DELIVERED, POD)
    await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await env.sleep(timedelta(days=1, minutes=1))
    await _send(env, h, EventType.SURVEY_RESPONSE, SURVEY)
    await h.result()


# Scenarios whose order reached Waybill this long after it was received.
BACKDATED = {"backlog_caught_up": timedelta(days=3)}

async def customer_pause_then_delivered(env: WorkflowEnvironment, h: WorkflowHandle) -> None:
    """issue 19 §5: the consignee is out and reschedules; the delivery deadline pauses, runs on
    at the customer's time, and the goods come after."""
    await _send(env, h, EventType.CONFIRMED)
    await _send(env, h, EventType.PICKED, FULL_PICK)
    await _send(env, h, EventType.SHIPPED, SHIP)
    until = (await env.get_current_time()) + timedelta(days=2)
    await _send(env, h, EventType.DELIVERY_EXCEPTION, {
        "reason": "consignee_absent", "text": "nobody home", "rescheduled_for": until.isoformat()})
    await env.sleep(timedelta(days=2, minutes=1))
    await _send(env, h, EventType.DELIVERED, POD)
    await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await env.sleep(timedelta(days=1, minutes=1))
    await _send(env, h, EventType.SURVEY_RESPONSE, SURVEY)
    await h.result()


SCENARIOS: dict[str, Scenario] = {
    "backlog_caught_up": backlog_caught_up,
    "damage_claim_paid_and_complaint": damage_claim_paid_and_complaint,
    "shortage_calls_and_receipt_versions": shortage_calls_and_receipt_versions,
    "happy_path": happy_path,
    "breaches_then_cancel": breaches_then_cancel,
    "transit_trouble_and_unanswered_survey": transit_trouble_and_unanswered_survey,
    "ladder_climbs_then_resolved": ladder_climbs_then_resolved,
    "alarms_breach_then_close": alarms_breach_then_close,
    # Recorded with DELIVERY_WORKFLOWS_PATCH: the projections start the deliveries.
    "shortage_deliveries_as_workflows": shortage_calls_and_receipt_versions,
    # Recorded with CURRENT_PATCH: projections send what changed (scans, breaches, a ladder).
    "scans_running_late_sending_changes": scans_running_late,
    "claim_and_complaint_sending_changes": damage_claim_paid_and_complaint,
    # Recorded with PAUSES_PATCH (workflows/order/pauses.py): a pause and its resumption.
    "customer_pause_then_delivered": customer_pause_then_delivered,
}


# Recorded on the dev server (the time-skipping server reports no history size): an order whose
# history limit is lowered so its scans take it through several runs, continued as new with
# CONTINUE_AS_NEW_PATCH; one file per run (`<name>.run<N>.json`), each replayed on its own.
CONTINUED = "long_feed_continued"


async def record_continued() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal")
        or str(Path(sys.executable).parent / "temporal"),
        search_attributes=list(search.ALL), ui=False, dev_server_log_level="error",
        data_converter=TEST_CONVERTER)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/record.db"
        upgrade(url)
        async with running_worker(env.client, url, TASK_QUEUE):
            policy = replace(STANDARD, survey_after=1)  # the survey falls due at once
            inp = replace(order_input(datetime.now(UTC), order_id=f"SO-{CONTINUED}",
                                      policy=policy), history_limit_bytes=40_000)
            h = await env.client.start_workflow(OrderWorkflow.run, inp,
                                                id=f"order-{inp.order_id}",
                                                task_queue=TASK_QUEUE)
            for type_, data in ((EventType.CONFIRMED, None), (EventType.PICKED, FULL_PICK),
                                (EventType.SHIPPED, SHIP)):
                await _send(env, h, type_, data)
            for n in range(24):
                ev = event(EventType.TRACKING_SCAN, datetime.now(UTC),
                           {"location": f"Hub {n}", "status": "departed"}, event_id=f"scan-{n}")
                await h.execute_update(OrderWorkflow.apply_event, ev, id=ev.event_id)
            await _send(env, h, EventType.DELIVERED, POD)
            await _send(env, h, EventType.RECEIPT_RETURNED, RECEIPT)
            while (await h.query(OrderWorkflow.state)).survey.status != FollowUpStatus.DUE:
                await asyncio.sleep(0.2)
            await _send(env, h, EventType.SURVEY_RESPONSE, SURVEY)
            await h.result()
            run_id: str | None = (await h.describe()).run_id
            runs = []
            while run_id:
                history = await env.client.get_workflow_handle(
                    h.id, run_id=run_id).fetch_history()
                runs.append(history)
                started = history.events[0].workflow_execution_started_event_attributes
                run_id = started.continued_execution_run_id or None
            for n, history in enumerate(reversed(runs), 1):
                (HISTORIES / f"{CONTINUED}.run{n}.json").write_text(history.to_json())
    await env.shutdown()


# Issue 19 §4: a bulk import over two runs (continue-as-new) with a batch retried, on the
# workflow test's recording runner: `python -m tests.record_histories import_batches`.
IMPORTS = "import_batches"


async def record_import() -> None:
    from tests.support.imports_workflow import RecordingRunner, run

    env = await WorkflowEnvironment.start_time_skipping(data_converter=TEST_CONVERTER,
        test_server_existing_path=shutil.which("temporal-test-server")
        or str(Path(sys.executable).parent / "temporal-test-server"))
    handle = await run(env, RecordingRunner(fail_first={2}), total=5)
    run_id: str | None = (await handle.describe()).run_id  # the latest run
    runs = []
    while run_id:
        history = await env.client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        runs.append(history)
        started = history.events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id or None
    for n, history in enumerate(reversed(runs), 1):
        (HISTORIES / f"{IMPORTS}.run{n}.json").write_text(history.to_json())
    await env.shutdown()


async def main() -> None:
    if sys.argv[1:] == [CONTINUED]:
        await record_continued()
        return
    if sys.argv[1:] == [IMPORTS]:
        await record_import()
        return
    env = await WorkflowEnvironment.start_time_skipping(data_converter=TEST_CONVERTER,
        test_server_existing_path=shutil.which("temporal-test-server")
        or str(Path(sys.executable).parent / "temporal-test-server"))
    await ensure_search_attributes(env.client, "default", search.ALL)
    HISTORIES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/record.db"
        upgrade(url)
        async with running_worker(env.client, url, TASK_QUEUE):
            # `python -m tests.record_histories NAME...` records only those (keep old files).
            chosen = sys.argv[1:] or list(SCENARIOS)
            for name, scenario in ((n, SCENARIOS[n]) for n in chosen):
                now = await env.get_current_time()
                inp = order_input(now, order_id=f"SO-{name}")
                if name in BACKDATED:
                    inp = replace(inp, received_at=now - BACKDATED[name], recorded_at=now)
                # The order's id as the API names it: claims signal `order-<order_id>`.
                h = await env.client.start_workflow(OrderWorkflow.run, inp,
                                                    id=f"order-{inp.order_id}",
                                                    task_queue=TASK_QUEUE)
                await scenario(env, h)
                history = await h.fetch_history()
                (HISTORIES / f"{name}.json").write_text(history.to_json())
                await _record_ladders(env, h, name)
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
