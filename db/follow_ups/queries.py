"""The follow_ups table: one row per delivered order, kept from the order's projection."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from db.follow_ups.models import FollowUp
from db.upsert import upsert_newer
from workflows.order.types import FollowUpStatus, OrderState, Stage


def upsert_follow_up(session: Session, s: OrderState) -> None:
    """Idempotent, and an older projection never overwrites a newer one (seq guard)."""
    survey = s.survey
    assert survey is not None
    invited = survey.due_at if survey.status != FollowUpStatus.PENDING else None
    ended = survey.answered_at if survey.status == FollowUpStatus.ANSWERED else (
        survey.expires_at if survey.outcome == "expired" else None)
    if survey.outcome == "refused" and survey.calls:
        ended = datetime.fromisoformat(survey.calls[-1].at)
    values: dict[str, Any] = {
        "status": survey.status.value, "invited_at": invited,
        "reminded_at": survey.reminded_at, "calls": len(survey.calls),
        "attempted": invited is not None or bool(survey.calls),
        "answered_at": survey.answered_at, "channel": survey.channel,
        "outcome": survey.outcome, "ended_at": ended, "goods_ok": survey.goods_ok,
        "scores": survey.scores, "suggestions": survey.suggestions,
        "problems": survey.problems or None, "updated_seq": s.seq,
        "due_at": survey.due_at, "expires_at": survey.expires_at,
    }
    row = {"order_id": s.order_id, "customer_id": s.customer.id,
           "customer_tier": s.customer.tier.value, "sla_policy": s.policy.name,
           "delivered_at": s.stage_times[Stage.DELIVERED.value], **values}
    upsert_newer(session, FollowUp.__table__, row, "order_id", _UPDATED, "updated_seq")


# What a later projection rewrites (the rest is set when the order is delivered).
_UPDATED = ("status", "invited_at", "reminded_at", "calls", "attempted", "answered_at",
            "channel", "outcome", "ended_at", "goods_ok", "scores", "suggestions", "problems",
            "updated_seq", "due_at", "expires_at")
