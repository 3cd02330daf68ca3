"""A small month of traffic for the KPI tests, written through the app's own projections.

Orders, follow-ups, escalations, complaints and claims go in with `apply_projection` and its
siblings, exactly as the workflows' projection activities write them. The business zone is
Asia/Shanghai (UTC+8): November 2026 there is [2026-10-31T16:00Z, 2026-11-30T16:00Z).

| order | customer (tier)   | carrier | promise in force    | delivered           | note          |
|-------|-------------------|---------|---------------------|---------------------|---------------|
| O1    | C-A (standard)    | SF      | 11-06T00:00Z        | 11-05T01:00Z intact | OTIF          |
| O2    | C-A (standard)    | SF      | 11-10 (was 11-08)   | 11-09T00:00Z intact | promise moved |
| O3    | C-B (key_account) | JD      | 11-12T00:00Z        | 11-11T12:00Z 6+4    | partial agreed|
| O4    | C-C (standard)    | JD      | 11-14T00:00Z        | 11-15T00:00Z 8+4    | late, short   |
| O5    | C-B (key_account) | SF      | 11-20T00:00Z        | 11-19T00:00Z damaged| on time only  |
| O6    | C-A (standard)    | -       | 11-15T00:00Z        | cancelled 11-03     | excluded      |
| O7    | C-A (standard)    | SF      | 11-25T00:00Z        | in transit          | in flight     |
| O8    | C-B (key_account) | JD      | 11-30T17:00Z (Dec 1 01:00 +8) | 11-30T16:30Z | Dec |
| O9    | C-A (standard)    | SF      | 10-31T17:00Z (Nov 1 01:00 +8) | 10-31T12:00Z | Nov |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from activities.order.projection import rule_dates
from db.claims.queries import apply_claim_projection
from db.complaints.queries import apply_complaint_projection
from db.escalations.queries import apply_escalation_projection
from db.orders.queries import apply_projection
from tests.support.builders import POLICIES
from workflows.claim.types import (
    ClaimCause,
    ClaimProjection,
    ClaimState,
    ClaimStatus,
    ClaimStep,
    Liability,
)
from workflows.complaint.types import ComplaintProjection, ComplaintStatus, ComplaintStep
from workflows.escalation.types import (
    EscalationAction,
    EscalationProjection,
    EscalationState,
    EscalationStatus,
    EscalationStep,
)
from workflows.order.records import FollowUpCall, Shipment
from workflows.order.types import (
    BreachKind,
    Customer,
    FollowUpStatus,
    LineState,
    OrderState,
    ProjectionInput,
    Stage,
    Survey,
    Tier,
    TimelineEntry,
)
from workflows.policy import SlaPolicy

NOV = (datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC))
DEC = (datetime(2026, 11, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC))
AFTER_ALL = datetime(2026, 12, 10, tzinfo=UTC)  # every November promise has fallen due
MID_NOV = datetime(2026, 11, 24, tzinfo=UTC)  # O7's promise (11-25) has not

CUSTOMERS = {"C-A": Tier.STANDARD, "C-B": Tier.KEY_ACCOUNT, "C-C": Tier.STANDARD}
DAY = timedelta(days=1)


def t(text: str) -> datetime:
    """'11-05T01:00' -> 2026-11-05T01:00Z (months 10 and 12 too)."""
    return datetime.fromisoformat(f"2026-{text}:00+00:00")


@dataclass
class Answer:
    at: str
    scores: dict[str, int] | None = None  # None: the follow-up ended without an answer
    outcome: str = "answered"
    goods_ok: bool | None = None
    suggestions: str | None = None
    problems: tuple[str, ...] = ()


def _survey(delivered: datetime, answer: Answer | None) -> Survey:
    due = delivered + DAY
    survey = Survey(status=FollowUpStatus.DUE, due_at=due, expires_at=due + 3 * DAY)
    if answer is None:
        return survey
    at = t(answer.at)
    if answer.scores is not None:
        survey.status, survey.outcome, survey.answered_at = FollowUpStatus.ANSWERED, \
            "answered", at
        survey.scores, survey.goods_ok = answer.scores, answer.goods_ok
        survey.suggestions, survey.problems = answer.suggestions, list(answer.problems)
        survey.channel = "web"
    else:
        survey.status, survey.outcome = FollowUpStatus.UNSUCCESSFUL, answer.outcome
        if answer.outcome == "refused":
            survey.calls = [FollowUpCall(at=at.isoformat(), outcome="refused", actor="agent")]
    return survey


def order(session: Session, order_id: str, customer: str, promise: str,
          times: dict[str, str], carrier: str | None = None,
          lines: list[LineState] | None = None, on_time: bool | None = None,
          in_full: bool | None = None, answer: Answer | None = None,
          extra_entries: list[TimelineEntry] | None = None,
          policy: SlaPolicy | None = None) -> None:
    tier = CUSTOMERS[customer]
    stage_times = {stage: t(at) for stage, at in times.items()}
    stage = Stage(list(times)[-1])
    delivered = stage_times.get(Stage.DELIVERED.value)
    state = OrderState(
        order_id=order_id, customer=Customer(id=customer, name=f"{customer} Ltd", tier=tier),
        lines=lines or [LineState("SKU-1", 10), LineState("SKU-2", 4)],
        destination={"city": "Shanghai"},
        promised_ship_by=t(promise) - DAY, promised_delivery_by=t(promise),
        policy=policy or POLICIES[tier.value], stage=stage, stage_times=stage_times,
        shipment=Shipment(carrier=carrier, tracking_no=f"T-{order_id}") if carrier else None,
        in_full=in_full, on_time=on_time,
        survey=_survey(delivered, answer) if delivered else None,
        cancel_reason="customer withdrew" if stage == Stage.CANCELLED else None, seq=1)
    created = TimelineEntry(event_id="order-created", type="order_created",
                            occurred_at=stage_times["received"],
                            recorded_at=stage_times["received"], actor="test", source="test",
                            data={})
    inp = ProjectionInput(state=state, entries=[created, *(extra_entries or [])])
    apply_projection(session, inp, rule_dates(inp))


def _lines(delivered: dict[str, int], agreed: dict[str, int] | None = None) -> list[LineState]:
    ordered = {"SKU-1": 10, "SKU-2": 4}
    return [LineState(sku, qty, picked=delivered[sku], shipped=delivered[sku],
                      delivered=delivered[sku], agreed=(agreed or {}).get(sku))
            for sku, qty in ordered.items()]


FULL = {"SKU-1": 10, "SKU-2": 4}


def escalation(session: Session, esc_id: str, order_id: str, customer: str, kind: BreachKind,
               stage: Stage, opened: str, steps: list[tuple[str, EscalationAction, int]],
               resolved: str | None = None) -> None:
    tier = CUSTOMERS[customer]
    level = max(lvl for _, _, lvl in steps)
    status = EscalationStatus(
        escalation_id=esc_id, order_id=order_id, breach_id=f"{kind.value}-1", kind=kind,
        stage=stage, customer_id=customer, customer_tier=tier, due_at=t(opened),
        opened_at=t(opened), level=level, level_since=t(opened), recipients=["ops_desk"],
        state=EscalationState.RESOLVED if resolved else EscalationState.OPEN,
        resolved_at=t(resolved) if resolved else None, seq=len(steps))
    entries = [EscalationStep(seq=i + 1, at=t(at), action=action, level=lvl, actor="agent")
               for i, (at, action, lvl) in enumerate(steps)]
    apply_escalation_projection(session, EscalationProjection(status=status, steps=entries))


def complaint(session: Session, complaint_id: str, order_id: str, customer: str, opened: str,
              first_reply: str | None = None, resolved: str | None = None,
              score: tuple[int, str] | None = None) -> None:
    tier = CUSTOMERS[customer]
    status = ComplaintStatus(
        complaint_id=complaint_id, customer=Customer(id=customer, name=customer, tier=tier),
        order_id=order_id, origin="survey", category="low_survey_score",
        description="low follow-up score", opened_at=t(opened), policy=POLICIES[tier.value],
        created_by="waybill", created_by_role="system",
        step=ComplaintStep.RESOLVED if resolved else ComplaintStep.REPLIED,
        first_reply_at=t(first_reply) if first_reply else None,
        resolved_at=t(resolved) if resolved else None, seq=1)
    if score:
        status.satisfaction_outcome, status.satisfaction_score = "answered", score[0]
        status.satisfaction_at, status.step = t(score[1]), ComplaintStep.CLOSED
    apply_complaint_projection(session, ComplaintProjection(status=status, entries=[]))


def claim(session: Session, claim_id: str, order_id: str, customer: str, cause: ClaimCause,
          opened: str, liability: Liability | None = None,
          amount_minor: int | None = None) -> None:
    tier = CUSTOMERS[customer]
    status = ClaimStatus(
        claim_id=claim_id, order_id=order_id,
        customer=Customer(id=customer, name=customer, tier=tier), cause=cause,
        origin="delivery", description="", opened_at=t(opened), opened_by="waybill",
        state=ClaimState.OPEN,
        step=ClaimStep.COMPENSATION_SET if amount_minor is not None else ClaimStep.OPENED,
        liability=liability, amount_minor=amount_minor,
        currency="CNY" if amount_minor is not None else None, seq=1)
    apply_claim_projection(session, ClaimProjection(status=status, entries=[]))


def promise_changed(at: str, was: str, now: str) -> TimelineEntry:
    return TimelineEntry(event_id="ev-promise", type="promise_changed", occurred_at=t(at),
                         recorded_at=t(at), actor="cs-agent", source="operator",
                         data={"promised_delivery_by": t(now).isoformat(), "was": was})


def november(session: Session) -> None:
    """The data set; every figure the tests expect is worked out in tests/kpis/test_compute.py."""
    order(session, "O1", "C-A", "11-06T00:00", {
        "received": "11-02T01:00", "confirmed": "11-02T03:00", "picked": "11-02T07:00",
        "shipped": "11-03T01:00", "in_transit": "11-03T01:00", "delivered": "11-05T01:00",
        "receipt_archived": "11-07T01:00", "followed_up": "11-06T05:00",
        "closed": "11-07T01:00"}, carrier="SF", lines=_lines(FULL), on_time=True,
        in_full=True, answer=Answer("11-06T05:00", {"arrival": 5, "service": 4}))
    # Promised for 11-08, moved by agreement to 11-10 before it shipped; delivered 11-09.
    order(session, "O2", "C-A", "11-10T00:00", {
        "received": "11-04T00:00", "confirmed": "11-04T02:00", "picked": "11-04T08:00",
        "shipped": "11-05T00:00", "in_transit": "11-05T00:00", "delivered": "11-09T00:00",
        "followed_up": "11-13T00:00"}, carrier="SF", lines=_lines(FULL), on_time=True,
        in_full=True, answer=Answer("11-13T00:00", outcome="expired"),
        extra_entries=[promise_changed("11-04T03:00", "2026-11-08T00:00:00+00:00",
                                       "11-10T00:00")])
    # Stock short: the customer agreed to 6 of SKU-1; 6 + 4 delivered is in full.
    order(session, "O3", "C-B", "11-12T00:00", {
        "received": "11-09T00:00", "confirmed": "11-09T01:00", "picked": "11-09T05:00",
        "shipped": "11-10T00:00", "in_transit": "11-10T00:00", "delivered": "11-11T12:00",
        "followed_up": "11-12T20:00", "receipt_archived": "11-15T00:00",
        "closed": "11-15T00:00"}, carrier="JD",
        lines=_lines({"SKU-1": 6, "SKU-2": 4}, agreed={"SKU-1": 6}), on_time=True,
        in_full=True, answer=Answer("11-12T20:00", {"arrival": 2, "service": 3},
                                    goods_ok=False, suggestions="call before delivery",
                                    problems=("low_score:arrival", "low_score:service",
                                              "goods_not_ok", "suggestion")))
    # Late, and 8 of 10 SKU-1 with nothing agreed: neither on time nor in full.
    order(session, "O4", "C-C", "11-14T00:00", {
        "received": "11-10T00:00", "confirmed": "11-10T04:00", "picked": "11-10T10:00",
        "shipped": "11-11T00:00", "in_transit": "11-11T00:00", "delivered": "11-15T00:00",
        "followed_up": "11-16T06:00", "receipt_archived": "11-20T00:00",
        "closed": "11-20T00:00"}, carrier="JD", lines=_lines({"SKU-1": 8, "SKU-2": 4}),
        on_time=False, in_full=False,
        answer=Answer("11-16T06:00", {"arrival": 1, "service": 2},
                      suggestions="call before delivery",
                      problems=("low_score:arrival", "low_score:service", "suggestion")))
    # On time but damaged: not in full.
    order(session, "O5", "C-B", "11-20T00:00", {
        "received": "11-17T00:00", "confirmed": "11-17T00:30", "picked": "11-17T02:30",
        "shipped": "11-18T00:00", "in_transit": "11-18T00:00", "delivered": "11-19T00:00",
        "receipt_archived": "11-19T06:00", "followed_up": "11-20T03:00"}, carrier="SF",
        lines=_lines(FULL), on_time=True, in_full=False,
        answer=Answer("11-20T03:00", outcome="refused"))
    order(session, "O6", "C-A", "11-15T00:00", {
        "received": "11-02T00:00", "confirmed": "11-02T01:00", "cancelled": "11-03T00:00"})
    order(session, "O7", "C-A", "11-25T00:00", {
        "received": "11-20T00:00", "confirmed": "11-20T02:00", "picked": "11-21T00:00",
        "shipped": "11-22T00:00", "in_transit": "11-22T00:00"}, carrier="SF",
        in_full=True)  # picked in full; still, not delivered is not in full
    order(session, "O8", "C-B", "11-30T17:00", {
        "received": "11-28T00:00", "confirmed": "11-28T01:00", "picked": "11-28T03:00",
        "shipped": "11-29T00:00", "in_transit": "11-29T00:00", "delivered": "11-30T16:30"},
        carrier="JD", lines=_lines(FULL), on_time=True, in_full=True)
    order(session, "O9", "C-A", "10-31T17:00", {
        "received": "10-29T00:00", "confirmed": "10-29T01:00", "picked": "10-29T02:00",
        "shipped": "10-30T00:00", "in_transit": "10-30T00:00", "delivered": "10-31T12:00",
        "receipt_archived": "11-01T00:00", "followed_up": "11-01T14:00",
        "closed": "11-01T14:00"}, carrier="SF", lines=_lines(FULL), on_time=True,
        in_full=True, answer=Answer("11-01T14:00", {"arrival": 5, "service": 5}))

    A = EscalationAction  # noqa: N806
    escalation(session, "E1", "O4", "C-C", BreachKind.DELIVERY_LATE, Stage.IN_TRANSIT,
               "11-14T00:00", [("11-14T00:00", A.OPENED, 1), ("11-14T00:30", A.CLIMBED, 2),
                               ("11-14T01:00", A.ACKNOWLEDGED, 2),
                               ("11-15T00:00", A.RESOLVED, 2)], resolved="11-15T00:00")
    escalation(session, "E2", "O7", "C-A", BreachKind.SHIP_LATE, Stage.PICKED, "11-21T00:00",
               [("11-21T00:00", A.OPENED, 1), ("11-21T00:10", A.ACKNOWLEDGED, 1)])
    # Opened 23:00 on 11-30 in Shanghai; acknowledged 00:30 on 12-01 there.
    escalation(session, "E3", "O8", "C-B", BreachKind.LATE_RISK, Stage.IN_TRANSIT,
               "11-30T15:00", [("11-30T15:00", A.OPENED, 1),
                               ("11-30T16:30", A.ACKNOWLEDGED, 1)])

    complaint(session, "O3-CP1", "O3", "C-B", "11-12T20:00", first_reply="11-12T22:00",
              resolved="11-14T20:00", score=(4, "11-15T00:00"))
    complaint(session, "O4-CP1", "O4", "C-C", "11-16T06:00", first_reply="11-16T07:00")

    claim(session, "O5-CL1", "O5", "C-B", ClaimCause.DAMAGED, "11-19T01:00",
          liability=Liability.CARRIER, amount_minor=15000)
    claim(session, "O4-CL1", "O4", "C-C", ClaimCause.SHORT, "11-15T02:00")


def fig(report: dict[str, Any], key: dict[str, str | None] | None = None) -> dict[str, Any]:
    """The figures of one group of a report's JSON (the total without a key)."""
    if key is None:
        return report["total"]
    return next(g["figures"] for g in report["groups"] if g["key"] == key)


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator,
            "rate": round(numerator / denominator, 6) if denominator else None}


def durations(count: int, p50: int | None, p90: int | None, top: int | None) -> dict[str, Any]:
    return {"count": count, "p50": p50, "p90": p90, "max": top}
