"""Which notices a change of an order or an escalation gives rise to.

Pure functions over what the projection writes, so the notices go into the outbox in the same
transaction as the change that caused them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
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
                  survey_url: Callable[[str], str] | None = None,
                  tracking_url: Callable[[str], str] | None = None,
                  opt_out_url: Callable[[str], str] | None = None) -> list[Notice]:
    """The notices `entries` give rise to; `eta` is the order's latest ETA (deadlines.py
    latest_eta: the state here may not hold the scans); `survey_url(order_id)` is the
    customer's survey link, `tracking_url` and `opt_out_url` the links every customer notice
    carries (issue 19 §3: `/t/<token>`, `/u/<token>`)."""
    notices: dict[str, Notice] = {}
    links = {"tracking_url": tracking_url(state.order_id) if tracking_url else None,
             "opt_out_url": opt_out_url(state.order_id) if opt_out_url else None}
    calendar = state.policy.calendar
    for entry in entries:
        found = _customer_event(state, entry, eta)
        if found is None:
            continue
        event, key = found
        survey = entry.type in _SURVEY_EVENTS
        quoted = _quoted(entry) if entry.type in _QUOTED else {
            name: entry.data.get(name) for name in _DECLARED_QUOTES.get(entry.type, ())}
        notices.setdefault(key, Notice(
            key=key, event_type=event,
            audience=Audience.CUSTOMER.value, order_id=state.order_id,
            locale=state.customer.language, customer_email=state.customer.email,
            customer_id=state.customer.id, customer_phone=state.customer.phone,
            customer_zone=calendar.timezone if calendar else None,
            teams=[SURVEY_TEAM] if survey else [],
            data={**_order_data(state, eta), **quoted, **links,
                  **(_survey_data(state, survey_url) if survey else {})}))
    return list(notices.values()) + _staff_notices(state, entries)


_ON_THE_WAY = frozenset({Stage.SHIPPED, Stage.IN_TRANSIT})


def _customer_event(state: OrderState, entry: TimelineEntry,
                    eta: datetime | None) -> tuple[str, str] | None:
    """(notification event type, notice key) of the customer notice `entry` gives, if any.

    Keys make the once-only rules: the first scan says the goods are on their way, a scan with
    the carrier's out-for-delivery status says so once; "may be late" (before the promise is
    missed) is keyed by the ETA it reports, so it goes once, and again only when the ETA
    changes again (a later scan still past the promise, after the late-risk breach).
    """
    order_id = state.order_id
    event = _CUSTOMER_EVENTS.get(entry.type)
    if event is not None:
        return event, f"{order_id}:{entry.event_id}"
    if entry.type == SystemEventType.SLA_BREACH.value \
            and entry.data.get("kind") == BreachKind.LATE_RISK.value:
        told = _instant(eta) if eta is not None else entry.event_id
        return NotificationEvent.ORDER_DELAY_RISK.value, f"{order_id}:delay_risk:{told}"
    if entry.type != EventType.TRACKING_SCAN.value or state.stage not in _ON_THE_WAY:
        return None
    scan_eta = _as_datetime(entry.data.get("eta"))
    if scan_eta is not None and scan_eta == eta and scan_eta > state.promised_delivery_by \
            and any(b.kind == BreachKind.LATE_RISK for b in state.breaches):
        return NotificationEvent.ORDER_DELAY_RISK.value, \
            f"{order_id}:delay_risk:{_instant(scan_eta)}"
    if _OUT_FOR_DELIVERY.sub("", str(entry.data.get("status", "")).lower()) == "outfordelivery":
        return NotificationEvent.ORDER_OUT_FOR_DELIVERY.value, f"{order_id}:out_for_delivery"
    return NotificationEvent.ORDER_IN_TRANSIT.value, f"{order_id}:in_transit"


# A carrier's out-for-delivery status however it is spelled: OutForDelivery (AfterShip),
# out_for_delivery, "Out for delivery".
_OUT_FOR_DELIVERY = re.compile(r"[^a-z]")


def _instant(value: datetime) -> str:
    """One spelling per instant (an ETA posted with +08:00 is the same ETA in UTC)."""
    return value.astimezone(UTC).isoformat()


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


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
