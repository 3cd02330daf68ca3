"""ClaimWorkflow: one durable claim (理赔) per damaged, short, refused or lost delivery.

Seed 003's steps, each due a policy-set time after the step before it:

    opened -> customer_contacted -> evidence_collected -> liability_decided
           -> compensation_set -> payout_issued -> closed

Evidence is collected once both an accident report and a delivery note are on file (documents
may arrive at any time; the step completes when the customer has been contacted too). The
compensation is checked against the standard (compensation.py); a basis sent with a
compensation_set, or in a basis_set, is a supervisor's recorded decision: an operator may only
repeat the recorded basis. Compensation 0 closes the claim without payout whoever is liable; a
withdrawn claim closes at any step.

A missed step deadline opens an escalation ladder, cleared when the step is done. The run loop
is the case workflows' (workflows/case.py).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any, assert_never

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.order.workflow as order_flow  # the order's module imports this one
    from activities.claim.projection import ClaimActivities
    from workflows.case import CaseWorkflow, Projection, history_limit
    from workflows.claim.compensation import (
        basis_change,
        check_basis_change,
        check_compensation,
        compensation_cap,
        recorded_basis,
    )
    from workflows.claim.event_data import (
        BasisSetData,
        ClaimEventData,
        ClaimNoteData,
        CompensationData,
        ContactData,
        DocumentData,
        LiabilityData,
        PayoutData,
        WithdrawnData,
        parse,
    )
    from workflows.claim.types import (
        EVIDENCE_KINDS,
        Basis,
        BasisChange,
        ClaimBreach,
        ClaimClosed,
        ClaimDocument,
        ClaimEventInput,
        ClaimEventResult,
        ClaimEventType,
        ClaimInput,
        ClaimOutcome,
        ClaimProjection,
        ClaimResume,
        ClaimState,
        ClaimStatus,
        ClaimStep,
        ClaimSystemEvent,
        ClaimTimelineEntry,
    )
    from workflows.escalation.link import EscalationLink
    from workflows.escalation.types import EscalationInput
    from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE, escalation_workflow_id, order_workflow_id
    from workflows.order.types import BreachKind
    from workflows.policy import SlaPolicy  # noqa: F401  # ClaimInput's hints resolve in here
    from workflows.rejections import refuse_repeat, reject, remembered

DEFAULT_DESK = ["ops_desk"]
# Claims whose compensation_set took its basis from the request replay without this patch;
# from it on, the basis is the recorded one (the order's, or a supervisor's decision).
BASIS_PATCH = "cap-basis-recorded"

# The step after each step, and the policy field giving how long it may take.
_NEXT = {
    ClaimStep.OPENED: ClaimStep.CUSTOMER_CONTACTED,
    ClaimStep.CUSTOMER_CONTACTED: ClaimStep.EVIDENCE_COLLECTED,
    ClaimStep.EVIDENCE_COLLECTED: ClaimStep.LIABILITY_DECIDED,
    ClaimStep.LIABILITY_DECIDED: ClaimStep.COMPENSATION_SET,
    ClaimStep.COMPENSATION_SET: ClaimStep.PAYOUT_ISSUED,
}
_WITHIN = {
    ClaimStep.CUSTOMER_CONTACTED: "contact_within",
    ClaimStep.EVIDENCE_COLLECTED: "evidence_within",
    ClaimStep.LIABILITY_DECIDED: "liability_within",
    ClaimStep.COMPENSATION_SET: "compensation_within",
    ClaimStep.PAYOUT_ISSUED: "payout_within",
}
# Posted events that complete a step; evidence_collected is reached by documents instead.
_STEP_OF = {
    ClaimEventType.CUSTOMER_CONTACTED: ClaimStep.CUSTOMER_CONTACTED,
    ClaimEventType.LIABILITY_DECIDED: ClaimStep.LIABILITY_DECIDED,
    ClaimEventType.COMPENSATION_SET: ClaimStep.COMPENSATION_SET,
    ClaimEventType.PAYOUT_ISSUED: ClaimStep.PAYOUT_ISSUED,
}


@workflow.defn
class ClaimWorkflow(CaseWorkflow[ClaimStatus, ClaimTimelineEntry]):
    @workflow.init
    def __init__(self, inp: ClaimInput) -> None:
        self._policy = inp.policy.claims
        self._ladder = inp.policy.escalation
        self._notify_order = inp.notify_order
        desk = list(self._ladder.levels[0].recipients) if self._ladder else DEFAULT_DESK
        self._s = ClaimStatus(
            claim_id=inp.claim_id, order_id=inp.order_id, customer=inp.customer,
            cause=inp.cause, origin=inp.origin, description=inp.description,
            opened_at=inp.opened_at, opened_by=inp.actor, order_stage=inp.order_stage,
            step_times={ClaimStep.OPENED.value: inp.opened_at},
            desk=[name for name in desk if name != "key_account_manager"] or DEFAULT_DESK,
            weight_kg=inp.weight_kg, declared_value_minor=inp.declared_value_minor)
        self._escalations = EscalationLink()
        super().__init__(self._escalations)
        self._hashes: dict[str, str] = {}
        self._entries = 0
        self._input = inp
        if inp.resume is not None:  # continued as new (workflows/case.py): go on as it was
            self._s, self._entries = inp.resume.status, inp.resume.entries
            self._hashes = dict(inp.resume.event_hashes)
            return
        self._record(ClaimSystemEvent.OPENED.value, ClaimSystemEvent.OPENED, inp.opened_at, {
            "cause": inp.cause.value, "origin": inp.origin, "description": inp.description,
            "order_stage": inp.order_stage.value}, inp.actor, inp.source)
        self._await(ClaimStep.CUSTOMER_CONTACTED, inp.opened_at)

    @workflow.run
    async def run(self, inp: ClaimInput) -> ClaimStatus:
        await self._run_case()
        return self._s

    @workflow.query
    def status(self) -> ClaimStatus:
        return self._s

    @workflow.update
    async def apply(self, inp: ClaimEventInput) -> ClaimEventResult:
        now = workflow.now()
        self._hashes[inp.event_id] = inp.body_hash
        occurred = inp.occurred_at or now
        self._record(inp.event_id, inp.type, occurred, inp.data, inp.actor, inp.source,
                     inp.body_hash)
        # A step is done when it happened, but never in the future nor before the step before.
        last_done = self._s.step_times[self._s.step.value]
        self._apply(inp, parse(inp.type, inp.data), max(min(occurred, now), last_done))
        await self._settle()
        return ClaimEventResult(event_id=inp.event_id, step=self._s.step, state=self._s.state,
                                body_hash=inp.body_hash, request_id=inp.request_id)

    @apply.validator
    def _validate(self, inp: ClaimEventInput) -> None:
        refuse_repeat(self._hashes.get(inp.event_id), inp.event_id, inp.body_hash)
        s = self._s
        if s.state == ClaimState.CLOSED:
            raise reject("invalid_transition", "the claim is closed", claim_id=s.claim_id,
                         current_step=s.step.value, event_type=inp.type.value)
        step = _STEP_OF.get(inp.type)
        if step is not None and s.awaiting != step:
            details: dict[str, Any] = {}
            if s.awaiting == ClaimStep.EVIDENCE_COLLECTED:
                details["missing_documents"] = self._missing_evidence()
            raise reject("invalid_transition",
                         f"{inp.type.value} is not allowed while the claim awaits {s.awaiting}",
                         current_step=s.step.value, awaiting=s.awaiting, event_type=inp.type.value,
                         **details)
        try:
            data = parse(inp.type, inp.data)
            if isinstance(data, CompensationData):
                check_compensation(self._policy, self._s, inp, data)
            elif isinstance(data, BasisSetData):
                if not data.basis.named():
                    raise ValueError("give weight_kg, declared_value_minor or both")
                check_basis_change(self._s, inp, data.basis, always=True)
        except (KeyError, ValueError, TypeError) as exc:
            raise reject("invalid_event", f"the {inp.type.value} event is malformed: {exc}",
                         event_type=inp.type.value) from exc

    def _recorded_basis(self) -> Basis:
        return recorded_basis(self._s)

    # -- applying events ---------------------------------------------------------------------

    def _apply(self, inp: ClaimEventInput, data: ClaimEventData, at: datetime) -> None:
        s = self._s
        match data:
            case ContactData():
                self._done(ClaimStep.CUSTOMER_CONTACTED, at)
                self._evidence_check(at)
            case DocumentData():
                s.documents.append(ClaimDocument(
                    kind=data.kind, sha256=data.sha256, added_at=at, added_by=inp.actor,
                    filename=data.filename, content_type=data.content_type, size=data.size))
                self._evidence_check(at)
            case LiabilityData():
                s.liability = data.liability
                self._done(ClaimStep.LIABILITY_DECIDED, at)
            case CompensationData():
                self._set_compensation(inp, data, at)
            case PayoutData():
                s.voucher = data.voucher
                self._done(ClaimStep.PAYOUT_ISSUED, at)
                self._close(ClaimOutcome.PAID)
            case WithdrawnData():
                self._close(ClaimOutcome.WITHDRAWN)
            case BasisSetData():
                self._change_basis(inp, data.basis, data.change_reason, at)
            case ClaimNoteData():
                pass
            case _:
                assert_never(data)

    def _set_compensation(self, inp: ClaimEventInput, data: CompensationData,
                          at: datetime) -> None:
        s = self._s
        s.amount_minor, s.currency = data.amount_minor, data.currency
        if workflow.patched(BASIS_PATCH):
            # A supervisor's; the validator refused anyone else's.
            self._change_basis(inp, data.basis, data.change_reason, at)
            s.cap_minor, s.cap_basis = compensation_cap(self._policy, s.liability,
                                                        self._recorded_basis())
        else:
            s.cap_minor, s.cap_basis = compensation_cap(self._policy, s.liability, data.basis)
            s.weight_kg = data.basis.weight_kg
            s.declared_value_minor = data.basis.declared_value_minor
        if s.cap_minor is not None and s.amount_minor > s.cap_minor:
            assert data.override is not None  # the validator refused it without one
            s.override_reason, s.override_by = data.override.reason, inp.actor
        self._done(ClaimStep.COMPENSATION_SET, at)
        if s.amount_minor == 0:
            self._close(ClaimOutcome.NO_COMPENSATION)

    def _change_basis(self, inp: ClaimEventInput, sent: Basis, reason: str | None,
                      at: datetime) -> None:
        """Record the basis fields the event changes: who, when, old and new."""
        s, old = self._s, self._recorded_basis()
        change = basis_change(sent, old)
        if change is None:
            return
        new = change.over(old)
        s.weight_kg, s.declared_value_minor = new.weight_kg, new.declared_value_minor
        entry = BasisChange(at=at.isoformat(), by=inp.actor, role=inp.actor_role, old=old,
                            new=new, reason=reason)
        s.basis_changes.append(entry)
        self._record(f"{inp.event_id}-basis", ClaimSystemEvent.BASIS_CHANGED, at, asdict(entry),
                     inp.actor, inp.source)

    def _missing_evidence(self) -> list[str]:
        have = {doc.kind for doc in self._s.documents}
        return sorted(kind.value for kind in EVIDENCE_KINDS - have)

    def _evidence_check(self, at: datetime) -> None:
        if self._s.awaiting == ClaimStep.EVIDENCE_COLLECTED and not self._missing_evidence():
            self._done(ClaimStep.EVIDENCE_COLLECTED, at)
            self._record(ClaimSystemEvent.EVIDENCE_COLLECTED.value,
                         ClaimSystemEvent.EVIDENCE_COLLECTED, at,
                         {"documents": [d.sha256 for d in self._s.documents
                                        if d.kind in EVIDENCE_KINDS]})

    def _done(self, step: ClaimStep, at: datetime) -> None:
        s = self._s
        s.step = step
        s.step_times[step.value] = at
        self._clear_breach(step, f"condition cleared by {step.value}")
        nxt = _NEXT.get(step)
        if nxt is not None:
            self._await(nxt, at)

    def _await(self, step: ClaimStep, since: datetime) -> None:
        due = since + timedelta(seconds=getattr(self._policy, _WITHIN[step]))
        self._s.awaiting, self._s.due_at = step, due
        self._s.deadlines[step.value] = due

    def _close(self, outcome: ClaimOutcome) -> None:
        s, now = self._s, workflow.now()
        for breach in s.breaches:
            if breach.cleared_at is None:
                self._clear_breach(breach.step, f"claim closed: {outcome.value}")
        s.state, s.step, s.outcome, s.closed_at = ClaimState.CLOSED, ClaimStep.CLOSED, outcome, now
        s.step_times[ClaimStep.CLOSED.value] = now
        s.awaiting = s.due_at = None
        self._record(ClaimSystemEvent.CLOSED.value, ClaimSystemEvent.CLOSED, now,
                     {"outcome": outcome.value, "amount_minor": s.amount_minor,
                      "currency": s.currency, "voucher": s.voucher})

    # -- deadlines ---------------------------------------------------------------------------

    def _open_breach(self, step: ClaimStep) -> ClaimBreach | None:
        return next((b for b in self._s.breaches if b.step == step and b.cleared_at is None),
                    None)

    def _next_wakeup(self) -> datetime | None:
        s = self._s
        if s.awaiting is None or s.due_at is None or self._open_breach(s.awaiting) is not None:
            return None
        return s.due_at

    def _closed(self) -> bool:
        return self._s.state == ClaimState.CLOSED

    def _tick(self) -> None:
        """A step past its deadline opens a breach and its escalation ladder."""
        s, now = self._s, workflow.now()
        if s.state == ClaimState.CLOSED or s.awaiting is None or s.due_at is None:
            return
        if now < s.due_at or any(b.step == s.awaiting for b in s.breaches):
            return
        step = s.awaiting
        breach = ClaimBreach(step=step, due_at=s.due_at, detected_at=now,
                             escalation_id=escalation_workflow_id(s.claim_id, step.value))
        s.breaches.append(breach)
        if self._ladder is not None:
            self._escalations.open(EscalationInput(
                escalation_id=breach.escalation_id, order_id=s.order_id,
                breach_id=f"{step.value}-1", kind=BreachKind.CLAIM_STEP_LATE,
                stage=s.order_stage, due_at=breach.due_at, detected_at=now,
                customer_id=s.customer.id, customer_tier=s.customer.tier,
                key_account_manager=s.customer.key_account_manager, policy=self._ladder,
                customer_name=s.customer.name, subject=f"claim:{s.claim_id}"))
        self._record(f"late-{step.value}", ClaimSystemEvent.STEP_LATE, now, {
            "step": step.value, "due_at": breach.due_at.isoformat(),
            "escalation_id": breach.escalation_id})

    def _clear_breach(self, step: ClaimStep, reason: str) -> None:
        breach = self._open_breach(step)
        if breach is None:
            return
        breach.cleared_at = workflow.now()
        self._escalations.clear(breach.escalation_id, reason)
        self._record(f"late-{step.value}-cleared", ClaimSystemEvent.BREACH_CLEARED,
                     breach.cleared_at, {"step": step.value, "reason": reason,
                                         "escalation_id": breach.escalation_id})

    # -- the order, timeline and read model --------------------------------------------------

    async def _on_closed(self) -> None:
        """The order waits for its open claims before it closes: tell it this one closed."""
        s = self._s
        if not self._notify_order or s.outcome is None:
            return
        try:
            await workflow.get_external_workflow_handle(order_workflow_id(s.order_id)).signal(
                order_flow.OrderWorkflow.claim_closed,
                ClaimClosed(claim_id=s.claim_id, outcome=s.outcome.value))
        except ApplicationError:
            # The order finished already (e.g. cancelled); it has nothing left to wait for.
            workflow.logger.info("order not running; claim closure not signalled",
                                 extra={"claim_id": s.claim_id, "order_id": s.order_id})

    def _record(self, event_id: str, type_: str, occurred_at: datetime, data: dict[str, Any],
                actor: str = SYSTEM_ACTOR, source: str = SYSTEM_SOURCE,
                body_hash: str | None = None) -> None:
        self._entries += 1
        self._pending.append(ClaimTimelineEntry(
            seq=self._entries, event_id=event_id, type=str(type_), at=workflow.now(),
            occurred_at=occurred_at, actor=actor, source=source, data=data,
            body_hash=body_hash))

    def _projection(self, state: ClaimStatus, entries: list[ClaimTimelineEntry]) -> Projection:
        return ClaimActivities.project_claim, ClaimProjection(status=state, entries=entries)

    def _history_limit(self) -> int | None:
        return history_limit()

    def _continue_input(self) -> ClaimInput:
        return replace(self._input, resume=ClaimResume(
            status=self._s, event_hashes=remembered(self._hashes), entries=self._entries))
