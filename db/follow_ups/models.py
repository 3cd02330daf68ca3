"""One row per delivered order: its follow-up (回访), as the monthly follow-up report reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


class FollowUp(Base):
    __tablename__ = "follow_ups"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    customer_tier: Mapped[str] = mapped_column(String(20))
    sla_policy: Mapped[str] = mapped_column(String(64))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    calls: Mapped[int] = mapped_column(Integer, default=0)
    attempted: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(20))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    goods_ok: Mapped[bool | None] = mapped_column(Boolean)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    suggestions: Mapped[str | None] = mapped_column(String(2000))
    problems: Mapped[list[str] | None] = mapped_column(JsonType)
    updated_seq: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_follow_ups_due_at", "due_at"),)
