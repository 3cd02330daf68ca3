"""The read model of orders and their business timeline, as the order workflow projects them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


class Order(Base):
    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_tier: Mapped[str] = mapped_column(String(20), index=True)
    customer: Mapped[dict[str, Any]] = mapped_column(JsonType)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    destination: Mapped[dict[str, Any]] = mapped_column(JsonType)
    promised_ship_by: Mapped[datetime] = mapped_column(UTCDateTime())
    promised_delivery_by: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sla_policy: Mapped[str] = mapped_column(String(64))
    sla_policy_version: Mapped[str] = mapped_column(String(64))
    sla_policy_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonType)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    in_transit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The receipt deadline (delivery + receipt_within, in working time if the policy has a
    # calendar), kept so the receipt-return rate is a plain query.
    receipt_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt_archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    carrier: Mapped[str | None] = mapped_column(String(120))
    tracking_no: Mapped[str | None] = mapped_column(String(120), index=True)
    in_full: Mapped[bool | None] = mapped_column(Boolean)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    follow_up_status: Mapped[str | None] = mapped_column(String(20))
    next_deadline_kind: Mapped[str | None] = mapped_column(String(40))
    next_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType)
    create_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(120))
    created_by_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    projection_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The claims' compensation basis given at intake (the claim policy's currency; kg).
    declared_value_minor: Mapped[int | None] = mapped_column(BigInteger)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    # The order's state as last projected, without its scans (order_scans): what the next
    # change is applied to (workflows/order/changes.py). None until the first lean write.
    state: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)

    __table_args__ = (
        Index("ix_orders_created_at_order_id", "created_at", "order_id"),
        # KPIs select a period's transitions by the time they ended (db/kpis/orders.py).
        *(Index(f"ix_orders_{column}", column) for column in (
            "confirmed_at", "picked_at", "shipped_at", "delivered_at", "receipt_due_at",
            "receipt_archived_at", "followed_up_at")),
    )


class OrderEvent(Base):
    """Append-only timeline: posted events and Waybill's own entries (breaches, timers)."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    body_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("order_id", "event_id", name="uq_order_events_order_id_event_id"),
        Index("ix_order_events_order_id_occurred_at", "order_id", "occurred_at"),
    )


class OrderScan(Base):
    """The tracking scans of an order, a row each, so a long feed never grows a row rewritten
    at every event."""

    __tablename__ = "order_scans"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime())
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
