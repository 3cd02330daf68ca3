"""ClaimWorkflow on the time-skipping server: steps, deadlines and their escalations, the
compensation standard, and what the order and the customer are told.

Standard policy claim deadlines: contact 4h, evidence 3d, liability 5d, compensation 3d,
payout 5d (each from the step before); 2000 minor units (20.00 CNY) per kg.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from db.claims import queries as repo
from db.engine import make_engine, session_factory
from db.notifications.models import OutboxRow
from tests.support.builders import STANDARD
from tests.support.order_stub import OrderStubWorkflow
from tests.support.worker_harness import running_worker
from workflows.claim.types import (
    ClaimCause,
    ClaimClosed,
    ClaimEventInput,
    ClaimEventResult,
    ClaimEventType,
    ClaimInput,
    ClaimOutcome,
    ClaimState,
    ClaimStatus,
    ClaimStep,
)
from workflows.claim.workflow import ClaimWorkflow
from workflows.escalation.types import EscalationState
from workflows.escalation.workflow import EscalationWorkflow
from workflows.ids import claim_workflow_id
from workflows.order.types import BreachKind, Customer, LineState, Stage, Tier

SLACK = timedelta(minutes=1)
CLAIMS = STANDARD.claims


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(sqlite_url)
    yield session_factory(engine)
    engine.dispose()


def claim_input(now: datetime, notify_order: bool = False,
                cause: ClaimCause = ClaimCause.DAMAGED, weight_kg: float | None = None,
                declared_value_minor: int | None = None) -> ClaimInput:
    order_id = f"SO-{uuid.uuid4().hex[:8]}"
    return ClaimInput(
        claim_id=f"{order_id}-CL1", order_id=order_id, cause=cause, origin="delivery",
        opened_at=now, actor="pod-app", source="integration",
        customer=Customer(id="C-88", name="Sanghong Apparel", tier=Tier.STANDARD,
                          email="buyer@example.com", language="en"),
        order_stage=Stage.DELIVERED, policy=STANDARD,
        lines=[LineState("SKU-1", 10, 10, 10, 8)], description="two cartons crushed",
        notify_order=notify_order, weight_kg=weight_kg,
        declared_value_minor=declared_value_minor)


async def start(env: WorkflowEnvironment, task_queue: str,
                **kw: Any) -> tuple[WorkflowHandle[ClaimWorkflow, ClaimStatus], ClaimInput]:
    inp = claim_input(await env.get_current_time(), **kw)
    handle = await env.client.start_workflow(ClaimWorkflow.run, inp,
                                             id=claim_workflow_id(inp.claim_id),
                                             task_queue=task_queue)
    return handle, inp


def ev(type_: ClaimEventType, data: dict[str, Any] | None = None, role: str = "operator",
       event_id: str | None = None) -> ClaimEventInput:
    data = data or {}
    digest = hashlib.sha256(json.dumps([type_, data], sort_keys=True).encode()).hexdigest()
    return ClaimEventInput(event_id=event_id or f"ce-{uuid.uuid4().hex[:10]}", type=type_,
                           data=data, actor=f"test-{role}", actor_role=role,
                           source=role, body_hash=digest)


def doc(kind: str) -> ClaimEventInput:
    sha = hashlib.sha256(kind.encode()).hexdigest()
    return ev(ClaimEventType.DOCUMENT_ADDED, {"kind": kind, "sha256": sha,
                                              "filename": f"{kind}.pdf",
                                              "content_type": "application/pdf", "size": 10})


def compensation(amount: int, **extra: Any) -> dict[str, Any]:
    return {"amount_minor": amount, "currency": "CNY", **extra}


async def apply(handle: WorkflowHandle, event: ClaimEventInput) -> ClaimEventResult:
    return await handle.execute_update(ClaimWorkflow.apply, event, id=event.event_id)


async def rejected(handle: WorkflowHandle, event: ClaimEventInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await apply(handle, event)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def details(error: ApplicationError) -> dict[str, Any]:
    return error.details[0] if error.details else {}


async def status(handle: WorkflowHandle) -> ClaimStatus:
    return await handle.query(ClaimWorkflow.status)


async def to_liability(handle: WorkflowHandle, liability: str) -> None:
    await apply(handle, ev(ClaimEventType.CUSTOMER_CONTACTED, {"channel": "phone"}))
    await apply(handle, doc("accident_report"))
    await apply(handle, doc("delivery_note"))
    await apply(handle, ev(ClaimEventType.LIABILITY_DECIDED, {"liability": liability}))


def outbox(sessions: sessionmaker[Session], order_id: str) -> list[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.order_id == order_id)
                               .order_by(OutboxRow.event_type, OutboxRow.channel))
        return [(r.event_type, r.channel, r.recipient) for r in rows]


def bodies(sessions: sessionmaker[Session], order_id: str, event_type: str) -> list[str]:
    with sessions() as session:
        return [r.body for r in session.scalars(select(OutboxRow).where(
            OutboxRow.order_id == order_id, OutboxRow.event_type == event_type))]


async def test_claim_runs_through_every_step_to_payout_and_closes(
        ts_env: WorkflowEnvironment, db_url: str, task_queue: str) -> None:
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    async with running_worker(ts_env.client, db_url, task_queue):
        handle, inp = await start(ts_env, task_queue, weight_kg=20)
        s = await status(handle)
        assert (s.step, s.awaiting) == (ClaimStep.OPENED, ClaimStep.CUSTOMER_CONTACTED)
        assert s.due_at == inp.opened_at + timedelta(seconds=CLAIMS.contact_within)

        await ts_env.sleep(timedelta(hours=1))
        contacted = await apply(handle, ev(ClaimEventType.CUSTOMER_CONTACTED,
                                           {"channel": "phone", "note": "apologised"}))
        assert contacted.step == ClaimStep.CUSTOMER_CONTACTED
        assert (await apply(handle, doc("accident_report"))).step == ClaimStep.CUSTOMER_CONTACTED
        early = await rejected(handle, ev(ClaimEventType.LIABILITY_DECIDED,
                                          {"liability": "carrier"}))
        assert early.type == "invalid_transition"
        assert details(early)["missing_documents"] == ["delivery_note"]
        assert (await apply(handle, doc("delivery_note"))).step == ClaimStep.EVIDENCE_COLLECTED

        await apply(handle, ev(ClaimEventType.LIABILITY_DECIDED, {"liability": "carrier"}))
        await apply(handle, ev(ClaimEventType.COMPENSATION_SET, compensation(30000)))
        s = await status(handle)
        assert (s.amount_minor, s.cap_minor, s.cap_basis) == (30000, 40000, "weight")
        assert s.awaiting == ClaimStep.PAYOUT_ISSUED
        paid = await apply(handle, ev(ClaimEventType.PAYOUT_ISSUED, {"voucher": "PV-0001"}))
        assert (paid.step, paid.state) == (ClaimStep.CLOSED, ClaimState.CLOSED)
        final = await handle.result()

    assert final.outcome == ClaimOutcome.PAID and final.voucher == "PV-0001"
    assert not final.breaches
    with sessions() as session:
        row = repo.get_claim(session, inp.claim_id)
        assert row is not None
        assert (row.state, row.step, row.outcome, row.liability) == (
            "closed", "closed", "paid", "carrier")
        assert (row.amount_minor, row.currency, row.cap_minor, row.voucher) == (
            30000, "CNY", 40000, "PV-0001")
        contacted_after = row.customer_contacted_at - inp.opened_at
        assert timedelta(hours=1) <= contacted_after < timedelta(hours=1) + SLACK
        assert row.payout_issued_at is not None and row.closed_at is not None
        assert row.breached is False and row.awaiting is None
        assert [e.type for e in repo.timeline(session, inp.claim_id)] == [
            "opened", "customer_contacted", "document_added", "document_added",
            "evidence_collected", "liability_decided", "compensation_set", "payout_issued",
            "closed"]
    told = outbox(sessions, inp.order_id)
    assert ("claim.opened", "email", "buyer@example.com") in told
    assert ("claim.opened", "inbox", "ops_desk") in told
    assert ("claim.payout_issued", "email", "buyer@example.com") in told
    [payout] = bodies(sessions, inp.order_id, "claim.payout_issued")
    assert "300.00 CNY" in payout.replace("\n", " ") and "PV-0001" in payout
    engine.dispose()


async def test_missed_step_deadline_escalates_and_the_step_clears_it(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
        sessions: sessionmaker[Session]) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        handle, inp = await start(ts_env, task_queue)
        await ts_env.sleep(timedelta(seconds=CLAIMS.contact_within) + SLACK)
        s = await status(handle)
        [breach] = s.breaches
        assert breach.step == ClaimStep.CUSTOMER_CONTACTED and breach.cleared_at is None
        esc = ts_env.client.get_workflow_handle_for(EscalationWorkflow.run,
                                                    breach.escalation_id)
        ladder = await esc.query(EscalationWorkflow.status)
        assert breach.escalation_id == f"esc-{inp.claim_id}-customer_contacted"
        assert (ladder.kind, ladder.subject, ladder.order_id, ladder.state) == (
            BreachKind.CLAIM_STEP_LATE, f"claim:{inp.claim_id}", inp.order_id,
            EscalationState.OPEN)
        with sessions() as session:
            row = repo.get_claim(session, inp.claim_id)
            assert row is not None and row.breached is True

        await apply(handle, ev(ClaimEventType.CUSTOMER_CONTACTED, {"channel": "phone"}))
        resolved = await esc.result()
        assert (resolved.state, resolved.resolution_code) == (
            EscalationState.RESOLVED, "condition_cleared")
        s = await status(handle)
        assert s.breaches[0].cleared_at is not None
        contacted_at = s.step_times[ClaimStep.CUSTOMER_CONTACTED.value]
        assert s.due_at == contacted_at + timedelta(seconds=CLAIMS.evidence_within)
        with sessions() as session:
            types = [e.type for e in repo.timeline(session, inp.claim_id)]
        assert types == ["opened", "step_late", "customer_contacted", "breach_cleared"]


async def test_compensation_above_the_standard_needs_a_supervisor_with_a_reason(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        handle, _ = await start(ts_env, task_queue, weight_kg=20)  # the order's basis
        await to_liability(handle, "carrier")
        set_ = ClaimEventType.COMPENSATION_SET

        above = await rejected(handle, ev(set_, compensation(50000)))
        assert above.type == "compensation_above_cap"
        assert (details(above)["cap_minor"], details(above)["cap_basis"]) == (40000, "weight")
        repeated = await rejected(handle, ev(set_, compensation(50000, weight_kg=20)))
        assert repeated.type == "compensation_above_cap"  # repeating the basis changes nothing
        by_operator = await rejected(handle, ev(set_, compensation(
            50000, override={"reason": "key account goodwill"})))
        assert by_operator.type == "override_forbidden"
        # The bypass: a basis of the operator's own making, in the request setting the amount.
        for own_basis in ({"declared_value_minor": 500000000}, {"weight_kg": 999}):
            bypass = await rejected(handle, ev(set_, compensation(50000, **own_basis)))
            assert bypass.type == "basis_change_forbidden"
            assert details(bypass)["recorded"] == {"weight_kg": 20, "declared_value_minor": None}
        no_reason = await rejected(handle, ev(set_, compensation(
            50000, override={"reason": " "}), role="supervisor"))
        assert no_reason.type == "override_reason_required"
        dollars = await rejected(handle, ev(set_, {"amount_minor": 100, "currency": "USD"}))
        assert dollars.type == "currency_mismatch"
        assert (await status(handle)).awaiting == ClaimStep.COMPENSATION_SET

        # A supervisor changes the basis with the amount: recorded as a basis change.
        ok = await apply(handle, ev(set_, compensation(
            50000, weight_kg=22.5, override={"reason": "fragile, agreed"}),
            role="supervisor"))
        assert ok.step == ClaimStep.COMPENSATION_SET
        s = await status(handle)
        assert (s.amount_minor, s.cap_minor, s.cap_basis) == (50000, 45000, "weight")
        assert (s.override_reason, s.override_by) == ("fragile, agreed", "test-supervisor")
        [change] = s.basis_changes
        assert (change.by, change.role, change.old.weight_kg, change.new.weight_kg) == (
            "test-supervisor", "supervisor", 20, 22.5)


async def test_without_a_recorded_basis_a_supervisor_records_one(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        handle, _ = await start(ts_env, task_queue)  # the order gave no basis
        await to_liability(handle, "warehouse")
        set_ = ClaimEventType.COMPENSATION_SET
        no_basis = await rejected(handle, ev(set_, compensation(100)))
        assert no_basis.type == "compensation_basis_required"
        own = await rejected(handle, ev(set_, compensation(100, declared_value_minor=100)))
        assert own.type == "basis_change_forbidden"
        basis = {"declared_value_minor": 45000, "reason": "invoice INV-7 checked"}
        by_operator = await rejected(handle, ev(ClaimEventType.BASIS_SET, basis))
        assert by_operator.type == "basis_change_forbidden"
        await apply(handle, ev(ClaimEventType.BASIS_SET, basis, role="supervisor"))
        above = await rejected(handle, ev(set_, compensation(50000)))
        assert (above.type, details(above)["cap_minor"]) == ("compensation_above_cap", 45000)
        await apply(handle, ev(set_, compensation(45000)))
        s = await status(handle)
        assert (s.cap_minor, s.cap_basis, s.declared_value_minor) == (
            45000, "declared_value", 45000)
        [change] = s.basis_changes
        assert (change.by, change.old.declared_value_minor, change.reason) == (
            "test-supervisor", None, "invoice INV-7 checked")


async def test_steps_out_of_order_are_rejected_and_repeats_are_applied_once(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
        sessions: sessionmaker[Session]) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        handle, inp = await start(ts_env, task_queue)
        for early in (ev(ClaimEventType.PAYOUT_ISSUED, {"voucher": "PV-1"}),
                      ev(ClaimEventType.COMPENSATION_SET, compensation(0)),
                      ev(ClaimEventType.LIABILITY_DECIDED, {"liability": "carrier"})):
            err = await rejected(handle, early)
            assert err.type == "invalid_transition"
            assert details(err)["awaiting"] == "customer_contacted"

        contact = ev(ClaimEventType.CUSTOMER_CONTACTED, {"channel": "phone"})
        first = await apply(handle, contact)
        assert await apply(handle, contact) == first  # the same update id: the same answer
        # A retry under another update id is caught by the event id.
        with pytest.raises(WorkflowUpdateFailedError) as err_dup:
            await handle.execute_update(ClaimWorkflow.apply, contact, id="a-retry")
        assert isinstance(err_dup.value.cause, ApplicationError)
        assert err_dup.value.cause.type == "duplicate_event"
        twice = await rejected(handle, ev(ClaimEventType.CUSTOMER_CONTACTED, {}))
        assert twice.type == "invalid_transition"
        with sessions() as session:
            types = [e.type for e in repo.timeline(session, inp.claim_id)]
        assert types == ["opened", "customer_contacted"]


async def test_customer_liability_closes_with_no_payout_and_tells_the_customer(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
        sessions: sessionmaker[Session]) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        # notify_order with no order running: the claim still closes.
        handle, inp = await start(ts_env, task_queue, notify_order=True)
        await to_liability(handle, "customer")
        goodwill = await rejected(handle, ev(ClaimEventType.COMPENSATION_SET,
                                             compensation(10000)))
        assert goodwill.type == "compensation_above_cap"
        assert (details(goodwill)["cap_minor"], details(goodwill)["cap_basis"]) == (
            0, "not_liable")
        closed = await apply(handle, ev(ClaimEventType.COMPENSATION_SET, compensation(0)))
        assert closed.state == ClaimState.CLOSED
        final = await handle.result()
    assert (final.outcome, final.amount_minor, final.voucher) == (
        ClaimOutcome.NO_COMPENSATION, 0, None)
    assert final.step_times.get(ClaimStep.PAYOUT_ISSUED.value) is None
    told = {event for event, _, _ in outbox(sessions, inp.order_id)}
    assert told == {"claim.opened", "claim.closed"}
    [body] = bodies(sessions, inp.order_id, "claim.closed")
    assert "did not occur in our care" in body


async def test_withdrawn_claim_clears_its_escalation_and_tells_the_order(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue), \
            Worker(ts_env.client, task_queue=f"{task_queue}-orders",
                   workflows=[OrderStubWorkflow]):
        handle, inp = await start(ts_env, task_queue, notify_order=True)
        order = await ts_env.client.start_workflow(
            OrderStubWorkflow.run, id=f"order-{inp.order_id}", task_queue=f"{task_queue}-orders")
        await ts_env.sleep(timedelta(seconds=CLAIMS.contact_within) + SLACK)
        [breach] = (await status(handle)).breaches
        await apply(handle, ev(ClaimEventType.WITHDRAWN, {"reason": "opened in error"}))
        final = await handle.result()
        assert final.outcome == ClaimOutcome.WITHDRAWN
        assert await order.result() == [ClaimClosed(inp.claim_id, "withdrawn")]
        ladder = await ts_env.client.get_workflow_handle_for(
            EscalationWorkflow.run, breach.escalation_id).result()
        assert (ladder.state, ladder.resolution) == (EscalationState.RESOLVED,
                                                     "claim closed: withdrawn")

