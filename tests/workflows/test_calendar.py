"""Working-time deadlines: what a "+4h" means on a Friday afternoon or before a holiday."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from workflows.calendar import add_working_time
from workflows.policy import BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SHANGHAI)


@pytest.mark.parametrize("start, hours, expected", [
    (local(2026, 11, 27, 17), 4, local(2026, 11, 30, 12)),    # Fri 17:00 -> Mon 12:00
    (local(2026, 11, 28, 10), 1, local(2026, 11, 30, 10)),    # Saturday: starts Monday 09:00
    (local(2026, 11, 30, 7), 2, local(2026, 11, 30, 11)),     # before opening
    (local(2026, 11, 30, 10), 9, local(2026, 12, 1, 10)),     # a whole working day
])
def test_deadlines_count_working_hours_only(start: datetime, hours: float,
                                            expected: datetime) -> None:
    cal = BusinessCalendar(timezone="Asia/Shanghai", hours=WEEK)
    assert add_working_time(start.astimezone(UTC), hours * 3600, cal) == expected


def test_weekend_and_holiday_are_skipped() -> None:
    cal = BusinessCalendar(timezone="Asia/Shanghai", hours=WEEK,
                           holidays=["2026-10-01", "2026-10-02"])
    # Wed 30 Sep 16:00 + 4h: 2h on Wednesday, Thu/Fri are holidays, weekend, 2h on Monday.
    assert add_working_time(local(2026, 9, 30, 16), 4 * 3600, cal) == local(2026, 10, 5, 11)


def test_lunch_break_is_not_working_time() -> None:
    cal = BusinessCalendar(timezone="Asia/Shanghai",
                           hours={"mon": ["09:00-12:00", "13:00-18:00"]})
    assert add_working_time(local(2026, 11, 30, 11), 2 * 3600, cal) == local(2026, 11, 30, 14)


def test_calendar_without_hours_is_an_error() -> None:
    cal = BusinessCalendar(timezone="UTC", hours={"mon": []})
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 1, 1, tzinfo=UTC), 60, cal)
