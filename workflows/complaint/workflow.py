"""ComplaintWorkflow: one durable workflow per complaint (投诉), from acceptance to closure.

Seed 003's steps: accept and record (at start), route to the responsible department, reply to
the customer with a plan and a time (seed 001: a fast reply, a clear plan, a time by which it
will be solved), resolve, ask the customer's satisfaction with the resolution, close. Routing,
first reply and resolution are due a fixed time after acceptance; a missed one opens an
escalation that clears itself when the step is done. The customer's silence on the satisfaction
question is recorded as unanswered when its window ends: it is not a breach of ours. The run
loop is the case workflows' (workflows/case.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, assert_never

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.complaint.projection import ComplaintActivities
    from workflows.case import CaseWorkflow, Projection, history_limit
    from workflows.complaint.event_data import (
        ComplaintEventData,
        ComplaintNoteData,
        FirstReplyData,
        ResolvedData,
        RoutedData,
        SatisfactionData,
        parse,
    )
    from workflows.complaint.types import (
        ComplaintBreach,
        ComplaintEntry,
        ComplaintEventInput,
        ComplaintEventResult,
        ComplaintEventType,
        ComplaintInput,
        ComplaintProjection,
        ComplaintResume,
        ComplaintStatus,
        ComplaintStep,
        ComplaintSystemEvent,
        Department,
        LateStep,
    )
    from workflows.escalation.link import EscalationLink
    from workflows.escalation.types import EscalationInput
    from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE, escalation_workflow_id
    from workflows.order.types import BreachKind
    from workflows.policy import SlaPolicy
    from workflows.rejections import refuse_repeat, reject, remembered

# Waybill's own timeline entries; the API's event id pattern cannot produce a "/".
SYSTEM_PREFIX = "sys/"
SATISFACTION = "satisfaction"

_OPEN_STEPS = frozenset(ComplaintStep) - {ComplaintStep.CLOSED}
# Which steps each posted event may arrive in. One table, read by the validator.
ALLOWED_IN: dict[ComplaintEventType, frozenset[ComplaintStep]] = {
    ComplaintEventType.ROUTED: frozenset({ComplaintStep.ACCEPTED, ComplaintStep.ROUTED,
                                          ComplaintStep.REPLIED}),
    ComplaintEventType.FIRST_REPLY: frozenset({ComplaintStep.ROUTED}),
    ComplaintEventType.RESOLVED: frozenset({ComplaintStep.REPLIED}),
    ComplaintEventType.SATISFACTION: frozenset({ComplaintStep.RESOLVED}),
    ComplaintEventType.NOTE: _OPEN_STEPS,
}
# The deadline awaited in each step.
DUE_IN: dict[ComplaintStep, str] = {
    ComplaintStep.ACCEPTED: LateStep.ROUTE.value,
    ComplaintStep.ROUTED: LateStep.FIRST_REPLY.value,
    ComplaintStep.REPLIED: LateStep.RESOLVE.value,
    ComplaintStep.RESOLVED: SATISFACTION,
}


def step_deadlines(opened_at: datetime, policy: SlaPolicy) -> dict[str, datetime]:
    """Our deadlines, all counted from acceptance (satisfaction is added at resolution)."""
    c = policy.complaints
    return {LateStep.ROUTE.value: opened_at + timedelta(seconds=c.route_within),
            LateStep.FIRST_REPLY.value: opened_at + timedelta(seconds=c.first_reply_within),
            LateStep.RESOLVE.value: opened_at + timedelta(seconds=c.resolve_within)}


def opened_entry(inp: ComplaintInput) -> ComplaintEntry:
    """The complaint's first timeline entry; the API writes the same one with the row."""
    return ComplaintEntry(
        event_id=f"{SYSTEM_PREFIX}opened", type=ComplaintSystemEvent.OPENED.value,
        occurred_at=inp.opened_at, recorded_at=inp.opened_at, actor=inp.actor,
        source=inp.source,
        data={"origin": inp.origin, "category": inp.category, "order_id": inp.order_id,
              "description": inp.description, "survey": inp.survey,
              "policy": {"name": inp.policy.name, "version": inp.policy.version},
              "deadlines": {k: v.isoformat()
                            for k, v in step_deadlines(inp.opened_at, inp.policy).items()}})


def set_due(s: ComplaintStatus) -> None:
    s.due_kind = DUE_IN.get(s.step)
    s.due_at = s.deadlines.get(s.due_kind) if s.due_kind else None


def initial_status(inp: ComplaintInput) -> ComplaintStatus:
    """The complaint as accepted; the API stores the same before the workflow starts."""
    s = ComplaintStatus(
        complaint_id=inp.complaint_id, customer=inp.customer, order_id=inp.order_id,
        origin=inp.origin, category=inp.category, description=inp.description,
        opened_at=inp.opened_at, policy=inp.policy, created_by=inp.actor,
        created_by_role=inp.source, order_stage=inp.order_stage, survey=inp.survey,
        deadlines=step_deadlines(inp.opened_at, inp.policy))
    set_due(s)
    return s


