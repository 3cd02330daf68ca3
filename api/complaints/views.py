"""Turn complaint read-model rows into API views."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from api.complaints.schemas import ComplaintDetail, ComplaintView, DueView, Satisfaction
from api.orders.schemas import TimelineEntryView
from api.orders.views import escalation_view
from db.complaints.models import ComplaintEvent, ComplaintRow
from db.escalations.models import EscalationRow
from workflows.ids import complaint_workflow_id


def complaint_view(row: ComplaintRow) -> ComplaintView:
    deadlines = {k: datetime.fromisoformat(v) for k, v in (row.deadlines or {}).items()}
    return ComplaintView(
        id=row.id, order_id=row.order_id, customer=row.customer, origin=row.origin,
        category=row.category, description=row.description, survey=row.survey,
        department=row.department, step=row.step, opened_at=row.opened_at,
        routed_at=row.routed_at, first_reply_at=row.first_reply_at, reply=row.reply,
        plan=row.plan, promised_by=row.promised_by, resolved_at=row.resolved_at,
        resolution=row.resolution,
        satisfaction=Satisfaction(
            requested_at=row.satisfaction_requested_at, due_at=deadlines.get("satisfaction"),
            outcome=row.satisfaction_outcome, score=row.satisfaction_score,
            comment=row.satisfaction_comment, at=row.satisfaction_at),
        closed_at=row.closed_at, deadlines=deadlines,
        due=DueView(kind=row.due_kind, due_at=row.due_at)
        if row.due_kind and row.due_at else None,
        breached=row.breached, breaches=row.breaches or [],
        sla_policy={"name": row.sla_policy, "version": row.sla_policy_version},
        workflow_id=complaint_workflow_id(row.id), updated_at=row.updated_at)


def complaint_detail(row: ComplaintRow, timeline: Sequence[ComplaintEvent],
                     escalations: Sequence[EscalationRow]) -> ComplaintDetail:
    return ComplaintDetail(
        **complaint_view(row).model_dump(),
        timeline=[TimelineEntryView.model_validate(e, from_attributes=True) for e in timeline],
        escalations=[escalation_view(e) for e in escalations])
