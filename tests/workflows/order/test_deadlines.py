"""SLA deadlines, cancellation and rejected events of OrderWorkflow, on the time-skipping server.

Everything is checked the way a caller sees it: the `state` query, the update's result or error,
the workflow result and its search attributes. Expected due times are computed here from the
order's own stage times and policy, not by calling `active_deadlines`, so a wrong deadline
definition shows up as a failure rather than being reproduced by the test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.testing import WorkflowEnvironment

from policies.calendars import load_calendar
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
from workflows.escalation.types import EscalationState
from workflows.escalation.workflow import EscalationWorkflow
from workflows.order import search
from workflows.order.types import Breach, BreachKind, EventType, FollowUpStatus, OrderState, Stage
from workflows.order.workflow import OrderWorkflow
from workflows.policy import BusinessCalendar

CANCEL = {"reason": "customer withdrew"}


def scan(eta: datetime | None = None) -> dict[str, Any]:
    """A tracking scan's data; `eta` travels as an ISO string, as the HTTP API sends it."""
    data: dict[str, Any] = {"location": "Hub", "status": "departed"}
    if eta is not None:
        data["eta"] = eta.isoformat()
    return data


# -- driving an order ------------------------------------------------------------------------


async def is_running(handle: WorkflowHandle) -> bool:
    return (await handle.describe()).status == WorkflowExecutionStatus.RUNNING


CLIENT: list[Client] = []


@pytest.fixture(autouse=True)
def _remember_client(ts_env: WorkflowEnvironment) -> None:
    CLIENT[:] = [ts_env.client]

# -- checking breaches -----------------------------------------------------------------------


async def assert_waiting_with_breach(handle: WorkflowHandle, kind: BreachKind, stage: Stage,
                                     due_at: datetime, *, early: bool = False) -> OrderState:
    """The order is still running in `stage`, with exactly one breach, `kind` due at `due_at`.

    The breach must be open, carry an open level-1 escalation, and flag the workflow's
    WaybillSlaBreached search attribute. It is detected at or after its due time, except for an
    `early` one (late_risk), which is raised as soon as the risk is known.
    """
    s = await state(handle)
    assert s.stage == stage
    assert await is_running(handle)
    assert [(b.kind, b.stage, b.due_at) for b in s.breaches] == [(kind, stage, due_at)]
    breach = s.breaches[0]
    assert breach.id == f"{kind.value}-1"
    assert breach.cleared_at is None
    if early:
        assert breach.detected_at < due_at
    else:
        assert breach.detected_at >= due_at
    await assert_escalation(breach, EscalationState.OPEN)
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(search.SLA_BREACHED) is True
    return s


async def assert_escalation(breach: Breach, expected: EscalationState) -> None:
    """Each breach has exactly one escalation ladder, at level 1, in the expected state."""
    assert breach.escalation_id and breach.id in breach.escalation_id
    handle = CLIENT[0].get_workflow_handle(breach.escalation_id)
    esc = await handle.query(EscalationWorkflow.status)
    assert (esc.breach_id, esc.kind, esc.level, esc.state) == (breach.id, breach.kind, 1,
                                                               expected)
    assert esc.due_at == breach.due_at
    if expected == EscalationState.RESOLVED:
        assert esc.resolved_at is not None and esc.resolved_at >= breach.cleared_at
        assert esc.resolution_code == "condition_cleared"


async def assert_all_cleared(s: OrderState, by: str) -> None:
    """No breach stays open, and every escalation is resolved with its breach."""
    assert s.breaches
    for breach in s.breaches:
        assert breach.cleared_at is not None and breach.cleared_by == by
        await assert_escalation(breach, EscalationState.RESOLVED)


# -- one test per deadline kind --------------------------------------------------------------


