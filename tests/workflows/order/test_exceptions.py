"""When things go wrong, and after delivery, on the time-skipping server: shortages and the
customer's decision, delivery exceptions, claims holding the order open, the follow-up's
reminder and phone calls, complaints from low scores, and receipt versions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine
from db.orders.queries import timeline
from tests.support.builders import POD, RECEIPT, SHIP, STANDARD, event
from tests.support.order_workflow_harness import (
    SLACK,
    NewOrder,
    assert_rejected,
    post,
    secs,
    send,
    sleep_past,
    state,
)
from workflows.claim.types import ClaimClosed
from workflows.order.types import BreachKind, EventType, FollowUpStatus, Stage
from workflows.order.workflow import OrderWorkflow

ANSWERS = {"goods_ok": True, "scores": {"timeliness": 5, "completeness": 4, "courtesy": 5},
           "suggestions": None, "channel": "web"}


def decision(kind: str, **extra: Any) -> dict[str, Any]:
    return {"decision": kind, "decided_by": "Ms Zhang (buyer)", **extra}


async def exists(env: WorkflowEnvironment, workflow_id: str) -> bool:
    desc = await env.client.get_workflow_handle(workflow_id).describe()
    return desc.status is not None


async def survey_due(env: WorkflowEnvironment, new: NewOrder, **kw: Any) -> WorkflowHandle:
    h = await new(Stage.DELIVERED, **kw)
    await env.sleep(secs(STANDARD.survey_after) + SLACK)
    assert (await state(h)).survey.status == FollowUpStatus.DUE
    return h


# -- stock shortage and short pick -------------------------------------------------------------


async def test_a_shortage_waits_for_the_customer_and_in_full_follows_the_agreement(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.CONFIRMED)
    now = await ts_env.get_current_time()
    await send(ts_env, h, EventType.STOCK_SHORTAGE, {"lines": [{"sku": "SKU-1", "qty": 6}]})
    s = await state(h)
    assert s.decision is not None and s.decision.kind == "stock_shortage"
    assert s.decision.available == {"SKU-1": 6}
    assert abs(s.decision.due_at - (now + secs(STANDARD.decision_within))) < SLACK
    assert s.next_deadline is not None and s.next_deadline.kind == BreachKind.DECISION_LATE

    pick = {"lines": [{"sku": "SKU-1", "qty": 6}, {"sku": "SKU-2", "qty": 4}]}
    err = await assert_rejected(h, event(EventType.PICKED, now, pick), "decision_pending")
    assert err.details[0]["event_type"] == "picked"
    too_many = decision("partial", lines=[{"sku": "SKU-1", "qty": 11}])
    await assert_rejected(h, event(EventType.SHORTAGE_DECISION, now, too_many),
                          "invalid_quantity")

    await send(ts_env, h, EventType.SHORTAGE_DECISION,
               decision("partial", lines=[{"sku": "SKU-1", "qty": 6}]))
    s = await state(h)
    assert s.decision is None
    assert [(line.sku, line.agreed) for line in s.lines] == [("SKU-1", 6), ("SKU-2", None)]
    assert s.decisions[0].decided_by == "Ms Zhang (buyer)"

    assert await send(ts_env, h, EventType.PICKED, pick) == Stage.PICKED
    s = await state(h)
    assert s.decision is None and s.in_full is True  # short of the order, full of the agreement
    await send(ts_env, h, EventType.SHIPPED, SHIP)
    await send(ts_env, h, EventType.DELIVERED, POD)
    assert (await state(h)).in_full is True


async def test_an_undecided_shortage_breaches_and_a_backorder_moves_the_promise(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.RECEIVED)
    await send(ts_env, h, EventType.STOCK_SHORTAGE, {"lines": [{"sku": "SKU-2", "qty": 0}]})
    s = await state(h)
    await sleep_past(ts_env, s.decision.due_at)
    s = await state(h)
    assert [b.kind for b in s.breaches] == [BreachKind.DECISION_LATE]  # not confirm_late
    escalation = s.breaches[0].escalation_id
    assert await exists(ts_env, escalation)

    later = (await ts_env.get_current_time()) + timedelta(days=20)
    await send(ts_env, h, EventType.SHORTAGE_DECISION,
               decision("backorder", promised_ship_by=(later - timedelta(days=2)).isoformat(),
                        promised_delivery_by=later.isoformat()))
    s = await state(h)
    assert s.breaches[0].cleared_at is not None
    assert s.promised_delivery_by == later
    assert s.next_deadline.kind == BreachKind.CONFIRM_LATE  # the warehouse's clock runs again


async def test_a_short_pick_asks_the_customer_and_a_backorder_waits_for_a_new_pick(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.CONFIRMED)
    short = {"lines": [{"sku": "SKU-1", "qty": 7}, {"sku": "SKU-2", "qty": 4}]}
    await send(ts_env, h, EventType.PICKED, short)
    s = await state(h)
    assert s.stage == Stage.PICKED and s.in_full is False
    assert s.decision.kind == "short_pick" and s.decision.available == {"SKU-1": 7}
    now = await ts_env.get_current_time()
    await assert_rejected(h, event(EventType.SHIPPED, now, SHIP), "decision_pending")

    later = now + timedelta(days=10)
    await send(ts_env, h, EventType.SHORTAGE_DECISION,
               decision("backorder", promised_delivery_by=later.isoformat()))
    s = await state(h)
    assert s.repick_since is not None and s.next_deadline.kind == BreachKind.PICK_LATE
    full = {"lines": [{"sku": "SKU-1", "qty": 10}, {"sku": "SKU-2", "qty": 4}]}
    assert await send(ts_env, h, EventType.PICKED, full) == Stage.PICKED
    s = await state(h)
    assert s.in_full is True and s.repick_since is None and s.decision is None


async def test_the_customer_may_cancel_instead(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.CONFIRMED)
    await send(ts_env, h, EventType.PICKED, {"lines": [{"sku": "SKU-1", "qty": 1}]})
    assert await send(ts_env, h, EventType.SHORTAGE_DECISION, decision("cancel")) \
        == Stage.CANCELLED
    assert await h.result() == Stage.CANCELLED
    s = await state(h)
    assert s.cancel_reason == "customer cancelled after short pick" and not s.breaches


# -- delivery exceptions and claims ------------------------------------------------------------


async def test_a_delivery_exception_can_move_the_promise(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.IN_TRANSIT)
    later = (await ts_env.get_current_time()) + timedelta(days=9)
    await send(ts_env, h, EventType.DELIVERY_EXCEPTION,
               {"reason": "weather", "text": "typhoon closes the port",
                "promised_delivery_by": later.isoformat()})
    s = await state(h)
    assert s.promised_delivery_by == later
    assert [(x.reason, x.text) for x in s.exceptions] == [
        ("weather", "typhoon closes the port")]
    assert not s.claims


async def test_lost_goods_open_a_claim_whose_closing_ends_the_order(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.IN_TRANSIT)
    await send(ts_env, h, EventType.DELIVERY_EXCEPTION,
               {"reason": "lost", "text": "pallet missing at Hangzhou hub"})
    s = await state(h)
    claim_id = f"{s.order_id}-CL1"
    assert [(c.claim_id, c.cause, c.origin) for c in s.claims] == [
        (claim_id, "lost", "delivery_exception")]
    assert await exists(ts_env, f"claim-{claim_id}")
    await sleep_past(ts_env, s.stage_times["shipped"] + secs(STANDARD.scan_gap))
    assert BreachKind.SCAN_GAP not in [b.kind for b in (await state(h)).breaches]

    await h.signal(OrderWorkflow.claim_closed, ClaimClosed(claim_id=claim_id, outcome="paid"))
    assert await h.result() == Stage.CLOSED
    s = await state(h)
    assert (s.on_time, s.in_full) == (False, False) and s.claims[0].outcome == "paid"


async def test_an_order_with_an_open_claim_does_not_close(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.IN_TRANSIT)
    await send(ts_env, h, EventType.DELIVERED, {**POD, "condition": "damaged"})
    s = await state(h)
    claim_id = f"{s.order_id}-CL1"
    assert [(c.cause, c.origin) for c in s.claims] == [("damaged", "delivery")]
    assert s.in_full is False
    await send(ts_env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    await ts_env.sleep(secs(STANDARD.survey_after) + SLACK)
    assert await send(ts_env, h, EventType.SURVEY_RESPONSE, ANSWERS) == Stage.FOLLOWED_UP
    assert (await h.describe()).status == WorkflowExecutionStatus.RUNNING

    await h.signal(OrderWorkflow.claim_closed, ClaimClosed(claim_id=claim_id, outcome="paid"))
    assert await h.result() == Stage.CLOSED


async def test_a_claim_can_be_opened_by_hand(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    from workflows.claim.types import ClaimCause, OpenClaimInput
    h = await new_order(Stage.DELIVERED)
    claim_id = await h.execute_update(OrderWorkflow.open_claim, OpenClaimInput(
        cause=ClaimCause.SHORT, description="two cartons missing", actor="op", source="operator"))
    s = await state(h)
    assert claim_id == f"{s.order_id}-CL1" and s.claims[0].origin == "manual"


# -- the follow-up -----------------------------------------------------------------------------


async def test_one_reminder_halfway_then_expiry_is_unsuccessful(
        ts_env: WorkflowEnvironment, new_order: NewOrder, sqlite_url: str) -> None:
    h = await survey_due(ts_env, new_order)
    s = await state(h)
    assert s.survey.remind_at == s.survey.due_at + (s.survey.expires_at - s.survey.due_at) / 2
    await sleep_past(ts_env, s.survey.remind_at)
    assert (await state(h)).survey.reminded_at == s.survey.remind_at
    await sleep_past(ts_env, s.survey.expires_at)
    s = await state(h)
    assert (s.survey.status, s.survey.outcome) == (FollowUpStatus.UNSUCCESSFUL, "expired")
    types = [e.type for e in _timeline(sqlite_url, s.order_id)]
    assert types.count("survey_reminder") == 1 and "follow_up_unsuccessful" in types


async def test_unanswered_calls_are_retried_up_to_the_policy_count(
        ts_env: WorkflowEnvironment, new_order: NewOrder, sqlite_url: str) -> None:
    h = await survey_due(ts_env, new_order)
    retry = secs(STANDARD.follow_up.call_retry_after)
    assert STANDARD.follow_up.call_retries == 2
    for n in range(1, 4):
        await send(ts_env, h, EventType.FOLLOW_UP_CALL, {"outcome": "no_answer"})
        s = await state(h)
        if n <= 2:
            at = await ts_env.get_current_time()
            assert abs(s.survey.next_call_at - (at + retry)) < SLACK
            await sleep_past(ts_env, s.survey.next_call_at)
        else:
            assert s.survey.next_call_at is None  # retries used up
    s = await state(h)
    assert s.survey.status == FollowUpStatus.DUE and len(s.survey.calls) == 3
    types = [e.type for e in _timeline(sqlite_url, s.order_id)]
    assert types.count("call_retry_due") == 2

    await send(ts_env, h, EventType.FOLLOW_UP_CALL, {"outcome": "answered", **ANSWERS})
    s = await state(h)
    assert (s.survey.status, s.survey.channel) == (FollowUpStatus.ANSWERED, "phone")


async def test_a_refused_call_ends_the_follow_up(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await survey_due(ts_env, new_order)
    await send(ts_env, h, EventType.RECEIPT_RETURNED, RECEIPT)
    assert await send(ts_env, h, EventType.FOLLOW_UP_CALL, {"outcome": "refused"}) \
        == Stage.CLOSED
    s = await state(h)
    assert (s.survey.status, s.survey.outcome) == (FollowUpStatus.UNSUCCESSFUL, "refused")


async def test_a_low_score_opens_a_complaint(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await survey_due(ts_env, new_order)
    answers = {**ANSWERS, "goods_ok": False, "suggestions": "call before you come",
               "scores": {"timeliness": 2, "completeness": 4, "courtesy": 1}}
    await send(ts_env, h, EventType.SURVEY_RESPONSE, answers)
    s = await state(h)
    assert s.complaints == [f"{s.order_id}-CP1"]
    assert s.survey.problems == ["low_score:courtesy", "low_score:timeliness", "goods_not_ok",
                                 "suggestion"]
    assert await exists(ts_env, f"complaint-{s.order_id}-CP1")


async def test_a_good_score_opens_no_complaint(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await survey_due(ts_env, new_order)
    await send(ts_env, h, EventType.SURVEY_RESPONSE, {**ANSWERS, "scores": {"timeliness": 3}})
    assert (await state(h)).complaints == []


# -- receipts ----------------------------------------------------------------------------------


async def test_a_receipt_uploaded_again_is_a_new_version(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.RECEIPT_ARCHIVED)
    now = await ts_env.get_current_time()
    await assert_rejected(h, event(EventType.RECEIPT_RETURNED, now, RECEIPT), "receipt_unchanged")
    second = {"document": {"ref": "archive:sha256:" + "b" * 64, "sha256": "b" * 64}}
    assert await post(h, event(EventType.RECEIPT_RETURNED, now, second)) \
        == Stage.RECEIPT_ARCHIVED
    receipt = (await state(h)).receipt
    assert receipt is not None and receipt.document.sha256 == "b" * 64
    assert [(v.version, v.sha256[0], v.previous_sha256) for v in receipt.versions] \
        == [(1, "a", None), (2, "b", "a" * 64)]


def _timeline(url: str, order_id: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return timeline(session, order_id)
    finally:
        engine.dispose()
