"""The notification outbox: every message is a row, written in the causing event's transaction.

`enqueue` turns notices into outbox rows, one per (notice, channel, recipient):

* **webhook**: one row per *active* subscription whose event types include the notice's type
  (the subscription is looked up again at delivery, so a later disable or delete still counts);
* **email**: one row to `customer_email` for customer notices that carry one. The row is written
  whether or not SMTP is configured, so the outbox is a complete record of what was due; with
  no `WAYBILL_SMTP_HOST` the notifier marks it `skipped` ("smtp not configured");
* **inbox**: one row per team in `teams` (staff notices; a customer notice that names teams gives
  them an in-app copy of what the customer was told).

Row ids are sha256(notice key, channel, recipient) and inserts are ON CONFLICT DO NOTHING, so a
retried caller creates nothing twice. Subject and body are rendered when the row is written, so
the row records exactly what was said.

Row states (see activities/notify.py for who moves them):

    pending --claim--> sending --> delivered | pending (not sent, retry) | failed
       |                  `--(attempt died; found by the next attempt)--> uncertain
       `--> skipped (nothing to send: no SMTP, subscription gone or disabled)
             delivered (inbox rows: written in one transaction, no claim needed)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db import inbox as inbox_repo
from db.console_models import ConsolePreference
from db.models import ApiKey
from db.notification_models import OutboxRow, WebhookSubscription
from db.notification_templates import DEFAULT_LOCALE, normalize_locale, render
from db.upsert import insert_for


class NotificationEvent(StrEnum):
    """What a notice is about; webhook subscriptions choose from these."""

    ORDER_CONFIRMED = "order.confirmed"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELAY_RISK = "order.delay_risk"  # proactive: sent before the promise is missed
    ORDER_DELIVERED = "order.delivered"
    ORDER_SURVEY_DUE = "order.survey_due"
    ORDER_SURVEY_REMINDER = "order.survey_reminder"  # halfway through the survey window
    ORDER_DECISION_REQUIRED = "order.decision_required"  # customer: stock is short, choose
    ORDER_DELIVERY_EXCEPTION = "order.delivery_exception"  # customer: trouble on the way
    ORDER_CANCELLED = "order.cancelled"  # customer: reason
    ORDER_RELEASE_RESERVATION = "order.release_reservation"  # integrations: free the stock
    FOLLOW_UP_CALL_DUE = "follow_up.call_due"  # staff: call the customer again
    ESCALATION_LEVEL_CHANGED = "escalation.level_changed"
    CLAIM_OPENED = "claim.opened"  # customer (the desk gets an inbox copy)
    CLAIM_PAYOUT_ISSUED = "claim.payout_issued"  # customer: amount and voucher
    CLAIM_CLOSED = "claim.closed"  # customer: closed without payment (none owed, withdrawn)
    COMPLAINT_ROUTED = "complaint.routed"  # staff: the responsible department's inbox
    COMPLAINT_REPLIED = "complaint.replied"  # customer: first reply, plan, promised time
    COMPLAINT_SATISFACTION_REQUESTED = "complaint.satisfaction_requested"  # customer
    REPORT_FOLLOW_UP_MONTHLY = "report.follow_up_monthly"  # staff: the month's 回访月报


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    INBOX = "inbox"


class OutboxStatus(StrEnum):
    PENDING = "pending"  # awaiting delivery (or a retry)
    SENDING = "sending"  # claimed by an attempt that may be sending it right now
    DELIVERED = "delivered"
    FAILED = "failed"  # known not delivered, and no more attempts
    SKIPPED = "skipped"  # nothing to deliver to: no SMTP, subscription deleted or disabled
    UNCERTAIN = "uncertain"  # an attempt died after it may have sent; never sent again


FINAL_STATUSES = frozenset({OutboxStatus.DELIVERED, OutboxStatus.FAILED, OutboxStatus.SKIPPED,
                            OutboxStatus.UNCERTAIN})


@dataclass
class Notice:
    """Something to tell a customer or staff; `key` makes it idempotent.

    Attributes:
        key: unique per notice, e.g. f"{order_id}:{timeline_event_id}".
        event_type: a NotificationEvent value.
        audience: "customer" or "staff".
        order_id: the order it is about; None for a notice about no order (a report). The
            webhook payload then carries `"order_id": null`, as `escalation_id` does.
        locale: the recipients' language, "zh-CN" (default) or "en"; others fall back to zh-CN.
        customer_email: where a customer notice is emailed; None sends no email.
        teams: staff recipients (team or role names, or a named key-account manager), each
            told through its in-app inbox.
        escalation_id: the escalation it is about, if any.
        webhook: False for a copy in another language for `teams` only, so subscribers get
            the notice once.
        data: template variables (customer_name, carrier, tracking_no, eta,
            promised_delivery_by, delivered_at, level, previous_level, kind, stage, due_at,
            reason, text, available, decision_due_at, phone, calls_made...),
            also sent as the webhook payload's `data`.
    """

    key: str
    event_type: str
    audience: str
    order_id: str | None
    locale: str = "zh-CN"
    customer_email: str | None = None
    teams: list[str] = field(default_factory=list)
    escalation_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    webhook: bool = True


def team_locales(session: Session, team: str) -> list[str]:
    """The languages `team` reads: what its members (active API keys whose team, else role, it
    is) chose in the console, a member who chose none counting as the default (zh-CN, as the
    console and every message default to). The default first; just the default for a team
    with no members.
    """
    chosen = session.scalars(
        select(ConsolePreference.locale).select_from(ApiKey)
        .outerjoin(ConsolePreference, ConsolePreference.key_id == ApiKey.id)
        .where(func.coalesce(func.nullif(ApiKey.team, ""), ApiKey.role) == team,
               ApiKey.revoked_at.is_(None))
        .distinct()).all()
    found = {normalize_locale(locale) for locale in chosen} or {DEFAULT_LOCALE}
    return sorted(found, key=lambda locale: (locale != DEFAULT_LOCALE, locale))


def outbox_id(key: str, channel: str, recipient: str) -> str:
    return hashlib.sha256(f"{key}\n{channel}\n{recipient}".encode()).hexdigest()


def event_id(key: str) -> str:
    """The id of the event a notice describes: the same for every subscriber."""
    return "evt_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _validate(notice: Notice) -> None:
    if notice.event_type not in NotificationEvent.__members__.values():
        raise ValueError(f"unknown notification event type {notice.event_type!r}")
    if notice.audience not in Audience.__members__.values():
        raise ValueError(f"unknown audience {notice.audience!r}")
    if not notice.key or len(notice.key) > 200:
        raise ValueError("a notice key must have 1 to 200 characters")


def enqueue(session: Session, notices: list[Notice]) -> list[str]:
    """Write outbox rows in the caller's transaction (the caller commits).

    Returns:
        The ids of this call's rows still awaiting delivery (status pending), in a stable
        order; pass each to NotifierActivities.deliver. Rows a previous call created and
        that were delivered since are not returned again.

    Raises:
        ValueError: a notice has an unknown event type or audience, or a bad key.
    """
    for notice in notices:
        _validate(notice)
    if not notices:
        return []
    subscriptions = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)).all()
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for notice in notices:
        locale = normalize_locale(notice.locale)
        event_type = NotificationEvent(notice.event_type).value
        audience = Audience(notice.audience).value
        # '' is how callers without an order used to say "none" (complaints opened for a
        # customer still do): stored and sent as NULL, never as an order id.
        order_id = notice.order_id or None
        values = {"order_id": notice.order_id, "escalation_id": notice.escalation_id,
                  "event_type": event_type, **notice.data}
        subject, body = render(locale, event_type, values)
        payload = {
            "id": event_id(notice.key),
            "type": event_type,
            "created_at": now.isoformat(),
            "audience": audience,
            "order_id": order_id,
            "escalation_id": notice.escalation_id,
            "locale": locale,
            "data": to_jsonable_python(notice.data),
            "message": {"subject": subject, "body": body},
        }
        common = {"notice_key": notice.key, "event_type": event_type,
                  "audience": audience, "order_id": order_id,
                  "escalation_id": notice.escalation_id, "locale": locale,
                  "subject": subject[:500], "body": body, "payload": payload,
                  "status": OutboxStatus.PENDING.value, "attempts": 0, "created_at": now}
        recipients: list[tuple[Channel, str]] = [
            (Channel.WEBHOOK, sub.id) for sub in subscriptions
            if notice.webhook and event_type in (sub.event_types or [])]
        if audience == Audience.CUSTOMER and notice.customer_email:
            recipients.append((Channel.EMAIL, notice.customer_email.strip()))
        recipients += [(Channel.INBOX, team) for team in dict.fromkeys(notice.teams) if team]
        rows += [{"id": outbox_id(notice.key, channel.value, recipient),
                  "channel": channel.value, "recipient": recipient, **common}
                 for channel, recipient in recipients]
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    session.execute(insert_for(session, OutboxRow.__table__)
                    .on_conflict_do_nothing(index_elements=["id"]), rows)
    pending = set(session.scalars(select(OutboxRow.id).where(
        OutboxRow.id.in_(ids), OutboxRow.status == OutboxStatus.PENDING.value)))
    return [i for i in dict.fromkeys(ids) if i in pending]


# -- delivery state: each step is one conditional UPDATE, so concurrent attempts cannot both win


def get_row(session: Session, row_id: str) -> OutboxRow | None:
    """The row as it is in the database now (conditional UPDATEs bypass the session's copy)."""
    return session.get(OutboxRow, row_id, populate_existing=True)


def claim(session: Session, row_id: str, token: str, now: datetime) -> bool:
    """pending -> sending, owned by `token`; False if the row was not pending."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status == OutboxStatus.PENDING.value)
        .values(status=OutboxStatus.SENDING.value, claim=token,
                attempts=OutboxRow.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def settle(session: Session, row_id: str, status: OutboxStatus, reason: str | None,
           now: datetime) -> bool:
    """pending -> a final status without sending (skipped, failed): no claim needed."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status == OutboxStatus.PENDING.value)
        .values(status=status.value, last_error=_clip(reason), attempts=OutboxRow.attempts + 1,
                last_attempt_at=now,
                delivered_at=now if status == OutboxStatus.DELIVERED else None)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, row_id: str, token: str, status: OutboxStatus, error: str | None,
           now: datetime) -> bool:
    """The claiming attempt records its outcome. It wins even over `uncertain` (an attempt
    that outlived its timeout still knows best what happened)."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.claim == token)
        .values(status=status.value, last_error=_clip(error),
                delivered_at=now if status == OutboxStatus.DELIVERED else None)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, row_id: str, token: str, error: str) -> bool:
    """sending -> pending: the attempt knows nothing left, so a later attempt may send."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.claim == token,
                                OutboxRow.status == OutboxStatus.SENDING.value)
        .values(status=OutboxStatus.PENDING.value, claim=None, last_error=_clip(error))
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_uncertain(session: Session, row_id: str, now: datetime) -> bool:
    """sending -> uncertain: found claimed by an attempt that is gone; never resend."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status == OutboxStatus.SENDING.value)
        .values(status=OutboxStatus.UNCERTAIN.value, last_attempt_at=now,
                last_error="a previous attempt was interrupted after it may have sent; "
                           "not sent again (at most once)")
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def deliver_inbox(session: Session, row: OutboxRow, now: datetime) -> bool:
    """Mark the row delivered and write the inbox item in one transaction: exactly once.

    Returns:
        False (and writes nothing) if the row was no longer pending.
    """
    if not settle(session, row.id, OutboxStatus.DELIVERED, None, now):
        return False
    inbox_repo.add_item(session, {
        "id": row.id, "team": row.recipient, "outbox_id": row.id, "event_type": row.event_type,
        "title": row.subject, "body": row.body, "order_id": row.order_id,
        "escalation_id": row.escalation_id, "created_at": now})
    return True


def _clip(text: str | None, limit: int = 1000) -> str | None:
    return None if text is None else text[:limit]
