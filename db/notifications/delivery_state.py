"""A delivery's moves on its outbox row: each is one conditional UPDATE, so concurrent
attempts cannot both win. Who makes them: activities/notify/ (the notifier), the sweep, an
admin's redelivery.

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

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from db.notifications import inbox as inbox_repo
from db.notifications.models import (
    REDELIVERABLE,
    Channel,
    OutboxRow,
    OutboxStatus,
    WebhookSubscription,
)

# A row claimed before claims had a deadline (claim_expires_at NULL) counts as dead after this.
LEGACY_CLAIM_LIFETIME = timedelta(minutes=10)


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
    return bool(result.rowcount)  # type: ignore[attr-defined]


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
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish(session: Session, row_id: str, token: str, status: OutboxStatus, error: str | None,
           now: datetime, http_status: int | None = None) -> bool:
    """The claiming attempt records its final outcome (delivered or failed)."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.claim == token)
        .values(status=status.value, last_error=_clip(error), claim_expires_at=None,
                last_http_status=http_status, next_attempt_at=None,
                delivered_at=now if status == OutboxStatus.DELIVERED else None)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


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
    return bool(result.rowcount)  # type: ignore[attr-defined]


def retry_unclaimed(session: Session, row_id: str, error: str, now: datetime,
                    next_attempt_at: datetime) -> bool:
    """A pending row stays pending after an attempt that failed before it could claim it (the
    SMTP server was down): the attempt is counted, a retry is due at `next_attempt_at`."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status == OutboxStatus.PENDING.value)
        .values(attempts=OutboxRow.attempts + 1, last_error=_clip(error), last_attempt_at=now,
                next_attempt_at=next_attempt_at)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def hold(session: Session, row_id: str, reason: str, now: datetime) -> bool:
    """A pending row waits (its subscription is disabled): no attempt counted, no retry due."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status == OutboxStatus.PENDING.value)
        .values(last_error=_clip(reason), next_attempt_at=None)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def reopen(session: Session, row_id: str) -> bool:
    """delivered or failed -> pending, for a redelivery of the same row (same webhook-id)."""
    result = session.execute(
        update(OutboxRow).where(OutboxRow.id == row_id,
                                OutboxRow.status.in_([s.value for s in REDELIVERABLE]))
        .values(status=OutboxStatus.PENDING.value, claim=None, claim_expires_at=None,
                next_attempt_at=None, delivered_at=None)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


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


# -- the in-app inbox: delivered where it is written, exactly once -----------------------------


def deliver_inbox(session: Session, row: OutboxRow, now: datetime) -> bool:
    """Mark the row delivered and write the inbox item in one transaction: exactly once.

    Returns:
        False (and writes nothing) if the row was no longer pending.
    """
    return deliver_inbox_row(session, {"id": row.id, "recipient": row.recipient,
                                       "event_type": row.event_type, "subject": row.subject,
                                       "body": row.body, "order_id": row.order_id,
                                       "escalation_id": row.escalation_id}, now)


def deliver_inbox_row(session: Session, row: dict[str, Any], now: datetime) -> bool:
    """`deliver_inbox` for a row's values (`enqueue` delivers the inbox rows it has just
    inserted), in the caller's transaction."""
    if not settle(session, row["id"], OutboxStatus.DELIVERED, None, now):
        return False
    inbox_repo.add_item(session, {
        "id": row["id"], "team": row["recipient"], "outbox_id": row["id"],
        "event_type": row["event_type"], "title": row["subject"], "body": row["body"],
        "order_id": row["order_id"], "escalation_id": row["escalation_id"], "created_at": now})
    return True


def _clip(text: str | None, limit: int = 1000) -> str | None:
    return None if text is None else text[:limit]
