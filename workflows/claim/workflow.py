"""ClaimWorkflow: one durable claim (理赔) per damaged, short, refused or lost delivery.

Seed 003's steps, each due a policy-set time after the step before it:

    opened -> customer_contacted -> evidence_collected -> liability_decided
           -> compensation_set -> payout_issued -> closed

Evidence is collected once both an accident report and a delivery note are on file (documents
may arrive at any time; the step completes when the customer has been contacted too). The
compensation is checked against the standard: `cap_per_kg_minor` per kg when a weight is
known, else the declared value; above it only a supervisor (or admin) may go, with a reason.
The basis (weight, declared value) comes from the order as created, or from a supervisor's
recorded decision (`basis_set`, or a basis sent with their compensation_set), never from the
operator who sets the amount: an operator may only repeat the recorded basis.
When the customer or force majeure is liable the standard is 0: the claim closes with
compensation 0 and no payout, and any goodwill payment is an override. Compensation 0 closes
the claim without payout whoever is liable; a withdrawn claim closes at any step.

A missed step deadline opens an escalation ladder, cleared when the step is done.
"""

from __future__ import annotations

import contextlib
import copy
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.claim.projection import ClaimActivities
    from workflows.claim.types import (
        BASIS_FIELDS,
        COMPENSATING,
        EVIDENCE_KINDS,
        OVERRIDE_ROLES,
        ClaimBreach,
        ClaimClosed,
        ClaimDocument,
        ClaimEventInput,
        ClaimEventResult,
        ClaimEventType,
        ClaimInput,
        ClaimOutcome,
        ClaimProjection,
        ClaimState,
        ClaimStatus,
        ClaimStep,
        ClaimSystemEvent,
        ClaimTimelineEntry,
        DocumentKind,
        Liability,
    )
    from workflows.escalation.link import EscalationLink
    from workflows.escalation.types import EscalationInput
    from workflows.ids import (
        SYSTEM_ACTOR,
        SYSTEM_SOURCE,
        escalation_workflow_id,
        order_workflow_id,
    )
    from workflows.notify.deliveries import Deliveries
    from workflows.order.types import BreachKind
    from workflows.policy import ClaimPolicy
    from workflows.read_model import project
    from workflows.rejections import refuse_repeat
    from workflows.rejections import reject as _reject

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


def compensation_cap(policy: ClaimPolicy, liability: Liability | None,
                     data: dict[str, Any]) -> tuple[int | None, str | None]:
    """(cap in minor units, basis) from a basis {weight_kg?, declared_value_minor?};
    (None, None) without one."""
    if liability not in COMPENSATING:
        return 0, "not_liable"
    if data.get("weight_kg") is not None:
        return round(policy.cap_per_kg_minor * float(data["weight_kg"])), "weight"
    if data.get("declared_value_minor") is not None:
        return int(data["declared_value_minor"]), "declared_value"
    return None, None


def sent_basis(data: dict[str, Any]) -> dict[str, Any]:
    """The basis fields an event names (a field left out keeps the recorded value)."""
    return {k: data[k] for k in BASIS_FIELDS if data.get(k) is not None}


