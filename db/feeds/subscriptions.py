"""Subscribing a shipped order's tracking number with the aggregator (Kuaidi100), through the
outbox: the row is written in the projection's transaction with the `shipped` entry that
caused it, and delivered at least once by the outbox machinery (its DeliveryWorkflow retries
for a day: activities/notify/carrier_channel.py sends it).

The row holds what to subscribe (company code, number), never the key or the salt: those are
read from settings when it is sent, so rotating them needs no rewrite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.notifications.models import Channel, OutboxRow, OutboxStatus
from db.notifications.outbox import outbox_id
from db.upsert import insert_new
from workflows.order.types import EventType, TimelineEntry

AGGREGATOR = "kuaidi100"  # the row's recipient
EVENT_TYPE = "carrier.subscribe"
AUDIENCE = "carrier"  # neither a customer nor staff: the row is for a machine


def subscriptions(session: Session, order_id: str, entries: Iterable[TimelineEntry],
                  company_of: Callable[[str], str | None]) -> list[str]:
    """Outbox rows subscribing each `shipped` entry's tracking number; the ids of those still
    pending (to start their delivery after commit, like `enqueue`'s). `company_of(carrier)` is
    the Kuaidi100 code of a carrier name, or None (then Kuaidi100 guesses it: autoCom)."""
    now = datetime.now(UTC)
    rows = []
    for entry in entries:
        if entry.type != EventType.SHIPPED.value or not entry.data.get("tracking_no"):
            continue
        carrier, number = entry.data.get("carrier"), str(entry.data["tracking_no"])
        company = company_of(carrier) if carrier else None
        key = f"{order_id}:{entry.event_id}:carrier"
        text = f"subscribe {company or carrier or '?'} {number} with {AGGREGATOR}"
        rows.append({
            "id": outbox_id(key, Channel.CARRIER.value, AGGREGATOR), "notice_key": key,
            "event_type": EVENT_TYPE, "audience": AUDIENCE, "channel": Channel.CARRIER.value,
            "recipient": AGGREGATOR, "order_id": order_id, "escalation_id": None,
            "locale": "zh-CN", "subject": text[:500], "body": text,
            "payload": {"company": company, "number": number, "carrier": carrier,
                        "order_id": order_id},
            "status": OutboxStatus.PENDING.value, "attempts": 0, "created_at": now})
    if not rows:
        return []
    insert_new(session, OutboxRow.__table__, rows, ("id",))
    ids = [row["id"] for row in rows]
    return list(session.scalars(select(OutboxRow.id).where(
        OutboxRow.id.in_(ids), OutboxRow.status == OutboxStatus.PENDING.value)))