@workflow.defn
class ComplaintWorkflow(CaseWorkflow[ComplaintStatus, ComplaintEntry]):
    @workflow.init
    def __init__(self, inp: ComplaintInput) -> None:
        self._s = initial_status(inp)
        self._escalations = EscalationLink()
        super().__init__(self._escalations)
        self._event_hashes: dict[str, str] = {}
        self._pending = [opened_entry(inp)]
        self._input = inp
        if inp.resume is not None:  # continued as new (workflows/case.py): go on as it was
            self._s, self._pending = inp.resume.status, []
            self._event_hashes = dict(inp.resume.event_hashes)

    @workflow.run
    async def run(self, inp: ComplaintInput) -> ComplaintStatus:
        await self._run_case()
        return self._s

    @workflow.query
    def status(self) -> ComplaintStatus:
        return self._s

    @workflow.update
    async def apply_event(self, inp: ComplaintEventInput) -> ComplaintEventResult:
        self._event_hashes[inp.event_id] = inp.body_hash
        self._record(inp.event_id, inp.type.value, inp.occurred_at, inp.data, inp.actor,
                     inp.source, inp.body_hash)
        self._apply(inp, parse(inp.type, inp.data))
        await self._settle()
        return ComplaintEventResult(event_id=inp.event_id, step=self._s.step,
                                    body_hash=inp.body_hash, request_id=inp.request_id)

    @apply_event.validator
    def _validate_event(self, inp: ComplaintEventInput) -> None:
        s = self._s
        refuse_repeat(self._event_hashes.get(inp.event_id), inp.event_id, inp.body_hash)
        if inp.event_id.startswith(SYSTEM_PREFIX):
            raise reject("event_id_reused", "event ids starting with sys/ are Waybill's own",
                          event_id=inp.event_id)
        if s.step not in ALLOWED_IN[inp.type]:
            raise reject("invalid_transition", f"{inp.type} is not allowed in step {s.step}",
                         current_step=s.step.value, event_type=inp.type.value)
        try:
            data = parse(inp.type, inp.data)
        except (KeyError, ValueError, TypeError) as exc:
            raise reject("invalid_event", f"the {inp.type.value} event is malformed: {exc}",
                         event_type=inp.type.value) from exc
        if isinstance(data, RoutedData):
            department = data.department
            if department not in set(Department):
                raise reject("unknown_department", f"no department {department!r}",
                             department=department, known=[d.value for d in Department])
            if department == s.department:
                raise reject("invalid_transition", f"already routed to {department}",
                             current_step=s.step.value, event_type=inp.type.value,
                             department=department)
        if isinstance(data, FirstReplyData) \
                and data.promised_by <= max(s.opened_at, inp.occurred_at):
            raise reject("invalid_promise", "promised_by must be after the complaint and the reply",
                         promised_by=data.promised_by.isoformat(),
                         opened_at=s.opened_at.isoformat())

    # -- applying events ---------------------------------------------------------------------

    def _at(self, occurred_at: datetime, not_before: datetime | None) -> datetime:
        """When a step was done: as reported, but never in the future nor before the step it
        follows (a clock skew must not make a reply come before its routing)."""
        at = min(occurred_at, workflow.now())
        return max(at, not_before or self._s.opened_at)

    def _apply(self, inp: ComplaintEventInput, data: ComplaintEventData) -> None:
        s = self._s
        match data:
            case RoutedData():
                s.department = data.department
                if data.category:
                    s.category = data.category
                if s.routed_at is None:
                    s.routed_at = self._at(inp.occurred_at, s.opened_at)
                    s.step = ComplaintStep.ROUTED
                    self._done(LateStep.ROUTE, inp.type.value)
            case FirstReplyData():
                s.first_reply_at = self._at(inp.occurred_at, s.routed_at)
                s.reply, s.plan = data.text, data.plan
                s.promised_by = data.promised_by
                s.step = ComplaintStep.REPLIED
                self._done(LateStep.FIRST_REPLY, inp.type.value)
            case ResolvedData():
                s.resolved_at = self._at(inp.occurred_at, s.first_reply_at)
                s.resolution = data.text
                s.step = ComplaintStep.RESOLVED
                self._done(LateStep.RESOLVE, inp.type.value)
                self._ask_satisfaction()
            case SatisfactionData():
                s.satisfaction_outcome = "answered"
                s.satisfaction_score = data.score
                s.satisfaction_comment = data.comment
                s.satisfaction_at = self._at(inp.occurred_at, s.resolved_at)
                self._close()
            case ComplaintNoteData():
                pass
            case _:
                assert_never(data)

    def _ask_satisfaction(self) -> None:
        """The customer is asked now, so the answer window runs from now."""
        s, now = self._s, workflow.now()
        due = now + timedelta(seconds=s.policy.complaints.satisfaction_within)
        s.satisfaction_requested_at = now
        s.deadlines[SATISFACTION] = due
        self._record(f"{SYSTEM_PREFIX}satisfaction-requested",
                     ComplaintSystemEvent.SATISFACTION_REQUESTED.value, now,
                     {"resolution": s.resolution, "due_at": due.isoformat()})

    def _close(self) -> None:
        s, now = self._s, workflow.now()
        s.step, s.closed_at = ComplaintStep.CLOSED, now
        set_due(s)
        self._record(f"{SYSTEM_PREFIX}closed", ComplaintSystemEvent.CLOSED.value, now,
                     {"satisfaction_outcome": s.satisfaction_outcome,
                      "satisfaction_score": s.satisfaction_score})

    # -- deadlines ---------------------------------------------------------------------------

    def _done_at(self, step: LateStep) -> datetime | None:
        s = self._s
        return {LateStep.ROUTE: s.routed_at, LateStep.FIRST_REPLY: s.first_reply_at,
                LateStep.RESOLVE: s.resolved_at}[step]

    def _breach_of(self, step: LateStep) -> ComplaintBreach | None:
        return next((b for b in self._s.breaches if b.step == step), None)

    def _closed(self) -> bool:
        return self._s.step == ComplaintStep.CLOSED

    def _tick(self) -> None:
        """Open breaches for deadlines now past, and end the satisfaction window."""
        s, now = self._s, workflow.now()
        if s.step == ComplaintStep.CLOSED:
            return
        for step in LateStep:
            if self._done_at(step) is None and self._breach_of(step) is None \
                    and now >= s.deadlines[step.value]:
                self._breach(step, now)
        if s.step == ComplaintStep.RESOLVED and now >= s.deadlines[SATISFACTION]:
            s.satisfaction_outcome = "unanswered"
            self._record(f"{SYSTEM_PREFIX}satisfaction-unanswered",
                         ComplaintSystemEvent.SATISFACTION_UNANSWERED.value,
                         s.deadlines[SATISFACTION],
                         {"requested_at": s.satisfaction_requested_at.isoformat()
                          if s.satisfaction_requested_at else None})
            self._close()
        set_due(s)

    def _next_wakeup(self) -> datetime | None:
        s = self._s
        times = [s.deadlines[step.value] for step in LateStep
                 if self._done_at(step) is None and self._breach_of(step) is None]
        if s.step == ComplaintStep.RESOLVED:
            times.append(s.deadlines[SATISFACTION])
        return min(times, default=None)

    def _breach(self, step: LateStep, now: datetime) -> None:
        s = self._s
        breach = ComplaintBreach(step=step, due_at=s.deadlines[step.value], detected_at=now,
                                 escalation_id=escalation_workflow_id(s.complaint_id, step.value))
        s.breaches.append(breach)
        assert s.policy.escalation is not None  # every parsed policy has a ladder
        self._escalations.open(EscalationInput(
            escalation_id=breach.escalation_id, order_id=s.order_id or "",
            breach_id=f"{step.value}-1", kind=BreachKind.COMPLAINT_STEP_LATE,
            stage=s.order_stage, due_at=breach.due_at, detected_at=now,
            customer_id=s.customer.id, customer_tier=s.customer.tier,
            key_account_manager=s.customer.key_account_manager, policy=s.policy.escalation,
            customer_name=s.customer.name, subject=f"complaint:{s.complaint_id}"))
        self._record(f"{SYSTEM_PREFIX}{step.value}-late", ComplaintSystemEvent.STEP_LATE.value,
                     now, {"step": step.value, "due_at": breach.due_at.isoformat(),
                           "escalation_id": breach.escalation_id})

    def _done(self, step: LateStep, by: str) -> None:
        breach = self._breach_of(step)
        if breach is None or breach.cleared_at is not None:
            return
        now = workflow.now()
        breach.cleared_at = now
        self._escalations.clear(breach.escalation_id, f"complaint step {step.value} done")
        self._record(f"{SYSTEM_PREFIX}{step.value}-late-cleared",
                     ComplaintSystemEvent.STEP_LATE_CLEARED.value, now,
                     {"step": step.value, "escalation_id": breach.escalation_id,
                      "cleared_by": by})

    # -- timeline and read model -------------------------------------------------------------

    def _record(self, event_id: str, type_: str, occurred_at: datetime, data: dict[str, Any],
                actor: str = SYSTEM_ACTOR, source: str = SYSTEM_SOURCE,
                body_hash: str | None = None) -> None:
        self._pending.append(ComplaintEntry(
            event_id=event_id, type=type_, occurred_at=occurred_at,
            recorded_at=workflow.now(), actor=actor, source=source, data=data,
            body_hash=body_hash))

    def _projection(self, state: ComplaintStatus, entries: list[ComplaintEntry]) -> Projection:
        return (ComplaintActivities.project_complaint,
                ComplaintProjection(status=state, entries=entries))

    def _history_limit(self) -> int | None:
        return history_limit()

    def _continue_input(self) -> ComplaintInput:
        return replace(self._input, resume=ComplaintResume(
            status=self._s, event_hashes=remembered(self._event_hashes)))
