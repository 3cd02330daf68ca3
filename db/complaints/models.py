"""Complaints (投诉) and their timelines, as the complaint workflow projects them.

One row per complaint carries every step's time, so the periodic count and its KPIs (time to
first reply, time to resolution, satisfaction with the resolution) are plain queries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime

# Survey complaints are "<order_id>-CP1", so an id may be longer than an order id.
COMPLAINT_ID_LENGTH = 80


class ComplaintRow(Base):
    __tablename__ = "complaints"

    id: Mapped[str] = mapped_column(String(COMPLAINT_ID_LENGTH), primary_key=True)
    order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_tier: Mapped[str] = mapped_column(String(20))
    customer: Mapped[dict[str, Any]] = mapped_column(JsonType)
    origin: Mapped[str] = mapped_column(String(10))  # api | survey
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    survey: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    order_stage: Mapped[str | None] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(40), index=True)
    step: Mapped[str] = mapped_column(String(20), index=True)
    sla_policy: Mapped[str] = mapped_column(String(64))
    sla_policy_version: Mapped[str] = mapped_column(String(64))
    sla_policy_snapshot: Mapped[dict[str, Any]] = mapped_column(JsonType)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    routed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reply: Mapped[str | None] = mapped_column(Text)
    plan: Mapped[str | None] = mapped_column(Text)
    promised_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution: Mapped[str | None] = mapped_column(Text)
    satisfaction_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    satisfaction_outcome: Mapped[str | None] = mapped_column(String(20))
    satisfaction_score: Mapped[int | None] = mapped_column(Integer)
    satisfaction_comment: Mapped[str | None] = mapped_column(String(2000))
    satisfaction_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deadlines: Mapped[dict[str, Any]] = mapped_column(JsonType)
    due_kind: Mapped[str | None] = mapped_column(String(20))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    breaches: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    # Set only by POST /v1/complaints: a repeat with the same id and body is the same complaint.
    create_hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(120))
    created_by_role: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_seq: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_complaints_opened_at_id", "opened_at", "id"),)


class ComplaintEvent(Base):
    """Append-only timeline of one complaint: posted events and Waybill's own entries."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    complaint_id: Mapped[str] = mapped_column(String(COMPLAINT_ID_LENGTH))
    event_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    body_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("complaint_id", "event_id",
                         name="uq_complaint_events_complaint_id_event_id"),
        Index("ix_complaint_events_complaint_id_occurred_at", "complaint_id", "occurred_at"),
    )
