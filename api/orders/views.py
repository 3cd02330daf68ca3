"""Turn read-model rows into API views."""

from __future__ import annotations

from api.escalations.schemas import EscalationView
from api.orders.read_model import (
    Deadline,
    customer_of,
    destination_of,
    detail_of,
    lines_of,
)
from api.orders.schemas import OrderView, PolicyRef
from db.escalations.models import EscalationRow
from db.orders.models import Order
from db.orders.queries import STAGE_COLUMNS
from workflows.ids import order_workflow_id
from workflows.order.types import Stage


def escalation_view(row: EscalationRow) -> EscalationView:
    return EscalationView.model_validate(row, from_attributes=True)


def order_view(row: Order, open_escalations: list[EscalationRow]) -> OrderView:
    detail = detail_of(row)
    return OrderView(
        order_id=row.order_id,
        customer=customer_of(row),
        lines=lines_of(row),
        destination=destination_of(row),
        stage=Stage(row.stage),
        stage_times={Stage(stage): getattr(row, col) for stage, col in STAGE_COLUMNS.items()},
        promised_ship_by=row.promised_ship_by,
        promised_delivery_by=row.promised_delivery_by,
        sla_policy=PolicyRef(name=row.sla_policy, version=row.sla_policy_version),
        next_deadline=(
            Deadline(kind=row.next_deadline_kind, due_at=row.next_deadline_at)
            if row.next_deadline_kind and row.next_deadline_at else None),
        breached=row.breached,
        breaches=detail.breaches,
        open_escalations=[escalation_view(e) for e in open_escalations],
        in_full=row.in_full,
        on_time=row.on_time,
        shipment=detail.shipment,
        latest_eta=detail.latest_eta,
        delivery=detail.delivery,
        receipt=detail.receipt,
        follow_up=detail.survey,
        cancel_reason=detail.cancel_reason,
        awaiting_decision=detail.decision,
        decisions=detail.decisions,
        exceptions=detail.exceptions,
        claims=detail.claims,
        complaints=detail.complaints,
        pauses=detail.pauses,
        declared_value_minor=row.declared_value_minor,
        weight_kg=row.weight_kg,
        workflow_id=order_workflow_id(row.order_id),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
