"""The complaint's read model and the notices its steps give rise to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.notify.delivery_start import DeliveryStarter, deliver_after_commit
from db.complaints.queries import apply_complaint_projection
from db.engine import transaction
from db.notifications.outbox import Audience, Notice, NotificationEvent, enqueue
from workflows.complaint.types import (
    ComplaintEntry,
    ComplaintEventType,
    ComplaintProjection,
    ComplaintStatus,
    ComplaintSystemEvent,
)

_CUSTOMER_EVENTS = {
    ComplaintEventType.FIRST_REPLY.value: NotificationEvent.COMPLAINT_REPLIED,
    ComplaintSystemEvent.SATISFACTION_REQUESTED.value:
        NotificationEvent.COMPLAINT_SATISFACTION_REQUESTED,
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _data(s: ComplaintStatus) -> dict[str, Any]:
    # order_id here wins over the notice's (""), so a complaint without an order shows "-".
    return {"complaint_id": s.complaint_id, "order_id": s.order_id,
            "customer_name": s.customer.name,
            "category": s.category, "department": s.department, "description": s.description,
            "reply": s.reply, "plan": s.plan, "promised_by": _iso(s.promised_by),
            "resolution": s.resolution, "due_at": _iso(s.due_at)}


def complaint_notices(s: ComplaintStatus, entries: list[ComplaintEntry]) -> list[Notice]:
    """The customer hears the first reply (with its plan and time) and is asked about the
    resolution; the department's inbox hears of each complaint routed to it."""
    notices = []
    for entry in entries:
        key = f"complaint:{s.complaint_id}:{entry.event_id}"
        if entry.type == ComplaintEventType.ROUTED.value:
            data = _data(s) | {"department": entry.data["department"],
                               "due_at": _iso(s.deadlines.get("first_reply"))}
            notices.append(Notice(
                key=key, event_type=NotificationEvent.COMPLAINT_ROUTED.value,
                audience=Audience.STAFF.value, order_id=s.order_id or "",
                teams=[entry.data["department"]], data=data))
            continue
        event = _CUSTOMER_EVENTS.get(entry.type)
        if event is not None:
            data = _data(s) | {"due_at": entry.data.get("due_at")}
            notices.append(Notice(
                key=key, event_type=event.value, audience=Audience.CUSTOMER.value,
                order_id=s.order_id or "", locale=s.customer.language,
                customer_email=s.customer.email, data=data,
                customer_id=s.customer.id))  # an opted-out customer gets no e-mail either
    return notices


class ComplaintActivities:
    def __init__(self, sessions: sessionmaker[Session],
                 starter: DeliveryStarter | None = None) -> None:
        self._sessions = sessions
        self._starter = starter

    @activity.defn
    def project_complaint(self, inp: ComplaintProjection) -> list[str]:
        """Upsert keyed by complaint, event id and projection sequence: safe to retry.

        Returns the outbox rows (written in the same transaction) still awaiting delivery,
        whose DeliveryWorkflows it started once the transaction committed.
        """
        with transaction(self._sessions) as session:
            apply_complaint_projection(session, inp)
            outbox = enqueue(session, complaint_notices(inp.status, inp.entries))
        return deliver_after_commit(self._starter, outbox)
