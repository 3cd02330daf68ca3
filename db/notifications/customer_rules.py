"""The rules of customer notices by SMS (issue 19 §3), pure: quiet hours in the customer's zone,
the local day a per-order cap counts in, and how many segments a text costs.

* **Quiet hours** (`WAYBILL_NOTICE_QUIET_HOURS`, e.g. `21:00-08:00`, in the customer's zone):
  an SMS written inside them falls due when they end; e-mail goes at once (it waits in the
  inbox, a text wakes the phone).
* **Daily cap** (`WAYBILL_NOTICE_SMS_DAILY_CAP`): SMS are paid; an order gets at most that many
  per local day (the day the notice was written, in the customer's zone); the rest are recorded
  `skipped` with the reason, never dropped silently. E-mail is not capped.
* **Segments**: a text in the GSM 7-bit alphabet fits 160 characters in one segment, 153 per
  segment of a longer one; anything else (Chinese) is UCS-2: 70, then 67 per segment. Counted
  in UTF-16 units, as the handset does.

Applied where the outbox rows are written (db/notifications/outbox.py `enqueue`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from config import Settings

# The GSM 03.38 basic alphabet; the extension table's characters take two septets.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True)
class NoticeRules:
    """The settings the rules read (config.py `notice_*`); the defaults are the settings'."""

    quiet_hours: str = "21:00-08:00"
    default_timezone: str = "Asia/Shanghai"
    sms_daily_cap: int = 3
    sms_sign_name: str = "Waybill"  # the provider puts it before the text: 【Waybill】

    @classmethod
    def from_settings(cls, settings: Settings) -> NoticeRules:
        return cls(quiet_hours=settings.notice_quiet_hours,
                   default_timezone=settings.notice_default_timezone,
                   sms_daily_cap=settings.notice_sms_daily_cap,
                   sms_sign_name=settings.sms_sign_name)

    def zone(self, name: str | None) -> ZoneInfo:
        """The customer's zone: `name` (the order's calendar zone) if it is one, else the
        default."""
        for candidate in (name, self.default_timezone):
            if candidate:
                try:
                    return ZoneInfo(candidate)
                except (ZoneInfoNotFoundError, ValueError):
                    continue
        return ZoneInfo("UTC")


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """`"21:00-08:00"` -> (21:00, 08:00); "" (or equal ends) -> None: no quiet hours."""
    if not text:
        return None
    start, _, end = text.partition("-")
    window = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    return None if window[0] == window[1] else window


def quiet_until(now: datetime, zone: ZoneInfo, quiet_hours: str) -> datetime | None:
    """When the quiet hours `now` falls in end (in `now`'s zone), or None if it is outside them.

    A window that crosses midnight (21:00-08:00) ends on the next morning when it starts in the
    evening, the same morning after midnight. The end is a wall-clock time in `zone`, so a DST
    change inside the night moves it with the clock.
    """
    window = parse_quiet_hours(quiet_hours)
    if window is None:
        return None
    start, end = window
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:  # a window inside one day, e.g. 12:00-14:00
        inside = start <= clock < end
        end_day = local.date()
    else:  # across midnight
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, zone).astimezone(now.tzinfo)


def local_day(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day in `zone` that `now` falls in, as [start, end) in `now`'s zone."""
    day = now.astimezone(zone).date()
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def sms_as_received(sign_name: str, text: str) -> str:
    """What the handset shows: the provider puts the sign name in brackets first."""
    return f"【{sign_name}】{text}"


def is_gsm7(text: str) -> bool:
    return all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text)


def sms_units(text: str) -> int:
    """The text's length as the network counts it: septets (GSM 7-bit) or UTF-16 units."""
    if is_gsm7(text):
        return sum(2 if c in _GSM_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def sms_segments(text: str) -> int:
    """How many segments (each billed as one message) `text` is sent as."""
    units = sms_units(text)
    single, multi = (160, 153) if is_gsm7(text) else (70, 67)
    if units <= single:
        return 1
    return math.ceil(units / multi)
