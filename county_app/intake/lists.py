"""Finding cases: the window's search and the boards (today, due soon, overdue).

Every search is an index lookup, also with a million cases: the case number
(prefix, as a range), its last four to eleven digits (a prefix of the
reversed number, as a range), the ID number or credit code (exact), the
phone of the applicant or of the agent (exact), any part of two characters
or more of the applicant's or the agent's name, or the first character of
one (``namesearch``: bigrams). Ranges are written ``x >= q AND x < q +
U+10FFFF``, which SQLite and PostgreSQL both answer from the index.
Results are summaries with ID numbers and phones masked.

Each function takes the ``actor`` and finds only the cases it may see
(``visibility``). A clerk's search is the same query as ever; a department
user's adds one index probe per candidate, or, with nothing else to narrow
by, walks its department's items from the index (``department_cases``).
"""
import functools
import operator
import re
from datetime import date

from .. import identity
from ..catalogue.store import work_calendar
from ..hub import townships
from ..integers import MAX_PAGE, NumberError, whole_number
from ..prepared import Prepared
from ..text import shown
from . import namesearch, numbers, visibility
from .casejson import DUE_SOON_DAYS, SUMMARY_COLUMNS, iso_day, summary_json, urgency
from .errors import Invalid
from .records import Case, CaseItem
from .statuses import CASE_STATUSES

PER_PAGE = 20
BOARD_LIMIT = 500
_RANGE_END = "\U0010ffff"
_IDENTITY = re.compile(r"[0-9A-Z]{18}")


def find_cases(q="", status=None, page=1, per_page=PER_PAGE, today=None, *, actor):
    """Cases matching ``q`` that ``actor`` may see, newest first: ``{"items", "page", "per_page", "has_more",
    "limited"}``.

    ``q`` is a case number (or its first 12 or more digits, or its last 4
    to 11), an ID number or 统一社会信用代码 (exact), the applicant's or the
    agent's mobile phone (exact) or any part of two characters or more of
    the applicant's or the agent's name (one character: a name's first);
    empty finds every case. ``status`` narrows to one case status.
    ``limited``: a part of a name so common that only the newest cases
    holding it were searched (``namesearch``).
    """
    if status and status not in CASE_STATUSES:
        raise Invalid(f"没有“{shown(status)}”这种办件状态",
                      [{"field": "status", "message": "可选：" + "、".join(CASE_STATUSES)}])
    for name, number in (("page", page), ("per_page", per_page)):
        try:
            whole_number(number, "页码" if name == "page" else "每页条数", high=MAX_PAGE)
        except NumberError as exc:
            raise Invalid(str(exc), [{"field": name, "message": str(exc)}]) from None
    scope = visibility.scope_of(actor)
    if scope.nothing:
        return {"items": [], "page": page, "per_page": per_page, "has_more": False, "limited": False}
    kind, values = _matching((q or "").strip())
    limited = False
    if kind == "nothing":
        rows = []
    elif kind == "name_part":
        extra = _extra(status, None if scope.every else scope.department)
        rows, limited = namesearch.find(values[0], (page - 1) * per_page, per_page + 1, extra)
    else:
        values += (status,) if status else ()
        values += () if scope.every else (scope.department,)
        rows = _search(kind, bool(status), not scope.every).rows(*values, per_page + 1, (page - 1) * per_page)
    has_more = len(rows) > per_page
    rows = rows[:per_page]
    return {"items": _summaries(rows, today), "page": page, "per_page": per_page, "has_more": has_more,
            "limited": limited}


def search_query(q="", status=None, actor="system"):
    """The query behind ``find_cases``, newest first (the tests check its plan); not for a part of a name."""
    kind, values = _matching((q or "").strip())
    if kind in ("name_part", "nothing"):
        raise ValueError("a name is found by namesearch, not by one query")
    scope = visibility.scope_of(actor)
    return _search_query(kind, values, status or None, None if scope.every else scope.department)


