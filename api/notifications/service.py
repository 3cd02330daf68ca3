"""What the subscription endpoints and the console's webhook pages both do: the delivery log,
redelivery, secret rotation and re-enabling.

Redelivery reopens the row in a short transaction off the event loop, then starts the row's
DeliveryWorkflow with no database connection held, within `update_timeout_seconds`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.service import RPCError

from activities.notify.delivery_start import DeliveryStarter
from activities.notify.webhook_targets import TargetForbidden, check_url, policy_of
from api.edge.deadline import temporal_deadline
from api.edge.units import Db
from api.errors import ApiError, found
from api.pagination import decode_cursor, keyset_page
from config import Settings
from db.notifications import subscriptions as repo
from db.notifications.delivery_log import deliveries, get_delivery
from db.notifications.delivery_state import reopen
from db.notifications.models import OutboxRow, OutboxStatus, WebhookSubscription

log = logging.getLogger("waybill.api")


def load(session: Session, subscription_id: str) -> WebhookSubscription:
    return found(repo.get(session, subscription_id), "subscription", "subscription_id",
                 subscription_id)


def check_target(url: str, settings: Settings) -> None:
    """Refuse a webhook URL the target rule forbids (activities/notify/webhook_targets.py); a host
    name is checked again, after DNS, at every delivery.

    Raises:
        ApiError: 422 webhook_target_forbidden, with the `reason` (e.g. `https_required`,
            `loopback_address`, `link_local_address`).
    """
    try:
        check_url(url, policy_of(settings))
    except TargetForbidden as exc:
        raise ApiError(422, "webhook_target_forbidden", str(exc), field="url",
                       reason=exc.reason) from None


def delivery_page(session: Session, subscription_id: str, status: OutboxStatus | None,
                  limit: int, cursor: str | None) -> tuple[list[OutboxRow], str | None]:
    """A page of the subscription's delivery log, newest first, and the next page's cursor."""
    load(session, subscription_id)
    rows = deliveries(session, subscription_id, status.value if status else None, limit + 1,
                      decode_cursor(cursor) if cursor else None)
    return keyset_page(rows, limit, lambda r: (r.created_at, r.id))


def _reopen(session: Session, subscription_id: str, delivery_id: str) -> OutboxRow:
    """Make the row pending again (delivered, failed) or leave it pending; else refuse."""
    sub = load(session, subscription_id)
    row = get_delivery(session, subscription_id, delivery_id)
    if row is None:
        raise ApiError(404, "delivery_not_found",
                       f"no delivery {delivery_id} for subscription {subscription_id}",
                       subscription_id=subscription_id, delivery_id=delivery_id)
    if not sub.active:
        raise ApiError(409, "subscription_disabled",
                       "re-enable the subscription first; its held messages then go out",
                       subscription_id=subscription_id)
    if row.status == OutboxStatus.SENDING:
        raise ApiError(409, "delivery_in_progress", "an attempt is sending it right now",
                       delivery_id=delivery_id, delivery_status=row.status)
    # pending: already due; starting its delivery again is harmless (a retry after a 503).
    if row.status != OutboxStatus.PENDING and not reopen(session, row.id):
        raise ApiError(409, "not_redeliverable",
                       f"a {row.status} delivery cannot be redelivered (delivered or failed "
                       "only)", delivery_id=delivery_id, delivery_status=row.status)
    found = get_delivery(session, subscription_id, delivery_id)
    assert found is not None
    session.expunge(found)
    return found


async def redeliver(db: Db, temporal: Client, settings: Settings, subscription_id: str,
                    delivery_id: str, actor: str) -> OutboxRow:
    """Deliver a row again, same webhook-id: reopen it, then start its DeliveryWorkflow.

    Raises:
        ApiError: 404 (no such subscription or delivery), 409 (disabled, in progress, or
            not delivered nor failed).
        ApiError: 503 temporal_unavailable: the row is reopened but its delivery could not
            be started in time; the sweep starts it within minutes, and calling again is safe.
    """
    row = await db.run(_reopen, subscription_id, delivery_id)
    try:
        async with temporal_deadline(settings):
            await DeliveryStarter(temporal, settings.task_queue).start([row.id])
    except (ApiError, RPCError) as exc:
        if isinstance(exc, ApiError) and exc.code != "temporal_unavailable":
            raise
        log.error("redelivery not started; the sweep will", extra={
            "subscription_id": subscription_id, "outbox_id": row.id, "error": repr(exc)})
        raise ApiError(503, "temporal_unavailable", "the workflow service did not answer; the "
                       "sweep sends it within minutes, and calling again is safe",
                       headers={"Retry-After": str(settings.retry_after_seconds)},
                       delivery_id=delivery_id, queued=True) from exc
    log.info("webhook redelivery started", extra={
        "subscription_id": subscription_id, "outbox_id": row.id, "by": actor})
    return row


def rotate(session: Session, subscription_id: str, overlap_seconds: int,
           actor: str) -> tuple[WebhookSubscription, str]:
    """A new secret for the subscription; the old one signs too for `overlap_seconds`."""
    row = load(session, subscription_id)
    secret = repo.rotate_secret(session, row, timedelta(seconds=overlap_seconds))
    log.info("webhook secret rotated", extra={
        "subscription_id": row.id, "overlap_seconds": overlap_seconds, "by": actor})
    return row, secret


def set_active(session: Session, subscription_id: str, active: bool,
               actor: str) -> WebhookSubscription:
    """Disable, or re-enable (failure count reset; held messages go out with the sweep)."""
    row = load(session, subscription_id)
    repo.change(session, row, repo.Changes(active=active), actor)
    log.info("webhook subscription changed", extra={
        "subscription_id": row.id, "fields": ["active"], "active": active, "by": actor})
    return row
