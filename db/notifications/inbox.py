"""The in-app inbox: what each team was told, newest first, read once for the whole team."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from db.notifications.models import InboxItem
from db.upsert import insert_new


def add_item(session: Session, item: dict[str, Any]) -> None:
    """Insert unless an item with this id exists (ids are derived from what caused them)."""
    insert_new(session, InboxItem.__table__, [item], ("id",))


def list_items(session: Session, team: str, unread_only: bool, limit: int,
               after: tuple[datetime, str] | None = None) -> list[InboxItem]:
    """Newest first, keyset-paginated on (created_at, id)."""
    q = select(InboxItem).where(InboxItem.team == team)
    if unread_only:
        q = q.where(InboxItem.read_at.is_(None))
    if after:
        created, item_id = after
        q = q.where(or_(InboxItem.created_at < created,
                        and_(InboxItem.created_at == created, InboxItem.id < item_id)))
    q = q.order_by(InboxItem.created_at.desc(), InboxItem.id.desc()).limit(limit)
    return list(session.scalars(q))


def unread_count(session: Session, team: str) -> int:
    return session.scalar(select(func.count()).select_from(InboxItem).where(
        InboxItem.team == team, InboxItem.read_at.is_(None))) or 0


def get_item(session: Session, team: str, item_id: str) -> InboxItem | None:
    return session.scalar(select(InboxItem).where(InboxItem.id == item_id,
                                                  InboxItem.team == team))


def mark_read(session: Session, team: str, item_id: str, reader: str,
              now: datetime) -> InboxItem | None:
    """Mark read (the first reader and time are kept); None if the team has no such item."""
    session.execute(update(InboxItem).where(InboxItem.id == item_id, InboxItem.team == team,
                                            InboxItem.read_at.is_(None))
                    .values(read_at=now, read_by=reader)
                    .execution_options(synchronize_session=False))
    item = get_item(session, team, item_id)
    if item is not None:
        session.refresh(item)
    return item
