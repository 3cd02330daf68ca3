"""What the order page shows beyond progress and timeline: quantities per line, proof of
delivery, receipt versions, the follow-up, claims and complaints, a pending decision and
delivery exceptions; and which action forms the viewer's role and the order's stage allow."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.receipts.views import receipt_versions
from console.session import ConsoleUser
from db.claims import queries as claim_repo
from db.complaints import queries as complaint_repo
from db.orders.models import Order
from workflows.order.types import AFTER_DELIVERY, BEFORE_SHIPMENT, Stage

LINE_COLUMNS = ("ordered", "agreed", "picked", "shipped", "delivered")
_RELATED_LIMIT = 50


def details(session: Session, order: Order) -> dict[str, Any]:
    detail = order.detail or {}
    survey = detail.get("survey") or None
    return {
        "lines": order.lines or [],
        "line_columns": LINE_COLUMNS,
        "delivery": detail.get("delivery") or None,
        "receipts": receipt_versions(detail.get("receipt")),
        "follow_up": survey,
        "decision": detail.get("decision") or None,
        "decisions": detail.get("decisions") or [],
        "exceptions": detail.get("exceptions") or [],
        "cancel_reason": detail.get("cancel_reason"),
        "claims": claim_repo.list_claims(
            session, claim_repo.ClaimFilter(order_id=order.order_id), _RELATED_LIMIT, None),
        "complaints": complaint_repo.list_complaints(
            session, complaint_repo.ComplaintFilter(order_id=order.order_id), _RELATED_LIMIT,
            None),
    }


def offered(user: ConsoleUser | None, order: Order) -> dict[str, bool]:
    """Which action forms to show; each handler checks the role again on post."""
    stage = Stage(order.stage)
    survey = (order.detail or {}).get("survey") or {}

    def can(action: str) -> bool:
        return user is not None and user.can(action)

    return {
        "confirm": can("order.confirm") and stage == Stage.RECEIVED,
        # until the goods leave; after that the workflow refuses it anyway
        "cancel": can("order.cancel") and stage in BEFORE_SHIPMENT,
        "call": can("order.follow_up_call") and stage in AFTER_DELIVERY
        and survey.get("status") in ("pending", "due"),
        "receipt": can("order.receipt_upload") and stage in AFTER_DELIVERY,
    }
