"""Which notices a change of an order or an escalation gives rise to.

Pure functions over what the projection writes, so the notices go into the outbox in the same
transaction as the change that caused them.
"""

from __future__ import annotations

from typing import Any

from db.notifications import Audience, Notice, NotificationEvent
from workflows.deadlines import latest_eta
from workflows.types import (
    BreachKind,
    EscalationAction,
    EscalationStatus,
    EscalationStep,
    EventType,
    OrderState,
    Stage,
    SystemEventType,
    TimelineEntry,
)

# Timeline entry types that tell the customer something.
_CUSTOMER_EVENTS = {
    EventType.CONFIRMED.value: NotificationEvent.ORDER_CONFIRMED,
    EventType.SHIPPED.value: NotificationEvent.ORDER_SHIPPED,
    EventType.DELIVERED.value: NotificationEvent.ORDER_DELIVERED,
    SystemEventType.SURVEY_DUE.value: NotificationEvent.ORDER_SURVEY_DUE,
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _order_data(state: OrderState) -> dict[str, Any]:
    shipment = state.shipment or {}
    return {
        "customer_name": state.customer.name,
        "carrier": shipment.get("carrier"),
        "tracking_no": shipment.get("tracking_no"),
        "eta": _iso(latest_eta(state)),
        "promised_delivery_by": _iso(state.promised_delivery_by),
        "delivered_at": _iso(state.stage_times.get(Stage.DELIVERED.value)),
    }


def order_notices(state: OrderState, entries: list[TimelineEntry]) -> list[Notice]:
    notices = []
    for entry in entries:
        event = _CUSTOMER_EVENTS.get(entry.type)
        if entry.type == SystemEventType.SLA_BREACH.value \
                and entry.data.get("kind") == BreachKind.LATE_RISK.value:
            event = NotificationEvent.ORDER_DELAY_RISK  # before the promise is missed
        if event is None:
            continue
        notices.append(Notice(
            key=f"{state.order_id}:{entry.event_id}", event_type=event.value,
            audience=Audience.CUSTOMER.value, order_id=state.order_id,
            locale=state.customer.language, customer_email=state.customer.email,
            data=_order_data(state)))
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
