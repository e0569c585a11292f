"""The working-day calendar: built-in holidays, catalogue overrides, incomplete years."""
from datetime import date

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


def test_into_a_year_without_data_counts_weekends_and_is_flagged():
    cal = WorkCalendar()
    year = 2031  # beyond any chinesecalendar release
    assert not cal.is_complete(year)
    due = cal.working_days_after(date(year - 1, 12, 30), 3)
    assert not due.complete
    assert due.day.year == year and due.day.weekday() < 5
    # Within a covered year nothing is flagged.
    assert cal.working_days_after(date(2026, 3, 2), 5).complete


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
