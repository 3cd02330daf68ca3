"""ComplaintWorkflow on the time-skipping server, with the real projection on both databases.

Default complaint deadlines (the standard policy has no `complaints` section): routing 2 h,
first reply 4 h, resolution 3 days after acceptance; the customer's satisfaction 3 days after
resolution.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from db.complaints import queries as repo
from db.escalations.models import EscalationRow
from db.notifications.models import OutboxRow
from tests.support.builders import STANDARD
from tests.support.polling import eventually
from tests.support.worker_harness import running_worker
from workflows.complaint.types import (
    ComplaintEventInput,
    ComplaintEventType,
    ComplaintInput,
    ComplaintStatus,
    ComplaintStep,
)
from workflows.complaint.workflow import ComplaintWorkflow
from workflows.escalation.types import EscalationState
from workflows.escalation.workflow import EscalationWorkflow
from workflows.ids import complaint_workflow_id
from workflows.order.types import BreachKind, Customer, Stage, Tier

SLACK = timedelta(minutes=1)
C = STANDARD.complaints


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, db_url: str,
                 task_queue: str) -> AsyncIterator[Client]:
    async with running_worker(ts_env.client, db_url, task_queue):
        yield ts_env.client


async def start(env: WorkflowEnvironment, client: Client, task_queue: str,
                order_id: str | None = "SO-1") -> WorkflowHandle:
    complaint_id = f"CP-{uuid.uuid4().hex[:8]}"
    inp = ComplaintInput(
        complaint_id=complaint_id, order_id=order_id, origin="api", category="delay",
        customer=Customer(id="C-88", name="Sanghong Apparel", tier=Tier.STANDARD,
                          email="buyer@example.com", language="en"),
        description="Two days late and nobody told us.", opened_at=await env.get_current_time(),
        actor="desk-li", source="operator", policy=STANDARD,
        order_stage=Stage.DELIVERED if order_id else None)
    return await client.start_workflow(ComplaintWorkflow.run, inp,
                                       id=complaint_workflow_id(complaint_id),
                                       task_queue=task_queue)


def ev(type_: ComplaintEventType, at: datetime, data: dict[str, Any] | None = None,
       event_id: str | None = None) -> ComplaintEventInput:
    data = data or {}
    digest = hashlib.sha256(json.dumps([str(type_), data], sort_keys=True).encode()).hexdigest()
    return ComplaintEventInput(event_id=event_id or f"ev-{uuid.uuid4().hex[:10]}", type=type_,
                               occurred_at=at, data=data, actor="desk-li", source="operator",
                               body_hash=digest)


async def send(env: WorkflowEnvironment, handle: WorkflowHandle, type_: ComplaintEventType,
               data: dict[str, Any] | None = None,
               event_id: str | None = None) -> ComplaintStep:
    e = ev(type_, await env.get_current_time(), data, event_id)
    return (await handle.execute_update(ComplaintWorkflow.apply_event, e, id=e.event_id)).step


async def status(handle: WorkflowHandle) -> ComplaintStatus:
    return await handle.query(ComplaintWorkflow.status)


async def rejected(call: Awaitable[Any]) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    assert isinstance(info.value.cause, ApplicationError)
    return str(info.value.cause.type)


def reply(promised_by: datetime) -> dict[str, Any]:
    return {"text": "Sorry: the truck broke down.", "plan": "Refund the freight.",
            "promised_by": promised_by.isoformat()}


async def until(probe: Callable[[], Awaitable[Any]]) -> Any:
    return await eventually(probe, timeout=30)


async def test_complaint_walks_every_step_to_closed(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str,
        sessions: sessionmaker[Session]) -> None:
    h = await start(ts_env, client, task_queue)
    complaint_id = (await status(h)).complaint_id
    # The row is written at start, before anyone posts anything.
    row = await until(lambda: _get(sessions, complaint_id))
    assert (row.step, row.origin, row.order_id) == ("accepted", "api", "SO-1")
    assert row.due_kind == "route"
    assert row.due_at == row.opened_at + timedelta(seconds=C.route_within)

    assert await send(ts_env, h, ComplaintEventType.ROUTED, {"department": "warehouse"}) \
        == ComplaintStep.ROUTED
    first_routed = (await status(h)).routed_at
    await ts_env.sleep(timedelta(minutes=20))
    # Re-routing before resolution moves the complaint, not the time it was first routed.
    await send(ts_env, h, ComplaintEventType.ROUTED,
               {"department": "transport", "category": "damage"})
    now = await ts_env.get_current_time()
    assert await send(ts_env, h, ComplaintEventType.FIRST_REPLY, reply(now + timedelta(days=2))) \
        == ComplaintStep.REPLIED
    await send(ts_env, h, ComplaintEventType.NOTE, {"text": "carrier confirmed"})
    assert await send(ts_env, h, ComplaintEventType.RESOLVED, {"text": "Freight refunded."}) \
        == ComplaintStep.RESOLVED
    s = await status(h)
    assert (s.department, s.category, s.routed_at) == ("transport", "damage", first_routed)
    assert s.due_kind == "satisfaction"
    assert s.due_at == s.satisfaction_requested_at + timedelta(seconds=C.satisfaction_within)
    assert await send(ts_env, h, ComplaintEventType.SATISFACTION,
                      {"score": 4, "comment": "quick"}) == ComplaintStep.CLOSED
    final = await h.result()
    assert final.step == ComplaintStep.CLOSED and final.breaches == []
    assert (final.due_kind, final.due_at) == (None, None)
    assert (final.satisfaction_outcome, final.satisfaction_score) == ("answered", 4)

    with sessions() as session:
        row = repo.get_complaint(session, complaint_id)
        assert row is not None and row.step == "closed" and row.breached is False
        assert row.first_reply_at is not None and row.resolved_at is not None
        assert row.first_reply_at - row.opened_at >= timedelta(minutes=20)  # KPI: time to reply
        assert (row.plan, row.satisfaction_score, row.satisfaction_comment) == (
            "Refund the freight.", 4, "quick")
        assert [e.type for e in repo.timeline(session, complaint_id)] == [
            "opened", "routed", "routed", "first_reply", "note", "resolved",
            "satisfaction_requested", "satisfaction", "closed"]
        told = {(o.event_type, o.channel, o.recipient) for o in session.scalars(
            select(OutboxRow).where(OutboxRow.notice_key.like(f"complaint:{complaint_id}:%")))}
    assert told == {("complaint.routed", "inbox", "warehouse"),
                    ("complaint.routed", "inbox", "transport"),
                    ("complaint.replied", "email", "buyer@example.com"),
                    ("complaint.satisfaction_requested", "email", "buyer@example.com")}


async def test_steps_out_of_order_and_repeated_events_are_rejected(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    h = await start(ts_env, client, task_queue, order_id=None)
    now = await ts_env.get_current_time()

    async def post(e: ComplaintEventInput) -> Any:
        return await h.execute_update(ComplaintWorkflow.apply_event, e, id=e.event_id)

    later = reply(now + timedelta(days=1))
    assert await rejected(post(ev(ComplaintEventType.FIRST_REPLY, now, later))) \
        == "invalid_transition"
    assert await rejected(post(ev(ComplaintEventType.SATISFACTION, now, {"score": 5}))) \
        == "invalid_transition"
    route = ev(ComplaintEventType.ROUTED, now, {"department": "sales"}, "route-1")
    await post(route)
    # Under the same update id the server answers a repeat itself; under another, the
    # validator knows the event id.
    assert (await post(route)).step == ComplaintStep.ROUTED
    assert await rejected(h.execute_update(ComplaintWorkflow.apply_event, route)) \
        == "duplicate_event"
    reused = ev(ComplaintEventType.ROUTED, now, {"department": "billing"}, "route-1")
    assert await rejected(h.execute_update(ComplaintWorkflow.apply_event, reused)) \
        == "event_id_reused"
    assert await rejected(post(ev(ComplaintEventType.ROUTED, now, {"department": "sales"}))) \
        == "invalid_transition"  # already there
    assert await rejected(post(ev(ComplaintEventType.FIRST_REPLY, now,
                                  reply(now - timedelta(hours=1))))) == "invalid_promise"
    assert await send(ts_env, h, ComplaintEventType.FIRST_REPLY, later) == ComplaintStep.REPLIED
    assert await rejected(post(ev(ComplaintEventType.FIRST_REPLY, now, later))) \
        == "invalid_transition"
    await send(ts_env, h, ComplaintEventType.RESOLVED, {"text": "done"})
    assert await rejected(post(ev(ComplaintEventType.ROUTED, now, {"department": "other"}))) \
        == "invalid_transition"  # no re-routing once resolved
    s = await status(h)
    assert (s.step, s.department, s.order_id) == (ComplaintStep.RESOLVED, "sales", None)


async def test_missed_first_reply_escalates_and_the_reply_clears_it(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str,
        sessions: sessionmaker[Session]) -> None:
    h = await start(ts_env, client, task_queue)
    complaint_id = (await status(h)).complaint_id
    await send(ts_env, h, ComplaintEventType.ROUTED, {"department": "transport"})
    await ts_env.sleep(timedelta(seconds=C.first_reply_within) + SLACK)

    s = await until(lambda: _breached(h))
    assert [(b.step.value, b.cleared_at) for b in s.breaches] == [("first_reply", None)]
    esc_id = f"esc-{complaint_id}-first_reply"
    assert s.breaches[0].escalation_id == esc_id
    escalation = client.get_workflow_handle(esc_id)
    esc = await escalation.query(EscalationWorkflow.status)
    assert (esc.kind, esc.subject, esc.order_id, esc.stage, esc.state) == (
        BreachKind.COMPLAINT_STEP_LATE, f"complaint:{complaint_id}", "SO-1", Stage.DELIVERED,
        EscalationState.OPEN)
    assert esc.due_at == s.opened_at + timedelta(seconds=C.first_reply_within)
    with sessions() as session:
        row = repo.get_complaint(session, complaint_id)
        assert row is not None and row.breached is True and row.due_kind == "first_reply"
        listed = [e.id for e in repo.escalations(session, complaint_id)]
        assert listed == [esc_id]

    now = await ts_env.get_current_time()
    await send(ts_env, h, ComplaintEventType.FIRST_REPLY, reply(now + timedelta(days=1)))
    s = await status(h)
    assert s.breaches[0].cleared_at is not None
    esc = await until(lambda: _resolved(escalation))
    assert esc.resolution_code == "condition_cleared"
    with sessions() as session:
        types = [e.type for e in repo.timeline(session, complaint_id)]
        assert types == ["opened", "routed", "step_late", "first_reply", "step_late_cleared"]
        stored = await until(lambda: _escalation_row(sessions, esc_id, "resolved"))
        assert stored.subject == f"complaint:{complaint_id}"


async def test_unanswered_satisfaction_closes_the_complaint_without_a_breach(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str,
        sessions: sessionmaker[Session]) -> None:
    h = await start(ts_env, client, task_queue)
    complaint_id = (await status(h)).complaint_id
    now = await ts_env.get_current_time()
    await send(ts_env, h, ComplaintEventType.ROUTED, {"department": "customer_service"})
    await send(ts_env, h, ComplaintEventType.FIRST_REPLY, reply(now + timedelta(hours=8)))
    await send(ts_env, h, ComplaintEventType.RESOLVED, {"text": "Apologised and credited."})
    resolved_at = (await status(h)).satisfaction_requested_at
    final = await h.result()  # the test server skips the 3-day window
    assert final.step == ComplaintStep.CLOSED
    assert (final.satisfaction_outcome, final.satisfaction_score) == ("unanswered", None)
    assert final.breaches == []
    assert final.closed_at >= resolved_at + timedelta(seconds=C.satisfaction_within)
    with sessions() as session:
        row = repo.get_complaint(session, complaint_id)
        assert row is not None
        assert (row.step, row.satisfaction_outcome, row.breached) == ("closed", "unanswered",
                                                                       False)
        assert [e.type for e in repo.timeline(session, complaint_id)][-2:] == [
            "satisfaction_unanswered", "closed"]


# -- probes -----------------------------------------------------------------------------------


async def _get(sessions: sessionmaker[Session], complaint_id: str) -> Any:
    with sessions() as session:
        return repo.get_complaint(session, complaint_id)


async def _breached(h: WorkflowHandle) -> ComplaintStatus | None:
    s = await status(h)
    return s if s.breaches else None


async def _resolved(h: WorkflowHandle) -> Any:
    s = await h.query(EscalationWorkflow.status)
    return s if s.state == EscalationState.RESOLVED else None


async def _escalation_row(sessions: sessionmaker[Session], esc_id: str, state: str) -> Any:
    with sessions() as session:
        row = session.get(EscalationRow, esc_id)
        return row if row is not None and row.state == state else None
