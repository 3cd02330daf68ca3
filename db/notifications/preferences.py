"""Customers' channel choices for notices (issue 19 §3): read where the outbox rows are written,
set by the customer's opt-out page and by staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from db.notifications.models import CustomerNoticePreference


@dataclass(frozen=True)
class Channels:
    """Which channels a customer hears on; both unless they chose otherwise."""

    email: bool = True
    sms: bool = True
    updated_at: datetime | None = None
    updated_by: str | None = None


def get(session: Session, customer_id: str) -> Channels:
    row = session.get(CustomerNoticePreference, customer_id)
    if row is None:
        return Channels()
    return Channels(email=row.email, sms=row.sms, updated_at=row.updated_at,
                    updated_by=row.updated_by)


def put(session: Session, customer_id: str, email: bool, sms: bool, by: str,
        now: datetime) -> Channels:
    """Set the customer's choice (the caller commits); the latest choice wins, whoever made it."""
    row = session.get(CustomerNoticePreference, customer_id, with_for_update=True)
    if row is None:
        row = CustomerNoticePreference(customer_id=customer_id)
        session.add(row)
    row.email, row.sms, row.updated_at, row.updated_by = email, sms, now, by[:120]
    session.flush()
    return Channels(email=email, sms=sms, updated_at=now, updated_by=row.updated_by)
