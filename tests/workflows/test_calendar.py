"""Working-time deadlines: what a "+4h" means on a Friday afternoon or before a holiday."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from workflows.calendar import add_working_time, working_time_between
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


# -- China's 2026 National Day (国庆 Oct 1-7 off; Sun Sep 20 and Sat Oct 10 work: 调休) --------

def cn_2026() -> BusinessCalendar:
    from policies.calendars import load_calendar  # the shipped file, as a policy takes it
    year = load_calendar("cn-2026")
    return BusinessCalendar(timezone="Asia/Shanghai", hours=WEEK,
                            holidays=year.holiday_dates(), working_days=year.working_day_dates())


@pytest.mark.parametrize("start, hours, expected", [
    # Wed Sep 30 10:00 + 2 working days (18h): 8h on Sep 30, 9h on Thu Oct 8, 1h on Fri Oct 9.
    (local(2026, 9, 30, 10), 18, local(2026, 10, 9, 10)),
    # + 17h: the whole of Oct 8, the first working day after the holiday.
    (local(2026, 9, 30, 10), 17, local(2026, 10, 8, 18)),
    # After Sep 30's close: the holiday and its weekend are skipped, Oct 8 opens the clock.
    (local(2026, 9, 30, 19), 2, local(2026, 10, 8, 11)),
    # Three working days from Sep 30 10:00 end on the make-up Saturday Oct 10.
    (local(2026, 9, 30, 10), 27, local(2026, 10, 10, 10)),
    # Fri Oct 9 17:00 + 2h: 1h on Friday, 1h on the make-up Saturday (not Monday Oct 12).
    (local(2026, 10, 9, 17), 2, local(2026, 10, 10, 10)),
    # Fri Sep 18 17:00 + 2h: the make-up Sunday Sep 20 works, with a weekday's hours.
    (local(2026, 9, 18, 17), 2, local(2026, 9, 20, 10)),
    # The Saturday before it does not: Sat Sep 19 10:00 + 1h lands on Sunday Sep 20.
    (local(2026, 9, 19, 10), 1, local(2026, 9, 20, 10)),
])
def test_national_day_2026_and_its_make_up_days(start: datetime, hours: float,
                                                expected: datetime) -> None:
    assert add_working_time(start.astimezone(UTC), hours * 3600, cn_2026()) == expected


def test_make_up_day_takes_the_hours_of_a_normal_working_day() -> None:
    # Monday has a lunch break; the make-up Saturday Oct 10 has it too (Saturday has no hours).
    hours = {"mon": ["09:00-12:00", "13:00-18:00"], "fri": ["09:00-12:00"], "sat": []}
    cal = BusinessCalendar(timezone="Asia/Shanghai", hours=hours, working_days=["2026-10-10"])
    assert add_working_time(local(2026, 10, 10, 11), 2 * 3600, cal) == local(2026, 10, 10, 14)


def test_holiday_wins_over_a_make_up_day_on_the_same_date() -> None:
    cal = BusinessCalendar(timezone="Asia/Shanghai", hours=WEEK, holidays=["2026-10-10"],
                           working_days=["2026-10-10"])
    assert add_working_time(local(2026, 10, 10, 10), 3600, cal) == local(2026, 10, 12, 10)


def test_working_time_between_counts_what_add_working_time_spends() -> None:
    cal = cn_2026()
    start = local(2026, 9, 29, 15)
    for hours in (1, 8, 12, 18, 27, 40):
        end = add_working_time(start, hours * 3600, cal)
        assert working_time_between(start, end, cal) == hours * 3600
    # Through the holiday: Sep 30, the two days after it and the make-up Saturday.
    assert working_time_between(local(2026, 9, 30, 0), local(2026, 10, 11, 0), cal) \
        == (9 + 9 + 9 + 9) * 3600  # Sep 30, Oct 8, Oct 9, Oct 10
    assert working_time_between(local(2026, 10, 2, 0), local(2026, 10, 1, 0), cal) == 0
