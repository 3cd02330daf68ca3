"""What the audit exports read beyond an order's story (db/orders/story.py): the orders created
in a time range, a page at a time by keyset (so a long range is never read whole), and the
documents an order's audit chain links."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from db.audit import canonical
from db.audit.models import AuditLink
from db.documents.models import Document
from db.orders.models import Order


def orders_created_page(session: Session, since: datetime, until: datetime,
                        after: tuple[datetime, str] | None, limit: int) -> list[Order]:
    """Up to `limit` orders created in [since, until), in (created_at, order_id) order, starting
    after the key `after` (the last of the previous page): keyset pagination, so each page is one
    short indexed read however far into the range it is."""
    query = select(Order).where(Order.created_at >= since, Order.created_at < until)
    if after is not None:
        query = query.where(tuple_(Order.created_at, Order.order_id) > tuple_(*after))
    return list(session.scalars(query.order_by(Order.created_at, Order.order_id).limit(limit)))


def order_documents(session: Session, order_id: str) -> list[Document]:
    """The archived documents the order's audit chain links, in the order they were linked."""
    keys = session.scalars(
        select(AuditLink.row_key).where(AuditLink.order_id == order_id,
                                        AuditLink.table_name == canonical.DOCUMENTS)
        .order_by(AuditLink.seq))
    shas = [json.loads(key)[0] for key in keys]
    found = {d.sha256: d for d in session.scalars(
        select(Document).where(Document.sha256.in_(shas)))} if shas else {}
    return [found[sha] for sha in dict.fromkeys(shas) if sha in found]
