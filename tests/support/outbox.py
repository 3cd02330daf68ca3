"""The notification outbox from a test's side: sessions on the test database, a notice,
a subscription, enqueueing and reading rows."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.notifications import subscriptions as subs_repo
from db.notifications.models import OutboxRow
from db.notifications.outbox import Audience, Notice, NotificationEvent, enqueue


def delay_risk(order_id: str | None = None, locale: str = "zh-CN",
               email: str | None = "buyer@example.com", teams: list[str] | None = None,
               **data: Any) -> Notice:
    order_id = order_id or f"SO-{uuid.uuid4().hex[:8]}"
    return Notice(
        key=f"{order_id}:late-risk-1", event_type=NotificationEvent.ORDER_DELAY_RISK,
        audience=Audience.CUSTOMER, order_id=order_id, locale=locale, customer_email=email,
        teams=teams or [],
        data={"customer_name": "Sanghong Apparel", "carrier": "SF Express",
              "tracking_no": "SF1234567890", "eta": "2026-12-04T09:00:00+00:00",
              "promised_delivery_by": "2026-12-03T18:00:00Z", **data})


def subscribe(sessions: sessionmaker[Session], url: str,
              event_types: list[str] | None = None) -> tuple[str, str]:
    with transaction(sessions) as session:
        row, secret = subs_repo.create(
            session, url, event_types or [NotificationEvent.ORDER_DELAY_RISK.value], None, "test")
        return row.id, secret


def rows(sessions: sessionmaker[Session], ids: list[str] | None = None) -> list[OutboxRow]:
    """All outbox rows, or those of `ids` in that order."""
    with sessions() as session:
        q = select(OutboxRow).order_by(OutboxRow.created_at, OutboxRow.id)
        if ids is None:
            return list(session.scalars(q))
        found = {r.id: r for r in session.scalars(q.where(OutboxRow.id.in_(ids)))}
        return [found[i] for i in ids]


def enqueue_now(sessions: sessionmaker[Session], notices: list[Notice]) -> list[str]:
    with transaction(sessions) as session:
        return enqueue(session, notices)
