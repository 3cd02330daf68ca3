"""What the order page shows beyond progress and timeline: quantities per line, proof of
delivery, receipt versions, the follow-up, claims and complaints, a pending decision and
delivery exceptions; and which action forms the viewer's role and the order's stage allow."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.orders.read_model import detail_of, lines_of
from api.receipts.views import receipt_versions
from console.session import ConsoleUser
from db.claims import queries as claim_repo
from db.complaints import queries as complaint_repo
from db.orders.models import Order
from workflows.order.types import AFTER_DELIVERY, BEFORE_SHIPMENT, FollowUpStatus, Stage

LINE_COLUMNS = ("ordered", "agreed", "picked", "shipped", "delivered")
_RELATED_LIMIT = 50
# A call may still be recorded: the survey is not yet answered nor given up.
OPEN_FOLLOW_UP = frozenset({FollowUpStatus.PENDING, FollowUpStatus.DUE})


def details(session: Session, order: Order) -> dict[str, Any]:
    detail = detail_of(order)
    return {
        "lines": lines_of(order),
        "line_columns": LINE_COLUMNS,
        "delivery": detail.delivery,
        "receipts": receipt_versions(detail.receipt),
        "follow_up": detail.survey,
        "decision": detail.decision,
        "decisions": detail.decisions,
        "exceptions": detail.exceptions,
        "cancel_reason": detail.cancel_reason,
        "claims": claim_repo.list_claims(
            session, claim_repo.ClaimFilter(order_id=order.order_id), _RELATED_LIMIT, None),
        "complaints": complaint_repo.list_complaints(
            session, complaint_repo.ComplaintFilter(order_id=order.order_id), _RELATED_LIMIT,
            None),
    }


def offered(user: ConsoleUser | None, order: Order) -> dict[str, bool]:
    """Which action forms to show; each handler checks the role again on post."""
    stage = Stage(order.stage)
    survey = detail_of(order).survey

    def can(action: str) -> bool:
        return user is not None and user.can(action)

    return {
        "confirm": can("order.confirm") and stage == Stage.RECEIVED,
        # until the goods leave; after that the workflow refuses it anyway
        "cancel": can("order.cancel") and stage in BEFORE_SHIPMENT,
        "call": can("order.follow_up_call") and stage in AFTER_DELIVERY
        and survey is not None and survey.status in OPEN_FOLLOW_UP,
        "receipt": can("order.receipt_upload") and stage in AFTER_DELIVERY,
    }
