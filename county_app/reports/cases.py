"""What actually happened per bundle over a period (办件实绩), beside what the catalogue saves.

The cohort is the cases registered from ``start`` to ``end`` (both included,
the centre's dates), grouped by bundle code. Every figure comes from two SQL
aggregate queries, never a loop over cases: one row per bundle and day (or
triple of days), so the report stays quick over a million cases (README
"Reports" has the timing):

- ``cases``; ``accepted`` (given an acceptance date); ``concluded``;
  ``concluded_on_time``: concluded on or before the due date, which already
  moved for every suspension (行政许可法 第45条).
- ``average_working_days``: from acceptance to conclusion, the acceptance day
  not counted (as due dates are counted), over the concluded cases; beside it
  ``average_promised_days``, acceptance to due date for the same cases.
- ``visits``: one to apply, one more for each 补正 the applicant came back
  from (the last 补正 of a case never accepted is not yet a visit), and one to
  collect the result at the window unless it was concluded the day it was
  accepted (collected on the same trip).
- 好差评: ``evaluations``; ``satisfied``: 基本满意 and better; ``bad_ratings``
  (差评: 不满意 or 非常不满意) and of those ``rectified`` (整改办结).

The caller holds the database connection; no Flask here.
"""
from dataclasses import dataclass, fields
from datetime import date, timedelta

from peewee import Case as When
from peewee import JOIN, fn

from ..catalogue.store import work_calendar
from ..intake.errors import Invalid
from ..intake.outcomes import BAD_RATING
from ..intake.records import Case, Evaluation, Rectification

MAX_PERIOD_DAYS = 366  # a year at most: the figures are per period, and the query's work grows with it
EARLIEST = date(2000, 1, 1)


@dataclass
class Figures:
    """Sums for one bundle (or several added up); the averages and rates are derived from them."""
    cases: int = 0
    accepted: int = 0
    concluded: int = 0
    concluded_on_time: int = 0
    timed: int = 0  # concluded cases with an acceptance day and a due date: those whose days are counted
    working_days: int = 0  # acceptance → conclusion, added up over ``timed``
    promised_days: int = 0  # acceptance → due date, added up over ``timed``
    visits: int = 0
    evaluations: int = 0
    satisfied: int = 0
    bad_ratings: int = 0
    rectified: int = 0

    def __add__(self, other):
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_json(self, start, end):
        """The API's ``actual`` object (README "API")."""
        return {
            "from": start.isoformat(), "to": end.isoformat(),
            "cases": self.cases, "accepted": self.accepted, "concluded": self.concluded,
            "concluded_on_time": self.concluded_on_time, "on_time_rate": rate(self.concluded_on_time, self.concluded),
            "average_working_days": average(self.working_days, self.timed),
            "average_promised_days": average(self.promised_days, self.timed),
            "visits": self.visits, "average_visits": average(self.visits, self.cases),
            "evaluations": self.evaluations, "satisfied": self.satisfied,
            "satisfaction_rate": rate(self.satisfied, self.evaluations),
            "bad_ratings": self.bad_ratings, "rectified": self.rectified,
            "rectification_rate": rate(self.rectified, self.bad_ratings),
        }


def rate(part, whole):
    """``part`` of ``whole`` in percent with one decimal; None when ``whole`` is 0."""
    return round(part * 100 / whole, 1) if whole else None


def average(total, count):
    return round(total / count, 1) if count else None


def period(start_text, end_text, today=None):
    """The period ``(start, end)`` from two ISO dates as typed; blank ones give 1 January → today.

    Raises Invalid naming ``from`` / ``to``: not a date, before 2000, the end
    before the start, or longer than MAX_PERIOD_DAYS.
    """
    today = today or date.today()
    problems = []
    start = _day(start_text, "from", "开始日期", date(today.year, 1, 1), problems)
    end = _day(end_text, "to", "结束日期", today, problems)
    if not problems and end < start:
        problems.append({"field": "to", "message": f"结束日期 {end} 早于开始日期 {start}"})
    elif not problems and (end - start).days + 1 > MAX_PERIOD_DAYS:
        problems.append({"field": "to", "message": f"统计期间最长 {MAX_PERIOD_DAYS} 天，{start} 至 {end} 共 "
                                                  f"{(end - start).days + 1} 天，请分段统计"})
    if problems:
        raise Invalid("；".join(p["message"] for p in problems), problems)
    return start, end


