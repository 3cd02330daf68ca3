"""The SMS channel (issue 19 §3): one text per outbox row through an SMS provider.

A provider is anything with `send(SmsMessage) -> SmsSent` that raises `SmsNotSent`
(activities/notify/sms_provider.py); the one adapter is Aliyun's (aliyun_sms.py). Providers
send the text of a template approved in advance, by its code, with its variables; Waybill's own
copy of each text is `templates/notifications/sms/<event_type>.txt` (what the row's body
records), and `WAYBILL_SMS_TEMPLATE_CODES` names the provider's template per notice and language.

At least once with a stable id: the outbox row id is the provider's `OutId`, the same on every
attempt; an answer that may hide a delivery (a timeout, a 5xx, throttling) is retried under it.

* No `WAYBILL_SMS_ACCESS_KEY_ID`: the row is `skipped` ("sms not configured").
* No template code for the notice: `skipped` ("no sms template code for ...").
* Quiet hours: a row written inside them is due when they end (`next_attempt_at`, set by
  db/notifications/customer_channels.py); its first attempt waits until then on a durable
  server-side timer (the activity's next retry delay), counting no attempt on the row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.exceptions import ApplicationError

from activities.notify.aliyun_sms import AliyunSms
from activities.notify.attempt import Attempt, NotSent
from activities.notify.sms_provider import SmsMessage, SmsNotSent, SmsProvider
from config import Settings
from db.notifications.models import OutboxStatus


def provider_for(settings: Settings) -> SmsProvider | None:
    """The configured provider, or None when SMS is not configured."""
    if not settings.sms_access_key_id or settings.sms_access_key_secret is None:
        return None
    return AliyunSms(settings.sms_base_url, settings.sms_access_key_id,
                     settings.sms_access_key_secret.get_secret_value(), settings.sms_sign_name,
                     settings.sms_region_id, settings.sms_timeout_seconds)


def template_code(settings: Settings, event_type: str, locale: str) -> str | None:
    codes = settings.sms_template_codes
    return codes.get(f"{event_type}:{locale}") or codes.get(event_type)


def deliver_by_sms(attempt: Attempt, settings: Settings, provider: SmsProvider | None) -> str:
    row = attempt.row
    if provider is None:
        return attempt.settle(OutboxStatus.SKIPPED, "sms not configured")
    now = datetime.now(UTC)
    if row.attempts == 0 and row.next_attempt_at is not None and row.next_attempt_at > now:
        # Quiet hours in the customer's zone: the first send waits for their end. The delay
        # may exceed the retry policy's 1 h maximum (current servers honour it; one that caps
        # it retries early, finds the row still not due, and waits again).
        raise ApplicationError(f"quiet hours until {row.next_attempt_at.isoformat()}",
                               type="QuietHours", next_retry_delay=row.next_attempt_at - now)
    code = template_code(settings, row.event_type, row.locale)
    if code is None:
        return attempt.settle(OutboxStatus.SKIPPED,
                              f"no sms template code for {row.event_type}:{row.locale}")
    sms = (row.payload or {}).get("sms") or {}
    message = SmsMessage(phone=row.recipient, template_code=code,
                         params=dict(sms.get("template_params") or {}), out_id=row.id)
    token = attempt.claim()
    if token is None:
        return attempt.current_status()
    try:
        sent = provider.send(message)
    except SmsNotSent as exc:
        return attempt.failed(token, NotSent(str(exc), permanent=exc.permanent),
                              http_status=exc.http_status)
    return attempt.delivered(token, http_status=sent.http_status)
