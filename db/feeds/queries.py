"""SQL of the carrier feeds: which orders a tracking number belongs to, and the push record."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from db.feeds.models import CarrierPush
from db.orders.models import Order
from db.upsert import insert_new


@dataclass(frozen=True)
class Shipped:
    """An order that has shipped under a tracking number, and the carrier it names."""

    order_id: str
    carrier: str | None


def orders_with_tracking_no(session: Session, tracking_no: str, limit: int = 20
                            ) -> list[Shipped]:
    """The orders that shipped under `tracking_no` (any carrier: the caller compares)."""
    rows = session.execute(
        select(Order.order_id, Order.carrier).where(Order.tracking_no == tracking_no)
        .order_by(Order.created_at, Order.order_id).limit(limit)).all()
    return [Shipped(order_id=r.order_id, carrier=r.carrier) for r in rows]


def push_id(event_id: str, order_id: str | None) -> str:
    return hashlib.sha256(f"{event_id}\n{order_id or ''}".encode()).hexdigest()


def outcomes(session: Session, event_id: str) -> dict[str | None, str]:
    """How the carrier event `event_id` ended so far, per order (None: unroutable)."""
    rows = session.execute(select(CarrierPush.order_id, CarrierPush.outcome)
                           .where(CarrierPush.event_id == event_id)).all()
    return {r.order_id: r.outcome for r in rows}


@dataclass(frozen=True)
class PushRecord:
    """What to record of one carrier event for one order (or none)."""

    feed: str
    carrier: str
    tracking_no: str
    event_id: str
    event_type: str
    carrier_status: str
    occurred_at: datetime
    order_id: str | None
    outcome: str
    code: str | None = None


def record(session: Session, push: PushRecord, now: datetime) -> None:
    """Insert the row, or update its outcome and count one more push of it."""
    row_id = push_id(push.event_id, push.order_id)
    insert_new(session, CarrierPush.__table__, [{
        "id": row_id, "feed": push.feed, "carrier": push.carrier[:120],
        "tracking_no": push.tracking_no, "event_id": push.event_id,
        "event_type": push.event_type, "carrier_status": push.carrier_status[:60],
        "occurred_at": push.occurred_at, "order_id": push.order_id, "outcome": push.outcome,
        "code": push.code, "pushes": 0, "first_seen_at": now, "last_seen_at": now}], ("id",))
    session.execute(update(CarrierPush).where(CarrierPush.id == row_id).values(
        outcome=push.outcome, code=push.code, pushes=CarrierPush.pushes + 1,
        last_seen_at=now))


def seen_again(session: Session, event_id: str, order_id: str | None, now: datetime) -> None:
    """The carrier pushed an event already settled: counted, its outcome kept."""
    session.execute(update(CarrierPush).where(CarrierPush.id == push_id(event_id, order_id))
                    .values(pushes=CarrierPush.pushes + 1, last_seen_at=now))


def settle_unroutable(session: Session, event_id: str) -> None:
    """The event has reached its orders: its unroutable row goes (the order rows tell)."""
    session.execute(delete(CarrierPush).where(
        CarrierPush.event_id == event_id, CarrierPush.order_id.is_(None)))


def list_pushes(session: Session, outcome: str | None, tracking_no: str | None, limit: int,
                after: tuple[datetime, str] | None) -> list[CarrierPush]:
    """Newest first (by when first seen), keyset-paged."""
    q = select(CarrierPush)
    if outcome is not None:
        q = q.where(CarrierPush.outcome == outcome)
    if tracking_no is not None:
        q = q.where(CarrierPush.tracking_no == tracking_no)
    if after is not None:
        q = q.where(tuple_(CarrierPush.first_seen_at, CarrierPush.id) < after)
    q = q.order_by(CarrierPush.first_seen_at.desc(), CarrierPush.id.desc()).limit(limit)
    return list(session.scalars(q))
