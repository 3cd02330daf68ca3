"""Escalation ladders as projected: one row per ladder and its history of steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


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
