"""Which customer channels a customer notice goes out on, and how (issue 19 §3).

For a customer notice `enqueue` asks `CustomerChannels.rows`:

* **email** to `customer_email`, as before; `skipped` ("customer opted out of email") if the
  customer stopped e-mail (db/notifications/preferences.py).
* **sms** to `customer_phone`, for the notices that have an SMS template
  (`templates/notifications/sms/<event_type>.txt`, both languages in one file, one line each):
  `skipped` if the customer stopped SMS, or when the order's SMS for the local day reached the
  cap; otherwise pending, due at once or when the quiet hours end
  (db/notifications/customer_rules.py). The row's body is the text itself; its payload's `sms`
  says the provider's template variables and how many segments the text costs.

Skipped rows are written all the same, so the outbox records what was not sent and why.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.notifications import preferences
from db.notifications.customer_rules import (
    NoticeRules,
    local_day,
    quiet_until,
    sms_as_received,
    sms_segments,
)
from db.notifications.models import Channel, OutboxRow, OutboxStatus
from db.notifications.templates import TEMPLATE_DIR, display, load, render

SMS_TEMPLATE_DIR = TEMPLATE_DIR / "sms"
OPTED_OUT = "customer opted out of {channel}"
OVER_CAP = "over the daily sms cap ({cap} per order and day)"


@dataclass
class RowSpec:
    """One customer row to write: its channel, recipient and how it starts."""

    channel: Channel
    recipient: str
    status: OutboxStatus = OutboxStatus.PENDING
    reason: str | None = None  # why it is skipped
    due_at: datetime | None = None  # not sent before (quiet hours)
    body: str | None = None  # instead of the e-mail body (the SMS text)
    payload: dict[str, Any] = field(default_factory=dict)  # added to the row's payload


def has_sms(event_type: str) -> bool:
    return (SMS_TEMPLATE_DIR / f"{event_type}.txt").is_file()


def sms_text(locale: str, event_type: str, values: dict[str, Any]) -> str:
    """The SMS of `event_type` in `locale`: its template's one line, filled in."""
    return render(locale, event_type, values, root=SMS_TEMPLATE_DIR)[0]


def sms_variables(locale: str, event_type: str) -> list[str]:
    """The `{name}` fields the SMS template uses: the provider's template variables."""
    line = load(locale, event_type, SMS_TEMPLATE_DIR)[0]
    return [name for _, name, _, _ in string.Formatter().parse(line) if name]


class CustomerChannels:
    """Decides the customer rows of one `enqueue` call; remembers what it read (a customer's
    choice, an order's SMS count today) so a batch of notices is counted as one."""

    def __init__(self, session: Session, rules: NoticeRules, now: datetime) -> None:
        self._session = session
        self._rules = rules
        self._now = now
        self._choices: dict[str, preferences.Channels] = {}
        self._sms_today: dict[str, int] = {}

    def _choice(self, customer_id: str | None) -> preferences.Channels:
        if not customer_id:
            return preferences.Channels()
        if customer_id not in self._choices:
            self._choices[customer_id] = preferences.get(self._session, customer_id)
        return self._choices[customer_id]

    def _sms_count(self, order_id: str, zone_name: str | None) -> int:
        if order_id not in self._sms_today:
            start, end = local_day(self._now, self._rules.zone(zone_name))
            self._sms_today[order_id] = self._session.scalar(
                select(func.count(OutboxRow.id)).where(
                    OutboxRow.order_id == order_id, OutboxRow.channel == Channel.SMS.value,
                    OutboxRow.status != OutboxStatus.SKIPPED.value,
                    OutboxRow.created_at >= start, OutboxRow.created_at < end)) or 0
        return self._sms_today[order_id]

    def rows(self, *, customer_id: str | None, email: str | None, phone: str | None,
             zone: str | None, order_id: str | None, event_type: str, locale: str,
             values: dict[str, Any], row_id: Callable[[str, str], str]) -> list[RowSpec]:
        """The notice's customer rows; `row_id(channel, recipient)` is a row's outbox id."""
        choice = self._choice(customer_id)
        specs: list[RowSpec] = []
        if email and email.strip():
            spec = RowSpec(Channel.EMAIL, email.strip())
            if not choice.email:
                spec.status, spec.reason = OutboxStatus.SKIPPED, OPTED_OUT.format(channel="email")
            specs.append(spec)
        if phone and phone.strip() and order_id and has_sms(event_type):
            phone = phone.strip()
            written = self._session.get(OutboxRow, row_id(Channel.SMS.value, phone)) is not None
            specs.append(self._sms(choice, phone, zone, order_id, event_type, locale, values,
                                   counted=written))
        return specs

    def _sms(self, choice: preferences.Channels, phone: str, zone: str | None, order_id: str,
             event_type: str, locale: str, values: dict[str, Any], counted: bool) -> RowSpec:
        """`counted`: the row exists already (a retried writer): its insert will do nothing,
        so it takes no place under the cap again."""
        text = sms_text(locale, event_type, values)
        params = {name: _param(values.get(name)) for name in sms_variables(locale, event_type)}
        segments = sms_segments(sms_as_received(self._rules.sms_sign_name, text))
        spec = RowSpec(Channel.SMS, phone, body=text, payload={"sms": {
            "template_params": params, "segments": segments}})
        if counted:
            return spec
        if not choice.sms:
            spec.status, spec.reason = OutboxStatus.SKIPPED, OPTED_OUT.format(channel="sms")
            return spec
        if self._sms_count(order_id, zone) >= self._rules.sms_daily_cap:
            spec.status = OutboxStatus.SKIPPED
            spec.reason = OVER_CAP.format(cap=self._rules.sms_daily_cap)
            return spec
        self._sms_today[order_id] += 1
        spec.due_at = quiet_until(self._now, self._rules.zone(zone), self._rules.quiet_hours)
        return spec


def _param(value: Any) -> str:
    """A template variable as the provider gets it: text (times as the templates show them)."""
    return display(value)
