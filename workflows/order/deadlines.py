"""Which SLA deadlines an order is under right now: the one place breaches are defined.

Pure functions of the order state and the workflow clock, so the workflow stays deterministic
and the escalation ladder can hang off the same list later.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from workflows.calendar import add_working_time
from workflows.order.pauses import delivery_due, scan_gap_from
from workflows.order.types import (
    AFTER_DELIVERY,
    BEFORE_SHIPMENT,
    MOVING,
    TERMINAL_STAGES,
    BreachKind,
    FollowUpStatus,
    OrderState,
    Stage,
)


@dataclass(frozen=True)
class ActiveDeadline:
    """A deadline whose awaited event has not happened yet.

    `fire_at` is when it breaches: `due_at`, except for late_risk, which breaches as soon as an
    ETA past the promise is known, and for a deadline already past when Waybill heard of the
    step it times, which waits the policy's `catch_up_grace`.
    """

    kind: BreachKind
    due_at: datetime
    fire_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind.value, self.due_at.isoformat())


def _secs(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def after(state: OrderState, start: datetime, seconds: float) -> datetime:
    """A stage deadline: `seconds` after `start`, in working time if the policy has a calendar."""
    calendar = state.policy.calendar
    if calendar is None:
        return start + _secs(seconds)
    return add_working_time(start, seconds, calendar)


def _resumed(state: OrderState, stage_start: datetime) -> datetime:
    """A stage clock paused while the customer decided on a shortage restarts at the decision."""
    if not state.decisions:
        return stage_start
    return max(stage_start, datetime.fromisoformat(state.decisions[-1].at))


def latest_eta(state: OrderState) -> datetime | None:
    """The ETA of the newest scan (by event time) that carries one: older scans never count."""
    with_eta = [s for s in state.scans if s.eta is not None]
    if not with_eta:
        return None
    return max(with_eta, key=lambda s: s.occurred_at).eta


def receipt_due_at(state: OrderState) -> datetime | None:
    """When the signed receipt is due: `receipt_within` of working time after delivery."""
    delivered = state.stage_times.get(Stage.DELIVERED.value)
    return after(state, delivered, state.policy.receipt_within) if delivered else None


def active_deadlines(state: OrderState, now: datetime) -> list[ActiveDeadline]:
    if state.stage in TERMINAL_STAGES:
        return []
    policy, times, stage = state.policy, state.stage_times, state.stage
    out: list[ActiveDeadline] = []

    def add(kind: BreachKind, due: datetime, fire: datetime | None = None) -> None:
        out.append(ActiveDeadline(kind, due, fire or due))

    if state.decision is not None:
        # Waiting on the customer: their answer is the clock; the warehouse's clocks pause.
        add(BreachKind.DECISION_LATE, state.decision.due_at)
    elif stage == Stage.RECEIVED:
        add(BreachKind.CONFIRM_LATE,
            after(state, _resumed(state, times[Stage.RECEIVED]), policy.confirm_within))
    elif stage == Stage.CONFIRMED or state.repick_since is not None:
        picking_from = state.repick_since or _resumed(state, times[Stage.CONFIRMED])
        add(BreachKind.PICK_LATE, after(state, picking_from, policy.pick_within))
    if stage in BEFORE_SHIPMENT and state.decision is None:
        add(BreachKind.SHIP_LATE, state.promised_ship_by)
    # A customer-caused wait pauses the delivery deadline (pauses.py): the same as the promise
    # for every order without one.
    deliver_by = delivery_due(state)
    if stage in BEFORE_SHIPMENT or stage in MOVING:
        add(BreachKind.DELIVERY_LATE, deliver_by)
    if stage in MOVING and not state.lost:
        last_seen = max([times[Stage.SHIPPED],
                         *(min(s.occurred_at, s.seen_at or s.occurred_at) for s in state.scans)])
        add(BreachKind.SCAN_GAP, scan_gap_from(state, last_seen) + _secs(policy.scan_gap))
        eta = latest_eta(state)
        paused = any(p.resumed_at is None and p.until > now for p in state.pauses)
        if eta is not None and eta > deliver_by and not paused:
            add(BreachKind.LATE_RISK, deliver_by, fire=now)
    receipt_due = receipt_due_at(state)
    if stage in AFTER_DELIVERY and state.receipt is None and receipt_due is not None:
        add(BreachKind.RECEIPT_LATE, receipt_due)
    if state.heard_at is None:
        return out
    # Past due before Waybill heard of the order's latest step: the rest of a backlog is
    # likely on its way, so the breach waits the grace rather than paging anyone for it.
    grace_end = state.heard_at + _secs(policy.catch_up_grace)
    return [replace(d, fire_at=max(d.fire_at, grace_end)) if d.due_at < state.heard_at else d
            for d in out]


def next_follow_up_change(state: OrderState) -> datetime | None:
    """When the survey track next moves on its own: the survey falls due, or its window ends."""
    survey = state.survey
    if survey is None or state.stage in TERMINAL_STAGES:
        return None
    if survey.status == FollowUpStatus.PENDING:
        return survey.due_at
    if survey.status == FollowUpStatus.DUE:
        steps = [survey.expires_at]
        if survey.remind_at is not None and survey.reminded_at is None:
            steps.append(survey.remind_at)
        if survey.next_call_at is not None:
            steps.append(survey.next_call_at)
        return min(steps)
    return None
