"""The law's 13 rest days, checked against references that share no code with lunar_python.

- cnlunar reads a table of lunar months (1901–2099) where lunar_python computes them: it says
  which lunar day each date is, so 正月初一, 五月初五, 八月十五 and the last day of 腊月 are checked.
- ephem (the XEphem astronomy library) gives the new moons and the sun's apparent ecliptic
  longitude: every lunar month starts on the Beijing date (UTC+8) of a new moon, and 清明 is
  the Beijing date on which the longitude reaches 15° (GB/T 33661-2017 counts in Beijing time).
- chinesecalendar 1.11.0 holds the State Council's published arrangements for 2025 and 2026, the
  first years of the 2024 revision: each of the law's days must be a holiday there.
"""
import datetime as dt
import math

import chinese_calendar
import cnlunar
import ephem
import pytest

from county_app.statutory_holidays import statutory_rest_days

BEIJING = dt.timedelta(hours=8)
YEARS = range(2025, 2100)  # from the revision in force to the end of cnlunar's table


def _lunar(day):
    """(lunar month, lunar day, leap) of ``day`` according to cnlunar's table."""
    found = cnlunar.Lunar(dt.datetime(day.year, day.month, day.day), godType="8char")
    return found.lunarMonth, found.lunarDay, bool(found.isLunarLeapMonth)


def _named(year, name):
    return sorted(day for day, names in statutory_rest_days(year).items() if name in names.split("、"))


def _beijing(moment):
    return ephem.Date(moment).datetime() + BEIJING


def _new_moon_on(first):
    """The Beijing time of the new moon that starts a lunar month on ``first``, as ephem computes it."""
    return _beijing(ephem.next_new_moon(ephem.Date(first - dt.timedelta(days=2))))


def _sun_longitude(moment):
    sun = ephem.Sun()
    sun.compute(moment, epoch=moment)
    # g_ra/g_dec are the apparent geocentric place (aberration and nutation included), of date.
    return float(ephem.Ecliptic(ephem.Equatorial(sun.g_ra, sun.g_dec, epoch=moment), epoch=moment).lon)


def _qingming(year):
    """The Beijing time at which the sun's apparent ecliptic longitude reaches 15° (清明)."""
    low, high = ephem.Date(f"{year}/3/28"), ephem.Date(f"{year}/4/12")
    target = math.radians(15)
    while high - low > 1 / 86400:
        middle = ephem.Date((low + high) / 2)
        if (_sun_longitude(middle) - target + math.pi) % (2 * math.pi) - math.pi < 0:
            low = middle
        else:
            high = middle
    return _beijing(low)


def test_the_law_gives_thirteen_days_from_2025_only():
    assert len(statutory_rest_days(2027)) == 13
    assert statutory_rest_days(2024) == {}
    assert len(statutory_rest_days(2028)) == 12 and statutory_rest_days(2028)[dt.date(2028, 10, 3)] == "中秋、国庆"


def test_published_dates_of_2027_and_2030():
    # Sources. 春节 2027-02-06 (丁未年正月初一): Singapore's Ministry of Manpower gazetted "Chinese New
    # Year" for 6 and 7 February 2027 (public holidays for 2027, press release of 18 June 2026; Singapore
    # keeps UTC+8 too). 春节 2030-02-03 (庚戌年正月初一) and the rest: checked by hand with ephem, which
    # puts the new moons at 2027-02-06 23:56, 2027-06-05 03:40, 2027-09-01 01:41, 2030-02-03 00:07,
    # 2030-06-01 14:21 and 2030-08-29 07:07 Beijing time, and 清明 (15°) at 2027-04-05 08:17 and
    # 2030-04-05 01:40; and against the lunar tables of cnlunar and zhdate. Both 春节 new moons lie
    # minutes from midnight, so a coarser computation puts 春节 2027 on 02-07 and 2030 on 02-02
    # (ICU's Chinese calendar reportedly does).
    assert statutory_rest_days(2027) == {
        dt.date(2027, 1, 1): "元旦",
        dt.date(2027, 2, 5): "春节", dt.date(2027, 2, 6): "春节", dt.date(2027, 2, 7): "春节",
        dt.date(2027, 2, 8): "春节",
        dt.date(2027, 4, 5): "清明",
        dt.date(2027, 5, 1): "劳动节", dt.date(2027, 5, 2): "劳动节",
        dt.date(2027, 6, 9): "端午",
        dt.date(2027, 9, 15): "中秋",
        dt.date(2027, 10, 1): "国庆", dt.date(2027, 10, 2): "国庆", dt.date(2027, 10, 3): "国庆",
    }
    assert statutory_rest_days(2030) == {
        dt.date(2030, 1, 1): "元旦",
        dt.date(2030, 2, 2): "春节", dt.date(2030, 2, 3): "春节", dt.date(2030, 2, 4): "春节",
        dt.date(2030, 2, 5): "春节",
        dt.date(2030, 4, 5): "清明",
        dt.date(2030, 5, 1): "劳动节", dt.date(2030, 5, 2): "劳动节",
        dt.date(2030, 6, 5): "端午",
        dt.date(2030, 9, 12): "中秋",
        dt.date(2030, 10, 1): "国庆", dt.date(2030, 10, 2): "国庆", dt.date(2030, 10, 3): "国庆",
    }


