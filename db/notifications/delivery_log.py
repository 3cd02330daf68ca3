"""A webhook subscription's delivery log: its outbox rows, newest first, and one of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.notifications.delivery_state import get_row
from db.notifications.models import Channel, OutboxRow


def deliveries(session: Session, subscription_id: str, status: str | None, limit: int,
               after: tuple[datetime, str] | None = None) -> list[OutboxRow]:
    """A subscription's webhook rows, newest first, keyset-paginated on (created_at, id)."""
    q = select(OutboxRow).where(OutboxRow.channel == Channel.WEBHOOK.value,
                                OutboxRow.recipient == subscription_id)
    if status:
        q = q.where(OutboxRow.status == status)
    if after:
        created, row_id = after
        q = q.where(or_(OutboxRow.created_at < created,
                        and_(OutboxRow.created_at == created, OutboxRow.id < row_id)))
    return list(session.scalars(
        q.order_by(OutboxRow.created_at.desc(), OutboxRow.id.desc()).limit(limit)))


def get_delivery(session: Session, subscription_id: str, row_id: str) -> OutboxRow | None:
    """One webhook row of `subscription_id`, as it is in the database now."""
    row = get_row(session, row_id)
    if row is None or row.channel != Channel.WEBHOOK or row.recipient != subscription_id:
        return None
    return row
