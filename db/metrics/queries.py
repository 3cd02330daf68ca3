"""The counts behind the metrics read from the database: one GROUP BY per table, run at scrape
time (observability/database.py caches them), never per request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
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


def outbox_overdue_since(session: Session, now: datetime) -> dict[str, datetime]:
    """Per channel, since when the longest-waiting row has been due for an attempt: a pending
    row from its retry time (or creation), a row still `sending` from when its claim expired
    (its sender died; the sweep re-drives it). A pending row waiting out its backoff is not
    overdue, however old: a receiver down for hours is the webhook failure alert's business."""
    due = func.coalesce(OutboxRow.next_attempt_at, OutboxRow.created_at)
    pending = session.execute(
        select(OutboxRow.channel, func.min(due))
        .where(OutboxRow.status == "pending", due <= now)
        .group_by(OutboxRow.channel))
    stuck = session.execute(
        select(OutboxRow.channel, func.min(OutboxRow.claim_expires_at))
        .where(and_(OutboxRow.status == "sending",
                    or_(OutboxRow.claim_expires_at.is_(None),
                        OutboxRow.claim_expires_at <= now)))
        .group_by(OutboxRow.channel))
    found: dict[str, datetime] = {}
    for channel, at in [*pending, *stuck]:
        at = at or now  # a `sending` row without a claim expiry (none is written so) counts now
        found[channel] = min(found.get(channel, at), at)
    return found
