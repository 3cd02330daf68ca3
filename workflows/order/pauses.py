"""Customer-caused pauses of the delivery deadline: the rules, pure.

A delivery exception whose reason is the customer's (the consignee was absent, or the customer
asked for a later delivery) and that gives `rescheduled_for` pauses the delivery deadline, the
late-risk warning and the scan-gap clock until then; the deadline then runs on with the working
time it had left (in the policy's calendar, else plain time). A breach already open stays open:
a pause after the deadline moves nothing. The promise itself stands: on-time is judged against
the paused deadline only where the policy says so (`pauses_excluded_from_on_time`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.calendar import add_working_time, working_time_between
from workflows.order.records import PauseRecord
from workflows.order.types import OrderState

# Orders record pauses only from this patch on (called where a pause is asked for, so histories
# without one never meet it).
PAUSES_PATCH = "customer-pauses"
# The delivery exception reasons that are the customer's: only these may reschedule.
PAUSING_REASONS = frozenset({"consignee_absent", "customer_request"})
# How far ahead a delivery may be rescheduled (beyond it, agree a new promise instead).
MAX_PAUSE = timedelta(days=30)


def _resumes(pause: PauseRecord) -> datetime:
    return pause.resumed_at or pause.until


def delivery_due(state: OrderState) -> datetime:
    """When the delivery deadline breaches: the promise, moved on by each pause it met."""
    due = state.promised_delivery_by
    calendar = state.policy.calendar
    for pause in state.pauses:
        if pause.since >= due:
            continue  # already late when the customer asked: the breach stands
        end = _resumes(pause)
        if calendar is None:
            due = end + (due - pause.since)
            continue
        left = working_time_between(pause.since, due, calendar)
        due = add_working_time(end, left, calendar) if left > 0 else max(due, end)
    return due


def scan_gap_from(state: OrderState, last_seen: datetime) -> datetime:
    """Where the scan-gap clock counts from: the last scan, or the end of a customer-caused
    pause after it (the carrier holds the goods meanwhile: no scans are due)."""
    return max([last_seen, *(_resumes(p) for p in state.pauses if _resumes(p) > last_seen)])


def on_time_due(state: OrderState) -> datetime:
    """What a delivery is judged on time against: the promise, or the paused deadline."""
    if state.policy.pauses_excluded_from_on_time:
        return delivery_due(state)
    return state.promised_delivery_by


def active_pause(state: OrderState, now: datetime) -> PauseRecord | None:
    """The pause running at `now`, if any (one at a time: a new one replaces it)."""
    return next((p for p in state.pauses if p.resumed_at is None and p.since <= now), None)


def next_resume(state: OrderState) -> datetime | None:
    """When a running pause ends by itself (a wake-up of the workflow)."""
    return min((p.until for p in state.pauses if p.resumed_at is None), default=None)
