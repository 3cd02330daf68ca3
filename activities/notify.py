"""The notifier: delivers one outbox row per activity call, by webhook, email or in-app inbox.

The delivery guarantee, per outbox row (= per notice, channel and recipient):

* **At most once.** Before anything leaves the process, the attempt claims the row in a committed
  transaction (`pending -> sending`, with a token of its own). The outcome is written right after
  the send: `delivered`; `pending` again when the message certainly did not reach the receiver
  (connection refused, non-2xx answer, SMTP 4xx), so Temporal's retry sends it then; or `failed`
  (permanent refusal, or no attempts left). An attempt that finds the row still `sending` knows a
  previous attempt died (worker killed, timed out) between its claim and its outcome, after it may
  have sent: it marks the row `uncertain` and sends nothing. So a worker death mid-delivery can
  lose a message (reported as `uncertain`, never silently) but can never duplicate one.
* **Inbox** rows are written in the same transaction that marks them delivered: exactly once.
* **Webhooks** carry `Waybill-Delivery: <row id>`, stable across attempts, so a receiver can also
  drop duplicates it might get from elsewhere (e.g. an admin replaying a delivery).
* A webhook subscription is disabled after `webhook_max_failures` consecutive failed deliveries
  (a delivery fails when its last attempt fails or ends `uncertain`); disabling adds an inbox
  alert for the `admin` team and logs an error. Rows for a disabled or deleted subscription are
  `skipped`.
* Email without `smtp_host` configured is `skipped` ("smtp not configured").

`deliver` returns the row's final status: "delivered", "already_delivered", "skipped", "failed"
or "uncertain". It raises (for Temporal to retry with DELIVERY_RETRY) only while attempts remain;
on the last attempt it records `failed` and returns, so a workflow need not catch anything but an
infrastructure failure (e.g. the database is down for longer than the whole retry schedule).
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

from activities.webhook_signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, sign
from config import Settings
from db import subscriptions as subs_repo
from db.engine import transaction
from db.notification_models import OutboxRow
from db.notifications import (
    Channel,
    OutboxStatus,
    claim,
    deliver_inbox,
    finish,
    get_row,
    mark_uncertain,
    release,
    settle,
)
from workflows.notify_types import DeliverInput

log = logging.getLogger("waybill.notify")

# About 20 minutes of retries (5 s, 10 s, 20 s ... capped at 5 min), then `failed`.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=10,
)
# One attempt: longer than the webhook or SMTP timeout plus the database round trips.
DELIVERY_TIMEOUT = timedelta(seconds=60)

USER_AGENT = "Waybill-Webhooks/1.0"
OUTCOME_WRITE_TRIES = 4

_T = TypeVar("_T")


class _NotSent(Exception):
    """The message certainly did not reach the receiver: safe to try again later."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _last_attempt() -> bool:
    info = activity.info()
    policy = info.retry_policy
    return bool(policy and policy.maximum_attempts and info.attempt >= policy.maximum_attempts)


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


