"""What happens to an order when things go wrong: shortages, delivery exceptions, claims,
complaints and cancellation. A part of OrderWorkflow, kept apart to keep each file readable.

Everything here changes state synchronously; children are queued on the workflow
(`start_child`) and started once the change is settled, like escalations.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.claim.types import ClaimCause, ClaimInput
    from workflows.complaint.types import ComplaintInput
    from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE
    from workflows.order.context import OrderContext
    from workflows.order.event_data import DeliveryExceptionData, ShortageDecisionData
    from workflows.order.pauses import (
        PAUSES_PATCH,
        PAUSING_REASONS,
        active_pause,
        delivery_due,
    )
    from workflows.order.records import DecisionRecord, ExceptionRecord, PauseRecord
    from workflows.order.types import (
        ClaimRef,
        EventInput,
        EventType,
        PendingDecision,
        Stage,
        SystemEventType,
    )


class OrderExceptions:
    def __init__(self, case: OrderContext) -> None:
        self._case = case

    # -- stock shortage and short pick --------------------------------------------------------

    def ask_decision(self, kind: str, event_id: str, at: datetime,
                     available: dict[str, int]) -> None:
        s = self._case.order
        due = at + timedelta(seconds=s.policy.decision_within)
        s.decision = PendingDecision(kind=kind, reported_at=at, due_at=due, event_id=event_id,
                                     available=available)
        self._case.record(f"{event_id}-decision-required", SystemEventType.DECISION_REQUIRED,
                          at, {"kind": kind, "available": available, "due_at": due.isoformat()})

    def decided(self, inp: EventInput, data: ShortageDecisionData, at: datetime) -> None:
        s, actor = self._case.order, inp.actor
        assert s.decision is not None
        pending, s.decision = s.decision, None
        s.decisions.append(DecisionRecord(
            kind=pending.kind, decision=data.decision, decided_by=data.decided_by,
            recorded_by=actor, at=at.isoformat(), lines=data.lines,
            promised_delivery_by=data.promised_delivery_by))
        match data.decision:
            case "partial":
                agreed = {line.sku: line.qty for line in data.lines or ()}
                for line in s.lines:
                    if line.sku in agreed:
                        line.agreed = agreed[line.sku]
                if s.stage == Stage.PICKED:
                    s.in_full = all((line.picked or 0) >= line.due for line in s.lines)
            case "backorder":
                if data.promised_ship_by:
                    s.promised_ship_by = data.promised_ship_by
                assert data.promised_delivery_by is not None  # a backorder gives a new promise
                s.promised_delivery_by = data.promised_delivery_by
                if pending.kind == "short_pick":
                    s.repick_since = at
            case "cancel":
                reason = f"customer cancelled after {pending.kind.replace('_', ' ')}"
                self._case.record(f"{inp.event_id}-cancelled", EventType.CANCELLED, at,
                                  {"reason": reason, "decided_by": data.decided_by},
                                  actor=actor, source=inp.source)
                self.cancel(reason, at)
        self._case.touch()

    # -- in transit ---------------------------------------------------------------------------

    def delivery_exception(self, inp: EventInput, data: DeliveryExceptionData,
                           at: datetime) -> None:
        s = self._case.order
        s.exceptions.append(ExceptionRecord(
            event_id=inp.event_id, reason=data.reason, text=data.text, at=at.isoformat(),
            actor=inp.actor, promised_delivery_by=data.promised_delivery_by))
        if data.promised_delivery_by:
            s.promised_delivery_by = data.promised_delivery_by
        if data.reason == "lost" and not s.lost:
            s.lost = True
            self.open_claim(ClaimCause.LOST, "delivery_exception", inp.actor, inp.source,
                            data.text)
        until = data.rescheduled_for
        # patched() last: only an event asking for a pause meets it (no older history has one).
        if until is not None and until > at and data.reason in PAUSING_REASONS \
                and workflow.patched(PAUSES_PATCH):
            self._pause(inp.event_id, data.reason, at, until)
        self._case.touch()

    # -- customer-caused pauses (pauses.py) ---------------------------------------------------

    def _pause(self, event_id: str, cause: str, at: datetime, until: datetime) -> None:
        """Pause the delivery deadline until `until`; a pause already running is moved to
        the new time instead (the customer rescheduled again)."""
        s = self._case.order
        running = active_pause(s, at)
        if running is None:
            s.pauses.append(PauseRecord(event_id=event_id, cause=cause, since=at, until=until))
        else:
            s.pauses[s.pauses.index(running)] = replace(running, until=until)
        self._case.record(f"{event_id}-paused", SystemEventType.DEADLINE_PAUSED, at, {
            "deadline": "delivery_late", "cause": cause, "until": until.isoformat(),
            "due_at": delivery_due(s).isoformat()})

    def resume_pauses(self, now: datetime, ended_by: str | None = None) -> None:
        """End the running pause: at its time once that has come, or now (`ended_by` the
        event that made it moot, e.g. the delivery)."""
        s = self._case.order
        for i, pause in enumerate(s.pauses):
            if pause.resumed_at is not None or (ended_by is None and pause.until > now):
                continue
            at = pause.until if ended_by is None else min(now, pause.until)
            s.pauses[i] = replace(pause, resumed_at=at)
            data = {"deadline": pause.deadline, "paused_at": pause.since.isoformat(),
                    "due_at": delivery_due(s).isoformat()}
            if ended_by is not None:
                data["ended_by"] = ended_by
            self._case.record(f"{pause.event_id}-resumed", SystemEventType.DEADLINE_RESUMED,
                              at, data)

    # -- claims and complaints ----------------------------------------------------------------

    def open_claim(self, cause: ClaimCause, origin: str, actor: str, source: str,
                   description: str) -> str:
        s, now = self._case.order, workflow.now()
        claim_id = f"{s.order_id}-CL{len(s.claims) + 1}"
        s.claims.append(ClaimRef(claim_id=claim_id, cause=cause.value, opened_at=now,
                                 origin=origin))
        self._case.start_child(ClaimInput(
            claim_id=claim_id, order_id=s.order_id, cause=cause, origin=origin, opened_at=now,
            actor=actor, source=source, customer=s.customer, order_stage=s.stage,
            policy=s.policy, lines=copy.deepcopy(s.lines), description=description,
            declared_value_minor=s.declared_value_minor, weight_kg=s.weight_kg))
        self._case.record(f"claim-{claim_id}-opened", SystemEventType.CLAIM_OPENED, now,
                          {"claim_id": claim_id, "cause": cause.value, "origin": origin},
                          actor=actor, source=source)
        return claim_id

    def open_complaint(self, scores: dict[str, int], goods_ok: bool | None,
                       suggestions: str | None, channel: str, at: datetime) -> None:
        """A low follow-up score opens a complaint; `survey` keeps the answers that raised it."""
        s = self._case.order
        complaint_id = f"{s.order_id}-CP{len(s.complaints) + 1}"
        s.complaints.append(complaint_id)
        low = sorted(q for q, v in scores.items() if v <= s.policy.complaints.low_score_max)
        self._case.start_child(ComplaintInput(
            complaint_id=complaint_id, customer=s.customer, order_id=s.order_id,
            origin="survey", category="low_survey_score",
            description="low follow-up score: " + ", ".join(f"{q}={scores[q]}" for q in low)
            + (f"; suggestions: {suggestions}" if suggestions else ""),
            opened_at=at, actor=SYSTEM_ACTOR, source=SYSTEM_SOURCE, policy=s.policy,
            order_stage=s.stage, survey={"scores": scores, "goods_ok": goods_ok,
                                         "suggestions": suggestions, "channel": channel}))
        self._case.record(f"complaint-{complaint_id}-opened", SystemEventType.COMPLAINT_OPENED,
                          at, {"complaint_id": complaint_id, "origin": "survey",
                               "low_scores": low})

    # -- cancellation -------------------------------------------------------------------------

    def cancel(self, reason: str, at: datetime) -> None:
        """Cancelled before shipment: nothing is owed any more, so every clock stops."""
        s = self._case.order
        s.cancel_reason = reason
        s.decision, s.repick_since = None, None
        self._case.enter(Stage.CANCELLED, at)
