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

Row states (see activities/notify/deliver.py for who moves them):

    pending --claim--> sending --> delivered | pending (retry due at next_attempt_at) | failed
       ^                  |
       |                  `--(claiming attempt dead: claim_expires_at passed)--> claimed again
       |                     and sent again (at least once; receivers de-duplicate on the id)
       `-- redeliver (an admin: delivered or failed -> pending)
    pending --> skipped (nothing to send: no SMTP, subscription deleted)
    pending --> delivered (inbox rows: written in one transaction, no claim: exactly once)

A webhook row whose subscription is disabled stays `pending` (held): the sweep leaves it alone
until the subscription is re-enabled, then delivers it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from db.console.models import ConsolePreference
from db.keys.models import ApiKey
from db.notifications import inbox as inbox_repo
from db.notifications.models import OutboxRow, WebhookSubscription
from db.notifications.templates import DEFAULT_LOCALE, normalize_locale, render
from db.rowcount import rowcount
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
    SKIPPED = "skipped"  # nothing to deliver to: no SMTP, subscription deleted


FINAL_STATUSES = frozenset({OutboxStatus.DELIVERED, OutboxStatus.FAILED, OutboxStatus.SKIPPED})
REDELIVERABLE = frozenset({OutboxStatus.DELIVERED, OutboxStatus.FAILED})
# A row claimed before claims had a deadline (claim_expires_at NULL) counts as dead after this.
LEGACY_CLAIM_LIFETIME = timedelta(minutes=10)


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

    Inbox rows are delivered here, in the same transaction (exactly once).

    Returns:
        The ids of this call's rows still awaiting delivery (status pending: webhook and
        email), in a stable order; once the caller's transaction has committed, start a
        DeliveryWorkflow for each
        (activities.delivery_start.deliver_after_commit). Rows a previous call created and
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
    # The in-app inbox is ours: its items are written here, in the causing event's transaction,
    # exactly once, with no delivery of their own (a workflow per staff notice cost as much
    # Temporal work as the order's own events).
    for row in rows:
        if row["channel"] == Channel.INBOX.value and row["id"] in pending:
            _to_inbox(session, row, now)
            pending.discard(row["id"])
    return [i for i in dict.fromkeys(ids) if i in pending]


def _to_inbox(session: Session, row: dict[str, Any], now: datetime) -> bool:
    """Mark the row delivered and write its inbox item, in the caller's transaction; False
    (and nothing written) if the row was no longer pending."""
    if not settle(session, row["id"], OutboxStatus.DELIVERED, None, now):
        return False
    inbox_repo.add_item(session, {
        "id": row["id"], "team": row["recipient"], "outbox_id": row["id"],
        "event_type": row["event_type"], "title": row["subject"], "body": row["body"],
        "order_id": row["order_id"], "escalation_id": row["escalation_id"], "created_at": now})
    return True


# -- delivery state: each step is one conditional UPDATE, so concurrent attempts cannot both win


def get_row(session: Session, row_id: str) -> OutboxRow | None:
    """The row as it is in the database now (conditional UPDATEs bypass the session's copy)."""
    return session.get(OutboxRow, row_id, populate_existing=True)


def claim(session: Session, row_id: str, token: str, now: datetime,
          expires_at: datetime) -> bool:
    """pending -> sending, owned by `token` until `expires_at`; also takes over a row still
    `sending` whose claim expired (its attempt died, maybe after sending: at least once).

    Returns:
        False if the row was neither pending nor claimed by a dead attempt.
    """
    dead_claim = and_(OutboxRow.status == OutboxStatus.SENDING.value, or_(
        OutboxRow.claim_expires_at < now,
        and_(OutboxRow.claim_expires_at.is_(None),
             OutboxRow.last_attempt_at < now - LEGACY_CLAIM_LIFETIME)))
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                or_(OutboxRow.status == OutboxStatus.PENDING.value, dead_claim))
        .values(status=OutboxStatus.SENDING.value, claim=token, claim_expires_at=expires_at,
                next_attempt_at=None, attempts=OutboxRow.attempts + 1, last_attempt_at=now)
        .execution_options(synchronize_session=False))
    return bool(rowcount(result))


def claim_is_dead(row: OutboxRow, now: datetime) -> bool:
    """True if the attempt holding `row` is past its deadline (the same rule as `claim`)."""
    if row.claim_expires_at is not None:
        return row.claim_expires_at < now
    return row.last_attempt_at is None or row.last_attempt_at < now - LEGACY_CLAIM_LIFETIME


