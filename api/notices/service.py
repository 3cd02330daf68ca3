"""What the staff API and the customer's opt-out page both do with a customer's channel choice
(stored in db/notifications/preferences.py, applied where outbox rows are written)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.notices.schemas import Choice, NoticePreferences
from db.notifications import preferences

log = logging.getLogger("waybill.notices")

CUSTOMER = "customer"  # who set a choice through the opt-out link


def choice_of(email: bool, sms: bool) -> Choice:
    if email and sms:
        return Choice.BOTH
    if email:
        return Choice.EMAIL
    return Choice.SMS if sms else Choice.NONE


def view(customer_id: str, channels: preferences.Channels) -> NoticePreferences:
    return NoticePreferences(customer_id=customer_id, email=channels.email, sms=channels.sms,
                             choice=choice_of(channels.email, channels.sms),
                             updated_at=channels.updated_at, updated_by=channels.updated_by)


def get(session: Session, customer_id: str) -> NoticePreferences:
    return view(customer_id, preferences.get(session, customer_id))


def put(session: Session, customer_id: str, email: bool, sms: bool,
        by: str) -> NoticePreferences:
    """Store the choice (committed by the session's owner): notices written from now on follow
    it; rows already in the outbox go out as they were written."""
    channels = preferences.put(session, customer_id, email, sms, by, datetime.now(UTC))
    log.info("customer notice channels chosen", extra={
        "customer_id": customer_id, "choice": choice_of(email, sms).value,
        "by": "customer" if by == CUSTOMER else "staff"})
    return view(customer_id, channels)
