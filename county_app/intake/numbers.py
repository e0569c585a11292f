"""Case numbers: unique across the county's townships and sortable.

A number is the centre's 12-digit 统计用区划代码, the registration date
``YYYYMMDD`` and a per-day sequence of SEQUENCE_DIGITS digits: ``331128101000``
+ ``20261009`` + ``00017`` = ``3311281010002026100900017``.
Two centres never share a code, so their numbers never collide; within a centre
the numbers sort by day and then by order of registration.

The sequence is allocated inside the registering transaction from a counter
row per centre and day (``UPDATE … SET last = last + 1``), which queues
concurrent registrations on SQLite and row-locks on PostgreSQL.
"""
import re
from datetime import date

from .. import settings
from ..prepared import Prepared
from .errors import Conflict
from .records import CaseNumberCounter

SEQUENCE_DIGITS = 5
CASE_NO_LENGTH = 12 + 8 + SEQUENCE_DIGITS
CASE_NO_PATTERN = re.compile(rf"\d{{{CASE_NO_LENGTH}}}")


def centre_code():
    """The 12-digit centre code; Conflict ``not_configured`` when it is not set yet."""
    code = settings.get("centre.code")
    if not re.fullmatch(r"\d{12}", code or ""):
        raise Conflict("本中心的 12 位区划代码尚未设置，无法生成办件编号，暂不能登记办件。"
                       "请系统管理员在“系统设置”页面填写（或运行 county-app config set centre.code <12 位统计用区划代码>）",
                       code="not_configured")
    return code


def allocate(day=None):
    """The next case number for ``day`` (default today); call inside the registering transaction."""
    day = day or date.today()
    prefix = centre_code() + day.strftime("%Y%m%d")
    _ADD_COUNTER.execute(prefix)
    _COUNT_UP.execute(prefix)
    last = _LAST_NUMBER.scalar(prefix)
    if last >= 10 ** SEQUENCE_DIGITS:
        raise Conflict(f"本中心今天的办件编号已用完（每天最多 {10 ** SEQUENCE_DIGITS - 1} 件），请明天再登记",
                       code="numbers_exhausted")
    return f"{prefix}{last:0{SEQUENCE_DIGITS}d}"


def looks_like_case_no(text):
    """Whether ``text`` could be (the start of) a case number: at least 12 digits, at most a full number."""
    return bool(re.fullmatch(rf"\d{{12,{CASE_NO_LENGTH}}}", text or ""))


TAIL_DIGITS = 4  # the fewest last digits a search takes: fewer match thousands of cases each


def looks_like_case_no_tail(text):
    """Whether ``text`` could be the last digits of a case number (4 or more, fewer than a number's start)."""
    return bool(re.fullmatch(rf"\d{{{TAIL_DIGITS},11}}", text or ""))


def reversed_number(case_no):
    """The case number read backwards: its last digits become a prefix, searched from an index."""
    return case_no[::-1]


_ADD_COUNTER = Prepared(lambda prefix: CaseNumberCounter.insert(prefix=prefix, last=0).on_conflict_ignore())
_COUNT_UP = Prepared(lambda prefix: CaseNumberCounter.update(last=CaseNumberCounter.last + 1)
                     .where(CaseNumberCounter.prefix == prefix))
_LAST_NUMBER = Prepared(lambda prefix: CaseNumberCounter.select(CaseNumberCounter.last)
                        .where(CaseNumberCounter.prefix == prefix))
