"""Queries on the documents table: which blobs the archive holds, and who put them there."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.documents.models import Document
from db.orders.models import OrderEvent
from db.rowcount import rowcount
from db.upsert import insert_for


def record(session: Session, sha256: str, content_type: str, size: int, created_by: str,
           now: datetime | None = None) -> bool:
    """Record an archived blob; True if this call added the row, False if it was already there."""
    stmt = insert_for(session, Document.__table__).values(
        sha256=sha256, content_type=content_type, size=size,
        created_at=now or datetime.now(UTC), created_by=created_by,
    ).on_conflict_do_nothing(index_elements=["sha256"])
    return rowcount(session.execute(stmt)) == 1


def forget_unreferenced(session: Session, sha256: str, event_id: str) -> None:
    """Drop the row `record` just added for an upload that was then refused.

    Kept if some order's timeline already holds `event_id` (the event naming this document),
    e.g. when another order was sent the same bytes at the same time.
    """
    referenced = select(OrderEvent.id).where(OrderEvent.event_id == event_id).exists()
    session.execute(delete(Document).where(Document.sha256 == sha256, ~referenced))


def find(session: Session, sha256: str) -> Document | None:
    return session.get(Document, sha256)


def is_archived(session: Session, sha256: str) -> bool:
    """Whether a document with this hash was archived (and so may be referenced by an event)."""
    return session.scalar(select(Document.sha256).where(Document.sha256 == sha256)) is not None
