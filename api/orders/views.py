"""Turn read-model rows into API views."""

from __future__ import annotations

from api.escalations.schemas import EscalationView
from api.orders.schemas import DeadlineView, LineView, OrderView
from db.escalations.models import EscalationRow
from db.orders.models import Order
from db.orders.queries import STAGE_COLUMNS
from workflows.ids import order_workflow_id


def escalation_view(row: EscalationRow) -> EscalationView:
    return EscalationView.model_validate(row, from_attributes=True)


def order_view(row: Order, open_escalations: list[EscalationRow]) -> OrderView:
    detail = row.detail or {}
    return OrderView(
        order_id=row.order_id,
        customer=row.customer,
        lines=[LineView.model_validate(line) for line in row.lines],
        destination=row.destination,
        stage=row.stage,
        stage_times={stage: getattr(row, col) for stage, col in STAGE_COLUMNS.items()},
        promised_ship_by=row.promised_ship_by,
        promised_delivery_by=row.promised_delivery_by,
        sla_policy={"name": row.sla_policy, "version": row.sla_policy_version},
        next_deadline=(
            DeadlineView(kind=row.next_deadline_kind, due_at=row.next_deadline_at)
            if row.next_deadline_kind and row.next_deadline_at else None),
        breached=row.breached,
        breaches=detail.get("breaches", []),
        open_escalations=[escalation_view(e) for e in open_escalations],
        in_full=row.in_full,
        on_time=row.on_time,
        shipment=detail.get("shipment"),
        latest_eta=detail.get("latest_eta"),
        delivery=detail.get("delivery"),
        receipt=detail.get("receipt"),
        follow_up=detail.get("survey"),
        cancel_reason=detail.get("cancel_reason"),
        awaiting_decision=detail.get("decision"),
        decisions=detail.get("decisions") or [],
        exceptions=detail.get("exceptions") or [],
        claims=detail.get("claims") or [],
        complaints=detail.get("complaints") or [],
        declared_value_minor=row.declared_value_minor,
        weight_kg=row.weight_kg,
        workflow_id=order_workflow_id(row.order_id),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