# How each kind of search text selects cases, by index.
_CONDITIONS = {
    "all": lambda: None,
    "phone": lambda phone: (Case.phone == phone) | (Case.agent_phone == phone),
    "identity": lambda code: (Case.id_number == code) | (Case.credit_code == code),
    "case_no": lambda start, end: (Case.case_no >= start) & (Case.case_no < end),
    "case_tail": lambda start, end: (Case.case_no_reversed >= start) & (Case.case_no_reversed < end),
}
# Matches read from one index but not in id order (two indexes, or a range of the
# reversed number): their ids are sorted and limited before any row is read.
_BY_IDS = {"phone", "case_tail"}
_SEARCHES = {}  # (kind, with a status, for a department) → the search, prepared


def _search_query(kind, values, status=None, department=None, limit=None, offset=None):
    if kind in _BY_IDS:
        ids = _search_query_rows(Case.select(Case.id), kind, values, status, department)
        ids = ids if limit is None else ids.limit(limit).offset(offset)
        return Case.select(*SUMMARY_COLUMNS).where(Case.id.in_(ids)).order_by(Case.id.desc())
    query = _search_query_rows(Case.select(*SUMMARY_COLUMNS), kind, values, status, department)
    return query if limit is None else query.limit(limit).offset(offset)


def _search_query_rows(query, kind, values, status, department):
    condition = _CONDITIONS[kind](*values)
    if condition is None and department is not None:
        query = visibility.department_cases(department)  # nothing narrows: read the department's cases
    else:
        if condition is not None:
            query = query.where(condition)
        if department is not None:  # a few candidates, each checked
            query = query.where(visibility.holds_department(department))
        query = query.order_by(Case.id.desc())
    if status is not None:
        query = query.where(_status_is(status) if condition is not None else Case.status == status)
    return query


def _status_is(status):
    """A status that narrows the matches of a search but never drives it.

    Written so that no index serves it (``status || ''``, in SQLite as in
    PostgreSQL): a sixth of a million cases share a status, and without
    fresh statistics SQLite walked them all rather than the phones or the
    range of reversed numbers (120–200 ms on a million cases).
    """
    return Case.status.concat("") == status


def _search(kind, with_status, for_department):
    """The prepared search of ``kind``: values of the condition, the status and department if any, limit, offset."""
    key = (kind, with_status, for_department)
    search = _SEARCHES.get(key)
    if search is None:
        arity = _CONDITIONS[kind].__code__.co_argcount

        def build(*slots):
            status = slots[arity] if with_status else None
            department = slots[arity + with_status] if for_department else None
            limit, offset = slots[-2:]
            return _search_query(kind, slots[:arity], status, department, limit, offset)

        search = _SEARCHES.setdefault(key, Prepared(build, arity=arity + with_status + for_department + 2))
    return search


def overdue(today=None, limit=BOARD_LIMIT, *, actor):
    """Accepted cases ``actor`` may see with an item past its due date (red), most overdue first, with ``due_items``."""
    today = today or date.today()
    return _board((CaseItem.due_date < today), today, limit, actor)


def due_soon(today=None, limit=BOARD_LIMIT, *, actor):
    """Accepted cases ``actor`` may see with an item due within two working days (yellow), soonest first."""
    today = today or date.today()
    until = work_calendar().working_days_after(today, DUE_SOON_DAYS).day
    return _board((CaseItem.due_date >= today) & (CaseItem.due_date <= until), today, limit, actor)


def today(day=None, *, actor):
    """The cases registered on ``day`` (default today) that ``actor`` may see, newest first."""
    day = day or date.today()
    scope = visibility.scope_of(actor)
    if scope.nothing:
        return []
    query = Case.select().where(Case.registered_on == day)
    if not scope.every:
        query = query.where(visibility.condition(scope))
    rows = list(query.order_by(Case.id.desc()).limit(BOARD_LIMIT))
    return _summaries(rows, day)