async def test_confirm_late_breaches_when_not_confirmed_in_time(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order()
    received = (await state(h)).stage_times[Stage.RECEIVED]
    await ts_env.sleep(timedelta(hours=24, minutes=1))
    await assert_waiting_with_breach(h, BreachKind.CONFIRM_LATE, Stage.RECEIVED,
                                     received + secs(STANDARD.confirm_within))


async def test_pick_late_breaches_when_confirmed_but_not_picked(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.CONFIRMED)
    due = (await state(h)).stage_times[Stage.CONFIRMED] + secs(STANDARD.pick_within)
    await sleep_past(ts_env, due)
    await assert_waiting_with_breach(h, BreachKind.PICK_LATE, Stage.CONFIRMED, due)


async def test_ship_late_breaches_at_the_promised_ship_time(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.PICKED, ship_in=timedelta(hours=6))
    due = (await state(h)).promised_ship_by
    await sleep_past(ts_env, due)
    await assert_waiting_with_breach(h, BreachKind.SHIP_LATE, Stage.PICKED, due)


async def test_scan_gap_breaches_clears_on_a_scan_and_breaches_again(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    """Each silence of scan_gap is its own breach; a scan ends the current one."""
    h = await new_order(Stage.IN_TRANSIT)
    gap = secs(STANDARD.scan_gap)
    first_due = (await state(h)).stage_times[Stage.SHIPPED] + gap
    await sleep_past(ts_env, first_due)
    await assert_waiting_with_breach(h, BreachKind.SCAN_GAP, Stage.IN_TRANSIT, first_due)

    seen = event(EventType.TRACKING_SCAN, await ts_env.get_current_time(), scan())
    assert await post(h, seen) == Stage.IN_TRANSIT
    s = await state(h)
    first = s.breaches[0]
    assert first.cleared_at is not None and first.cleared_by == EventType.TRACKING_SCAN
    await assert_escalation(first, EscalationState.RESOLVED)

    second_due = seen.occurred_at + gap
    await sleep_past(ts_env, second_due)
    s = await state(h)
    assert s.stage == Stage.IN_TRANSIT and await is_running(h)
    assert [b.id for b in s.breaches] == ["scan_gap-1", "scan_gap-2"]
    second = s.breaches[1]
    assert (second.kind, second.stage, second.due_at) == (
        BreachKind.SCAN_GAP, Stage.IN_TRANSIT, second_due)
    assert second.cleared_at is None and second.detected_at >= second_due
    await assert_escalation(second, EscalationState.OPEN)


async def test_late_risk_breaches_as_soon_as_an_eta_passes_the_promise(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.IN_TRANSIT)
    promise = (await state(h)).promised_delivery_by
    late = scan(eta=promise + timedelta(days=1))
    assert await send(ts_env, h, EventType.TRACKING_SCAN, late) == Stage.IN_TRANSIT
    await assert_waiting_with_breach(h, BreachKind.LATE_RISK, Stage.IN_TRANSIT, promise,
                                     early=True)


async def test_late_risk_ignores_an_eta_from_an_older_scan(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    """Scans can arrive out of order; only the ETA of the newest scan (by event time) counts."""
    h = await new_order(Stage.IN_TRANSIT)
    await ts_env.sleep(timedelta(hours=2))
    promise = (await state(h)).promised_delivery_by
    now = await ts_env.get_current_time()
    newer = event(EventType.TRACKING_SCAN, now, scan(eta=promise - timedelta(hours=1)))
    older = event(EventType.TRACKING_SCAN, now - timedelta(hours=1),
                  scan(eta=promise + timedelta(days=1)))
    assert await post(h, newer) == Stage.IN_TRANSIT
    assert await post(h, older) == Stage.IN_TRANSIT
    s = await state(h)
    assert [sc.event_id for sc in s.scans] == [older.event_id, newer.event_id]
    assert s.breaches == []


async def test_delivery_late_breaches_when_not_delivered_by_the_promise(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    # The promise falls before the first scan gap could, so only delivery_late can fire.
    h = await new_order(Stage.IN_TRANSIT,
                       ship_in=timedelta(hours=2), deliver_in=timedelta(hours=8))
    due = (await state(h)).promised_delivery_by
    await sleep_past(ts_env, due)
    await assert_waiting_with_breach(h, BreachKind.DELIVERY_LATE, Stage.IN_TRANSIT, due)


async def test_receipt_late_breaches_and_a_late_receipt_still_closes_the_order(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    # The survey is answered first, so the order waits for the receipt in followed_up.
    h = await new_order(Stage.FOLLOWED_UP)
    due = (await state(h)).stage_times[Stage.DELIVERED] + secs(STANDARD.receipt_within)
    await sleep_past(ts_env, due)
    await assert_waiting_with_breach(h, BreachKind.RECEIPT_LATE, Stage.FOLLOWED_UP, due)

    assert await send(ts_env, h, EventType.RECEIPT_RETURNED, RECEIPT) == Stage.CLOSED
    assert await h.result() == Stage.CLOSED
    s = await state(h)
    assert s.receipt is not None
    await assert_all_cleared(s, by=EventType.RECEIPT_RETURNED)


async def test_unanswered_survey_expires_and_closes_without_a_breach(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    """An unanswered survey is an outcome (unsuccessful), not an SLA breach."""
    h = await new_order(Stage.RECEIPT_ARCHIVED)
    await ts_env.sleep(secs(STANDARD.survey_after + STANDARD.survey_window) + SLACK)
    assert await h.result() == Stage.CLOSED
    s = await state(h)
    assert s.stage == Stage.CLOSED
    assert s.survey is not None and s.survey.status == FollowUpStatus.UNSUCCESSFUL
    assert s.survey.answered_at is None
    assert s.stage_times[Stage.CLOSED] == s.survey.expires_at
    assert s.breaches == []


async def test_next_deadline_moves_on_once_a_deadline_has_breached(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    """A breached deadline is no longer upcoming: next_deadline (shown by the API) must move on."""
    h = await new_order()
    await ts_env.sleep(timedelta(hours=24, minutes=1))
    s = await state(h)
    assert [b.kind for b in s.breaches] == [BreachKind.CONFIRM_LATE]
    assert s.next_deadline is not None
    assert (s.next_deadline.kind, s.next_deadline.due_at) == (
        BreachKind.SHIP_LATE.value, s.promised_ship_by)


# -- cancellation ----------------------------------------------------------------------------


@pytest.mark.parametrize("stage, kind", [
    (Stage.RECEIVED, BreachKind.CONFIRM_LATE),
    (Stage.CONFIRMED, BreachKind.PICK_LATE),
    (Stage.PICKED, BreachKind.SHIP_LATE),
])
async def test_cancel_ends_the_order_and_clears_open_breaches(
        ts_env: WorkflowEnvironment, new_order: NewOrder,
        stage: Stage, kind: BreachKind) -> None:
    """Let the stage's first deadline breach, so there is an open breach for cancel to clear."""
    h = await new_order(stage)
    upcoming = (await state(h)).next_deadline
    assert upcoming is not None and upcoming.kind == kind.value
    await sleep_past(ts_env, upcoming.due_at)
    await assert_waiting_with_breach(h, kind, stage, upcoming.due_at)

    assert await send(ts_env, h, EventType.CANCELLED, CANCEL) == Stage.CANCELLED
    assert await h.result() == Stage.CANCELLED
    s = await state(h)
    assert s.stage == Stage.CANCELLED and s.cancel_reason == CANCEL["reason"]
    await assert_all_cleared(s, by="cancelled")


# -- rejected events -------------------------------------------------------------------------


# (stage the order is in, event that is not allowed there). Every posted event type appears;
# NOTE does not, as it is refused only in terminal stages, where the workflow has already ended.
INVALID = [
    (Stage.RECEIVED, EventType.PICKED, FULL_PICK),
    (Stage.RECEIVED, EventType.TRACKING_SCAN, scan()),
    (Stage.CONFIRMED, EventType.CONFIRMED, None),
    (Stage.CONFIRMED, EventType.SHIPPED, SHIP),
    (Stage.PICKED, EventType.DELIVERED, POD),
    (Stage.IN_TRANSIT, EventType.CONFIRMED, None),
    (Stage.IN_TRANSIT, EventType.CANCELLED, CANCEL),
    (Stage.IN_TRANSIT, EventType.RECEIPT_RETURNED, RECEIPT),
    (Stage.DELIVERED, EventType.DELIVERED, POD),
    (Stage.DELIVERED, EventType.CANCELLED, CANCEL),
    (Stage.DELIVERED, EventType.SURVEY_RESPONSE, SURVEY),  # survey not due yet
    (Stage.FOLLOWED_UP, EventType.SURVEY_RESPONSE, SURVEY),  # survey answered twice
    (Stage.PICKED, EventType.STOCK_SHORTAGE, {"lines": [{"sku": "SKU-1", "qty": 1}]}),
    (Stage.DELIVERED, EventType.SHORTAGE_DECISION, {"decision": "cancel", "decided_by": "Li"}),
    (Stage.CONFIRMED, EventType.DELIVERY_EXCEPTION, {"reason": "weather", "text": "storm"}),
    (Stage.IN_TRANSIT, EventType.FOLLOW_UP_CALL, {"outcome": "no_answer"}),
]


@pytest.mark.parametrize("stage, type_, data", INVALID,
                         ids=[f"{t.value}-in-{s.value}" for s, t, _ in INVALID])
async def test_event_not_allowed_in_stage_is_rejected(
        ts_env: WorkflowEnvironment, new_order: NewOrder,
        stage: Stage, type_: EventType, data: dict[str, Any] | None) -> None:
    h = await new_order(stage)
    ev = event(type_, await ts_env.get_current_time(), data)
    err = await assert_rejected(h, ev, "invalid_transition")
    assert err.details and err.details[0]["current_stage"] == stage.value
    assert err.details[0]["event_type"] == type_.value


async def test_pick_naming_a_sku_not_on_the_order_is_rejected(
        ts_env: WorkflowEnvironment, new_order: NewOrder) -> None:
    h = await new_order(Stage.CONFIRMED)
    lines = {"lines": [*FULL_PICK["lines"], {"sku": "SKU-404", "qty": 1}]}
    ev = event(EventType.PICKED, await ts_env.get_current_time(), lines)
    err = await assert_rejected(h, ev, "unknown_sku")
    assert err.details[0]["skus"] == ["SKU-404"]


@pytest.mark.parametrize("same_body, code", [(False, "event_id_reused"),
                                             (True, "duplicate_event")])
async def test_an_applied_event_id_cannot_be_applied_again(
        ts_env: WorkflowEnvironment, new_order: NewOrder,
        same_body: bool, code: str) -> None:
    """A fresh update id gets past Temporal's own update dedup, so the workflow must catch it.

    Reusing the id for a different body is a caller error; resending the same body is a
    duplicate. Both are refused without touching the order.
    """
    h = await new_order()
    first = event(EventType.CONFIRMED, await ts_env.get_current_time())
    assert await post(h, first) == Stage.CONFIRMED
    again = first if same_body else event(EventType.NOTE, await ts_env.get_current_time(),
                                          {"text": "other body"}, event_id=first.event_id)
    assert again.event_id == first.event_id
    assert (again.body_hash == first.body_hash) is same_body
    err = await assert_rejected(h, again, code, update_id=f"{first.event_id}-retry")
    assert err.details[0]["event_id"] == first.event_id


async def test_deadlines_across_national_day_2026_and_its_make_up_saturday(
        ts_env: WorkflowEnvironment, new_order: NewOrder, task_queue: str) -> None:
    """issue 19 §5: an order received (backdated) on Wed 30 Sep 2026 10:00 under China's 2026
    calendar: 18 working hours to confirm skip 1-7 October and fall on Fri 9 Oct 10:00; a pick
    due 2h after a confirmation on Fri 9 Oct 17:00 falls on the make-up Saturday 10 Oct."""
    cst = ZoneInfo("Asia/Shanghai")
    year = load_calendar("cn-2026")
    calendar = BusinessCalendar(
        timezone="Asia/Shanghai", hours={d: ["09:00-18:00"] for d in ("mon", "tue", "wed",
                                                                      "thu", "fri")},
        holidays=year.holiday_dates(), working_days=year.working_day_dates())
    policy = replace(STANDARD, calendar=calendar, confirm_within=18 * 3600.0,
                     pick_within=2 * 3600.0)
    received = datetime(2026, 9, 30, 10, tzinfo=cst)
    now = await ts_env.get_current_time()
    inp = replace(order_input(now, policy=policy), received_at=received, recorded_at=now,
                  promised_ship_by=now + timedelta(days=30),
                  promised_delivery_by=now + timedelta(days=40))
    h = await ts_env.client.start_workflow(OrderWorkflow.run, inp, id=f"order-{inp.order_id}",
                                           task_queue=task_queue)
    await ts_env.sleep(secs(STANDARD.catch_up_grace) + SLACK)
    assert [(b.kind, b.due_at) for b in (await state(h)).breaches] == [
        (BreachKind.CONFIRM_LATE, datetime(2026, 10, 9, 10, tzinfo=cst))]

    await post(h, event(EventType.CONFIRMED, datetime(2026, 10, 9, 17, tzinfo=cst)))
    await ts_env.sleep(secs(STANDARD.catch_up_grace) + SLACK)
    s = await state(h)
    assert [(b.kind, b.due_at) for b in s.breaches if b.kind == BreachKind.PICK_LATE] == [
        (BreachKind.PICK_LATE, datetime(2026, 10, 10, 10, tzinfo=cst))]
