"""The notifier: delivers one outbox row per activity call, by webhook, email or in-app inbox.

The delivery guarantee, per outbox row (= per notice, channel and recipient):

* **At least once, with a stable id.** Every row gets its own `DeliveryWorkflow`
  (workflows/notify/delivery.py), which calls `deliver` with DELIVERY_RETRY: durable server-side
  backoff, 5 s doubling to 1 h, 34 attempts, a little over 24 h in all, then `failed`. Before
  anything leaves the process an attempt claims the row in a committed transaction
  (`pending -> sending`, with a token and a deadline: the attempt's start-to-close timeout).
  The outcome is written right after the send: `delivered`; `pending` again with the time the
  next retry is due (connection refused, a non-2xx answer, a timeout or a connection that
  broke off mid-way: the message may or may not have arrived, and is sent again); or `failed`
  (a permanent refusal, or no attempts left). An attempt that finds the row `sending` under a
  claim past its deadline knows that attempt died (worker killed) and sends again; under a
  live claim it waits for a retry. So a worker death mid-delivery means a resend, never a loss;
  the receiver de-duplicates on `webhook-id` (email: on `Message-ID`), which is the row id and
  the same on every attempt and every redelivery.
* **Inbox** rows are written in the same transaction that marks them delivered: exactly once.
* **Webhooks** are signed per Standard Webhooks 1.0 (activities/notify/webhook_signing.py); during a
  secret rotation's overlap both secrets sign. Only the status code of an answer is kept (the
  receiver's body is never read, stored or logged); a redirect is not followed (a 3xx is a
  failed attempt). Before each attempt the URL's host is resolved and every address checked
  (activities/notify/webhook_targets.py); the request goes to the checked address, so a DNS answer
  that changes in between cannot point it elsewhere. A refused target fails the delivery at
  once with a fixed message.
* **Failures** are counted per *delivery*, not per attempt: a subscription's
  `consecutive_failures` goes up by one when a delivery ends `failed` (its 24 h of attempts
  all failed) and back to 0 on any delivered message. At `webhook_max_failures` the
  subscription is disabled, an inbox alert goes to the `admin` team and an error is logged. A
  receiver down for a day gets disabled; a one-minute blip costs a few retries, no failure.
* **Disabled subscription**: rows already written for it are held `pending` (not sent, no
  attempt counted); the sweep leaves them alone until an admin re-enables the subscription,
  then delivers them. Events while it is disabled write no rows for it (db.notifications
  .enqueue). Rows of a deleted subscription are `skipped`.
* Email without `smtp_host` configured is `skipped` ("smtp not configured").

`deliver` returns the row's status: "delivered", "already_delivered", "skipped", "failed",
"held" (subscription disabled), "sending" (another attempt holds it, on our last attempt) or
"handed_off" (called by a workflow started before deliveries were workflows of their own: its
rows are delivered by their DeliveryWorkflow or the sweep, so it does nothing). It raises (for
Temporal to retry) only while attempts remain; on the last attempt it records `failed` and
returns.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, TypeVar

import httpx
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from activities.notify.webhook_signing import EVENT_HEADER, sign_headers
from activities.notify.webhook_targets import (
    Resolver,
    TargetForbidden,
    check_url,
    policy_of,
    resolve_checked,
    system_resolver,
)
from config import Settings
from db.engine import transaction
from db.notifications import subscriptions as subs_repo
from db.notifications.models import OutboxRow
from db.notifications.outbox import (
    Channel,
    OutboxStatus,
    claim,
    claim_is_dead,
    deliver_inbox,
    finish,
    get_row,
    hold,
    release,
    settle,
)
from workflows.notify.types import DeliverInput

log = logging.getLogger("waybill.notify")

# A little over 24 hours of retries on durable server-side timers: 5 s, 10 s, 20 s ... then
# hourly (waits add up to 24 h 25 min over 34 attempts), then `failed`. See retry_delays.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(hours=1),
    maximum_attempts=34,
)
# One attempt: longer than the webhook or SMTP timeout plus the database round trips.
DELIVERY_TIMEOUT = timedelta(seconds=60)

USER_AGENT = "Waybill-Webhooks/1.0"
HELD = "held"
HELD_REASON = "subscription disabled: held until it is re-enabled"
HANDED_OFF = "handed_off"
# A target refused at delivery (activities/notify/webhook_targets.py): a fixed text, so neither the
# resolved address nor anything else about the receiver's network is shown back.
TARGET_REFUSED = "webhook target refused: not https, or a private or reserved address"
OUTCOME_WRITE_TRIES = 4

_T = TypeVar("_T")


class _NotSent(Exception):
    """This attempt did not get the message accepted (it may still have arrived, e.g. a read
    timeout): try again later, unless the refusal is permanent."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def retry_delay(policy: RetryPolicy, attempt: int) -> timedelta:
    """How long Temporal waits after failed attempt `attempt` (1-based) before the next."""
    delay = policy.initial_interval * policy.backoff_coefficient ** (attempt - 1)
    return min(delay, policy.maximum_interval) if policy.maximum_interval else delay


