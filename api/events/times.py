"""An event's time against its order's: the API's side of workflows.rejections.refuse_before,
for events the order's workflow does not see (a closed order's notes, claims, complaints)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from api.events.rejections import from_rejection
from db.orders import queries as order_repo
from workflows.rejections import refuse_before


def received_at(session: Session, order_id: str | None) -> datetime | None:
    """When the order was received (it never changes), or None without an order."""
    row = order_repo.get_order(session, order_id) if order_id else None
    return row.received_at if row is not None else None


def refuse_occurred_before(occurred_at: datetime | None, received_at: datetime,
                           skew_seconds: float) -> None:
    """422 occurred_before_order if the event is dated before its order was received."""
    if occurred_at is None:
        return
    try:
        refuse_before(occurred_at, received_at, skew_seconds)
    except ApplicationError as exc:
        raise from_rejection(exc) or exc from None
