"""Stored KPI snapshots: written once per (kind, period), then only read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.kpis.snapshot_models import KpiSnapshot
from db.rowcount import rowcount
from db.upsert import insert_for


class SnapshotKind(StrEnum):
    DAILY_KPIS = "daily_kpis"
    FOLLOW_UP_MONTHLY = "follow_up_monthly"


def store_first(session: Session, kind: SnapshotKind, period_key: str, computed_at: datetime,
                as_of: datetime, timezone: str, body: dict[str, Any]) -> tuple[KpiSnapshot, bool]:
    """Store the snapshot unless one exists for (kind, period): the first figures reported
    stay the stored ones. Returns the stored row and whether this call wrote it."""
    result = session.execute(
        insert_for(session, KpiSnapshot.__table__)
        .on_conflict_do_nothing(index_elements=["kind", "period_key"]),
        [{"kind": kind.value, "period_key": period_key, "computed_at": computed_at,
          "as_of": as_of, "timezone": timezone, "body": body}])
    created = bool(rowcount(result))
    row = get(session, kind, period_key)
    assert row is not None
    return row, created


def get(session: Session, kind: SnapshotKind, period_key: str) -> KpiSnapshot | None:
    return session.get(KpiSnapshot, (kind.value, period_key), populate_existing=True)


def count(session: Session, kind: SnapshotKind | None = None) -> int:
    query = select(func.count()).select_from(KpiSnapshot)
    if kind is not None:
        query = query.where(KpiSnapshot.kind == kind.value)
    return int(session.scalar(query) or 0)
