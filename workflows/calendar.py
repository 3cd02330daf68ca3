"""Working-time arithmetic for business calendars (deterministic: no clock, no I/O but tzdata)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.policy import BusinessCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 3 * 366  # a calendar with working time finds it long before this


def _spans(cal: BusinessCalendar, day: date) -> list[tuple[time, time]]:
    if day.isoformat() in cal.holidays:
        return []
    spans = []
    for span in cal.hours.get(WEEKDAYS[day.weekday()], []):
        start, end = span.split("-")
        end_t = time.max if end == "24:00" else time.fromisoformat(end)
        spans.append((time.fromisoformat(start), end_t))
    return sorted(spans)


def add_working_time(start: datetime, seconds: float, cal: BusinessCalendar) -> datetime:
    """The instant `seconds` of working time after `start`, counting only the calendar's hours.

    E.g. 4h from Friday 17:00 with hours 09:00-18:00 Mon-Fri is Monday 12:00.
    """
    tz = ZoneInfo(cal.timezone)
    remaining = timedelta(seconds=seconds)
    cursor = start.astimezone(UTC)
    day = start.astimezone(tz).date()
    for _ in range(_MAX_DAYS):
        for open_t, close_t in _spans(cal, day):
            opens = datetime.combine(day, open_t, tz).astimezone(UTC)
            closes = datetime.combine(day, close_t, tz).astimezone(UTC)
            if closes <= cursor:
                continue
            begin = max(opens, cursor)
            if begin + remaining <= closes:
                return begin + remaining
            remaining -= closes - begin
            cursor = closes
        day += timedelta(days=1)
    raise ValueError("the business calendar has no working time")
