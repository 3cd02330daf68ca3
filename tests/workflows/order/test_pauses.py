"""Customer-caused pauses (workflows/order/pauses.py): where the delivery deadline lands after
the customer's wait, with and without a working calendar, and what on-time is judged against."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.builders import STANDARD, order_input
from workflows.order.deadlines import active_deadlines
from workflows.order.pauses import delivery_due, next_resume, on_time_due
from workflows.order.records import PauseRecord
from workflows.order.rules import opening_state
from workflows.order.types import BreachKind, OrderState, Scan, Stage
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
