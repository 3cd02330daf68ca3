"""The escalation ladder over days, on the time-skipping server.

Ladder of the standard policy: L1 ops_desk (ack 30m, resolve 4h), L2 supervisor (ack 1h,
resolve 8h), L3 cs_manager (ack 2h, resolve 24h); repeats every 4h at the top; snooze ≤ 8h.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from policies import parse_policy
from tests.support.builders import POLICIES, STANDARD, event, order_input, policy_yaml
from tests.support.worker_harness import running_worker
from workflows.escalation.types import (
    AcknowledgeInput,
    ClearInput,
    EscalationAction,
    EscalationInput,
    EscalationState,
    EscalationStatus,
    ReassignInput,
    ResolveInput,
    SnoozeInput,
)
from workflows.escalation.workflow import EscalationWorkflow
from workflows.order.types import BreachKind, Customer, EventType, Stage, Tier
from workflows.order.workflow import OrderWorkflow

LADDER = STANDARD.escalation
MIN = timedelta(minutes=1)


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, sqlite_url: str,
                 task_queue: str) -> AsyncIterator[Client]:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        yield ts_env.client


async def ladder(env: WorkflowEnvironment, client: Client, task_queue: str,
                 tier: Tier = Tier.STANDARD) -> WorkflowHandle:
    now = await env.get_current_time()
    esc_id = f"esc-test-{uuid.uuid4().hex[:8]}"
    inp = EscalationInput(
        escalation_id=esc_id, order_id="SO-1", breach_id="pick_late-1",
        kind=BreachKind.PICK_LATE, stage=Stage.CONFIRMED, due_at=now, detected_at=now,
        customer_id="C-1", customer_tier=tier, key_account_manager="Wang Fang", policy=LADDER)
    handle = await client.start_workflow(EscalationWorkflow.run, inp, id=esc_id,
                                         task_queue=task_queue)
    return handle


async def status(handle: WorkflowHandle) -> EscalationStatus:
    return await handle.query(EscalationWorkflow.status)


def actions(s: EscalationStatus) -> list[tuple[str, int]]:
    return [(step.action.value, step.level) for step in s.steps]


async def test_unacknowledged_escalation_climbs_to_the_top_and_repeats(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    h = await ladder(ts_env, client, task_queue)
    s = await status(h)
    assert (s.level, s.recipients) == (1, ["ops_desk"])
    await ts_env.sleep(timedelta(minutes=30) + MIN)
    s = await status(h)
    assert (s.level, s.recipients) == (2, ["supervisor"])
    climbed = [st for st in s.steps if st.action == EscalationAction.CLIMBED]
    assert climbed[0].detail == {"from": 1, "to": 2, "reason": "not_acknowledged"}
    await ts_env.sleep(timedelta(hours=1) + MIN)
    assert (await status(h)).level == 3
    await ts_env.sleep(timedelta(hours=2) + MIN)   # top level's ack clock runs out
    await ts_env.sleep(timedelta(hours=4) + MIN)   # and again after repeat_every
    await ts_env.sleep(timedelta(hours=4) + MIN)
    s = await status(h)
    assert s.level == 3 and s.state == EscalationState.OPEN
    assert actions(s) == [("opened", 1), ("notified", 1), ("climbed", 2), ("notified", 2),
                          ("climbed", 3), ("notified", 3), ("renotified", 3),
                          ("renotified", 3), ("renotified", 3)]
    renotified = [st.at for st in s.steps if st.action == EscalationAction.RENOTIFIED]
    assert renotified[1] - renotified[0] >= timedelta(seconds=LADDER.repeat_every)


async def test_acknowledged_but_unresolved_escalation_climbs_too(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    h = await ladder(ts_env, client, task_queue)
    await h.execute_update(EscalationWorkflow.acknowledge, AcknowledgeInput("desk-li", "on it"))
    await ts_env.sleep(timedelta(hours=4) + MIN)  # L1 resolve_within
    s = await status(h)
    assert s.level == 2 and s.acknowledged_at is None
    assert [st.detail for st in s.steps if st.action == EscalationAction.CLIMBED] == [
        {"from": 1, "to": 2, "reason": "not_resolved"}]
    await h.execute_update(EscalationWorkflow.acknowledge, AcknowledgeInput("sup-zhao"))
    await ts_env.sleep(timedelta(hours=8) + MIN)  # L2 resolve_within
    assert (await status(h)).level == 3
    await h.execute_update(EscalationWorkflow.acknowledge, AcknowledgeInput("mgr-chen"))
    await ts_env.sleep(timedelta(hours=24) + MIN)  # L3 resolve_within: now it repeats
    await ts_env.sleep(timedelta(hours=4) + MIN)
    s = await status(h)
    assert [a for a, _ in actions(s)].count("renotified") == 2
    acks = [(st.actor, st.level) for st in s.steps if st.action == EscalationAction.ACKNOWLEDGED]
    assert acks == [("desk-li", 1), ("sup-zhao", 2), ("mgr-chen", 3)]
    assert s.steps[2].comment == "on it"


async def test_waived_at_level_two_holds_the_ladder_until_the_condition_clears(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    # Issue 18 §2: an operator's resolve of an open escalation is a waiver (its step is not
    # done); the ladder rests until the subject clears it.
    h = await ladder(ts_env, client, task_queue)
    await ts_env.sleep(timedelta(minutes=30) + MIN)
    await h.execute_update(EscalationWorkflow.acknowledge, AcknowledgeInput("sup-zhao"))
    done = await h.execute_update(EscalationWorkflow.resolve, ResolveInput(
        "sup-zhao", "carrier_rescheduled", "carrier picks up at 14:00", "called SF",
        waive=True, reason="carrier confirmed"))
    assert done.state == EscalationState.RESOLVED and done.level == 2
    assert (done.resolved_by, done.resolution_code) == ("sup-zhao", "carrier_rescheduled")
    await ts_env.sleep(timedelta(hours=1))
    assert actions(await status(h))[-1] == ("waived", 2)
    await h.signal(EscalationWorkflow.clear, ClearInput("condition cleared by picked"))
    final = await h.result()
    assert final.state == EscalationState.RESOLVED and final.level == 2
    assert actions(final)[-2:] == [("waived", 2), ("resolved", 2)]


async def test_actions_on_a_resolved_or_acknowledged_escalation_are_rejected(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    h = await ladder(ts_env, client, task_queue)
    await h.execute_update(EscalationWorkflow.acknowledge, AcknowledgeInput("a"))
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await h.execute_update(EscalationWorkflow.acknowledge, AcknowledgeInput("b"))
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "already_acknowledged"
    too_long = await ts_env.get_current_time() + timedelta(hours=9)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await h.execute_update(EscalationWorkflow.snooze, SnoozeInput("a", too_long))
    assert err.value.cause.type == "snooze_too_long"
    before = await status(h)
    await h.signal(EscalationWorkflow.clear, ClearInput("condition cleared by picked"))
    await h.result()
    # A resolved ladder's workflow has finished: a second resolve cannot reach it (the API
    # answers 409 already_resolved), and nothing more is recorded.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await h.execute_update(EscalationWorkflow.resolve, ResolveInput("b", "fixed", "again"))
    assert len((await h.result()).steps) == len(before.steps) + 1


async def test_snooze_holds_the_ladder_and_restarts_the_clock(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    h = await ladder(ts_env, client, task_queue)
    until = await ts_env.get_current_time() + timedelta(hours=2)
    await h.execute_update(EscalationWorkflow.snooze, SnoozeInput("desk-li", until, "lunch"))
    await h.execute_update(EscalationWorkflow.reassign, ReassignInput("desk-li", "desk-wu"))
    await ts_env.sleep(timedelta(hours=2) - MIN)
    assert (await status(h)).level == 1
    await ts_env.sleep(timedelta(minutes=30) + 2 * MIN)
    s = await status(h)
    assert s.level == 2 and s.assignee == "desk-wu"
    assert [a for a, _ in actions(s)][2:6] == ["snoozed", "reassigned", "snooze_ended",
                                               "climbed"]


async def test_key_account_starts_higher_and_names_its_manager(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    key = POLICIES["key_account"]
    inp = order_input(await ts_env.get_current_time(), policy=key)
    inp.customer = Customer(id="C-9", name="Big Buyer", tier=Tier.KEY_ACCOUNT,
                            key_account_manager="Wang Fang")
    h = await client.start_workflow(OrderWorkflow.run, inp, id=f"order-{inp.order_id}",
                                    task_queue=task_queue)
    await ts_env.sleep(timedelta(seconds=key.confirm_within) + MIN)
    breach = (await h.query(OrderWorkflow.state)).breaches[0]
    s = await status(client.get_workflow_handle(breach.escalation_id))
    assert s.level == 2 and s.recipients == ["supervisor", "Wang Fang"]


async def test_the_awaited_event_resolves_the_escalation_by_itself(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    inp = order_input(await ts_env.get_current_time())
    h = await client.start_workflow(OrderWorkflow.run, inp, id=f"order-{inp.order_id}",
                                    task_queue=task_queue)
    await ts_env.sleep(timedelta(seconds=STANDARD.confirm_within) + 31 * MIN)
    breach = (await h.query(OrderWorkflow.state)).breaches[0]
    esc = client.get_workflow_handle_for(EscalationWorkflow.run, breach.escalation_id)
    assert (await status(esc)).level == 2
    confirmed = event(EventType.CONFIRMED, await ts_env.get_current_time())
    await h.execute_update(OrderWorkflow.apply_event, confirmed, id=confirmed.event_id)
    final = await esc.result()
    assert final.state == EscalationState.RESOLVED and final.level == 2
    assert (final.resolved_by, final.resolution_code) == ("waybill", "condition_cleared")
    assert final.resolution == "condition cleared by confirmed"


CALENDAR = """    calendar:
      timezone: Asia/Shanghai
      hours: {mon: ["09:00-12:00", "13:00-18:00"], tue: ["09:00-12:00", "13:00-18:00"],
              wed: ["09:00-12:00", "13:00-18:00"], thu: ["09:00-12:00", "13:00-18:00"],
              fri: ["09:00-12:00", "13:00-18:00"]}
      holidays: [%s]
