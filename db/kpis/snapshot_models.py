"""Stored KPI snapshots: the figures as a scheduled run reported them, kept so they stay
reproducible after late events change what a recomputation would say."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


class KpiSnapshot(Base):
    """One period's figures of one kind; the primary key makes (kind, period) unique, so a
    second run for the same period cannot add a second row."""

    __tablename__ = "kpi_snapshots"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # a SnapshotKind
    period_key: Mapped[str] = mapped_column(String(16), primary_key=True)  # 2026-11-30 | 2026-11
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JsonType)
