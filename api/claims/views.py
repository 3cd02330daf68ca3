"""Turn claim read-model rows into API views."""

from __future__ import annotations

from typing import Any

from api.claims.schemas import (
    ClaimBreachView,
    ClaimDetail,
    ClaimDocumentView,
    ClaimStepView,
    ClaimTimelineView,
    ClaimView,
)
from db.claims.models import ClaimEvent, ClaimRow
from db.claims.queries import STEP_COLUMNS
from workflows.ids import claim_workflow_id


def claim_view(row: ClaimRow) -> ClaimView:
    return ClaimView.model_validate(
        {**{k: getattr(row, k) for k in ClaimView.model_fields if hasattr(row, k)},
         "workflow_id": claim_workflow_id(row.id)})


def document_view(claim_id: str, doc: dict[str, Any]) -> ClaimDocumentView:
    return ClaimDocumentView.model_validate(
        {**{k: doc.get(k) for k in ClaimDocumentView.model_fields if k != "url"},
         "url": f"/v1/claims/{claim_id}/documents/{doc['sha256']}"})


def claim_detail(row: ClaimRow, events: list[ClaimEvent]) -> ClaimDetail:
    detail = row.detail or {}
    deadlines = detail.get("deadlines") or {}
    steps = [ClaimStepView(step=step, due_at=deadlines.get(step), done_at=getattr(row, col))
             for step, col in STEP_COLUMNS.items()]
    return ClaimDetail(
        **claim_view(row).model_dump(),
        description=detail.get("description", ""),
        customer=detail.get("customer") or {},
        weight_kg=row.weight_kg, declared_value_minor=row.declared_value_minor,
        basis_changes=detail.get("basis_changes") or [],
        steps=steps,
        documents=[document_view(row.id, d) for d in detail.get("documents") or []],
        breaches=[ClaimBreachView(**b) for b in detail.get("breaches") or []],
        timeline=[ClaimTimelineView.model_validate(e, from_attributes=True) for e in events])
