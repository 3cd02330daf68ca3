"""Resolving an escalation whose step is still not done: refused without a waiver; a waiver
is recorded with its reason, the clock keeps running, the escalation re-opens, and doing the
step ends it (time-skipping server, a real claim as the subject)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.support.builders import STANDARD
from tests.support.worker_harness import running_worker
from workflows.claim.types import (
    ClaimCause,
    ClaimEventInput,
    ClaimEventType,
    ClaimInput,
    ClaimStatus,
)
from workflows.claim.workflow import ClaimWorkflow
from workflows.escalation.types import EscalationAction, EscalationState, ResolveInput
from workflows.escalation.workflow import EscalationWorkflow
from workflows.ids import claim_workflow_id
from workflows.order.types import Customer, LineState, Stage, Tier

SLACK = timedelta(minutes=1)
assert STANDARD.escalation is not None
L1 = STANDARD.escalation.levels[0]  # ops_desk: ack 30m, resolve 4h
Claim = WorkflowHandle[ClaimWorkflow, ClaimStatus]


async def start(env: WorkflowEnvironment, task_queue: str) -> Claim:
    order_id = f"SO-{uuid.uuid4().hex[:8]}"
    inp = ClaimInput(
        claim_id=f"{order_id}-CL1", order_id=order_id, cause=ClaimCause.DAMAGED,
        origin="delivery", opened_at=await env.get_current_time(), actor="pod-app",
        source="integration",
        customer=Customer(id="C-88", name="Sanghong Apparel", tier=Tier.STANDARD),
        order_stage=Stage.DELIVERED, policy=STANDARD, lines=[LineState("SKU-1", 10, 10, 10, 8)],
        description="two cartons crushed")
    return await env.client.start_workflow(ClaimWorkflow.run, inp,
                                           id=claim_workflow_id(inp.claim_id),
                                           task_queue=task_queue)


async def contacted(claim: Claim) -> None:
    await claim.execute_update(ClaimWorkflow.apply, ClaimEventInput(
        event_id=f"ce-{uuid.uuid4().hex[:10]}", type=ClaimEventType.CUSTOMER_CONTACTED,
        data={"channel": "phone"}, actor="test-operator", actor_role="operator",
        source="operator", body_hash="0" * 64))


async def late_ladder(env: WorkflowEnvironment, claim: Claim) -> WorkflowHandle:
    await env.sleep(timedelta(seconds=STANDARD.claims.contact_within) + SLACK)
    [breach] = (await claim.query(ClaimWorkflow.status)).breaches
    return env.client.get_workflow_handle_for(EscalationWorkflow.run, breach.escalation_id)


async def test_a_waived_step_escalation_reopens_and_doing_the_step_ends_it(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        claim = await start(ts_env, task_queue)
        esc = await late_ladder(ts_env, claim)

        with pytest.raises(WorkflowUpdateFailedError) as err:
            await esc.execute_update(EscalationWorkflow.resolve, ResolveInput(
                "desk-li", "customer_informed", "told them"))
        assert err.value.cause.type == "condition_still_holds"  # type: ignore[attr-defined]
        assert err.value.cause.details[0]["step"] == "customer_contacted"  # type: ignore[attr-defined]
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await esc.execute_update(EscalationWorkflow.resolve, ResolveInput(
                "desk-li", "customer_informed", "told them", waive=True, reason=" "))
        assert err.value.cause.type == "waiver_reason_required"  # type: ignore[attr-defined]

        waived = await esc.execute_update(EscalationWorkflow.resolve, ResolveInput(
            "desk-li", "customer_informed", "told them", waive=True,
            reason="customer on holiday until Monday"))
        assert waived.state == EscalationState.RESOLVED and waived.level == 1
        step = waived.steps[-1]
        assert (step.action, step.actor, step.detail["reason"], step.detail["step"]) == (
            EscalationAction.WAIVED, "desk-li", "customer on holiday until Monday",
            "customer_contacted")
        assert waived.next_step_at == waived.reopens_at == waived.resolved_at + timedelta(
            seconds=L1.resolve_within)

        # The clock kept running: the step is still not done when the level's time is up.
        await ts_env.sleep(timedelta(seconds=L1.resolve_within) + SLACK)
        s = await esc.query(EscalationWorkflow.status)
        assert s.state == EscalationState.OPEN and s.level == 2
        assert s.recipients == ["supervisor"] and s.resolved_by is None
        assert [st.action.value for st in s.steps][-4:] == [
            "waived", "reopened", "climbed", "notified"]

        # Doing the step ends it for good.
        await contacted(claim)
        final = await esc.result()
        assert (final.state, final.resolution_code, final.resolved_by) == (
            EscalationState.RESOLVED, "condition_cleared", "waybill")


async def test_doing_the_step_while_waived_ends_the_escalation_without_reopening(
        ts_env: WorkflowEnvironment, sqlite_url: str, task_queue: str) -> None:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        claim = await start(ts_env, task_queue)
        esc = await late_ladder(ts_env, claim)
        await esc.execute_update(EscalationWorkflow.resolve, ResolveInput(
            "desk-li", "other", "calling tomorrow", waive=True, reason="no answer today"))
        await contacted(claim)
        final = await esc.result()
        assert final.reopens_at is None and final.resolution_code == "condition_cleared"
        assert [st.action.value for st in final.steps][-2:] == ["waived", "resolved"]
