"""An order's SLA breaches: opened when a deadline passes (workflows/order/deadlines.py says
which), cleared when the awaited event comes, each with its escalation ladder. A part of
OrderWorkflow, kept apart to keep each file readable."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import workflows.order.search as search
    from workflows.escalation.link import EscalationLink
    from workflows.escalation.types import EscalationInput
    from workflows.ids import escalation_workflow_id
    from workflows.order.context import OrderContext
    from workflows.order.deadlines import ActiveDeadline, active_deadlines, next_follow_up_change
    from workflows.order.types import Breach, Deadline, FollowUpStatus, Stage, SystemEventType


class OrderBreaches:
    def __init__(self, case: OrderContext, ladders: EscalationLink) -> None:
        self._case = case
        self._ladders = ladders

    def refresh(self, now: datetime, last_event: str) -> None:
        """Open breaches for deadlines now past, clear those whose deadline went away (by
        `last_event`), and set the next deadline the read model shows."""
        deadlines = active_deadlines(self._case.order, now)
        active = {d.key for d in deadlines}
        for breach in self._open():
            if (breach.kind.value, breach.due_at.isoformat()) not in active:
                self._clear(breach, now, last_event)
        open_keys = self._open_keys()
        for deadline in deadlines:
            if deadline.fire_at <= now and deadline.key not in open_keys:
                self._breach(deadline, now)
        self._set_next_deadline(deadlines, self._open_keys())

    def next_wakeup(self, now: datetime) -> datetime | None:
        """The earliest deadline not yet breached, or the follow-up's next step."""
        s = self._case.order
        open_keys = self._open_keys()
        times = [d.fire_at for d in active_deadlines(s, now) if d.key not in open_keys]
        follow_up = next_follow_up_change(s)
        if follow_up is not None:
            times.append(follow_up)
        return min(times, default=None)

    def _open(self) -> list[Breach]:
        return [b for b in self._case.order.breaches if b.cleared_at is None]

    def _open_keys(self) -> set[tuple[str, str]]:
        return {(b.kind.value, b.due_at.isoformat()) for b in self._open()}

    def _breach(self, deadline: ActiveDeadline, now: datetime) -> None:
        s = self._case.order
        number = 1 + sum(1 for b in s.breaches if b.kind == deadline.kind)
        breach_id = f"{deadline.kind.value}-{number}"
        breach = Breach(id=breach_id, kind=deadline.kind, stage=s.stage, due_at=deadline.due_at,
                        detected_at=now,
                        escalation_id=escalation_workflow_id(s.order_id, breach_id))
        s.breaches.append(breach)
        assert s.policy.escalation is not None  # every parsed policy has a ladder
        assert breach.escalation_id is not None
        self._ladders.open(EscalationInput(
            escalation_id=breach.escalation_id, order_id=s.order_id, breach_id=breach.id,
            kind=breach.kind, stage=breach.stage, due_at=breach.due_at, detected_at=now,
            customer_id=s.customer.id, customer_tier=s.customer.tier,
            key_account_manager=s.customer.key_account_manager, policy=s.policy.escalation,
            customer_name=s.customer.name))
        self._case.record(f"breach-{breach.id}", SystemEventType.SLA_BREACH, now, {
            "breach_id": breach.id, "kind": breach.kind.value, "stage": breach.stage.value,
            "due_at": breach.due_at.isoformat(), "detected_at": now.isoformat(),
            "escalation_id": breach.escalation_id})
        workflow.upsert_search_attributes([search.SLA_BREACHED.value_set(True)])

    def _clear(self, breach: Breach, now: datetime, last_event: str) -> None:
        cause = "cancelled" if self._case.order.stage == Stage.CANCELLED else last_event
        breach.cleared_at, breach.cleared_by = now, cause
        if breach.escalation_id:
            self._ladders.clear(breach.escalation_id, f"condition cleared by {cause}")
        self._case.record(f"breach-{breach.id}-cleared", SystemEventType.BREACH_CLEARED, now,
                          {"breach_id": breach.id, "kind": breach.kind.value,
                           "cleared_by": cause})

    def _set_next_deadline(self, deadlines: list[ActiveDeadline],
                           open_keys: set[tuple[str, str]]) -> None:
        s = self._case.order
        upcoming = [Deadline(d.kind.value, d.due_at) for d in deadlines if d.key not in open_keys]
        survey = s.survey
        if survey is not None and survey.status == FollowUpStatus.DUE:
            upcoming.append(Deadline("survey_window", survey.expires_at))
        nxt = min(upcoming, key=lambda d: d.due_at, default=None)
        if nxt != s.next_deadline:
            s.next_deadline = nxt
            self._case.touch()