"""


@pytest.mark.parametrize("monday_is_holiday", [False, True])
async def test_calendar_deadline_skips_the_weekend_and_holidays(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str,
        monday_is_holiday: bool) -> None:
    """+4h confirm from Friday 17:00 falls on Monday 12:00 (Tuesday if Monday is a holiday).

    The time-skipping clock has moved on through earlier tests, so the Friday is the next one.
    """
    shanghai = ZoneInfo("Asia/Shanghai")
    today = (await ts_env.get_current_time()).astimezone(shanghai).date()
    friday = today + timedelta(days=(4 - today.weekday()) % 7 + 7)
    monday = friday + timedelta(days=3)
    holiday = f'"{monday.isoformat()}"' if monday_is_holiday else ""
    body = yaml.safe_load(policy_yaml(confirm_within="PT4H") + CALENDAR % holiday)
    policy = parse_policy("standard", body["policies"]["standard"], "test")
    due_day = monday + timedelta(days=1) if monday_is_holiday else monday
    expected = datetime.combine(due_day, time(12), shanghai).astimezone(UTC)
    inp = order_input(await ts_env.get_current_time(), policy=policy,
                      ship_in=timedelta(days=30), deliver_in=timedelta(days=40))
    inp.received_at = datetime.combine(friday, time(17), shanghai).astimezone(UTC)
    h = await client.start_workflow(OrderWorkflow.run, inp, id=f"order-{inp.order_id}",
                                    task_queue=task_queue)
    state = await h.query(OrderWorkflow.state)
    assert state.next_deadline.kind == "confirm_late"
    assert state.next_deadline.due_at == expected
    await ts_env.sleep(expected - await ts_env.get_current_time() - MIN)
    assert (await h.query(OrderWorkflow.state)).breaches == []
    await ts_env.sleep(2 * MIN)
    breaches = (await h.query(OrderWorkflow.state)).breaches
    assert [(b.kind, b.due_at) for b in breaches] == [(BreachKind.CONFIRM_LATE, expected)]


async def test_promise_change_moves_the_deadline_and_the_old_one_never_fires(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    now = await ts_env.get_current_time()
    inp = order_input(now, ship_in=timedelta(hours=30), deliver_in=timedelta(hours=40))
    h = await client.start_workflow(OrderWorkflow.run, inp, id=f"order-{inp.order_id}",
                                    task_queue=task_queue)
    for type_, data in ((EventType.CONFIRMED, None),
                        (EventType.PICKED, {"lines": [{"sku": "SKU-1", "qty": 10},
                                                      {"sku": "SKU-2", "qty": 4}]})):
        ev = event(type_, await ts_env.get_current_time(), data)
        await h.execute_update(OrderWorkflow.apply_event, ev, id=ev.event_id)
    new_ship, new_delivery = now + timedelta(hours=50), now + timedelta(hours=70)
    change = event(EventType.PROMISE_CHANGED, await ts_env.get_current_time(), {
        "promised_ship_by": new_ship.isoformat(),
        "promised_delivery_by": new_delivery.isoformat(), "reason": "customer asked"})
    await h.execute_update(OrderWorkflow.apply_event, change, id=change.event_id)
    await ts_env.sleep(timedelta(hours=45))  # past both old promises
    s = await h.query(OrderWorkflow.state)
    assert s.breaches == [] and s.promised_delivery_by == new_delivery
    assert s.stage_times[Stage.CONFIRMED] <= s.stage_times[Stage.PICKED]
    await ts_env.sleep(timedelta(hours=6))  # past the new ship promise
    s = await h.query(OrderWorkflow.state)
    assert [(b.kind, b.due_at) for b in s.breaches] == [(BreachKind.SHIP_LATE, new_ship)]
