"""Working-time arithmetic for business calendars (deterministic: no clock, no I/O but tzdata)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.policy import BusinessCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 3 * 366  # a calendar with working time finds it long before this


def _day_hours(cal: BusinessCalendar, day: date) -> list[str]:
    """The spans written for `day`: none on a holiday; on a make-up working day (调休) the hours
    of a normal working day, i.e. of the first of Monday..Friday that has hours (Monday in a
    usual calendar), whatever the weekday it falls on."""
    iso = day.isoformat()
    if iso in cal.holidays:
        return []
    if iso in cal.working_days:
        normal = (cal.hours.get(d) for d in WEEKDAYS[:5])
        return next((spans for spans in normal if spans), [])
    return cal.hours.get(WEEKDAYS[day.weekday()], [])


def _spans(cal: BusinessCalendar, day: date) -> list[tuple[time, time]]:
    spans = []
    for span in _day_hours(cal, day):
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


def working_time_between(start: datetime, end: datetime, cal: BusinessCalendar) -> float:
    """Seconds of the calendar's working time from `start` to `end` (0 if `end` is not later).

    What is left of a deadline when its clock pauses: `add_working_time(resume, left, cal)`
    is then where it lands.
    """
    tz = ZoneInfo(cal.timezone)
    begin_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta()
    day, last = begin_utc.astimezone(tz).date(), end_utc.astimezone(tz).date()
    while day <= last:
        for open_t, close_t in _spans(cal, day):
            opens = max(datetime.combine(day, open_t, tz).astimezone(UTC), begin_utc)
            closes = min(datetime.combine(day, close_t, tz).astimezone(UTC), end_utc)
            if closes > opens:
                total += closes - opens
        day += timedelta(days=1)
    return total.total_seconds()
