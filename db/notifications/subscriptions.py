"""Webhook subscriptions: CRUD for the admin API and the notifier's failure accounting."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.notifications import inbox as inbox_repo
from db.notifications.models import WebhookSubscription
from db.notifications.templates import DEFAULT_LOCALE, render
from db.rowcount import rowcount

SECRET_PREFIX = "whsec_"
ALERT_TEAM = "admin"
WEBHOOK_DISABLED = "webhook.disabled"  # an alert, not a subscribable event type


def create(session: Session, url: str, event_types: list[str], description: str | None,
           created_by: str) -> tuple[WebhookSubscription, str]:
    """Add an active subscription; returns it and its signing secret."""
    now = datetime.now(UTC)
    secret = new_secret()
    row = WebhookSubscription(
        id="sub_" + secrets.token_hex(12), url=url, secret=secret, description=description,
        event_types=list(event_types), active=True, consecutive_failures=0,
        created_at=now, created_by=created_by, updated_at=now)
    session.add(row)
    session.flush()
    return row, secret


def new_secret() -> str:
    """`whsec_` and 32 random bytes in standard base64 (Standard Webhooks). Secrets made
    before used URL-safe base64; the signer decodes both."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(row: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the one it replaced while
    the rotation's overlap window lasts."""
    expires = row.previous_secret_expires_at
    if row.previous_secret and expires is not None and expires > now:
        return [row.secret, row.previous_secret]
    return [row.secret]


def rotate_secret(session: Session, row: WebhookSubscription, overlap: timedelta) -> str:
    """Give `row` a new secret; the old one keeps signing too for `overlap`. Returns the new
    secret (shown once). Rotating again within an overlap drops the oldest secret."""
    now = datetime.now(UTC)
    secret = new_secret()
    row.previous_secret, row.previous_secret_expires_at = row.secret, now + overlap
    row.secret, row.updated_at = secret, now
    session.flush()
    return secret


def list_all(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription)
                                .order_by(WebhookSubscription.created_at,
                                          WebhookSubscription.id)))


def get(session: Session, sub_id: str) -> WebhookSubscription | None:
    return session.get(WebhookSubscription, sub_id)


@dataclass
class Changes:
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    active: bool | None = None


def change(session: Session, row: WebhookSubscription, changes: Changes, actor: str) -> None:
    """Apply an admin's changes; re-enabling clears the failure count and the disable record."""
    now = datetime.now(UTC)
    if changes.url is not None:
        row.url = changes.url
    if changes.event_types is not None:
        row.event_types = list(changes.event_types)
    if changes.description is not None:
        row.description = changes.description
    if changes.active is True and not row.active:
        row.active, row.consecutive_failures = True, 0
        row.disabled_at = row.disabled_reason = None
    elif changes.active is False and row.active:
        row.active, row.disabled_at = False, now
        row.disabled_reason = f"disabled by {actor}"
    row.updated_at = now
    session.flush()


def delete(session: Session, row: WebhookSubscription) -> None:
    session.delete(row)
    session.flush()


def record_success(session: Session, sub_id: str, now: datetime) -> None:
    session.execute(update(WebhookSubscription).where(WebhookSubscription.id == sub_id)
                    .values(consecutive_failures=0, last_success_at=now)
                    .execution_options(synchronize_session=False))


def record_failure(session: Session, sub_id: str, error: str, now: datetime,
                   delivery_failed: bool, max_failures: int) -> bool:
    """Note a failed attempt; a failed *delivery* (no attempts left) counts toward disabling.

    Returns:
        True if this call disabled the subscription (exactly one caller sees True, because the
        disabling UPDATE is conditional on the row still being active). The caller raises the
        alert: an inbox item for the admin team is added here, in the same transaction.
    """
    values: dict[str, object] = {"last_error": error[:1000], "last_failure_at": now}
    if delivery_failed:
        values["consecutive_failures"] = WebhookSubscription.consecutive_failures + 1
    session.execute(update(WebhookSubscription).where(WebhookSubscription.id == sub_id)
                    .values(**values).execution_options(synchronize_session=False))
    if not delivery_failed:
        return False
    result = session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == sub_id, WebhookSubscription.active.is_(True),
               WebhookSubscription.consecutive_failures >= max_failures)
        .values(active=False, disabled_at=now,
                disabled_reason=f"{max_failures} consecutive failed deliveries")
        .execution_options(synchronize_session=False))
    if not rowcount(result):
        return False
    row = session.get(WebhookSubscription, sub_id)
    assert row is not None
    session.refresh(row)
    _alert_disabled(session, row, now)
    return True


def _alert_disabled(session: Session, row: WebhookSubscription, now: datetime) -> None:
    title, body = render(DEFAULT_LOCALE, WEBHOOK_DISABLED, {
        "subscription_id": row.id, "url": row.url, "failures": row.consecutive_failures,
        "last_error": row.last_error, "disabled_at": now})
    item_id = hashlib.sha256(f"{WEBHOOK_DISABLED}\n{row.id}\n{now.isoformat()}".encode())
    inbox_repo.add_item(session, {
        "id": item_id.hexdigest(), "team": ALERT_TEAM, "outbox_id": None,
        "event_type": WEBHOOK_DISABLED, "title": title[:500], "body": body, "order_id": None,
        "escalation_id": None, "created_at": now})
