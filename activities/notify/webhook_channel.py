"""The webhook channel: one signed POST per attempt to the subscription's checked address.

Signed per Standard Webhooks 1.0 (activities/notify/webhook_signing.py); during a secret
rotation's overlap both secrets sign. Only the status code of an answer is kept (the receiver's
body is never read, stored or logged); a redirect is not followed (a 3xx is a failed attempt).
Before each attempt the URL's host is resolved and every address checked
(activities/notify/webhook_targets.py); the request goes to the checked address, so a DNS answer
that changes in between cannot point it elsewhere. A refused target fails the delivery at once
with a fixed message.

Failures are counted on the subscription per *delivery*, not per attempt
(db/notifications/subscriptions.py `record_failure`): at `webhook_max_failures` deliveries failed
in a row it is disabled and the `admin` team alerted. A disabled subscription's rows are held
`pending`, not sent; a deleted one's are `skipped`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session

from activities.notify.attempt import Attempt, NotSent, OnFailure
from activities.notify.webhook_signing import EVENT_HEADER, sign_headers
from activities.notify.webhook_targets import (
    Resolver,
    TargetForbidden,
    check_url,
    policy_of,
    resolve_checked,
)
from config import Settings
from db.engine import transaction
from db.notifications import subscriptions as subs_repo
from db.notifications.delivery_state import hold
from db.notifications.models import OutboxRow, OutboxStatus

log = logging.getLogger("waybill.notify")

USER_AGENT = "Waybill-Webhooks/1.0"
HELD = "held"
HELD_REASON = "subscription disabled: held until it is re-enabled"
# A target refused at delivery (activities/notify/webhook_targets.py): a fixed text, so neither the
# resolved address nor anything else about the receiver's network is shown back.
TARGET_REFUSED = "webhook target refused: not https, or a private or reserved address"


def deliver_by_webhook(attempt: Attempt, settings: Settings, resolver: Resolver) -> str:
    row = attempt.row
    with transaction(attempt.sessions) as session:
        now = datetime.now(UTC)
        sub = subs_repo.get(session, row.recipient)
        if sub is None:
            if not attempt.settle_in(session, OutboxStatus.SKIPPED, "subscription deleted"):
                return attempt.current(session)
            log.info("notification skipped",
                     extra={**attempt.where(), "reason": "subscription deleted"})
            return OutboxStatus.SKIPPED.value
        if not sub.active:
            if not hold(session, row.id, HELD_REASON, now):
                return attempt.current(session)
            log.info("notification held until the subscription is re-enabled",
                     extra=attempt.where())
            return HELD
        url, signing_secrets = sub.url, subs_repo.signing_secrets(sub, now)
        token = attempt.claim_in(session, now)
        if token is None:
            return attempt.current(session)
    body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               EVENT_HEADER: row.event_type, **sign_headers(signing_secrets, row.id, body)}
    on_failure = _count_failure(row, settings.webhook_max_failures)
    try:
        target, host_header, extensions = _checked_target(url, settings, resolver)
    except TargetForbidden as exc:
        log.warning("webhook target refused", extra={**attempt.where(), "reason": exc.reason})
        return attempt.failed(token, NotSent(TARGET_REFUSED, permanent=True), on_failure)
    except (OSError, UnicodeError):
        # The name did not resolve: maybe a DNS hiccup; retried like a refused connection.
        return attempt.failed(token, NotSent("webhook host not resolved"), on_failure)
    try:
        with httpx.Client(timeout=settings.webhook_timeout_seconds,
                          follow_redirects=False) as client, \
                client.stream("POST", target, content=body, extensions=extensions,
                              headers={**headers, "Host": host_header}) as response:
            pass  # the status is all we keep; the body is never read
    except httpx.HTTPError as exc:
        # Refused, timed out or broke off: it may have arrived; sent again either way.
        return attempt.failed(token, NotSent(f"webhook {type(exc).__name__}"), on_failure)
    if 200 <= response.status_code < 300:
        return attempt.delivered(
            token, lambda s, now: subs_repo.record_success(s, row.recipient, now),
            http_status=response.status_code)
    # Only the status: the receiver's body may hold anything, and is never kept.
    return attempt.failed(token, NotSent(f"webhook answered {response.status_code}"),
                          on_failure, http_status=response.status_code)


def _checked_target(url: str, settings: Settings,
                    resolver: Resolver) -> tuple[httpx.URL, str, dict[str, Any]]:
    """The URL with its host replaced by the checked address, the Host header, and the
    TLS server name: the certificate is still verified for the URL's own host name.

    Raises:
        TargetForbidden: the scheme, or an address the host resolves to, is refused.
        OSError: the host name does not resolve.
    """
    policy = policy_of(settings)
    check_url(url, policy)
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise TargetForbidden("invalid_host", "the URL cannot be sent to") from None
    host = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    address = resolve_checked(host, port, policy, resolver)
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return parsed.copy_with(host=str(address)), parsed.netloc.decode("ascii"), extensions


def _count_failure(row: OutboxRow, max_failures: int) -> OnFailure:
    """The subscription's failure accounting, written with the attempt's outcome."""
    def record(session: Session, error: str, now: datetime, delivery_failed: bool) -> None:
        if subs_repo.record_failure(session, row.recipient, error, now, delivery_failed,
                                    max_failures):
            log.error("webhook subscription disabled after repeated failures", extra={
                "subscription_id": row.recipient, "failures": max_failures,
                "alert_team": subs_repo.ALERT_TEAM, "last_error": error[:200]})

    return record