def _day(text, field, label, default, problems):
    text = (text or "").strip() if isinstance(text, str) else text
    if not text:
        return default
    try:
        day = date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
    except ValueError:
        day = None
    if day is None:
        problems.append({"field": field, "message": f"{label}应为 年-月-日，如 {default.isoformat()}"})
    elif not EARLIEST <= day <= date(2099, 12, 31):
        problems.append({"field": field, "message": f"{label}应在 {EARLIEST} 至 2099-12-31 之间"})
        day = None
    return day or default


def figures(start, end):
    """``{bundle code or None: Figures}`` for the cases registered from ``start`` to ``end`` (None: no bundle)."""
    cohort = Case.registered_on.between(start, end)
    found = {}

    def of(code):
        return found.setdefault(code, Figures())

    returned = When(None, [((Case.accepted_on.is_null() & (Case.correction_count > 0)), 1)], 0)
    collected = When(None, [(((Case.delivery_method == "window") & (Case.concluded_on > Case.accepted_on)), 1)], 0)
    on_time = When(None, [((Case.concluded_on <= Case.due_date), 1)], 0)
    # One pass over the cohort, one row per bundle and (accepted, concluded, due) days: the days are
    # what the working-day calendar needs, and cases of a centre share a few thousand such triples.
    groups = list(Case.select(Case.bundle_code, Case.accepted_on, Case.concluded_on, Case.due_date, fn.COUNT(Case.id),
                              fn.SUM(on_time), fn.SUM(1 + Case.correction_count - returned + collected))
                  .where(cohort).group_by(Case.bundle_code, Case.accepted_on, Case.concluded_on, Case.due_date)
                  .tuples())
    ordinal = _ordinals({_as_date(day) for group in groups for day in group[1:4] if day})
    for code, accepted_on, concluded_on, due_date, cases, on_time_count, visits in groups:
        row = of(code)
        row.cases += cases
        row.accepted += cases if accepted_on else 0
        row.concluded += cases if concluded_on else 0
        row.concluded_on_time += on_time_count or 0
        row.visits += visits or 0
        if accepted_on and concluded_on and due_date:
            accepted = ordinal[_as_date(accepted_on)]
            row.timed += cases
            row.working_days += cases * (ordinal[_as_date(concluded_on)] - accepted)
            row.promised_days += cases * (ordinal[_as_date(due_date)] - accepted)

    ratings = (Evaluation.select(Case.bundle_code, fn.COUNT(Evaluation.id),
                                 fn.SUM(When(None, [(Evaluation.rating > BAD_RATING, 1)], 0)),
                                 fn.SUM(When(None, [(Evaluation.rating <= BAD_RATING, 1)], 0)),
                                 fn.SUM(When(None, [(Rectification.status == "closed", 1)], 0)))
               .join_from(Evaluation, Case)
               .join_from(Evaluation, Rectification, on=(Rectification.evaluation == Evaluation.id),
                          join_type=JOIN.LEFT_OUTER)
               .where(cohort).group_by(Case.bundle_code).tuples())
    for code, evaluations, satisfied, bad, rectified in ratings:
        row = of(code)
        row.evaluations, row.satisfied, row.bad_ratings, row.rectified = evaluations, satisfied or 0, bad or 0, \
            rectified or 0
    return found


def _ordinals(days):
    """``{day: working days from the first of ``days`` up to it}`` for every day from the first to the last.

    The calendar lives in Python (chinesecalendar and the catalogue's 节假日
    sheet); a case's working days from acceptance to conclusion (the start day
    not counted, as due dates are counted) are the difference of two ordinals.
    """
    if not days:
        return {}
    calendar, ordinal, n, day = work_calendar(), {}, 0, min(days)
    while day <= max(days):
        n += calendar.is_working_day(day)
        ordinal[day] = n
        day += timedelta(days=1)
    return ordinal


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
