"""The e-mail channel: one message per row over SMTP, with the row id as its stable
`Message-ID`, so a resent message can be dropped as a duplicate by mail systems.

Without `smtp_host` the row is `skipped` ("smtp not configured"). A 5xx answer is a permanent
refusal (the delivery fails at once); anything else is retried.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from activities.notify.attempt import Attempt, NotSent
from config import Settings
from db.notifications.models import OutboxRow, OutboxStatus


def deliver_by_email(attempt: Attempt, settings: Settings) -> str:
    row = attempt.row
    if not settings.smtp_host:
        return attempt.settle(OutboxStatus.SKIPPED, "smtp not configured")
    try:
        smtp = _connect(settings)
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        return attempt.not_sent_before_claim(f"smtp connect: {exc}")
    try:
        token = attempt.claim()
        if token is None:
            return attempt.current_status()
        try:
            smtp.send_message(message(row, settings.smtp_from))
        except smtplib.SMTPRecipientsRefused as exc:
            code = max((c for c, _ in exc.recipients.values()), default=550)
            return attempt.failed(token, NotSent(f"smtp refused recipient: {code}",
                                                 permanent=500 <= code < 600))
        except smtplib.SMTPResponseException as exc:
            reason = exc.smtp_error.decode(errors="replace") if isinstance(
                exc.smtp_error, bytes) else str(exc.smtp_error)
            return attempt.failed(token, NotSent(f"smtp {exc.smtp_code}: {reason}",
                                                 permanent=500 <= exc.smtp_code < 600))
        except (smtplib.SMTPException, OSError) as exc:
            # It may have arrived: sent again, and Message-ID lets mail systems de-dup.
            return attempt.failed(token, NotSent(f"smtp send broke off: {exc!r}"))
        return attempt.delivered(token)
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _connect(s: Settings) -> smtplib.SMTP:
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


def message(row: OutboxRow, sender: str) -> EmailMessage:
    """The row as an e-mail from `sender`; the same Message-ID on every attempt."""
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
