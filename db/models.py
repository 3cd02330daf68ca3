"""The application database: Waybill's read model of orders, their timeline and escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.columns import JsonType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    team: Mapped[str | None] = mapped_column(String(120), nullable=True)  # inbox; None = role
    # Scopes (issue 14): None = unlimited; a list limits the key to those event types, customer
    # ids or carriers (db/keys.py, api/keys/scope.py).
    scope_event_types: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    scope_customers: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    scope_carriers: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


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

    __table_args__ = (
        Index("ix_orders_created_at_order_id", "created_at", "order_id"),
        # KPIs select a period's transitions by the time they ended (db/kpis/queries.py).
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


class SlaPolicyVersion(Base):
    """Every version of every SLA policy; a PUT adds a version and never edits one."""

    __tablename__ = "sla_policies"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JsonType)
    source: Mapped[str] = mapped_column(String(10))  # "file" (seeded) or "api"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))


class EscalationEvent(Base):
    """The ladder history of one escalation: who was told what, when, and who did what."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    escalation_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(30))
    level: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(120))
    comment: Mapped[str | None] = mapped_column(String(2000))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType)

    __table_args__ = (
        UniqueConstraint("escalation_id", "seq", name="uq_escalation_events_escalation_id_seq"),
        Index("ix_escalation_events_action_at", "action", "at"),  # KPIs: first acknowledgement
    )


class EscalationRow(Base):
    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    breach_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    stage: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[str] = mapped_column(String(64))
    customer_tier: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(String(500))
    updated_seq: Mapped[int] = mapped_column(Integer, default=0)
    resolution_code: Mapped[str | None] = mapped_column(String(40))
    resolved_by: Mapped[str | None] = mapped_column(String(120))
    assignee: Mapped[str | None] = mapped_column(String(120), index=True)
    recipients: Mapped[list[str] | None] = mapped_column(JsonType)
    level_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_step_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What breached when not the order itself ("claim:ID", "complaint:ID"); "" for the order.
    subject: Mapped[str] = mapped_column(String(200), default="", server_default="")

    __table_args__ = (
        Index("ix_escalations_state_opened_at", "state", "opened_at"),
        Index("ix_escalations_opened_at", "opened_at"),  # KPIs: opened in a period
        Index("ix_escalations_resolved_at", "resolved_at"),
    )
