"""Reading periods in the business time zone: a month, or a from/to given as dates or instants.

A date means a whole day of the business zone: `from=2026-11-01&to=2026-11-30` is November,
i.e. [2026-10-31T16:00Z, 2026-11-30T16:00Z) in Asia/Shanghai. An instant with an offset is
taken as it is; one without is read in the business zone. `to` is exclusive for instants.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_RANGE = timedelta(days=366)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """Bad period input; `code` is the machine-readable reason."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PeriodError("invalid_timezone", f"{name!r} is not an IANA time zone") from exc


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """`YYYY-MM` as [first instant, first instant of the next month) of the zone, in UTC."""
    match = _MONTH.match(month or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError("invalid_month", "month must be YYYY-MM, e.g. 2026-11", month=month)
    year, mon = int(match.group(1)), int(match.group(2))
    nxt = date(year + mon // 12, mon % 12 + 1, 1)
    return _day_start(date(year, mon, 1), tz), _day_start(nxt, tz)


def _parse(value: str, name: str, tz: ZoneInfo, end: bool) -> datetime:
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return _day_start(day + timedelta(days=1) if end else day, tz)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise PeriodError("invalid_date", f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 "
                                          "date-time", parameter=name, value=value) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def range_bounds(from_: str, to: str, tz: ZoneInfo,
                 max_range: timedelta = MAX_RANGE) -> tuple[datetime, datetime]:
    """Parse `from`/`to`; a date `to` includes that whole day."""
    start, stop = _parse(from_, "from", tz, end=False), _parse(to, "to", tz, end=True)
    if start >= stop:
        raise PeriodError("invalid_range", "from must be before to",
                          **{"from": start.isoformat(), "to": stop.isoformat()})
    if stop - start > max_range:
        raise PeriodError("range_too_long", f"the range may span at most {max_range.days} days",
                          max_days=max_range.days)
    return start, stop


def previous_day(now: datetime, tz: ZoneInfo) -> str:
    """The business zone's day before the one `now` falls on, as YYYY-MM-DD."""
    return (now.astimezone(tz).date() - timedelta(days=1)).isoformat()


def previous_month(now: datetime, tz: ZoneInfo) -> str:
    """The last full month of the business zone at `now`, as YYYY-MM."""
    first = now.astimezone(tz).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")
