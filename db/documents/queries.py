"""Queries on the documents table: which blobs the archive holds, and who put them there.

Append-only (issue 17): a row records that the archive took these bytes, which stays true;
it is linked to the audit chain of the order the upload was for.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.audit.chain import insert_linked
from db.documents.models import Document


def record(session: Session, sha256: str, content_type: str, size: int, created_by: str,
           order_id: str, now: datetime | None = None) -> bool:
    """Record an archived blob uploaded for `order_id`; True if this call added the row, False
    if it was already there (then it stays linked to the order it first came for)."""
    row = {"sha256": sha256, "content_type": content_type, "size": size,
           "created_at": now or datetime.now(UTC), "created_by": created_by}
    return insert_linked(session, order_id, Document.__table__, [row]) == 1


def find(session: Session, sha256: str) -> Document | None:
    return session.get(Document, sha256)


def is_archived(session: Session, sha256: str) -> bool:
    """Whether a document with this hash was archived (and so may be referenced by an event)."""
    return session.scalar(select(Document.sha256).where(Document.sha256 == sha256)) is not None
