"""The rest days that 《全国年节及纪念日放假办法》 fixes in every year.

The 2024 revision, in force from 2025-01-01, gives all citizens 13 days:
元旦 1 January; 春节 除夕, 正月初一, 初二 and 初三; 清明 the day of the 清明
solar term; 劳动节 1 and 2 May; 端午 五月初五; 中秋 八月十五; 国庆 1, 2 and 3
October. What the State Council still decides each year in its notice (the
调休: bridging rest days, make-up working days, and the 补假 of 第六条 for a
holiday on a weekend) is not here: it comes from chinesecalendar or from the
catalogue's 节假日 sheet (``workdays.py``).

Lunar dates and the solar term come from ``lunar_python``, which computes the
new moons and solar terms in Beijing time (GB/T 33661-2017) rather than
reading a table that ends at some year.
"""
import functools
from datetime import date, timedelta
from types import MappingProxyType

from lunar_python import Lunar

# The 2024 revision; before it the days were others (no 除夕 from 2014 to 2024,
# one day of 劳动节), and chinesecalendar holds those years anyway.
IN_FORCE_FROM = 2025


@functools.lru_cache(maxsize=64)
def statutory_rest_days(year):
    """{date: holiday name} of the law's 13 rest days in ``year`` (empty before 2025); read-only."""
    if year < IN_FORCE_FROM:
        return MappingProxyType({})
    spring = _solar(Lunar.fromYmd(year, 1, 1).getSolar())
    named = [(date(year, 1, 1), "元旦")]
    # 除夕 is the last day of 腊月: 廿九 when 腊月 has only 29 days (2026-02-16, 2027-02-05), so it is
    # taken as the day before 正月初一, never looked up as 腊月三十.
    named += [(spring + timedelta(days=n), "春节") for n in range(-1, 3)]
    named.append((_solar(Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]), "清明"))
    named += [(date(year, 5, 1), "劳动节"), (date(year, 5, 2), "劳动节")]
    # A positive lunar month is the ordinary one: in a year with a leap 五月 or 八月 the festival
    # falls in the first of the two, as the almanac has it.
    named.append((_solar(Lunar.fromYmd(year, 5, 5).getSolar()), "端午"))
    named.append((_solar(Lunar.fromYmd(year, 8, 15).getSolar()), "中秋"))
    named += [(date(year, 10, n), "国庆") for n in (1, 2, 3)]
    days = {}
    for day, name in named:  # 中秋 on 1–3 October (2028, 2031) is one rest day of two names
        days[day] = f"{days[day]}、{name}" if day in days else name
    return MappingProxyType(days)


def _solar(solar):
    return date(solar.getYear(), solar.getMonth(), solar.getDay())