def _matching(text):
    """What a search text looks for: (kind of _CONDITIONS, or name_part or nothing; its values).

    A number is read as the checks read it when it is stored (``identity.compact``:
    full-width digits, spaces and dashes), so ``１３８ ００１３ ８０００`` finds the
    case registered with 13800138000; a name as ``namesearch.search_key`` reads it.
    """
    if not text:
        return "all", ()
    number = identity.compact(text)
    digits = identity.phone_digits(number)
    if digits.isascii() and digits.isdigit():
        if digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        if len(digits) == 11 and digits.startswith("1"):
            return "phone", (digits,)
        number = digits
    if len(number) == 18 and _IDENTITY.fullmatch(number):
        return "identity", (number,)
    if numbers.looks_like_case_no(number):
        return "case_no", (number, number + _RANGE_END)
    if numbers.looks_like_case_no_tail(number):
        tail = numbers.reversed_number(number)
        return "case_tail", (tail, tail + _RANGE_END)
    if namesearch.searchable(text):
        return "name_part", (text,)
    return "nothing", ()  # only marks and spaces


def _extra(status, department):
    """The conditions of a status and a department's scope on a search by part of a name, or None."""
    conditions = [_status_is(status)] if status else []
    if department is not None:
        conditions.append(visibility.holds_department(department))
    return functools.reduce(operator.and_, conditions) if conditions else None


def _next_dues(case_ids):
    """{case id: the earliest due date of its open items}.

    Items are fetched by case only and filtered here: with a status filter in
    SQL, the planner may walk the (status, due_date) index over every open
    item in the county instead of the few items of these cases.
    """
    dues = {}
    for start in range(0, len(case_ids), _DUES_CHUNK):
        chunk = case_ids[start:start + _DUES_CHUNK]
        # unconverted: ISO dates compare as the dates do, and only the earliest is converted
        for case_id, status, due in _DUES.raw_rows(*chunk, *[None] * (_DUES_CHUNK - len(chunk))):
            if status == "pending" and due is not None and (case_id not in dues or due < dues[case_id]):
                dues[case_id] = due
    return {case_id: CaseItem.due_date.python_value(due) for case_id, due in dues.items()}


_DUES_CHUNK = 20  # cases per query: a page of results in one
_DUES = Prepared(lambda *ids: CaseItem.select(CaseItem.case, CaseItem.status, CaseItem.due_date)
                 .where(CaseItem.case.in_(list(ids))).tuples(), arity=_DUES_CHUNK)


def _summaries(rows, today):
    dues = _next_dues([row.id for row in rows])
    calendar = work_calendar() if dues else None  # only open items are coloured
    township = townships.namer()
    return [summary_json(row, dues.get(row.id), today, calendar, township(row.case_no)) for row in rows]


def _board(condition, today, limit, actor):
    scope = visibility.scope_of(actor)
    if scope.nothing:
        return []
    calendar = work_calendar()
    items = (CaseItem.select(CaseItem, Case).join(Case)
             .where(condition & (CaseItem.status == "pending") & (Case.status == "accepted")))
    if not scope.every:  # every item of a case the department may see, as on the case page
        items = items.where(visibility.condition(scope))
    items = items.order_by(CaseItem.due_date, CaseItem.id).limit(limit)
    township = townships.namer()
    boards = {}
    for item in items:
        entry = boards.get(item.case.id)
        if entry is None:
            entry = boards[item.case.id] = summary_json(item.case, item.due_date, today, calendar,
                                                        township(item.case.case_no))
            entry["due_items"] = []
        entry["due_items"].append({"matter": item.matter_code, "name": item.name,
                                    "department": item.department, "due_date": iso_day(item.due_date),
                                    "calendar_complete": item.due_complete,
                                    "urgency": urgency(item.due_date, today, calendar)})
    return list(boards.values())
