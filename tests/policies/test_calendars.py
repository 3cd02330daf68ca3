"""Yearly holiday calendars (policies/calendars/): the shipped files, what the loader refuses,
and a policy taking them by name (`holidays_from`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from policies import DURATION_KEYS, PolicyError, parse_policy
from policies.calendars import (
    CALENDAR_DIR,
    CalendarFileError,
    YearCalendar,
    calendar_names,
    load_calendar,
)

CN_2026: dict[str, Any] = json.loads((CALENDAR_DIR / "cn-2026.json").read_text(encoding="utf-8"))


def test_2026_follows_the_state_council_notice() -> None:
    cal = load_calendar("cn-2026")
    assert not cal.provisional
    holidays = cal.holiday_dates()
    assert len(holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert [f"2026-10-0{d}" for d in range(1, 8)] == [h for h in holidays if h >= "2026-10"]
    assert cal.working_day_dates() == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09",
                                       "2026-09-20", "2026-10-10"]


def test_2027_is_provisional_statutory_days_without_make_up_days() -> None:
    cal = load_calendar("cn-2027")
    assert cal.provisional and cal.working_days == []
    # 2024 rules: 元旦 1, 春节 除夕-初三 4 (除夕 Feb 5), 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3.
    assert cal.holiday_dates() == [
        "2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-04-05",
        "2027-05-01", "2027-05-02", "2027-06-09", "2027-09-15", "2027-10-01", "2027-10-02",
        "2027-10-03"]


def test_shipped_calendars_are_listed() -> None:
    assert {"cn-2026", "cn-2027"} <= set(calendar_names())


@pytest.mark.parametrize("change, words", [
    ({"working_days": [{"date": "2026-10-09", "for": "国庆节"}]}, "not a Saturday or Sunday"),
    ({"working_days": [{"date": "2026-10-03", "for": "国庆节"}]}, "also a holiday"),
    ({"working_days": [{"date": "2026-10-10", "for": "圣诞节"}]}, "not a holiday here"),
    ({"provisional": True}, "provisional calendar lists no make-up"),
    ({"year": 2027}, "not in 2027"),
    ({"holidays": [{"name": "国庆节", "name_en": "National Day", "from": "2026-10-07",
                    "to": "2026-10-01"}], "working_days": []}, "before 'from'"),
    ({"holidays": CN_2026["holidays"] + [CN_2026["holidays"][-1]]}, "overlaps"),
    ({"extra": 1}, "extra"),
])
def test_inconsistent_files_are_refused(change: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        YearCalendar.model_validate({**CN_2026, **change})


def test_unknown_calendar_name_is_refused() -> None:
    with pytest.raises(CalendarFileError, match="no calendar 'cn-2031'"):
        load_calendar("cn-2031")


def _with_calendar(**calendar: Any) -> dict[str, Any]:
    hours = {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    durations = {k: "PT1H" for k in DURATION_KEYS}
    return {**durations, "calendar": {"timezone": "Asia/Shanghai", "hours": hours, **calendar}}


def test_policy_takes_holidays_and_make_up_days_by_name() -> None:
    cal = parse_policy("p", _with_calendar(holidays_from=["cn-2026", "cn-2027"]), "body").calendar
    assert cal is not None
    assert "2026-10-07" in cal.holidays and "2027-02-05" in cal.holidays
    assert cal.working_days == load_calendar("cn-2026").working_day_dates()


def test_policy_dates_override_the_files() -> None:
    # The company works on Oct 7 and stays closed on the make-up Saturday Oct 10.
    body = _with_calendar(holidays_from=["cn-2026"], holidays=["2026-10-10", "2026-12-24"],
                          working_days=["2026-10-07"])
    cal = parse_policy("p", body, "body").calendar
    assert cal is not None
    assert "2026-10-07" not in cal.holidays and "2026-10-07" in cal.working_days
    assert "2026-10-10" in cal.holidays and "2026-10-10" not in cal.working_days
    assert "2026-12-24" in cal.holidays


@pytest.mark.parametrize("calendar, words", [
    ({"holidays_from": ["cn-2031"]}, "key 'calendar.holidays_from[1]': no calendar 'cn-2031'"),
    ({"holidays_from": ["../etc"]}, "key 'calendar.holidays_from[1]'"),
    ({"holidays": ["2026-10-10"], "working_days": ["2026-10-10"]},
     "2026-10-10 is both a holiday and a working day"),
    ({"working_days": ["10/10/2026"]}, "not a date like 2026-10-01"),
])
def test_bad_calendar_keys_are_refused_naming_the_key(calendar: dict[str, Any],
                                                      words: str) -> None:
    with pytest.raises(PolicyError, match=re.escape(words)):
        parse_policy("p", _with_calendar(**calendar), "body")


def test_a_policy_without_the_new_keys_reads_as_before() -> None:
    body = _with_calendar(holidays=["2026-10-02", "2026-10-01"])
    cal = parse_policy("p", body, "body").calendar
    assert cal is not None
    assert cal.holidays == ["2026-10-02", "2026-10-01"] and cal.working_days == []


def test_calendar_dir_holds_only_valid_calendars() -> None:
    for path in Path(CALENDAR_DIR).glob("*.json"):
        assert load_calendar(path.stem).name == path.stem
