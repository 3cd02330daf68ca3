"""Escalations opened by SLA breaches (level 1 for now; the ladder builds on these rows)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import Principal, Role, SessionDep, require
from api.schemas import EscalationPage
from api.views import escalation_view
from db import orders as repo

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])

Staff = Annotated[Principal, Depends(require(Role.OPERATOR, Role.AUDITOR, Role.ADMIN))]


@router.get("", response_model=EscalationPage, description="Escalations, newest first.")
def list_escalations(_: Staff, session: SessionDep,
                     state: Literal["open", "resolved"] | None = None,
                     order_id: str | None = None,
                     limit: int = Query(default=100, ge=1, le=500)) -> EscalationPage:
    rows = repo.list_escalations(session, state, order_id, limit)
    return EscalationPage(items=[escalation_view(r) for r in rows])
