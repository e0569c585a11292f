"""The working-day calendar and time-limit counting.

Weekends are rest days; statutory holidays and 调休 working days come from the
``chinesecalendar`` package for the years it covers, and the catalogue's
节假日 sheet wins over it. A year covered by neither still computes (weekends
only) but is reported incomplete, so every caller can flag the date.

Counting follows 民法典 第201条 (the start day is not counted) and 行政许可法
第82条 (working days only).
"""
import functools
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Due:
    day: date
    complete: bool  # False when a year on the way had no holiday data


class WorkCalendar:
    """Working days from the built-in data plus ``overrides`` ({date: "rest"|"work"})."""

    def __init__(self, overrides=None):
        self.overrides = dict(overrides or {})
        self._override_years = {day.year for day in self.overrides}
        self._working = {}  # day → bool, remembered: chinesecalendar scans its tables on every call

    @classmethod
    def from_days(cls, days):
        """Build from catalogue ``CalendarDay``-like objects with ``day`` and ``kind``."""
        return cls({d.day: d.kind for d in days})

    def is_complete(self, year):
        """Whether holidays of ``year`` are known (built-in data or the catalogue)."""
        return year in self._override_years or _builtin_covers(year)

    def is_working_day(self, day):
        working = self._working.get(day)
        if working is None:
            working = self._working[day] = self._look_up(day)
        return working

    def _look_up(self, day):
        kind = self.overrides.get(day)
        if kind is not None:
            return kind == "work"
        if _builtin_covers(day.year):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def working_days_after(self, start, days):
        """The ``days``-th working day after ``start`` (``start`` not counted).

        Zero days is ``start`` itself (a 即办件 is due the day it is accepted).
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        day, complete = start, self.is_complete(start.year)
        remaining = days
        while remaining:
            day += timedelta(days=1)
            complete = complete and self.is_complete(day.year)
            if self.is_working_day(day):
                remaining -= 1
        return Due(day, complete)

    def working_days_between(self, start, end):
        """Working days in (start, end]: how many have passed from ``start`` to ``end``.

        Negative when ``end`` is before ``start``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


@functools.cache
def _builtin_covers(year):
    """Whether the chinesecalendar package holds ``year`` (it raises for others)."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True