def retry_delays(policy: RetryPolicy) -> list[timedelta]:
    """Every wait between attempts of a delivery under `policy` (which must limit attempts)."""
    assert policy.maximum_attempts, "an unlimited policy has no schedule"
    return [retry_delay(policy, n) for n in range(1, policy.maximum_attempts)]


def _last_attempt() -> bool:
    info = activity.info()
    policy = info.retry_policy
    return bool(policy and policy.maximum_attempts and info.attempt >= policy.maximum_attempts)


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class NotifierActivities:
    """Delivers outbox rows; `sessions` reach the application database."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 resolver: Resolver = system_resolver) -> None:
        self._sessions = sessions
        self._settings = settings
        self._resolver = resolver  # a seam: tests point a host name at any address

    @activity.defn(name="deliver_notification")
    def deliver(self, inp: DeliverInput) -> str:
        """Deliver one outbox row at least once; returns its status (see module doc)."""
        if not inp.delivery_workflow:
            log.info("notification left to its delivery workflow",
                     extra={"outbox_id": inp.outbox_id})
            return HANDED_OFF
        now = datetime.now(UTC)
        with transaction(self._sessions) as session:
            row = get_row(session, inp.outbox_id)
            if row is None:
                raise ApplicationError(f"no outbox row {inp.outbox_id}", type="OutboxRowNotFound",
                                       non_retryable=True)
            if row.status == OutboxStatus.SENDING:
                if not claim_is_dead(row, now):
                    if _last_attempt():
                        return OutboxStatus.SENDING.value  # its attempt records the outcome
                    raise ApplicationError("another attempt is sending it",
                                           type="DeliveryInProgress")
                log.warning("delivery interrupted earlier; sending again (at least once)",
                            extra=self._where(row))
            elif row.status != OutboxStatus.PENDING:
                return self._final(row.status)
            session.expunge(row)
        if row.channel == Channel.INBOX:
            return self._deliver_inbox(row)
        if row.channel == Channel.EMAIL:
            return self._deliver_email(row)
        if row.channel == Channel.WEBHOOK:
            return self._deliver_webhook(row)
        raise ApplicationError(f"unknown channel {row.channel}", type="UnknownChannel",
                               non_retryable=True)

    # -- channels ---------------------------------------------------------------------------

    def _deliver_inbox(self, row: OutboxRow) -> str:
        with transaction(self._sessions) as session:
            if not deliver_inbox(session, row, datetime.now(UTC)):
                return self._current(session, row.id)
        self._log_delivered(row)
        return OutboxStatus.DELIVERED.value

    def _deliver_email(self, row: OutboxRow) -> str:
        if not self._settings.smtp_host:
            return self._settle(row, OutboxStatus.SKIPPED, "smtp not configured")
        try:
            smtp = self._smtp_connect()
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            return self._not_sent_before_claim(row, f"smtp connect: {exc}")
        try:
            token = self._claim(row)
            if token is None:
                return self._current_status(row.id)
            try:
                smtp.send_message(self._email(row))
            except smtplib.SMTPRecipientsRefused as exc:
                code = max((c for c, _ in exc.recipients.values()), default=550)
                return self._outcome_failed_attempt(row, token, _NotSent(
                    f"smtp refused recipient: {code}", permanent=500 <= code < 600))
            except smtplib.SMTPResponseException as exc:
                reason = exc.smtp_error.decode(errors="replace") if isinstance(
                    exc.smtp_error, bytes) else str(exc.smtp_error)
                return self._outcome_failed_attempt(row, token, _NotSent(
                    f"smtp {exc.smtp_code}: {reason}", permanent=500 <= exc.smtp_code < 600))
            except (smtplib.SMTPException, OSError) as exc:
                # It may have arrived: sent again, and Message-ID lets mail systems de-dup.
                return self._outcome_failed_attempt(
                    row, token, _NotSent(f"smtp send broke off: {exc!r}"))
            return self._outcome_delivered(row, token)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _deliver_webhook(self, row: OutboxRow) -> str:
        with transaction(self._sessions) as session:
            now = datetime.now(UTC)
            sub = subs_repo.get(session, row.recipient)
            if sub is None:
                if not _settle_in(session, row, OutboxStatus.SKIPPED, "subscription deleted"):
                    return self._current(session, row.id)
                log.info("notification skipped",
                         extra={**self._where(row), "reason": "subscription deleted"})
                return OutboxStatus.SKIPPED.value
            if not sub.active:
                if not hold(session, row.id, HELD_REASON, now):
                    return self._current(session, row.id)
                log.info("notification held until the subscription is re-enabled",
                         extra=self._where(row))
                return HELD
            url, signing_secrets = sub.url, subs_repo.signing_secrets(sub, now)
            token = self._claim_in(session, row, now)
            if token is None:
                return self._current(session, row.id)
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":"),
                          sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   EVENT_HEADER: row.event_type, **sign_headers(signing_secrets, row.id, body)}
        on_failure = self._webhook_failure(row)
        try:
            target, host_header, extensions = self._checked_target(url)
        except TargetForbidden as exc:
            log.warning("webhook target refused", extra={**self._where(row),
                                                         "reason": exc.reason})
            return self._outcome_failed_attempt(
                row, token, _NotSent(TARGET_REFUSED, permanent=True), on_failure)
        except (OSError, UnicodeError):
            # The name did not resolve: maybe a DNS hiccup; retried like a refused connection.
            return self._outcome_failed_attempt(
                row, token, _NotSent("webhook host not resolved"), on_failure)
        try:
            with httpx.Client(timeout=self._settings.webhook_timeout_seconds,
                              follow_redirects=False) as client, \
                    client.stream("POST", target, content=body, extensions=extensions,
                                  headers={**headers, "Host": host_header}) as response:
                pass  # the status is all we keep; the body is never read
        except httpx.HTTPError as exc:
            # Refused, timed out or broke off: it may have arrived; sent again either way.
            return self._outcome_failed_attempt(
                row, token, _NotSent(f"webhook {type(exc).__name__}"), on_failure)
        if 200 <= response.status_code < 300:
            return self._outcome_delivered(
                row, token, lambda s, now: subs_repo.record_success(s, row.recipient, now),
                http_status=response.status_code)
        # Only the status: the receiver's body may hold anything, and is never kept.
        return self._outcome_failed_attempt(
            row, token, _NotSent(f"webhook answered {response.status_code}"), on_failure,
            http_status=response.status_code)

    def _checked_target(self, url: str) -> tuple[httpx.URL, str, dict[str, Any]]:
        """The URL with its host replaced by the checked address, the Host header, and the
        TLS server name: the certificate is still verified for the URL's own host name.

        Raises:
            TargetForbidden: the scheme, or an address the host resolves to, is refused.
            OSError: the host name does not resolve.
        """
        policy = policy_of(self._settings)
        check_url(url, policy)
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise TargetForbidden("invalid_host", "the URL cannot be sent to") from None
        host = parsed.raw_host.decode("ascii")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        address = resolve_checked(host, port, policy, self._resolver)
        extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
        return parsed.copy_with(host=str(address)), parsed.netloc.decode("ascii"), extensions

    # -- outcomes ---------------------------------------------------------------------------

    def _outcome_delivered(self, row: OutboxRow, token: str,
                           also: Callable[[Session, datetime], None] | None = None,
                           http_status: int | None = None) -> str:
        def write(session: Session) -> None:
            now = datetime.now(UTC)
            finish(session, row.id, token, OutboxStatus.DELIVERED, None, now, http_status)
            if also:
                also(session, now)

        self._write_outcome(write)
        self._log_delivered(row)
        return OutboxStatus.DELIVERED.value

    def _outcome_failed_attempt(
            self, row: OutboxRow, token: str, exc: _NotSent,
            on_failure: Callable[[Session, str, datetime, bool], None] | None = None,
            http_status: int | None = None) -> str:
        """This attempt did not get the message accepted: retry later, or (permanent refusal,
        last attempt) the delivery has failed."""
        def write(session: Session) -> bool:
            now = datetime.now(UTC)
            final = exc.permanent or _last_attempt()
            if final:
                finish(session, row.id, token, OutboxStatus.FAILED, str(exc), now, http_status)
            else:
                # False: our claim was taken over (we outlived our deadline); its owner goes on.
                release(session, row.id, token, str(exc), now + _next_retry(), http_status)
            if on_failure:
                on_failure(session, str(exc), now, final)
            return final

        if self._write_outcome(write):
            log.warning("notification failed", extra={**self._where(row), "error": str(exc)})
            return OutboxStatus.FAILED.value
        log.info("notification not delivered; will retry",
                 extra={**self._where(row), "error": str(exc)})
        raise ApplicationError(str(exc), type="DeliveryNotAccepted")

    def _write_outcome(self, write: Callable[[Session], _T]) -> _T:
        """Record what a send did, retrying a database hiccup a few times: if this cannot be
        written the row stays `sending` until its claim expires, and is then sent again."""
        for attempt in range(1, OUTCOME_WRITE_TRIES + 1):
            try:
                with transaction(self._sessions) as session:
                    return write(session)
            except OperationalError:
                if attempt == OUTCOME_WRITE_TRIES:
                    raise
                log.warning("could not record a delivery outcome; trying again",
                            extra={"attempt": attempt}, exc_info=True)
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def _not_sent_before_claim(self, row: OutboxRow, error: str) -> str:
        """Nothing was claimed or sent (e.g. the SMTP server is down): retry or give up."""
        if _last_attempt():
            return self._settle(row, OutboxStatus.FAILED, error)
        with transaction(self._sessions) as session:
            session.execute(OutboxRow.__table__.update()
                            .where(OutboxRow.id == row.id,
                                   OutboxRow.status == OutboxStatus.PENDING.value)
                            .values(attempts=OutboxRow.attempts + 1, last_error=error[:1000],
                                    last_attempt_at=datetime.now(UTC),
                                    next_attempt_at=datetime.now(UTC) + _next_retry()))
        log.info("notification not delivered; will retry",
                 extra={**self._where(row), "error": error})
        raise ApplicationError(error, type="DeliveryNotAccepted")

    def _webhook_failure(self, row: OutboxRow) -> Callable[[Session, str, datetime, bool], None]:
        max_failures = self._settings.webhook_max_failures

        def record(session: Session, error: str, now: datetime, delivery_failed: bool) -> None:
            if subs_repo.record_failure(session, row.recipient, error, now, delivery_failed,
                                        max_failures):
                log.error("webhook subscription disabled after repeated failures", extra={
                    "subscription_id": row.recipient, "failures": max_failures,
                    "alert_team": subs_repo.ALERT_TEAM, "last_error": error[:200]})

        return record

    # -- helpers ----------------------------------------------------------------------------

    def _claim(self, row: OutboxRow) -> str | None:
        with transaction(self._sessions) as session:
            return self._claim_in(session, row, datetime.now(UTC))

    @staticmethod
    def _claim_in(session: Session, row: OutboxRow, now: datetime) -> str | None:
        """Claim `row` until this attempt's deadline, after which Temporal retries it (and
        the retry may take the row over)."""
        token = uuid.uuid4().hex
        deadline = now + (activity.info().start_to_close_timeout or DELIVERY_TIMEOUT)
        return token if claim(session, row.id, token, now, deadline) else None

    def _settle(self, row: OutboxRow, status: OutboxStatus, reason: str) -> str:
        with transaction(self._sessions) as session:
            if not _settle_in(session, row, status, reason):
                return self._current(session, row.id)
        log.info("notification settled without sending",
                 extra={**self._where(row), "status": status.value, "reason": reason})
        return status.value

    def _current_status(self, row_id: str) -> str:
        with transaction(self._sessions) as session:
            return self._current(session, row_id)

    def _current(self, session: Session, row_id: str) -> str:
        row = get_row(session, row_id)
        return self._final(row.status if row else OutboxStatus.SKIPPED.value)

    @staticmethod
    def _final(status: str) -> str:
        return "already_delivered" if status == OutboxStatus.DELIVERED else status

    def _smtp_connect(self) -> smtplib.SMTP:
        s = self._settings
        assert s.smtp_host
        context = ssl.create_default_context(
            cafile=str(s.smtp_ca_file) if s.smtp_ca_file else None)
        smtp: smtplib.SMTP
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds,
                                    context=context)
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            if s.smtp_tls == "starttls":
                smtp.starttls(context=context)
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _email(self, row: OutboxRow) -> EmailMessage:
        sender = self._settings.smtp_from
        domain = parseaddr(sender)[1].partition("@")[2] or "waybill.invalid"
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = row.recipient
        msg["Subject"] = row.subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = f"<{row.id}@{domain}>"  # stable: lets mail systems drop duplicates
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Waybill-Delivery"] = row.id
        msg["X-Waybill-Event"] = row.event_type
        msg.set_content(row.body)
        msg["Content-Language"] = row.locale  # after set_content, which resets Content-*
        return msg

    def _where(self, row: OutboxRow) -> dict[str, Any]:
        where: dict[str, Any] = {"outbox_id": row.id, "channel": row.channel,
                                 "event_type": row.event_type, "order_id": row.order_id,
                                 "attempt": activity.info().attempt}
        if row.channel == Channel.EMAIL:
            where["recipient"] = _mask_email(row.recipient)
        elif row.channel == Channel.WEBHOOK:
            where["subscription_id"] = row.recipient
        else:
            where["team"] = row.recipient
        return where

    def _log_delivered(self, row: OutboxRow) -> None:
        log.info("notification delivered", extra=self._where(row))


def _next_retry() -> timedelta:
    info = activity.info()
    return retry_delay(info.retry_policy or DELIVERY_RETRY, info.attempt)


def _settle_in(session: Session, row: OutboxRow, status: OutboxStatus, reason: str) -> bool:
    return settle(session, row.id, status, reason, datetime.now(UTC))
