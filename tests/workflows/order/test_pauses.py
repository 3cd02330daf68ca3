"""Customer-caused pauses (workflows/order/pauses.py): where the delivery deadline lands after
the customer's wait, with and without a working calendar, and what on-time is judged against."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine
from db.orders.queries import timeline
from tests.support.builders import POD, STANDARD, order_input
from tests.support.order_workflow_harness import NewOrder, send, sleep_past, state
from workflows.order.deadlines import active_deadlines
from workflows.order.pauses import delivery_due, next_resume, on_time_due
from workflows.order.records import PauseRecord
from workflows.order.rules import opening_state
from workflows.order.types import BreachKind, EventType, OrderState, Scan, Stage
from workflows.policy import BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
WEEK = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def local(m: int, d: int, h: int, y: int = 2026) -> datetime:
    return datetime(y, m, d, h, tzinfo=SHANGHAI)


def moving(promise: datetime, calendar: BusinessCalendar | None = None,
           excluded: bool = False) -> OrderState:
    policy = replace(STANDARD, calendar=calendar, pauses_excluded_from_on_time=excluded)
    s = opening_state(replace(order_input(T0, policy=policy), promised_delivery_by=promise))
    s.stage = Stage.IN_TRANSIT
    s.stage_times.update(shipped=T0, in_transit=T0)
    return s


def pause(since: datetime, until: datetime, resumed_at: datetime | None = None) -> PauseRecord:
    return PauseRecord(event_id="ex-1", cause="consignee_absent", since=since, until=until,
                       resumed_at=resumed_at)


def test_without_a_pause_the_deadline_is_the_promise() -> None:
    s = moving(T0 + timedelta(days=2))
    assert delivery_due(s) == on_time_due(s) == s.promised_delivery_by
    assert next_resume(s) is None


def test_plain_time_runs_on_with_what_was_left() -> None:
    s = moving(T0 + timedelta(hours=30))
    s.pauses.append(pause(T0 + timedelta(hours=10), T0 + timedelta(hours=40)))
    # 20h were left at the pause; the clock runs again at hour 40.
    assert delivery_due(s) == T0 + timedelta(hours=60)
    assert next_resume(s) == T0 + timedelta(hours=40)


def test_working_time_runs_on_across_national_day_and_its_make_up_saturday() -> None:
    cal = BusinessCalendar(timezone="Asia/Shanghai", hours=WEEK,
                           holidays=[f"2026-10-0{d}" for d in range(1, 8)],
                           working_days=["2026-09-20", "2026-10-10"])
    # Promise Tue Sep 29 18:00; the consignee was out Mon Sep 28 at 14:00 (4h + 9h left) and
    # asked for Fri Oct 9 at 09:00: 9h on Oct 9, the last 4h on the make-up Saturday Oct 10.
    s = moving(local(9, 29, 18), cal)
    s.pauses.append(pause(local(9, 28, 14), local(10, 9, 9)))
    assert delivery_due(s) == local(10, 10, 13)


def test_a_pause_after_the_deadline_moves_nothing() -> None:
    s = moving(T0 + timedelta(hours=5))
    s.pauses.append(pause(T0 + timedelta(hours=6), T0 + timedelta(hours=30)))
    assert delivery_due(s) == T0 + timedelta(hours=5)


def test_a_pause_ended_by_the_delivery_counts_until_then() -> None:
    s = moving(T0 + timedelta(hours=30))
    s.pauses.append(pause(T0 + timedelta(hours=10), T0 + timedelta(hours=40),
                          resumed_at=T0 + timedelta(hours=20)))
    assert delivery_due(s) == T0 + timedelta(hours=40)
    assert next_resume(s) is None


def test_pauses_one_after_another_each_move_the_deadline() -> None:
    s = moving(T0 + timedelta(hours=30))
    h = T0 + timedelta(hours=1) - T0
    s.pauses += [pause(T0 + 10 * h, T0 + 20 * h, resumed_at=T0 + 20 * h),
                 pause(T0 + 25 * h, T0 + 35 * h)]
    # +10h for the first; the second finds 15h left at hour 25 and resumes at 35.
    assert delivery_due(s) == T0 + timedelta(hours=50)


def test_on_time_is_judged_against_the_promise_unless_the_policy_excludes_pauses() -> None:
    promise = T0 + timedelta(hours=30)
    kept, excluded = moving(promise), moving(promise, excluded=True)
    for s in (kept, excluded):
        s.pauses.append(pause(T0 + timedelta(hours=10), T0 + timedelta(hours=40)))
    assert on_time_due(kept) == promise
    assert on_time_due(excluded) == T0 + timedelta(hours=60)


def test_late_risk_waits_while_paused_and_the_delivery_breach_moves() -> None:
    s = moving(T0 + timedelta(hours=30))
    s.scans.append(Scan(event_id="sc", occurred_at=T0 + timedelta(hours=9), location="Hub",
                        status="out", eta=T0 + timedelta(hours=45), seen_at=T0))
    before = {d.kind: d.due_at for d in active_deadlines(s, T0 + timedelta(hours=9))}
    assert before[BreachKind.LATE_RISK] == T0 + timedelta(hours=30)
    s.pauses.append(pause(T0 + timedelta(hours=10), T0 + timedelta(hours=40)))
    during = {d.kind: d.due_at for d in active_deadlines(s, T0 + timedelta(hours=11))}
    assert BreachKind.LATE_RISK not in during
    assert during[BreachKind.DELIVERY_LATE] == T0 + timedelta(hours=60)
    # Resumed: the ETA (hour 45) is within the moved deadline, so no late risk either.
    s.pauses[0] = replace(s.pauses[0], resumed_at=T0 + timedelta(hours=40))
    after = {d.kind for d in active_deadlines(s, T0 + timedelta(hours=41))}
    assert BreachKind.LATE_RISK not in after and BreachKind.DELIVERY_LATE in after


def test_the_scan_gap_counts_from_the_end_of_a_pause() -> None:
    """The carrier holds the goods while the customer is away: no scan is due until then."""
    s = moving(T0 + timedelta(days=5))
    gap = timedelta(seconds=s.policy.scan_gap)
    due = {d.kind: d.due_at for d in active_deadlines(s, T0 + timedelta(hours=1))}
    assert due[BreachKind.SCAN_GAP] == T0 + gap
    s.pauses.append(pause(T0 + timedelta(hours=2), T0 + timedelta(days=2)))
    due = {d.kind: d.due_at for d in active_deadlines(s, T0 + timedelta(hours=3))}
    assert due[BreachKind.SCAN_GAP] == T0 + timedelta(days=2) + gap
    # A scan after the pause's end counts from the scan again.
    s.scans.append(Scan(event_id="sc", occurred_at=T0 + timedelta(days=3), location="Hub",
                        status="in_transit", seen_at=T0 + timedelta(days=3)))
    due = {d.kind: d.due_at for d in active_deadlines(s, T0 + timedelta(days=3))}
    assert due[BreachKind.SCAN_GAP] == T0 + timedelta(days=3) + gap


# -- on the time-skipping server ---------------------------------------------------------------


def late(s: OrderState) -> list[datetime]:
    """The due times of the delivery breaches."""
    return [b.due_at for b in s.breaches if b.kind == BreachKind.DELIVERY_LATE]


def _timeline(url: str, order_id: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return timeline(session, order_id)
    finally:
        engine.dispose()


async def test_consignee_absent_pauses_the_delivery_deadline_until_the_rescheduled_time(
        ts_env: WorkflowEnvironment, new_order: NewOrder, sqlite_url: str) -> None:
    h = await new_order(Stage.IN_TRANSIT, deliver_in=timedelta(days=2))
    s = await state(h)
    promise, now = s.promised_delivery_by, await ts_env.get_current_time()
    until = now + timedelta(days=3)
    await send(ts_env, h, EventType.DELIVERY_EXCEPTION, {
        "reason": "consignee_absent", "text": "nobody home; redeliver Friday",
        "rescheduled_for": until.isoformat()})
    s = await state(h)
    assert [(p.cause, p.until, p.resumed_at) for p in s.pauses] == [
        ("consignee_absent", until, None)]
    due = until + (promise - s.pauses[0].since)
    assert s.promised_delivery_by == promise  # the promise stands

    await sleep_past(ts_env, promise)  # the old deadline passes: the delivery does not breach
    assert late(await state(h)) == []
    await sleep_past(ts_env, until)  # the customer's time comes: the clock runs on
    s = await state(h)
    assert s.pauses[0].resumed_at == until and late(s) == []
    await sleep_past(ts_env, due)
    assert late(await state(h)) == [due]

    await send(ts_env, h, EventType.DELIVERED, POD)
    s = await state(h)
    assert s.on_time is False  # judged against the promise: the policy keeps it
    entries = {e.type: e for e in _timeline(sqlite_url, s.order_id)}
    assert entries["deadline_paused"].data["until"] == until.isoformat()
    assert entries["deadline_paused"].data["due_at"] == due.isoformat()
    assert entries["deadline_resumed"].occurred_at == until
    assert entries["deadline_resumed"].data["due_at"] == due.isoformat()


async def test_a_customer_request_excluded_from_on_time_and_ended_by_the_delivery(
        ts_env: WorkflowEnvironment, new_order: NewOrder, sqlite_url: str) -> None:
    policy = replace(STANDARD, pauses_excluded_from_on_time=True)
    h = await new_order(Stage.IN_TRANSIT, deliver_in=timedelta(days=1), policy=policy)
    promise = (await state(h)).promised_delivery_by
    until = await ts_env.get_current_time() + timedelta(days=4)
    await send(ts_env, h, EventType.DELIVERY_EXCEPTION, {
        "reason": "customer_request", "text": "buyer asked for next week",
        "rescheduled_for": until.isoformat()})
    await sleep_past(ts_env, promise + timedelta(days=1))
    await send(ts_env, h, EventType.DELIVERED, POD)  # delivered during the pause, after the promise
    s = await state(h)
    assert s.on_time is True and late(s) == []
    assert s.pauses[0].resumed_at is not None and s.pauses[0].resumed_at < until
    resumed = [e for e in _timeline(sqlite_url, s.order_id) if e.type == "deadline_resumed"]
    assert [e.data["ended_by"] for e in resumed] == ["delivered"]


async def test_other_reasons_do_not_pause(ts_env: WorkflowEnvironment,
                                          new_order: NewOrder) -> None:
    h = await new_order(Stage.IN_TRANSIT)
    later = await ts_env.get_current_time() + timedelta(days=2)
    await send(ts_env, h, EventType.DELIVERY_EXCEPTION, {
        "reason": "weather", "text": "typhoon", "rescheduled_for": later.isoformat()})
    assert (await state(h)).pauses == []
