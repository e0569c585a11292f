"""The working-day calendar: built-in holidays, catalogue overrides, incomplete years."""
from datetime import date, timedelta

import pytest

from county_app.workdays import WorkCalendar


def test_start_day_is_not_counted():
    cal = WorkCalendar()
    # Monday 2026-11-23 + 1 working day is Tuesday.
    assert cal.working_days_after(date(2026, 11, 23), 1).day == date(2026, 11, 24)
    # Friday + 1 skips the weekend.
    assert cal.working_days_after(date(2026, 11, 20), 1).day == date(2026, 11, 23)


def test_zero_days_is_the_same_day():
    assert WorkCalendar().working_days_after(date(2026, 11, 22), 0).day == date(2026, 11, 22)


def test_national_day_2026_and_its_make_up_saturday():
    cal = WorkCalendar()
    # Sunday 2026-09-20 and Saturday 2026-10-10 are 调休 working days; Oct 1–7 are holidays.
    assert cal.is_working_day(date(2026, 9, 20))
    assert cal.is_working_day(date(2026, 10, 10))
    assert not any(cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    # From Wed 2026-09-30: Oct 8 (Thu) is the 1st, Oct 9 the 2nd, Sat Oct 10 the 3rd, Mon Oct 12 the 4th.
    assert cal.working_days_after(date(2026, 9, 30), 1).day == date(2026, 10, 8)
    assert cal.working_days_after(date(2026, 9, 30), 3).day == date(2026, 10, 10)
    assert cal.working_days_after(date(2026, 9, 30), 4).day == date(2026, 10, 12)
    assert cal.working_days_after(date(2026, 9, 30), 4).complete


def test_catalogue_rows_win_over_builtin_data():
    cal = WorkCalendar({date(2026, 10, 8): "rest", date(2026, 10, 11): "work"})
    assert not cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 11))
    assert cal.working_days_after(date(2026, 9, 30), 1).day == date(2026, 10, 9)


@pytest.mark.usefixtures("unpublished_from_2027")
def test_into_a_year_without_data_is_flagged():
    cal = WorkCalendar()
    year = 2031  # a year no release held when this was written; the fixture keeps it so
    assert not cal.is_complete(year)
    due = cal.working_days_after(date(year - 1, 12, 30), 3)
    assert not due.complete and due.unpublished == (year - 1, year)
    assert due.day.year == year and due.day.weekday() < 5
    # Within a covered year nothing is flagged.
    assert cal.working_days_after(date(2026, 3, 2), 5).complete


def _weekdays_at_rest(cal, year):
    day, rest = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() < 5 and not cal.is_working_day(day):
            rest.append(day)
        day += timedelta(days=1)
    return rest


@pytest.mark.usefixtures("unpublished_from_2027")
def test_2027_before_its_notice_rests_on_the_law_s_days_and_is_flagged():
    cal = WorkCalendar()
    # The law's 13 days of 2027 that fall on a weekday (the others are weekends anyway): 元旦 Fri;
    # 除夕 (腊月廿九) Fri and 初三 Mon; 清明 Mon; 端午 Wed; 中秋 Wed; 国庆 Fri.
    assert _weekdays_at_rest(cal, 2027) == [
        date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5), date(2027, 6, 9),
        date(2027, 9, 15), date(2027, 10, 1)]
    assert all(not cal.is_working_day(date(2027, 2, d)) for d in (5, 6, 7, 8))
    # Thursday 2026-12-31 + 1 skips 元旦 (Fri) and the weekend; the year is flagged.
    due = cal.working_days_after(date(2026, 12, 31), 1)
    assert (due.day, due.unpublished) == (date(2027, 1, 4), (2027,))
    # Thursday 2027-02-04 + 1 skips 除夕 to 初三 (Fri to Mon).
    assert cal.working_days_after(date(2027, 2, 4), 1).day == date(2027, 2, 9)
    # January 2027 has 20 working days after 元旦: the 20th is Friday the 29th.
    assert cal.working_days_after(date(2026, 12, 31), 20).day == date(2027, 1, 29)


@pytest.mark.usefixtures("unpublished_from_2027")
def test_2030_before_its_notice():
    cal = WorkCalendar()
    # 元旦 Tue; 春节 除夕 (腊月三十) Sat 02-02 to 初三 Tue 02-05; 清明 Fri; 端午 Wed; 中秋 Thu;
    # 劳动节 Wed–Thu; 国庆 Tue–Thu.
    assert _weekdays_at_rest(cal, 2030) == [
        date(2030, 1, 1), date(2030, 2, 4), date(2030, 2, 5), date(2030, 4, 5), date(2030, 5, 1),
        date(2030, 5, 2), date(2030, 6, 5), date(2030, 9, 12), date(2030, 10, 1), date(2030, 10, 2),
        date(2030, 10, 3)]
    due = cal.working_days_after(date(2030, 2, 1), 1)
    assert (due.day, due.complete) == (date(2030, 2, 6), False)


@pytest.mark.usefixtures("unpublished_from_2027")
def test_a_year_s_rows_publish_it_and_the_law_s_days_stay():
    # Only 元旦 entered: the county has entered 2027's notice (no flag), and 春节 still rests.
    cal = WorkCalendar({date(2027, 1, 1): "rest"})
    assert cal.is_complete(2027)
    due = cal.working_days_after(date(2026, 12, 31), 1)
    assert (due.day, due.complete) == (date(2027, 1, 4), True)
    assert not any(cal.is_working_day(date(2027, 2, d)) for d in (5, 6, 7, 8))
    # The notice's own days: a bridging rest day, a make-up Saturday; and a 工作日 row wins even
    # over a day of the law (the sheet is the county's last word, e.g. after a change of the law).
    cal = WorkCalendar({date(2027, 2, 9): "rest", date(2027, 2, 20): "work", date(2027, 6, 9): "work"})
    assert not cal.is_working_day(date(2027, 2, 9))
    assert cal.is_working_day(date(2027, 2, 20))
    assert cal.is_working_day(date(2027, 6, 9))
    assert not cal.is_working_day(date(2027, 9, 15))


@pytest.mark.usefixtures("unpublished_from_2027")
def test_a_catalogue_sheet_makes_a_year_complete():
    cal = WorkCalendar({date(2031, 1, 1): "rest"})
    assert cal.is_complete(2031)
    due = cal.working_days_after(date(2030, 12, 31), 1)
    # 2031-01-01 is a Wednesday made a holiday by the sheet.
    assert due.day == date(2031, 1, 2)


def test_into_2027_computes_whatever_the_installed_data():
    cal = WorkCalendar()
    due = cal.working_days_after(date(2026, 12, 30), 5)
    assert due.day.year == 2027
    assert due.complete == cal.is_complete(2027)


def test_working_days_between():
    cal = WorkCalendar()
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert cal.working_days_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert cal.working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
