"""The notification outbox: every message is a row, written in the causing event's transaction.

`enqueue` turns notices into outbox rows, one per (notice, channel, recipient):

* **webhook**: one row per *active* subscription whose event types include the notice's type
  (the subscription is looked up again at delivery, so a later disable or delete still counts);
* **email**: one row to `customer_email` for customer notices that carry one. The row is written
  whether or not SMTP is configured, so the outbox is a complete record of what was due; with
  no `WAYBILL_SMTP_HOST` the notifier marks it `skipped` ("smtp not configured");
* **sms** (issue 19 §3): one row to `customer_phone` for the customer notices that have an SMS
  template; the customer's channel choice, the quiet hours and the per-order daily cap apply
  to both customer channels as db/notifications/customer_channels.py says (a row not to be
  sent is written `skipped`, with its reason);
* **inbox**: one row per team in `teams` (staff notices; a customer notice that names teams gives
  them an in-app copy of what the customer was told).

Row ids are sha256(notice key, channel, recipient) and inserts are ON CONFLICT DO NOTHING, so a
retried caller creates nothing twice. Subject and body are rendered when the row is written, so
the row records exactly what was said.

Delivering the rows: db/notifications/delivery_state.py (claiming, finishing, the sweep's
stranded rows) and activities/notify/ (sending); a subscription's delivery log:
db/notifications/delivery_log.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.console.models import ConsolePreference
from db.keys.models import ApiKey
from db.notifications.customer_channels import CustomerChannels
from db.notifications.customer_rules import NoticeRules
from db.notifications.delivery_state import deliver_inbox_row
from db.notifications.models import Channel, OutboxRow, OutboxStatus, WebhookSubscription
from db.notifications.templates import DEFAULT_LOCALE, normalize_locale, render
from db.upsert import insert_new
from workflows.order.event_data import EVENTS
from workflows.order.event_spec import notice_type


class _OwnNotification(StrEnum):
    """Notices no posted order event declares: Waybill's own (breaches, survey, claims...)."""

    ORDER_DELAY_RISK = "order.delay_risk"  # proactive: sent before the promise is missed
    # Issue 19 §3: the first scan (the goods are on their way) and the carrier's last leg.
    ORDER_IN_TRANSIT = "order.in_transit"
    ORDER_OUT_FOR_DELIVERY = "order.out_for_delivery"
    ORDER_SURVEY_DUE = "order.survey_due"
    ORDER_SURVEY_REMINDER = "order.survey_reminder"  # halfway through the survey window
    ORDER_DECISION_REQUIRED = "order.decision_required"  # customer: stock is short, choose
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


def _notification_events() -> dict[str, str]:
    """Every notification event type: first the customer notices of posted order events, as
    their declarations say (`order.<type>`: order.confirmed, order.shipped, order.delivered,
    order.delivery_exception, order.cancelled, the values stored since before the registry),
    then Waybill's own."""
    posted = {f"ORDER_{t.name}": notice_type(t) for t, spec in EVENTS.items() if spec.notice}
    return {**posted, **{m.name: m.value for m in _OwnNotification}}


if TYPE_CHECKING:  # the checker sees the fixed members; the rest are read by value
    NotificationEvent = _OwnNotification
else:
    NotificationEvent = StrEnum("NotificationEvent", _notification_events(), module=__name__)
    NotificationEvent.__doc__ = "What a notice is about; webhook subscriptions choose from these."


class Audience(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"


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
        customer_id: whose channel choice applies (db/notifications/preferences.py); None:
            every channel the notice has an address for.
        customer_phone: where a customer notice is texted (if it has an SMS template); None
            sends no SMS.
        customer_zone: the customer's time zone (quiet hours, the daily cap's day); None: the
            configured default.
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
    customer_id: str | None = None
    customer_phone: str | None = None
    customer_zone: str | None = None
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


def enqueue(session: Session, notices: list[Notice],
            rules: NoticeRules | None = None) -> list[str]:
    """Write outbox rows in the caller's transaction (the caller commits).

    `rules`: the customer channels' quiet hours, zone and SMS cap (default: the settings'
    defaults).

    Inbox rows are delivered here, in the same transaction (exactly once).

    Returns:
        The ids of this call's rows still awaiting delivery (status pending: webhook and
        email), in a stable order; once the caller's transaction has committed, start a
        DeliveryWorkflow for each
        (activities.notify.delivery_start.deliver_after_commit). Rows a previous call created and
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
    customers = CustomerChannels(session, rules or NoticeRules(), now)
    rows: list[dict[str, Any]] = []
    for notice in notices:
        locale = normalize_locale(notice.locale)
        event_type = NotificationEvent(notice.event_type).value
        audience = Audience(notice.audience).value
        # '' is how callers without an order used to say "none" (complaints opened for a
        # customer still do): stored and sent as NULL, never as an order id.
        order_id = notice.order_id or None
        recipients: list[tuple[Channel, str]] = [
            (Channel.WEBHOOK, sub.id) for sub in subscriptions
            if notice.webhook and event_type in (sub.event_types or [])]
        recipients += [(Channel.INBOX, team) for team in dict.fromkeys(notice.teams) if team]
        values = {"order_id": notice.order_id, "escalation_id": notice.escalation_id,
                  "event_type": event_type, **notice.data}
        specs = customers.rows(
            customer_id=notice.customer_id, email=notice.customer_email,
            phone=notice.customer_phone, zone=notice.customer_zone, order_id=order_id,
            event_type=event_type, locale=locale, values=values,
            row_id=partial(outbox_id, notice.key)) if audience == Audience.CUSTOMER else []
        if not recipients and not specs:
            continue  # nobody to tell (no subscription, e-mail or team): nothing rendered
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
                  "status": OutboxStatus.PENDING.value, "attempts": 0, "created_at": now,
                  "last_error": None, "next_attempt_at": None}
        rows += [{"id": outbox_id(notice.key, channel.value, recipient),
                  "channel": channel.value, "recipient": recipient, **common}
                 for channel, recipient in recipients]
        rows += [{**common, "id": outbox_id(notice.key, spec.channel.value, spec.recipient),
                  "channel": spec.channel.value, "recipient": spec.recipient,
                  "status": spec.status.value, "last_error": spec.reason,
                  "next_attempt_at": spec.due_at, "body": spec.body or body,
                  "payload": {**payload, **spec.payload}} for spec in specs]
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    insert_new(session, OutboxRow.__table__, rows, ("id",))
    pending = set(session.scalars(select(OutboxRow.id).where(
        OutboxRow.id.in_(ids), OutboxRow.status == OutboxStatus.PENDING.value)))
    # The in-app inbox is ours: its items are written here, in the causing event's transaction,
    # exactly once, with no delivery of their own (a workflow per staff notice cost as much
    # Temporal work as the order's own events).
    for row in rows:
        if row["channel"] == Channel.INBOX.value and row["id"] in pending:
            deliver_inbox_row(session, row, now)
            pending.discard(row["id"])
    return [i for i in dict.fromkeys(ids) if i in pending]
