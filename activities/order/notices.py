"""Which notices a change of an order or an escalation gives rise to.

Pure functions over what the projection writes, so the notices go into the outbox in the same
transaction as the change that caused them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from db.notifications.outbox import Audience, Notice, NotificationEvent
from workflows.escalation.types import EscalationAction, EscalationStatus, EscalationStep
from workflows.order.event_data import EVENTS
from workflows.order.event_spec import notice_type
from workflows.order.types import (
    BreachKind,
    EventType,
    OrderState,
    Stage,
    SystemEventType,
    TimelineEntry,
)

# Timeline entry types that tell the customer something: the posted events whose declaration
# says so (workflows/order/event_data.py EVENTS), and Waybill's own entries.
_CUSTOMER_EVENTS = {
    **{t.value: notice_type(t) for t, spec in EVENTS.items() if spec.notice},
    SystemEventType.SURVEY_DUE.value: NotificationEvent.ORDER_SURVEY_DUE.value,
    SystemEventType.SURVEY_REMINDER.value: NotificationEvent.ORDER_SURVEY_REMINDER.value,
    SystemEventType.DECISION_REQUIRED.value: NotificationEvent.ORDER_DECISION_REQUIRED.value,
}
# Entries whose own data the customer's message quotes under these names (reason, text, what is
# available...), as they always have; a later event's declaration names the fields it quotes.
_QUOTED = {SystemEventType.DECISION_REQUIRED.value, EventType.DELIVERY_EXCEPTION.value,
           EventType.CANCELLED.value}
_DECLARED_QUOTES = {t.value: spec.quote for t, spec in EVENTS.items() if spec.quote}

# Survey invitations carry the customer's link; customer service gets a copy, so staff can see
# who was invited (and follow up by phone).
_SURVEY_EVENTS = {SystemEventType.SURVEY_DUE.value, SystemEventType.SURVEY_REMINDER.value}
SURVEY_TEAM = "customer_service"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _order_data(state: OrderState, eta: datetime | None) -> dict[str, Any]:
    shipment = state.shipment
    return {
        "customer_name": state.customer.name,
        "carrier": shipment.carrier if shipment else None,
        "tracking_no": shipment.tracking_no if shipment else None,
        "eta": _iso(eta),
        "promised_delivery_by": _iso(state.promised_delivery_by),
        "delivered_at": _iso(state.stage_times.get(Stage.DELIVERED.value)),
    }


def _survey_data(state: OrderState, survey_url: Callable[[str], str] | None) -> dict[str, Any]:
    return {"survey_url": survey_url(state.order_id) if survey_url else None,
            "expires_at": _iso(state.survey.expires_at) if state.survey else None}


def order_notices(state: OrderState, entries: list[TimelineEntry], eta: datetime | None,
                  survey_url: Callable[[str], str] | None = None) -> list[Notice]:
    """The notices `entries` give rise to; `eta` is the order's latest ETA (deadlines.py
    latest_eta: the state here may not hold the scans); `survey_url(order_id)` is the
    customer's survey link."""
    notices = []
    for entry in entries:
        event = _CUSTOMER_EVENTS.get(entry.type)
        if entry.type == SystemEventType.SLA_BREACH.value \
                and entry.data.get("kind") == BreachKind.LATE_RISK.value:
            event = NotificationEvent.ORDER_DELAY_RISK.value  # before the promise is missed
        if event is None:
            continue
        survey = entry.type in _SURVEY_EVENTS
        quoted = _quoted(entry) if entry.type in _QUOTED else {
            name: entry.data.get(name) for name in _DECLARED_QUOTES.get(entry.type, ())}
        notices.append(Notice(
            key=f"{state.order_id}:{entry.event_id}", event_type=event,
            audience=Audience.CUSTOMER.value, order_id=state.order_id,
            locale=state.customer.language, customer_email=state.customer.email,
            teams=[SURVEY_TEAM] if survey else [],
            data={**_order_data(state, eta), **quoted,
                  **(_survey_data(state, survey_url) if survey else {})}))
    return notices + _staff_notices(state, entries)


def _quoted(entry: TimelineEntry) -> dict[str, Any]:
    data = entry.data
    available = data.get("available")
    return {"reason": data.get("reason"), "text": data.get("text"),
            "decision_due_at": data.get("due_at"),
            "available": ", ".join(f"{sku} × {qty}" for sku, qty in available.items())
            if available else None,
            "new_promise": data.get("promised_delivery_by")}


def _staff_notices(state: OrderState, entries: list[TimelineEntry]) -> list[Notice]:
    """Integrations free the stock of a cancelled order (a webhook: the reservation hook);
    customer service is told when a follow-up call is due again."""
    notices = []
    for entry in entries:
        if entry.type == EventType.CANCELLED.value:
            notices.append(Notice(
                key=f"{state.order_id}:{entry.event_id}:release",
                event_type=NotificationEvent.ORDER_RELEASE_RESERVATION.value,
                audience=Audience.STAFF.value, order_id=state.order_id,
                data={"customer_name": state.customer.name, "reason": entry.data.get("reason"),
                      "lines": [{"sku": line.sku, "ordered": line.ordered,
                                 "picked": line.picked} for line in state.lines]}))
        if entry.type == SystemEventType.CALL_RETRY_DUE.value:
            notices.append(Notice(
                key=f"{state.order_id}:{entry.event_id}",
                event_type=NotificationEvent.FOLLOW_UP_CALL_DUE.value,
                audience=Audience.STAFF.value, order_id=state.order_id, teams=[SURVEY_TEAM],
                data={"customer_name": state.customer.name, "phone": state.customer.phone,
                      "calls_made": entry.data.get("calls_made"),
                      "expires_at": _iso(state.survey.expires_at) if state.survey else None}))
    return notices


def escalation_notices(status: EscalationStatus,
                       steps: list[EscalationStep]) -> list[Notice]:
    """Staff are told at every level the ladder reaches, and again at each top-level repeat."""
    notices = []
    for step in steps:
        if step.action not in (EscalationAction.NOTIFIED, EscalationAction.RENOTIFIED):
            continue
        previous = next((s.detail.get("from") for s in reversed(status.steps)
                         if s.action == EscalationAction.CLIMBED and s.seq < step.seq), None)
        notices.append(Notice(
            key=f"{status.escalation_id}:{step.seq}",
            event_type=NotificationEvent.ESCALATION_LEVEL_CHANGED.value,
            audience=Audience.STAFF.value, order_id=status.order_id,
            escalation_id=status.escalation_id, teams=list(step.detail.get("recipients", [])),
            data={"customer_name": status.customer_name, "level": step.level,
                  "previous_level": previous, "kind": status.kind.value,
                  "stage": status.stage.value if status.stage else None,
                  "subject": status.subject, "due_at": _iso(status.due_at)}))
    return notices
