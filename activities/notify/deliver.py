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
* **Webhooks** are signed, sent to a checked address only, and only their status code is kept
  (activities/notify/webhook_channel.py).
* **Failures** are counted per *delivery*, not per attempt: a subscription's
  `consecutive_failures` goes up by one when a delivery ends `failed` (its 24 h of attempts
  all failed) and back to 0 on any delivered message. At `webhook_max_failures` the
  subscription is disabled, an inbox alert goes to the `admin` team and an error is logged. A
  receiver down for a day gets disabled; a one-minute blip costs a few retries, no failure.
* **Disabled subscription**: rows already written for it are held `pending` (not sent, no
  attempt counted); the sweep leaves them alone until an admin re-enables the subscription,
  then delivers them. Events while it is disabled write no rows for it (`enqueue` in
  db/notifications/outbox.py). Rows of a deleted subscription are `skipped`.
* Email without `smtp_host` configured is `skipped` ("smtp not configured")
  (activities/notify/email_channel.py); SMS without a provider key likewise ("sms not
  configured"), and an SMS due after the quiet hours waits for them to end
  (activities/notify/sms_channel.py).

Here: the activity, which reads the row and hands it to its channel. Claiming a row and recording
an attempt's outcome: activities/notify/attempt.py; the row's states:
db/notifications/delivery_state.py.

`deliver` returns the row's status: "delivered", "already_delivered", "skipped", "failed",
"held" (subscription disabled), "sending" (another attempt holds it, on our last attempt) or
"handed_off" (called by a workflow started before deliveries were workflows of their own: its
rows are delivered by their DeliveryWorkflow or the sweep, so it does nothing). It raises (for
Temporal to retry) only while attempts remain; on the last attempt it records `failed` and
returns.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from activities.notify.attempt import Attempt, final_status, last_attempt
from activities.notify.carrier_channel import deliver_by_carrier
from activities.notify.email_channel import deliver_by_email
from activities.notify.inbox_channel import deliver_by_inbox
from activities.notify.sms_channel import deliver_by_sms, provider_for
from activities.notify.webhook_channel import deliver_by_webhook
from activities.notify.webhook_targets import Resolver, system_resolver
from config import Settings
from db.engine import transaction
from db.notifications.delivery_state import claim_is_dead, get_row
from db.notifications.models import Channel, OutboxStatus
from workflows.notify.types import DeliverInput

log = logging.getLogger("waybill.notify")

# A little over 24 hours of retries on durable server-side timers: 5 s, 10 s, 20 s ... then
# hourly (waits add up to 24 h 25 min over 34 attempts), then `failed`. See
# activities/notify/attempt.py `retry_delays`.
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(hours=1),
    maximum_attempts=34,
)
# One attempt: longer than the webhook or SMTP timeout plus the database round trips.
DELIVERY_TIMEOUT = timedelta(seconds=60)

HANDED_OFF = "handed_off"


class NotifierActivities:
    """Delivers outbox rows; `sessions` reach the application database."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 resolver: Resolver = system_resolver) -> None:
        self._sessions = sessions
        self._settings = settings
        self._resolver = resolver  # a seam: tests point a host name at any address
        self._sms = provider_for(settings)  # None: SMS not configured (rows skipped)

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
            attempt = Attempt(self._sessions, row, DELIVERY_RETRY, DELIVERY_TIMEOUT)
            if row.status == OutboxStatus.SENDING:
                if not claim_is_dead(row, now):
                    if last_attempt():
                        return OutboxStatus.SENDING.value  # its attempt records the outcome
                    raise ApplicationError("another attempt is sending it",
                                           type="DeliveryInProgress")
                log.warning("delivery interrupted earlier; sending again (at least once)",
                            extra=attempt.where())
            elif row.status != OutboxStatus.PENDING:
                return final_status(row.status)
            session.expunge(row)
        if row.channel == Channel.INBOX:
            return deliver_by_inbox(attempt)
        if row.channel == Channel.EMAIL:
            return deliver_by_email(attempt, self._settings)
        if row.channel == Channel.WEBHOOK:
            return deliver_by_webhook(attempt, self._settings, self._resolver)
        if row.channel == Channel.CARRIER:  # issue 19 §1: a tracking number subscribed
            return deliver_by_carrier(attempt, self._settings)
        if row.channel == Channel.SMS:
            return deliver_by_sms(attempt, self._settings, self._sms)
        raise ApplicationError(f"unknown channel {row.channel}", type="UnknownChannel",
                               non_retryable=True)
