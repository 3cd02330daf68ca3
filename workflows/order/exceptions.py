"""What happens to an order when things go wrong: shortages, delivery exceptions, claims,
complaints and cancellation. A mixin of OrderWorkflow, kept apart to keep each file readable.

Everything here changes state synchronously; children are queued in `_children` and started by
the workflow's `_start_children`, like escalations.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.claim.types import ClaimCause, ClaimInput
    from workflows.complaint.types import ComplaintInput
    from workflows.ids import (
        SYSTEM_ACTOR,
        SYSTEM_SOURCE,
        claim_workflow_id,
        complaint_workflow_id,
    )
    from workflows.order.types import (
        BEFORE_SHIPMENT,
        ClaimRef,
        EventInput,
        EventType,
        OrderState,
        PendingDecision,
        Stage,
        SystemEventType,
    )



def _ts(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class OrderExceptions:
    _s: OrderState
    _v2: bool
    _dirty: bool
    _children: list[tuple[str, Any, str]]
    _record: Callable[..., None]
    _enter: Callable[[Stage, datetime], None]

    # -- stock shortage and short pick --------------------------------------------------------

    def _ask_decision(self, kind: str, event_id: str, at: datetime,
                      available: dict[str, int]) -> None:
        s = self._s
        due = at + timedelta(seconds=s.policy.decision_within)
        s.decision = PendingDecision(kind=kind, reported_at=at, due_at=due, event_id=event_id,
                                     available=available)
        self._record(f"{event_id}-decision-required", SystemEventType.DECISION_REQUIRED, at,
                     {"kind": kind, "available": available, "due_at": due.isoformat()})

    def _decided(self, inp: EventInput, at: datetime) -> None:
        s, data, actor = self._s, inp.data, inp.actor
        assert s.decision is not None
        pending, s.decision = s.decision, None
        s.decisions.append({"kind": pending.kind, "decision": data["decision"],
                            "decided_by": data["decided_by"], "recorded_by": actor,
                            "at": at.isoformat(), "lines": data.get("lines"),
                            "promised_delivery_by": data.get("promised_delivery_by")})
        match data["decision"]:
            case "partial":
                agreed = {line["sku"]: int(line["qty"]) for line in data["lines"]}
                for line in s.lines:
                    if line.sku in agreed:
                        line.agreed = agreed[line.sku]
                if s.stage == Stage.PICKED:
                    s.in_full = all((line.picked or 0) >= line.due for line in s.lines)
            case "backorder":
                if data.get("promised_ship_by"):
                    s.promised_ship_by = _ts(data["promised_ship_by"])
                s.promised_delivery_by = _ts(data["promised_delivery_by"])
                if pending.kind == "short_pick":
                    s.repick_since = at
            case "cancel":
                reason = f"customer cancelled after {pending.kind.replace('_', ' ')}"
                self._record(f"{inp.event_id}-cancelled", EventType.CANCELLED, at,
                             {"reason": reason, "decided_by": data["decided_by"]},
                             actor=actor, source=inp.source)
                self._cancel(reason, at)
        self._dirty = True

    def _check_decision(self, inp: EventInput, reject: Callable[..., Exception]) -> None:
        s, data = self._s, inp.data
        if s.decision is None:
            raise reject("decision_not_pending", "no shortage decision is awaited",
                         current_stage=s.stage.value)
        if data["decision"] == "partial":
            limit = {line.sku: line.ordered for line in s.lines}
            if s.decision.kind == "short_pick":
                limit = {line.sku: line.picked or 0 for line in s.lines}
            over = sorted(line["sku"] for line in data.get("lines") or []
                          if line["sku"] in limit and int(line["qty"]) > limit[line["sku"]])
            if over:
                what = "picked" if s.decision.kind == "short_pick" else "ordered"
                raise reject("invalid_quantity", f"agreed quantities exceed what was {what}",
                             skus=over)
        if data["decision"] == "cancel" and s.stage not in BEFORE_SHIPMENT:
            raise reject("invalid_transition", "the order can no longer be cancelled",
                         current_stage=s.stage.value)

    # -- in transit ---------------------------------------------------------------------------

    def _delivery_exception(self, inp: EventInput, at: datetime) -> None:
        s, data = self._s, inp.data
        s.exceptions.append({"event_id": inp.event_id, "reason": data["reason"],
                             "text": data["text"], "at": at.isoformat(), "actor": inp.actor,
                             "promised_delivery_by": data.get("promised_delivery_by")})
        if data.get("promised_delivery_by"):
            s.promised_delivery_by = _ts(data["promised_delivery_by"])
        if data["reason"] == "lost" and not s.lost:
            s.lost = True
            self._open_claim(ClaimCause.LOST, "delivery_exception", inp.actor, inp.source,
                             data["text"])
        self._dirty = True

    # -- claims and complaints ----------------------------------------------------------------

    def _open_claim(self, cause: ClaimCause, origin: str, actor: str, source: str,
                    description: str) -> str:
        s, now = self._s, workflow.now()
        claim_id = f"{s.order_id}-CL{len(s.claims) + 1}"
        s.claims.append(ClaimRef(claim_id=claim_id, cause=cause.value, opened_at=now,
                                 origin=origin))
        self._children.append(("ClaimWorkflow", ClaimInput(
            claim_id=claim_id, order_id=s.order_id, cause=cause, origin=origin, opened_at=now,
            actor=actor, source=source, customer=s.customer, order_stage=s.stage,
            policy=s.policy, lines=copy.deepcopy(s.lines), description=description,
            declared_value_minor=s.declared_value_minor, weight_kg=s.weight_kg),
            claim_workflow_id(claim_id)))
        self._record(f"claim-{claim_id}-opened", SystemEventType.CLAIM_OPENED, now,
                     {"claim_id": claim_id, "cause": cause.value, "origin": origin},
                     actor=actor, source=source)
        return claim_id

    def _open_complaint(self, survey: dict[str, Any], at: datetime) -> None:
        s = self._s
        complaint_id = f"{s.order_id}-CP{len(s.complaints) + 1}"
        s.complaints.append(complaint_id)
        low = sorted(q for q, v in (survey.get("scores") or {}).items()
                     if v <= s.policy.complaints.low_score_max)
        self._children.append(("ComplaintWorkflow", ComplaintInput(
            complaint_id=complaint_id, customer=s.customer, order_id=s.order_id,
            origin="survey", category="low_survey_score",
            description="low follow-up score: " + ", ".join(
                f"{q}={survey['scores'][q]}" for q in low)
            + (f"; suggestions: {survey['suggestions']}" if survey.get("suggestions") else ""),
            opened_at=at, actor=SYSTEM_ACTOR, source=SYSTEM_SOURCE, policy=s.policy,
            order_stage=s.stage, survey=survey), complaint_workflow_id(complaint_id)))
        self._record(f"complaint-{complaint_id}-opened", SystemEventType.COMPLAINT_OPENED, at,
                     {"complaint_id": complaint_id, "origin": "survey", "low_scores": low})

    # -- cancellation -------------------------------------------------------------------------

    def _cancel(self, reason: str, at: datetime) -> None:
        """Cancelled before shipment: nothing is owed any more, so every clock stops."""
        s = self._s
        s.cancel_reason = reason
        s.decision, s.repick_since = None, None
        self._enter(Stage.CANCELLED, at)