def test_new_years_eve_is_the_29th_when_the_twelfth_month_is_short():
    # 丙午年腊月 has 29 days: 除夕 2027 is 腊月廿九 (2027-02-05), the day before 正月初一.
    assert _lunar(dt.date(2027, 2, 5)) == (12, 29, False)
    assert _lunar(dt.date(2027, 2, 6)) == (1, 1, False)
    assert _named(2027, "春节")[0] == dt.date(2027, 2, 5)
    # 己酉年腊月 has 30 days: 除夕 2030 is 腊月三十 (2030-02-02).
    assert _lunar(dt.date(2030, 2, 2)) == (12, 30, False)
    assert _named(2030, "春节")[0] == dt.date(2030, 2, 2)
    # The State Council's 2026 notice (in chinesecalendar) rests on 2026-02-16, 除夕 = 腊月廿九.
    assert _lunar(dt.date(2026, 2, 16)) == (12, 29, False)
    assert _named(2026, "春节")[0] == dt.date(2026, 2, 16)


@pytest.mark.parametrize("year", YEARS)
def test_lunar_days_agree_with_cnlunar_table_and_ephem_new_moons(year):
    eve, *spring = _named(year, "春节")
    (dragon_boat,), (mid_autumn,) = _named(year, "端午"), _named(year, "中秋")
    assert [_lunar(day) for day in spring] == [(1, 1, False), (1, 2, False), (1, 3, False)]
    month, day, leap = _lunar(eve)
    assert (month, day in (29, 30), leap) == (12, True, False)  # the last day of 腊月
    assert _lunar(dragon_boat) == (5, 5, False)
    assert _lunar(mid_autumn) == (8, 15, False)
    # Each month starts on the Beijing date of a new moon (the closest call in these years is
    # 2089-09-04 23:57:13, 167 s before midnight: well beyond ephem's error of seconds).
    for first in (spring[0], dragon_boat - dt.timedelta(days=4), mid_autumn - dt.timedelta(days=14)):
        assert _new_moon_on(first).date() == first


@pytest.mark.parametrize("year", range(2025, 2101))
def test_qingming_is_the_day_the_sun_reaches_15_degrees(year):
    moment = _qingming(year)
    (day,) = _named(year, "清明")
    assert day == moment.date(), moment
    # ephem agrees with published solar-term times to seconds; no year here is closer to midnight
    # than 2071's 00:02 — a wrong day would need an error of minutes.
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    assert min(seconds, 86400 - seconds) > 60


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_statutory_day_is_a_holiday_in_the_published_arrangements(year):
    names = {"元旦": "New Year's Day", "春节": "Spring Festival", "清明": "Tomb-sweeping Day",
             "劳动节": "Labour Day", "端午": "Dragon Boat Festival", "中秋": "Mid-autumn Festival",
             "国庆": "National Day"}
    for day, name in statutory_rest_days(year).items():
        holiday, detail = chinese_calendar.get_holiday_detail(day)
        assert holiday and detail in {names[n] for n in name.split("、")}, (day, name, detail)
