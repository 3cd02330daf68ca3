"""EscalationWorkflow: one durable escalation ladder per SLA breach.

Each level must be acknowledged within its `ack_within` and, once acknowledged, resolved within
its `resolve_within`; a missed clock climbs to the next level, which is told too. At the top
level a missed clock re-notifies every `repeat_every` until someone resolves it. The order
resolves it by signal when the condition behind the breach clears. The run loop is the case
workflows' (workflows/case.py); a ladder raises no ladders of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.order.projection import ProjectionActivities
    from workflows.case import CaseWorkflow, Projection
    from workflows.escalation.condition import late_step
    from workflows.escalation.types import (
        AcknowledgeInput,
        ClearInput,
        EscalationAction,
        EscalationInput,
        EscalationProjection,
        EscalationState,
        EscalationStatus,
        EscalationStep,
        ReassignInput,
        ResolveInput,
        SnoozeInput,
    )
    from workflows.ids import SYSTEM_ACTOR
    from workflows.order.types import Tier
    from workflows.policy import LadderLevel
    from workflows.rejections import reject as _reject

KEY_ACCOUNT_MANAGER = "key_account_manager"
# A waived resolution keeps the workflow running until the step is done (runs from before it
# never take that path: a waiver needs the new `waive` field).
WAIVER_PATCH = "escalation-waiver"


@workflow.defn
class EscalationWorkflow(CaseWorkflow[EscalationStatus, EscalationStep]):
    @workflow.init
    def __init__(self, inp: EscalationInput) -> None:
        super().__init__()
        self._policy = inp.policy
        self._kam = inp.key_account_manager
        start = inp.policy.start_level
        if inp.customer_tier == Tier.KEY_ACCOUNT and inp.policy.key_account_start_level:
            start = inp.policy.key_account_start_level
        now = workflow.now()
        self._s = EscalationStatus(
            escalation_id=inp.escalation_id, order_id=inp.order_id, breach_id=inp.breach_id,
            kind=inp.kind, stage=inp.stage, customer_id=inp.customer_id,
            customer_tier=inp.customer_tier, due_at=inp.due_at, opened_at=now, level=start,
            level_since=now, recipients=self._recipients(start), customer_name=inp.customer_name,
            subject=inp.subject)
        self._clock_from = now  # the current level's clock; restarts on ack and after a snooze
        self._renotify_at: datetime | None = None
        self._step(EscalationAction.OPENED, SYSTEM_ACTOR, detail={
            "breach_id": inp.breach_id, "kind": inp.kind.value,
            "stage": inp.stage.value if inp.stage else None, "subject": inp.subject,
            "due_at": inp.due_at.isoformat(), "detected_at": inp.detected_at.isoformat()})
        self._notify()

    @workflow.run
    async def run(self, inp: EscalationInput) -> EscalationStatus:
        await self._run_case()
        return self._s

    @workflow.query
    def status(self) -> EscalationStatus:
        return self._s

    # -- operator actions --------------------------------------------------------------------

    @workflow.update
    async def acknowledge(self, inp: AcknowledgeInput) -> EscalationStatus:
        now = workflow.now()
        self._s.acknowledged_at, self._s.acknowledged_by = now, inp.actor
        self._clock_from, self._renotify_at = now, None
        self._step(EscalationAction.ACKNOWLEDGED, inp.actor, inp.comment)
        return await self._acted()

    @acknowledge.validator
    def _check_acknowledge(self, inp: AcknowledgeInput) -> None:
        self._check_open()
        if self._s.acknowledged_at is not None:
            raise _reject("already_acknowledged", "this level was already acknowledged",
                          acknowledged_by=self._s.acknowledged_by, level=self._s.level)

    @workflow.update
    async def resolve(self, inp: ResolveInput) -> EscalationStatus:
        if inp.waive and workflow.patched(WAIVER_PATCH):
            self._waive(inp)
        else:
            self._resolve(inp.actor, inp.code, inp.text, inp.comment)
        return await self._acted()

    @resolve.validator
    def _check_resolve(self, inp: ResolveInput) -> None:
        self._check_open()
        # Open means the step behind it is still not done (its case clears it when it is):
        # resolving it is a waiver, said so explicitly and with a reason.
        if not inp.waive:
            s = self._s
            raise _reject("condition_still_holds",
                          "the late step is still not done: do it, or waive with a reason",
                          kind=s.kind.value, step=late_step(s.kind.value, s.breach_id),
                          subject=s.subject or f"order:{s.order_id}")
        if not (inp.reason or "").strip():
            raise _reject("waiver_reason_required", "a waiver needs a reason")

    @workflow.update
    async def reassign(self, inp: ReassignInput) -> EscalationStatus:
        previous, self._s.assignee = self._s.assignee, inp.assignee
        self._step(EscalationAction.REASSIGNED, inp.actor, inp.comment,
                   {"from": previous, "to": inp.assignee})
        return await self._acted()

    @reassign.validator
    def _check_reassign(self, inp: ReassignInput) -> None:
        self._check_open()

    @workflow.update
    async def snooze(self, inp: SnoozeInput) -> EscalationStatus:
        self._s.snoozed_until = inp.until
        self._step(EscalationAction.SNOOZED, inp.actor, inp.comment,
                   {"until": inp.until.isoformat()})
        return await self._acted()

    @snooze.validator
    def _check_snooze(self, inp: SnoozeInput) -> None:
        self._check_open()
        now = workflow.now()
        latest = now + timedelta(seconds=self._policy.snooze_max)
        if inp.until <= now:
            raise _reject("snooze_in_past", "snooze until a time in the future",
                          until=inp.until.isoformat())
        if inp.until > latest:
            raise _reject("snooze_too_long", "the policy caps how long a snooze may be",
                          until=inp.until.isoformat(), latest=latest.isoformat())

    @workflow.signal
    def clear(self, inp: ClearInput) -> None:
        if self._s.state != EscalationState.RESOLVED or self._s.reopens_at is not None:
            self._resolve(SYSTEM_ACTOR, "condition_cleared", inp.reason, None)
            self._changed = True

    def _check_open(self) -> None:
        if self._s.state == EscalationState.RESOLVED:
            raise _reject("already_resolved", "the escalation is already resolved",
                          resolved_by=self._s.resolved_by,
                          resolution_code=self._s.resolution_code)

    async def _acted(self) -> EscalationStatus:
        await self._settle()
        return self._s

    def _resolve(self, actor: str, code: str, text: str, comment: str | None) -> None:
        s = self._s
        s.state, s.resolved_at, s.resolved_by = EscalationState.RESOLVED, workflow.now(), actor
        s.resolution_code, s.resolution, s.next_step_at = code, text, None
        s.reopens_at = None
        self._step(EscalationAction.RESOLVED, actor, comment, {"code": code, "text": text})

    def _waive(self, inp: ResolveInput) -> None:
        """Resolved for now, the reason on record; the level's resolve clock keeps running
        from now, and the escalation re-opens when it ends unless the step is done first."""
        s, now = self._s, workflow.now()
        reopens_at = now + timedelta(seconds=self._level().resolve_within)
        s.state, s.resolved_at, s.resolved_by = EscalationState.RESOLVED, now, inp.actor
        s.resolution_code, s.resolution = inp.code, inp.text
        s.waiver_reason, s.reopens_at, s.snoozed_until = inp.reason, reopens_at, None
        self._renotify_at = None
        self._step(EscalationAction.WAIVED, inp.actor, inp.comment, {
            "code": inp.code, "text": inp.text, "reason": inp.reason,
            "step": late_step(s.kind.value, s.breach_id), "reopens_at": reopens_at.isoformat()})

    def _reopen(self, now: datetime) -> None:
        """The waiver's time is up and the step is still not done: open again and climb (at
        the top: tell its recipients again)."""
        s = self._s
        s.state, s.reopens_at = EscalationState.OPEN, None
        s.resolved_at = s.resolved_by = s.resolution_code = s.resolution = None
        self._step(EscalationAction.REOPENED, SYSTEM_ACTOR,
                   detail={"step": late_step(s.kind.value, s.breach_id)})
        if self._at_top():
            s.acknowledged_at = s.acknowledged_by = None
            self._clock_from, self._renotify_at = now, now
        else:
            self._climb(now)

    # -- the ladder --------------------------------------------------------------------------

    def _level(self) -> LadderLevel:
        return self._policy.levels[self._s.level - 1]

    def _at_top(self) -> bool:
        return self._s.level >= len(self._policy.levels)

    def _recipients(self, level: int) -> list[str]:
        names = []
        for name in self._policy.levels[level - 1].recipients:
            if name == KEY_ACCOUNT_MANAGER:
                if not self._kam:
                    continue  # only key accounts have a named manager
                name = self._kam
            if name not in names:
                names.append(name)
        return names

    def _clock_ends(self) -> datetime:
        level = self._level()
        allowed = level.resolve_within if self._s.acknowledged_at else level.ack_within
        return self._clock_from + timedelta(seconds=allowed)

    def _closed(self) -> bool:
        return self._s.state == EscalationState.RESOLVED and self._s.reopens_at is None

    def _next_wakeup(self) -> datetime | None:
        return self._s.next_step_at  # set by every tick

    def _tick(self) -> None:
        """Move the ladder on for the time that has passed, then say when to look again."""
        s, now = self._s, workflow.now()
        if s.reopens_at is not None and now >= s.reopens_at:
            self._reopen(now)
        if s.state == EscalationState.RESOLVED:
            s.next_step_at = s.reopens_at
            return
        if s.snoozed_until is not None and now >= s.snoozed_until:
            self._clock_from, s.snoozed_until = s.snoozed_until, None
            self._step(EscalationAction.SNOOZE_ENDED, SYSTEM_ACTOR)
        if s.snoozed_until is None:
            if not self._at_top() and now >= self._clock_ends():
                self._climb(now)
            elif self._at_top():
                if self._renotify_at is None and now >= self._clock_ends():
                    self._renotify_at = now
                if self._renotify_at is not None and now >= self._renotify_at:
                    self._step(EscalationAction.RENOTIFIED, SYSTEM_ACTOR,
                               detail={"recipients": s.recipients})
                    self._renotify_at = now + timedelta(seconds=self._policy.repeat_every)
        if s.snoozed_until is not None:
            s.next_step_at = s.snoozed_until
        elif self._renotify_at is not None:
            s.next_step_at = self._renotify_at
        else:
            s.next_step_at = self._clock_ends()

    def _climb(self, now: datetime) -> None:
        s = self._s
        reason = "not_resolved" if s.acknowledged_at else "not_acknowledged"
        previous = s.level
        s.level, s.level_since, s.recipients = previous + 1, now, self._recipients(previous + 1)
        s.acknowledged_at = s.acknowledged_by = None
        self._clock_from = now
        self._step(EscalationAction.CLIMBED, SYSTEM_ACTOR,
                   detail={"from": previous, "to": s.level, "reason": reason})
        self._notify()

    def _notify(self) -> None:
        self._step(EscalationAction.NOTIFIED, SYSTEM_ACTOR,
                   detail={"recipients": self._s.recipients})

    # -- history and read model --------------------------------------------------------------

    def _step(self, action: EscalationAction, actor: str, comment: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        seq = len(self._s.steps) + 1
        step = EscalationStep(seq=seq, at=workflow.now(), action=action, level=self._s.level,
                              actor=actor, comment=comment, detail=detail or {})
        self._s.steps.append(step)
        self._pending.append(step)

    def _projection(self, state: EscalationStatus, steps: list[EscalationStep]) -> Projection:
        return (ProjectionActivities.project_escalation,
                EscalationProjection(status=state, steps=steps))