class NotifierActivities:
    """Delivers outbox rows; `sessions` reach the application database."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="deliver_notification")
    def deliver(self, inp: DeliverInput) -> str:
        """Deliver one outbox row at most once; returns its final status (see module doc)."""
        now = datetime.now(UTC)
        with transaction(self._sessions) as session:
            row = get_row(session, inp.outbox_id)
            if row is None:
                raise ApplicationError(f"no outbox row {inp.outbox_id}", type="OutboxRowNotFound",
                                       non_retryable=True)
            if row.status == OutboxStatus.SENDING:
                if not mark_uncertain(session, row.id, now):
                    return self._current(session, row.id)  # its attempt just finished
                log.warning("delivery interrupted earlier; not sending again", extra={
                    **self._where(row), "status": OutboxStatus.UNCERTAIN.value})
                return OutboxStatus.UNCERTAIN.value
            if row.status != OutboxStatus.PENDING:
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
                return self._outcome_not_sent(row, token, _NotSent(
                    f"smtp refused recipient: {code}", permanent=500 <= code < 600))
            except smtplib.SMTPResponseException as exc:
                reason = exc.smtp_error.decode(errors="replace") if isinstance(
                    exc.smtp_error, bytes) else str(exc.smtp_error)
                return self._outcome_not_sent(row, token, _NotSent(
                    f"smtp {exc.smtp_code}: {reason}", permanent=500 <= exc.smtp_code < 600))
            except (smtplib.SMTPException, OSError) as exc:
                return self._outcome_maybe_sent(row, token, f"smtp send broke off: {exc!r}")
            return self._outcome_delivered(row, token)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _deliver_webhook(self, row: OutboxRow) -> str:
        with transaction(self._sessions) as session:
            sub = subs_repo.get(session, row.recipient)
            if sub is None or not sub.active:
                reason = "subscription deleted" if sub is None else "subscription disabled"
                if not _settle_in(session, row, OutboxStatus.SKIPPED, reason):
                    return self._current(session, row.id)
                log.info("notification skipped", extra={**self._where(row), "reason": reason})
                return OutboxStatus.SKIPPED.value
            url, secret = sub.url, sub.secret
            token = uuid.uuid4().hex
            if not claim(session, row.id, token, datetime.now(UTC)):
                return self._current(session, row.id)
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":"),
                          sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   DELIVERY_HEADER: row.id, EVENT_HEADER: row.event_type,
                   SIGNATURE_HEADER: sign(secret, body)}
        on_failure = self._webhook_failure(row)
        try:
            with httpx.Client(timeout=self._settings.webhook_timeout_seconds,
                              follow_redirects=False) as client:
                response = client.post(url, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
                httpx.UnsupportedProtocol) as exc:
            return self._outcome_not_sent(row, token, _NotSent(f"webhook connect: {exc!r}"),
                                          on_failure)
        except httpx.HTTPError as exc:
            return self._outcome_maybe_sent(row, token, f"webhook broke off: {exc!r}",
                                            on_failure)
        if 200 <= response.status_code < 300:
            return self._outcome_delivered(
                row, token, lambda s, now: subs_repo.record_success(s, row.recipient, now))
        snippet = response.text[:200].replace("\n", " ")
        return self._outcome_not_sent(
            row, token, _NotSent(f"webhook answered {response.status_code}: {snippet}"),
            on_failure)

    # -- outcomes ---------------------------------------------------------------------------

    def _outcome_delivered(self, row: OutboxRow, token: str,
                           also: Callable[[Session, datetime], None] | None = None) -> str:
        def write(session: Session) -> None:
            now = datetime.now(UTC)
            finish(session, row.id, token, OutboxStatus.DELIVERED, None, now)
            if also:
                also(session, now)

        self._write_outcome(write)
        self._log_delivered(row)
        return OutboxStatus.DELIVERED.value

    def _outcome_not_sent(self, row: OutboxRow, token: str, exc: _NotSent,
                          on_failure: Callable[[Session, str, datetime, bool], None] | None = None
                          ) -> str:
        def write(session: Session) -> bool:
            now = datetime.now(UTC)
            final = exc.permanent or _last_attempt()
            if final:
                finish(session, row.id, token, OutboxStatus.FAILED, str(exc), now)
            elif not release(session, row.id, token, str(exc)):
                # Our claim was taken over (we outlived our timeout): nobody will retry this row.
                finish(session, row.id, token, OutboxStatus.FAILED, str(exc), now)
                final = True
            if on_failure:
                on_failure(session, str(exc), now, final)
            return final

        if self._write_outcome(write):
            log.warning("notification failed", extra={**self._where(row), "error": str(exc)})
            return OutboxStatus.FAILED.value
        log.info("notification not delivered; will retry",
                 extra={**self._where(row), "error": str(exc)})
        raise ApplicationError(str(exc), type="DeliveryNotAccepted")

    def _outcome_maybe_sent(self, row: OutboxRow, token: str, error: str,
                            on_failure: Callable[[Session, str, datetime, bool], None] | None = None
                            ) -> str:
        def write(session: Session) -> None:
            now = datetime.now(UTC)
            finish(session, row.id, token, OutboxStatus.UNCERTAIN, error, now)
            if on_failure:
                on_failure(session, error, now, True)

        self._write_outcome(write)
        log.warning("notification may or may not have arrived; not sending again",
                    extra={**self._where(row), "error": error})
        return OutboxStatus.UNCERTAIN.value

    def _write_outcome(self, write: Callable[[Session], _T]) -> _T:
        """Record what a send did, retrying a database hiccup a few times: if this cannot be
        written the row stays `sending`, and the next attempt must then call it uncertain."""
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
                                    last_attempt_at=datetime.now(UTC)))
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
        token = uuid.uuid4().hex
        with transaction(self._sessions) as session:
            return token if claim(session, row.id, token, datetime.now(UTC)) else None

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


def _settle_in(session: Session, row: OutboxRow, status: OutboxStatus, reason: str) -> bool:
    return settle(session, row.id, status, reason, datetime.now(UTC))
