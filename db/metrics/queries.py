"""The counts behind the metrics read from the database: one GROUP BY per table, run at scrape
time (observability/database.py caches them), never per request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.escalations.models import EscalationRow
from db.notifications.models import OutboxRow
from db.orders.models import Order


@dataclass(frozen=True)
class EscalationCount:
    kind: str
    level: int
    state: str
    count: int


@dataclass(frozen=True)
class OutboxCount:
    channel: str
    status: str
    count: int
    oldest_created_at: datetime | None


def orders_by_stage(session: Session) -> dict[str, int]:
    rows = session.execute(select(Order.stage, func.count()).group_by(Order.stage))
    return {stage: count for stage, count in rows}


def escalations(session: Session) -> list[EscalationCount]:
    """Escalations by kind, level and state: every breach opens one, so their number by kind
    is the number of breaches so far (rows are never deleted)."""
    rows = session.execute(
        select(EscalationRow.kind, EscalationRow.level, EscalationRow.state, func.count())
        .group_by(EscalationRow.kind, EscalationRow.level, EscalationRow.state))
    return [EscalationCount(kind, level, state, count) for kind, level, state, count in rows]


def outbox(session: Session) -> list[OutboxCount]:
    """Outbox rows by channel and status, with the oldest row's creation time of each."""
    rows = session.execute(
        select(OutboxRow.channel, OutboxRow.status, func.count(), func.min(OutboxRow.created_at))
        .group_by(OutboxRow.channel, OutboxRow.status))
    return [OutboxCount(channel, status, count, oldest)
            for channel, status, count, oldest in rows]
