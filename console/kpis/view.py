"""What the console's KPI page shows: the period asked for, its figures (one compute_kpis, the
same as GET /v1/kpis), and OTIF and on-time per week (one compute_kpis per week, at most
MAX_BUCKETS), optionally for one customer and/or one tier."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kpis import KpiQuery, PeriodError, compute_kpis
from kpis.models import KpiFigures, Rate
from kpis.periods import range_bounds

DEFAULT_WEEKS, MAX_WEEKS, MAX_BUCKETS = 8, 26, 12
TIERS = ("standard", "key_account")


@dataclass
class KpiPage:
    start: datetime  # UTC, [start, end)
    end: datetime
    as_of: datetime
    first_day: date  # the period in days of the business zone, end included
    last_day: date
    figures: KpiFigures
    weeks: list[tuple[date, Rate, Rate]] = field(default_factory=list)  # (first day, otif, on time)


def week_bounds(weeks: int, today: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The last `weeks` weeks, Monday to Sunday in the business zone, this week included."""
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(weeks=weeks - 1)
    return (datetime.combine(start, time(0), tz).astimezone(UTC),
            datetime.combine(monday + timedelta(weeks=1), time(0), tz).astimezone(UTC))


def period(weeks: str, from_: str, to: str, tz: ZoneInfo, now: datetime
           ) -> tuple[datetime, datetime, int]:
    """From/to dates if both are given, else weeks back; PeriodError names what is wrong."""
    if from_ or to:
        if not (from_ and to):
            raise PeriodError("invalid_range", "give both from and to")
        start, end = range_bounds(from_, to, tz)
        return start, end, 0
    try:
        n = int(weeks) if weeks else DEFAULT_WEEKS
    except ValueError as exc:
        raise PeriodError("invalid_weeks", "weeks must be a whole number") from exc
    if not 1 <= n <= MAX_WEEKS:
        raise PeriodError("invalid_weeks", f"weeks must be 1 to {MAX_WEEKS}")
    start, end = week_bounds(n, now.astimezone(tz).date(), tz)
    return start, end, n


def _pick(report_groups: list, total: KpiFigures, want: dict[str, str]) -> KpiFigures:
    if not want:
        return total
    for group in report_groups:
        if all(group.key.get(k) == v for k, v in want.items()):
            return group.figures
    return KpiFigures()  # nothing of that customer or tier in the period


def figures(session: Session, start: datetime, end: datetime, as_of: datetime,
            want: dict[str, str], tz: ZoneInfo) -> KpiFigures:
    report = compute_kpis(session, KpiQuery(start, end, sorted(want), as_of), tz)
    return _pick(report.groups, report.total, want)


def build(session: Session, start: datetime, end: datetime, want: dict[str, str], tz: ZoneInfo,
          now: datetime) -> KpiPage:
    as_of = now  # as GET /v1/kpis takes it: what is known now, about the period
    page = KpiPage(start=start, end=end, as_of=as_of,
                   first_day=start.astimezone(tz).date(),
                   last_day=(end - timedelta(microseconds=1)).astimezone(tz).date(),
                   figures=figures(session, start, end, as_of, want, tz))
    # Buckets of whole weeks, as many as it takes to cover the period in at most MAX_BUCKETS.
    days = (end - start).days or 1
    size = timedelta(weeks=max(1, -(-days // (7 * MAX_BUCKETS))))
    cursor = start
    while cursor < end and cursor < now:
        stop = min(cursor + size, end)
        f = figures(session, cursor, stop, now, want, tz)
        page.weeks.append((cursor.astimezone(tz).date(), f.otif, f.on_time))
        cursor = stop
    return page
