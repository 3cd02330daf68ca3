"""Tables of the notification outbox: what was to be said, to whom, and whether it was.

Kept apart from the order tables (same metadata, same Base: db/base.py) so the outbox can grow
on its own.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


class Channel(StrEnum):
    """How an outbox row goes out (`OutboxRow.channel`)."""

    WEBHOOK = "webhook"
    EMAIL = "email"
    INBOX = "inbox"
    # Issue 19 §1: a tracking number subscribed with the aggregator (db/feeds/subscriptions.py).
    CARRIER = "carrier"
    SMS = "sms"  # issue 19 §3: customer notices by text message (a paid channel)


class OutboxStatus(StrEnum):
    """Where an outbox row is in its delivery (`OutboxRow.status`; the moves between them:
    db/notifications/delivery_state.py)."""

    PENDING = "pending"  # awaiting delivery (or a retry)
    SENDING = "sending"  # claimed by an attempt that may be sending it right now
    DELIVERED = "delivered"
    FAILED = "failed"  # known not delivered, and no more attempts
    SKIPPED = "skipped"  # not sent, with the reason: no SMTP, subscription deleted, opted out,
    # over the daily SMS cap


# What an admin may send again (same row, same webhook-id).
REDELIVERABLE = frozenset({OutboxStatus.DELIVERED, OutboxStatus.FAILED})


class OutboxRow(Base):
    """One message on one channel to one recipient; written in the causing event's transaction.

    `id` is derived from (notice key, channel, recipient), so a retried writer adds nothing.
    `claim` is the token of the delivery attempt that may be sending it right now.
    """

    __tablename__ = "outbox"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    notice_key: Mapped[str] = mapped_column(String(200), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    audience: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(320))
    order_id: Mapped[str | None] = mapped_column(String(64), index=True)  # None: no order (reports)
    escalation_id: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_http_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's last answer
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a retry is due
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # claimer dead after

    __table_args__ = (Index("ix_outbox_status_created_at", "status", "created_at"),
                      Index("ix_outbox_recipient_created_at", "recipient", "created_at", "id"))


class WebhookSubscription(Base):
    """A subscriber URL and the event types it receives.

    The secret is kept in clear because signing needs it; it is shown to the admin once, at
    creation or rotation, and never logged.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation the old secret signs too, until it expires (the overlap window).
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JsonType)
    active: Mapped[bool] = mapped_column(Boolean)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InboxItem(Base):
    """What a team was told in the app; read once by anyone of the team for all of it."""

    __tablename__ = "inbox_items"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team: Mapped[str] = mapped_column(String(120))
    outbox_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    order_id: Mapped[str | None] = mapped_column(String(64))
    escalation_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_by: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (Index("ix_inbox_items_team_created_at", "team", "created_at", "id"),)


class CustomerNoticePreference(Base):
    """A customer's channel choice for notices about their orders (issue 19 §3): set by the
    customer through the opt-out link in every message (`/u/<token>`) or by staff
    (`PUT /v1/customers/{customer_id}/notice-preferences`). No row: every channel is on."""

    __tablename__ = "customer_notice_preferences"

    customer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
    sms: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(120))  # "customer" or the staff key's name