@workflow.defn
class ClaimWorkflow:
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
        self._hashes: dict[str, str] = {}
        self._pending: list[ClaimTimelineEntry] = []
        self._entries = 0
        self._changed = False
        self._escalations = EscalationLink()
        self._deliveries = Deliveries()
        self._record(ClaimSystemEvent.OPENED.value, ClaimSystemEvent.OPENED, inp.opened_at, {
            "cause": inp.cause.value, "origin": inp.origin, "description": inp.description,
            "order_stage": inp.order_stage.value}, inp.actor, inp.source)
        self._await(ClaimStep.CUSTOMER_CONTACTED, inp.opened_at)

    @workflow.run
    async def run(self, inp: ClaimInput) -> ClaimStatus:
        while True:
            self._changed = False
            self._check_deadline()
            await self._escalations.sync()
            await self._project()
            if self._s.state == ClaimState.CLOSED:
                break
            wake = self._next_wakeup()
            timeout = None if wake is None else max((wake - workflow.now()).total_seconds(), 0.001)
            with contextlib.suppress(TimeoutError):  # a step fell due: checked at the loop top
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._escalations.sync()
        await self._project()
        await self._tell_order()
        await self._deliveries.finish()
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
        self._apply(inp, max(min(occurred, now), last_done))
        self._check_deadline()
        self._changed = True
        await self._escalations.sync()
        await self._project()
        return ClaimEventResult(event_id=inp.event_id, step=self._s.step, state=self._s.state,
                                body_hash=inp.body_hash, request_id=inp.request_id)

    @apply.validator
    def _validate(self, inp: ClaimEventInput) -> None:
        refuse_repeat(self._hashes.get(inp.event_id), inp.event_id, inp.body_hash)
        s = self._s
        if s.state == ClaimState.CLOSED:
            raise _reject("invalid_transition", "the claim is closed", claim_id=s.claim_id,
                          current_step=s.step.value, event_type=inp.type.value)
        step = _STEP_OF.get(inp.type)
        if step is not None and s.awaiting != step:
            details: dict[str, Any] = {}
            if s.awaiting == ClaimStep.EVIDENCE_COLLECTED:
                details["missing_documents"] = self._missing_evidence()
            raise _reject("invalid_transition",
                          f"{inp.type.value} is not allowed while the claim awaits {s.awaiting}",
                          current_step=s.step.value, awaiting=s.awaiting, event_type=inp.type.value,
                          **details)
        try:
            if inp.type == ClaimEventType.LIABILITY_DECIDED:
                Liability(inp.data["liability"])
            elif inp.type == ClaimEventType.DOCUMENT_ADDED:
                DocumentKind(inp.data["kind"])
            elif inp.type == ClaimEventType.COMPENSATION_SET:
                self._check_compensation(inp)
            elif inp.type == ClaimEventType.BASIS_SET:
                if not sent_basis(inp.data):
                    raise ValueError("give weight_kg, declared_value_minor or both")
                self._check_basis_change(inp, always=True)
        except (KeyError, ValueError, TypeError) as exc:
            raise _reject("invalid_event", f"the {inp.type.value} event is malformed: {exc}",
                          event_type=inp.type.value) from exc

    def _check_compensation(self, inp: ClaimEventInput) -> None:
        data = inp.data
        amount, currency = int(data["amount_minor"]), str(data["currency"])
        if amount < 0:
            raise ValueError("amount_minor must not be negative")
        if currency != self._policy.currency:
            raise _reject("currency_mismatch", f"compensation is paid in {self._policy.currency}",
                          currency=currency, expected=self._policy.currency)
        override = data.get("override")
        if override is not None:
            if inp.actor_role not in OVERRIDE_ROLES:
                raise _reject("override_forbidden", "only a supervisor may override the "
                              "compensation standard", role=inp.actor_role)
            if not str(override.get("reason") or "").strip():
                raise _reject("override_reason_required", "an override must give its reason")
        # Validators run only live, never on replay: the recorded basis rule holds for every
        # claim, old ones too (their handler applies it behind BASIS_PATCH).
        self._check_basis_change(inp)
        cap, basis = compensation_cap(self._policy, self._s.liability,
                                      {**self._recorded_basis(), **sent_basis(data)})
        if cap is None:
            if amount > 0:
                raise _reject("compensation_basis_required", "no weight or declared value "
                              "is recorded for this claim: a supervisor records one (basis_set) "
                              "so the amount can be checked against the compensation standard",
                              amount_minor=amount)
            return
        if amount > cap and override is None:
            raise _reject("compensation_above_cap", "the amount is above the compensation "
                          "standard: a supervisor must override it with a reason",
                          amount_minor=amount, cap_minor=cap, cap_basis=basis,
                          currency=currency, liability=self._s.liability)

    def _recorded_basis(self) -> dict[str, Any]:
        return {k: getattr(self._s, k) for k in BASIS_FIELDS}

    def _basis_change(self, data: dict[str, Any]) -> dict[str, Any]:
        """The basis fields an event sends that differ from the recorded ones."""
        recorded = self._recorded_basis()
        return {k: v for k, v in sent_basis(data).items() if v != recorded[k]}

    def _check_basis_change(self, inp: ClaimEventInput, always: bool = False) -> None:
        """Only a supervisor (or admin) changes the basis; `always`: nor sets it at all."""
        change = self._basis_change(inp.data)
        if (change or always) and inp.actor_role not in OVERRIDE_ROLES:
            raise _reject("basis_change_forbidden", "only a supervisor may set or change the "
                          "compensation basis (weight_kg, declared_value_minor); send the "
                          "recorded one or none", role=inp.actor_role,
                          recorded=self._recorded_basis(), sent=sent_basis(inp.data))

    # -- applying events ---------------------------------------------------------------------

    def _apply(self, inp: ClaimEventInput, at: datetime) -> None:
        s, data = self._s, inp.data
        match inp.type:
            case ClaimEventType.CUSTOMER_CONTACTED:
                self._done(ClaimStep.CUSTOMER_CONTACTED, at)
                self._evidence_check(at)
            case ClaimEventType.DOCUMENT_ADDED:
                s.documents.append(ClaimDocument(
                    kind=DocumentKind(data["kind"]), sha256=data["sha256"], added_at=at,
                    added_by=inp.actor, filename=data.get("filename"),
                    content_type=data.get("content_type"), size=data.get("size")))
                self._evidence_check(at)
            case ClaimEventType.LIABILITY_DECIDED:
                s.liability = Liability(data["liability"])
                self._done(ClaimStep.LIABILITY_DECIDED, at)
            case ClaimEventType.COMPENSATION_SET:
                self._set_compensation(inp, at)
            case ClaimEventType.PAYOUT_ISSUED:
                s.voucher = data["voucher"]
                self._done(ClaimStep.PAYOUT_ISSUED, at)
                self._close(ClaimOutcome.PAID)
            case ClaimEventType.WITHDRAWN:
                self._close(ClaimOutcome.WITHDRAWN)
            case ClaimEventType.BASIS_SET:
                self._change_basis(inp, at)
            case ClaimEventType.NOTE:
                pass

    def _set_compensation(self, inp: ClaimEventInput, at: datetime) -> None:
        s, data = self._s, inp.data
        s.amount_minor, s.currency = int(data["amount_minor"]), data["currency"]
        if workflow.patched(BASIS_PATCH):
            self._change_basis(inp, at)  # a supervisor's; the validator refused anyone else's
            s.cap_minor, s.cap_basis = compensation_cap(self._policy, s.liability,
                                                        self._recorded_basis())
        else:
            s.cap_minor, s.cap_basis = compensation_cap(self._policy, s.liability, data)
            s.weight_kg = data.get("weight_kg")
            s.declared_value_minor = data.get("declared_value_minor")
        if s.cap_minor is not None and s.amount_minor > s.cap_minor:
            s.override_reason, s.override_by = data["override"]["reason"], inp.actor
        self._done(ClaimStep.COMPENSATION_SET, at)
        if s.amount_minor == 0:
            self._close(ClaimOutcome.NO_COMPENSATION)

    def _change_basis(self, inp: ClaimEventInput, at: datetime) -> None:
        """Record the basis fields the event changes: who, when, old and new."""
        change = self._basis_change(inp.data)
        if not change:
            return
        s, old = self._s, self._recorded_basis()
        for key, value in change.items():
            setattr(s, key, value)
        entry = {"at": at.isoformat(), "by": inp.actor, "role": inp.actor_role, "old": old,
                 "new": self._recorded_basis(),
                 "reason": inp.data.get("reason") or (inp.data.get("override") or {}).get(
                     "reason") or inp.data.get("note")}
        s.basis_changes.append(entry)
        self._record(f"{inp.event_id}-basis", ClaimSystemEvent.BASIS_CHANGED, at, entry,
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

    def _check_deadline(self) -> None:
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

    async def _tell_order(self) -> None:
        """The order waits for its open claims before it closes; tell it by name, since the
        order's module imports this one."""
        s = self._s
        if not self._notify_order or s.outcome is None:
            return
        try:
            await workflow.get_external_workflow_handle(order_workflow_id(s.order_id)).signal(
                "claim_closed", ClaimClosed(claim_id=s.claim_id, outcome=s.outcome.value))
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

    async def _project(self) -> None:
        if not self._pending:
            return
        self._s.seq += 1
        entries, self._pending = self._pending, []
        await project(ClaimActivities.project_claim,
                      ClaimProjection(status=copy.deepcopy(self._s), entries=entries),
                      self._deliveries)
