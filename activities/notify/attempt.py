"""One delivery attempt on one outbox row: claiming the row, then recording what the send did.

A channel (activities/notify/{email,webhook,inbox}_channel.py) claims the row before anything
leaves the process and records the outcome right after the send: `delivered`; `pending` again
with the time the next retry is due; or `failed` (a permanent refusal, or no attempts left).
Each is one conditional UPDATE (db/notifications/delivery_state.py), so an attempt that
outlived its claim cannot overwrite the attempt that took the row over.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from db.engine import transaction
from db.notifications.delivery_state import (
    claim,
    finish,
    get_row,
    release,
    retry_unclaimed,
    settle,
)
from db.notifications.models import Channel, OutboxRow, OutboxStatus
from observability.metrics import delivery_attempt

log = logging.getLogger("waybill.notify")

OUTCOME_WRITE_TRIES = 4

_T = TypeVar("_T")
# What a channel records besides the row's own outcome (a subscription's success or failure).
AlsoOnDelivered = Callable[[Session, datetime], None]
OnFailure = Callable[[Session, str, datetime, bool], None]


class NotSent(Exception):
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


def last_attempt() -> bool:
    """True if Temporal will not retry this activity attempt."""
    info = activity.info()
    policy = info.retry_policy
    return bool(policy and policy.maximum_attempts and info.attempt >= policy.maximum_attempts)


def final_status(status: str) -> str:
    """What `deliver` returns for a row already past this attempt."""
    return "already_delivered" if status == OutboxStatus.DELIVERED else status


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def _mask_phone(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    return f"***{digits[-4:]}"


class Attempt:
    """This activity attempt's work on `row` (a detached copy, read before the attempt).

    `retry` and `timeout` stand in for the activity's own retry policy and start-to-close
    timeout when it has none (an activity run directly, as tests do).
    """

    def __init__(self, sessions: sessionmaker[Session], row: OutboxRow, retry: RetryPolicy,
                 timeout: timedelta) -> None:
        self.sessions = sessions
        self.row = row
        self._retry = retry
        self._timeout = timeout

    # -- claiming -----------------------------------------------------------------------------

    def claim(self) -> str | None:
        """Claim the row in a transaction of its own; None if another attempt has it."""
        with transaction(self.sessions) as session:
            return self.claim_in(session, datetime.now(UTC))

    def claim_in(self, session: Session, now: datetime) -> str | None:
        """Claim the row until this attempt's deadline, after which Temporal retries it (and
        the retry may take the row over)."""
        token = uuid.uuid4().hex
        deadline = now + (activity.info().start_to_close_timeout or self._timeout)
        return token if claim(session, self.row.id, token, now, deadline) else None

    # -- outcomes -----------------------------------------------------------------------------

    def delivered(self, token: str, also: AlsoOnDelivered | None = None,
                  http_status: int | None = None) -> str:
        def write(session: Session) -> None:
            now = datetime.now(UTC)
            finish(session, self.row.id, token, OutboxStatus.DELIVERED, None, now, http_status)
            if also:
                also(session, now)

        self._write_outcome(write)
        self.log_delivered()
        return OutboxStatus.DELIVERED.value

    def failed(self, token: str, exc: NotSent, on_failure: OnFailure | None = None,
               http_status: int | None = None) -> str:
        """This attempt did not get the message accepted: retry later (raises, for Temporal
        to retry), or (permanent refusal, last attempt) the delivery has failed."""
        def write(session: Session) -> bool:
            now = datetime.now(UTC)
            final = exc.permanent or last_attempt()
            if final:
                finish(session, self.row.id, token, OutboxStatus.FAILED, str(exc), now,
                       http_status)
            else:
                # False: our claim was taken over (we outlived our deadline); its owner goes on.
                release(session, self.row.id, token, str(exc), now + self._next_retry(),
                        http_status)
            if on_failure:
                on_failure(session, str(exc), now, final)
            return final

        if self._write_outcome(write):
            delivery_attempt(self.row.channel, "failed")
            log.warning("notification failed", extra={**self.where(), "error": str(exc)})
            return OutboxStatus.FAILED.value
        delivery_attempt(self.row.channel, "retry")
        log.info("notification not delivered; will retry",
                 extra={**self.where(), "error": str(exc)})
        raise ApplicationError(str(exc), type="DeliveryNotAccepted")

    def not_sent_before_claim(self, error: str) -> str:
        """Nothing was claimed or sent (e.g. the SMTP server is down): retry or give up."""
        if last_attempt():
            delivery_attempt(self.row.channel, "failed")
            return self.settle(OutboxStatus.FAILED, error)
        delivery_attempt(self.row.channel, "retry")
        now = datetime.now(UTC)
        with transaction(self.sessions) as session:
            retry_unclaimed(session, self.row.id, error, now, now + self._next_retry())
        log.info("notification not delivered; will retry",
                 extra={**self.where(), "error": error})
        raise ApplicationError(error, type="DeliveryNotAccepted")

    def settle(self, status: OutboxStatus, reason: str) -> str:
        """Give the pending row a final status without sending (skipped, failed)."""
        with transaction(self.sessions) as session:
            if not self.settle_in(session, status, reason):
                return self.current(session)
        log.info("notification settled without sending",
                 extra={**self.where(), "status": status.value, "reason": reason})
        return status.value

    def settle_in(self, session: Session, status: OutboxStatus, reason: str) -> bool:
        return settle(session, self.row.id, status, reason, datetime.now(UTC))

    def _write_outcome(self, write: Callable[[Session], _T]) -> _T:
        """Record what a send did, retrying a database hiccup a few times: if this cannot be
        written the row stays `sending` until its claim expires, and is then sent again."""
        for attempt in range(1, OUTCOME_WRITE_TRIES + 1):
            try:
                with transaction(self.sessions) as session:
                    return write(session)
            except OperationalError:
                if attempt == OUTCOME_WRITE_TRIES:
                    raise
                log.warning("could not record a delivery outcome; trying again",
                            extra={"attempt": attempt}, exc_info=True)
                time.sleep(0.2 * 2**attempt)
        raise AssertionError("unreachable")

    def _next_retry(self) -> timedelta:
        info = activity.info()
        return retry_delay(info.retry_policy or self._retry, info.attempt)

    # -- reading back -------------------------------------------------------------------------

    def current_status(self) -> str:
        """The row's status now, in a transaction of its own (another attempt moved it)."""
        with transaction(self.sessions) as session:
            return self.current(session)

    def current(self, session: Session) -> str:
        row = get_row(session, self.row.id)
        return final_status(row.status if row else OutboxStatus.SKIPPED.value)

    # -- logging ------------------------------------------------------------------------------

    def where(self) -> dict[str, Any]:
        """The log fields of this attempt; an e-mail address only masked."""
        row = self.row
        where: dict[str, Any] = {"outbox_id": row.id, "channel": row.channel,
                                 "event_type": row.event_type, "order_id": row.order_id,
                                 "attempt": activity.info().attempt}
        if row.channel == Channel.EMAIL:
            where["recipient"] = _mask_email(row.recipient)
        elif row.channel == Channel.SMS:
            where["recipient"] = _mask_phone(row.recipient)
        elif row.channel == Channel.WEBHOOK:
            where["subscription_id"] = row.recipient
        else:
            where["team"] = row.recipient
        return where

    def log_delivered(self) -> None:
        """Log (and count) a delivered message: every channel's success passes here."""
        delivery_attempt(self.row.channel, "delivered")
        log.info("notification delivered", extra=self.where())