def settle(session: Session, row_id: str, status: OutboxStatus, reason: str | None,
           now: datetime) -> bool:
    """pending -> a final status without sending (skipped, failed): no claim needed."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status == OutboxStatus.PENDING.value)
        .values(status=status.value, last_error=_clip(reason), attempts=OutboxRow.attempts + 1,
                last_attempt_at=now, next_attempt_at=None,
                delivered_at=now if status == OutboxStatus.DELIVERED else None)
        .execution_options(synchronize_session=False))
    return bool(rowcount(result))


def finish(session: Session, row_id: str, token: str, status: OutboxStatus, error: str | None,
           now: datetime, http_status: int | None = None) -> bool:
    """The claiming attempt records its final outcome (delivered or failed)."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.claim == token)
        .values(status=status.value, last_error=_clip(error), claim_expires_at=None,
                last_http_status=http_status, next_attempt_at=None,
                delivered_at=now if status == OutboxStatus.DELIVERED else None)
        .execution_options(synchronize_session=False))
    return bool(rowcount(result))


def release(session: Session, row_id: str, token: str, error: str, next_attempt_at: datetime,
            http_status: int | None = None) -> bool:
    """sending -> pending: the attempt did not get the message accepted; a retry is due at
    `next_attempt_at` (until then the sweep leaves the row to its delivery's own retry)."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.claim == token,
                                OutboxRow.status == OutboxStatus.SENDING.value)
        .values(status=OutboxStatus.PENDING.value, claim=None, claim_expires_at=None,
                last_error=_clip(error), last_http_status=http_status,
                next_attempt_at=next_attempt_at)
        .execution_options(synchronize_session=False))
    return bool(rowcount(result))


def hold(session: Session, row_id: str, reason: str, now: datetime) -> bool:
    """A pending row waits (its subscription is disabled): no attempt counted, no retry due."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status == OutboxStatus.PENDING.value)
        .values(last_error=_clip(reason), next_attempt_at=None)
        .execution_options(synchronize_session=False))
    return bool(rowcount(result))


def reopen(session: Session, row_id: str) -> bool:
    """delivered or failed -> pending, for a redelivery of the same row (same webhook-id)."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status.in_([s.value for s in REDELIVERABLE]))
        .values(status=OutboxStatus.PENDING.value, claim=None, claim_expires_at=None,
                next_attempt_at=None, delivered_at=None)
        .execution_options(synchronize_session=False))
    return bool(rowcount(result))


def stranded(session: Session, now: datetime, grace: timedelta, limit: int) -> list[str]:
    """Rows no delivery is looking after: pending with no retry due within `grace` (a
    terminated or failed workflow left them), or claimed by an attempt dead for `grace`.

    Webhook rows of a disabled subscription are held, not stranded. Oldest first.
    """
    cutoff = now - grace
    pending = and_(OutboxRow.status == OutboxStatus.PENDING.value,
                   func.coalesce(OutboxRow.next_attempt_at, OutboxRow.last_attempt_at,
                                 OutboxRow.created_at) < cutoff)
    dead = and_(OutboxRow.status == OutboxStatus.SENDING.value, or_(
        OutboxRow.claim_expires_at < cutoff,
        and_(OutboxRow.claim_expires_at.is_(None),
             OutboxRow.last_attempt_at < cutoff - LEGACY_CLAIM_LIFETIME)))
    disabled = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(False))
    held = and_(OutboxRow.channel == Channel.WEBHOOK.value, OutboxRow.recipient.in_(disabled))
    return list(session.scalars(
        select(OutboxRow.id).where(or_(pending, dead), ~held)
        .order_by(OutboxRow.created_at, OutboxRow.id).limit(limit)))


def deliver_inbox(session: Session, row: OutboxRow, now: datetime) -> bool:
    """Mark the row delivered and write the inbox item in one transaction: exactly once.

    Returns:
        False (and writes nothing) if the row was no longer pending.
    """
    return _to_inbox(session, {"id": row.id, "recipient": row.recipient,
                               "event_type": row.event_type, "subject": row.subject,
                               "body": row.body, "order_id": row.order_id,
                               "escalation_id": row.escalation_id}, now)


def _clip(text: str | None, limit: int = 1000) -> str | None:
    return None if text is None else text[:limit]


# -- a subscription's delivery log -----------------------------------------------------------


def deliveries(session: Session, subscription_id: str, status: str | None, limit: int,
               after: tuple[datetime, str] | None = None) -> list[OutboxRow]:
    """A subscription's webhook rows, newest first, keyset-paginated on (created_at, id)."""
    q = select(OutboxRow).where(OutboxRow.channel == Channel.WEBHOOK.value,
                                OutboxRow.recipient == subscription_id)
    if status:
        q = q.where(OutboxRow.status == status)
    if after:
        created, row_id = after
        q = q.where(or_(OutboxRow.created_at < created,
                        and_(OutboxRow.created_at == created, OutboxRow.id < row_id)))
    return list(session.scalars(
        q.order_by(OutboxRow.created_at.desc(), OutboxRow.id.desc()).limit(limit)))


def get_delivery(session: Session, subscription_id: str, row_id: str) -> OutboxRow | None:
    """One webhook row of `subscription_id`, as it is in the database now."""
    row = get_row(session, row_id)
    if row is None or row.channel != Channel.WEBHOOK or row.recipient != subscription_id:
        return None
    return row
