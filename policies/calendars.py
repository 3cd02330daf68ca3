"""Yearly holiday calendars (policies/calendars/<name>.json): a country's public holidays and
make-up working days (调休) for one year, as its government's notice gives them.

A policy's calendar names the files it takes (`holidays_from: [cn-2026, cn-2027]`); parsing
the policy reads them (policies/schema.py), so an order copies the dates themselves and a
replaced file (a provisional year once the notice is out) counts for orders started after it.
"""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

CALENDAR_DIR = Path(__file__).with_name("calendars")
NAME_PATTERN = r"^[a-z]{2}-\d{4}$"  # country and year, e.g. cn-2026
_Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
_Words = Annotated[str, StringConstraints(min_length=1, max_length=200)]
SATURDAY = 5


class CalendarFileError(ValueError):
    """A calendar that cannot be read or is inconsistent; the message names the file."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NamedHoliday(_Part):
    """Days off in a row, first to last inclusive (one day: the same date twice)."""

    name: _Words
    name_en: _Words
    from_: date = Field(alias="from")
    to: date

    def dates(self) -> list[date]:
        return [date.fromordinal(n) for n in range(self.from_.toordinal(),
                                                   self.to.toordinal() + 1)]


class MakeUpDay(_Part):
    """A weekend day that works (调休), and the holiday it makes up for."""

    date: date
    for_: _Words = Field(alias="for")


class YearCalendar(_Part):
    name: _Name
    year: int
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    source: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    provisional: StrictBool
    holidays: list[NamedHoliday] = Field(min_length=1, max_length=60)
    working_days: list[MakeUpDay] = Field(max_length=60)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        off: set[date] = set()
        for h in self.holidays:
            if h.to < h.from_:
                raise ValueError(f"holiday {h.name}: 'to' {h.to} is before 'from' {h.from_}")
            days = h.dates()
            if off & set(days):
                raise ValueError(f"holiday {h.name} overlaps another holiday")
            off |= set(days)
        names = {h.name for h in self.holidays}
        for d in self.working_days:
            if d.date.weekday() < SATURDAY:
                raise ValueError(f"make-up day {d.date} is not a Saturday or Sunday")
            if d.date in off:
                raise ValueError(f"make-up day {d.date} is also a holiday")
            if d.for_ not in names:
                raise ValueError(f"make-up day {d.date} is for {d.for_!r}, not a holiday here")
        # A provisional year has only the statutory days: make-up days come with the notice.
        if self.provisional and self.working_days:
            raise ValueError("a provisional calendar lists no make-up working days")
        outside = [d for d in [*off, *(w.date for w in self.working_days)]
                   if d.year != self.year]
        if outside:
            raise ValueError(f"{min(outside)} is not in {self.year}")
        return self

    def holiday_dates(self) -> list[str]:
        return sorted(d.isoformat() for h in self.holidays for d in h.dates())

    def working_day_dates(self) -> list[str]:
        return sorted(d.date.isoformat() for d in self.working_days)


def calendar_names() -> list[str]:
    """The calendars shipped, by name."""
    return sorted(p.stem for p in CALENDAR_DIR.glob("*.json"))


@functools.lru_cache(maxsize=32)
def load_calendar(name: str) -> YearCalendar:
    """The calendar `name` (policies/calendars/<name>.json), validated.

    Raises:
        CalendarFileError: no such calendar, or the file is not a valid one.
    """
    path = CALENDAR_DIR / f"{name}.json"
    if name not in calendar_names():
        raise CalendarFileError(f"no calendar {name!r}; shipped: {', '.join(calendar_names())}")
    try:
        cal = YearCalendar.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise CalendarFileError(f"{path}: cannot read calendar: {exc}") from exc
    except ValidationError as exc:
        faults = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
                           for e in exc.errors(include_url=False)[:5])
        raise CalendarFileError(f"{path}: {faults}") from None
    if cal.name != name:
        raise CalendarFileError(f"{path}: names itself {cal.name!r}, not {name!r}")
    return cal
