"""The working-day calendar and time-limit counting.

A day's kind is decided, first match wins, by
1. the catalogue's 节假日 sheet (休息日 or 工作日 on that date);
2. the ``chinesecalendar`` package, for the years it covers (the State
   Council's published arrangement, 调休 included);
3. otherwise weekends and the 13 days that 《全国年节及纪念日放假办法》 fixes
   (``statutory_holidays.py``) are rest days.

A year is complete when chinesecalendar covers it or the sheet holds at least
one row of it: the State Council publishes a year's arrangement in one notice,
and a year with rows is one whose notice the county has entered. Any other
year is computed by rule 3 but reported incomplete (调休安排未公布), so every
caller can flag its dates.

Counting follows 民法典 第201条 (the start day is not counted) and 行政许可法
第82条 (working days only).
"""
import functools
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from .statutory_holidays import statutory_rest_days


@dataclass(frozen=True)
class Due:
    day: date
    unpublished: tuple = ()  # years on the way whose 调休 is not known (neither chinesecalendar nor the sheet)

    @property
    def complete(self):
        return not self.unpublished


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
        """Whether the 调休 arrangement of ``year`` is known (chinesecalendar or the catalogue's rows)."""
        return year in self._override_years or _builtin_covers(year)

    def unpublished_years(self, start, end):
        """The years from ``start`` to ``end`` (dates, both included) whose 调休 arrangement is not known."""
        return tuple(year for year in range(start.year, end.year + 1) if not self.is_complete(year))

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
        return day.weekday() < 5 and day not in statutory_rest_days(day.year)

    def working_days_after(self, start, days):
        """The ``days``-th working day after ``start`` (``start`` not counted).

        Zero days is ``start`` itself (a 即办件 is due the day it is accepted).
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        day, remaining = start, days
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return Due(day, self.unpublished_years(start, day))

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
