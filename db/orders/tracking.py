"""The customer tracking page's reads (issue 19 §2): orders by tracking number for the lookup,
and an order's latest scans. Kept apart from queries.py: the page reads, never writes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.orders.models import Order, OrderScan

# More orders than this under one tracking number is not a real shipment: the lookup reads no
# further (the newest first), so a crafted number cannot make it read the whole table.
MAX_ORDERS_PER_TRACKING_NO = 20


def orders_by_tracking_no(session: Session, tracking_nos: list[str]) -> list[Order]:
    """The orders shipped under any of these spellings of one tracking number, newest first."""
    return list(session.scalars(
        select(Order).where(Order.tracking_no.in_(tracking_nos))
        .order_by(Order.received_at.desc(), Order.order_id)
        .limit(MAX_ORDERS_PER_TRACKING_NO)))


def latest_scans(session: Session, order_id: str, limit: int) -> list[OrderScan]:
    """The order's `limit` most recent scans, newest first (ties by event id, reversed)."""
    return list(session.scalars(
        select(OrderScan).where(OrderScan.order_id == order_id)
        .order_by(OrderScan.occurred_at.desc(), OrderScan.event_id.desc()).limit(limit)))
