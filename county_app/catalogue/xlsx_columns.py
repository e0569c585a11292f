"""The catalogue workbook's sheets and columns, declared once for the reader and the writer.

Each column says its Chinese header, the model attribute it fills, whether a
value is required (a required column must also be present), how a cell is
parsed on import and how a value is written on export. The contract these
tables implement is the catalogue workbook specification (catalogue-xlsx.md).
"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel

from .. import integers
from . import conditions, vocabulary
from .model import Bundle, BundleMember, CalendarDay, Field, Material, Matter, Question


class CellError(ValueError):
    """A cell value that does not fit its column; the message completes "<表头>…".

    ``hint``, if any, says how to put it right; it follows the quoted value.
    """

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


def show(value) -> str:
    """A cell value as quoted in an error message: ``"两份"``, ``2.5``, ``TRUE``."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return f'"{value if len(value) <= 60 else value[:60] + "…"}"'
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


# --- parsers: cell value (never None, strings already trimmed) -> model value ---

def text(value) -> str:
    """Any cell as text; numbers lose a spurious ``.0`` (a code typed as 1001 reads "1001")."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value)
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is datetime:
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if kind in (date, time):
        return value.isoformat()
    raise CellError("必须是文字")


# A 事项编码; checked as a rule rather than when parsing, so that rows referring to a
# malformed code still find their matter and only the code itself is reported.
MATTER_CODE = re.compile(r"[0-9A-Za-z-]{1,40}")


def question_code(value) -> str:
    """A 问题编码: any text that cannot be confused with the condition grammar's separators."""
    code = text(value)
    if conditions.QUESTION_CODE_FORBIDDEN.search(code):
        raise CellError("不能包含空白或 = ! ; | 这些符号（它们在条件中另有含义）")
    return code


def integer(low: int, high: int | None, rule: str) -> Callable:
    """A parser for whole numbers in ``low..high``, typed as numbers or as text ("5", full-width "５").

    Text is read by the program's one rule for whole numbers (``integers``), which
    also keeps a number within what the database can store.
    """
    top = integers.SQLITE_MAX if high is None else high

    def parse(value) -> int:
        kind = type(value)  # bool is a subclass of int: compare types exactly
        if kind is float and value.is_integer():
            value = int(value) if abs(value) < 2.0 ** 63 else None
        elif kind is not int and kind is not str:
            value = None
        try:
            return integers.whole_number(value, "", low=low, high=top)
        except integers.NumberError:
            raise CellError(rule) from None

    return parse


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NUMBER_TEXT = re.compile(r"[0-9]+(\.[0-9]+)?")
_DATE_HINT = "；请把单元格格式设为“日期”后重新输入，或输入 YYYY-MM-DD 格式的文字（如 2026-10-01）"


def a_date(value, epoch: datetime = WINDOWS_EPOCH) -> date:
    """An Excel date: a date cell (read as datetime), ``YYYY-MM-DD`` text, or a plain number.

    A plain number is what a date becomes in a cell formatted as 常规 (General):
    Excel keeps every date as the count of days since its epoch (1900, or 1904
    when the workbook says ``date1904``), so 46023 is 2026-01-01. Text made of
    digits is not taken for one: a number typed into a 文本 cell was never a date.
    """
    kind = type(value)
    if kind is datetime:
        return value.date()
    if kind is date:
        return value
    if kind is int or kind is float:
        return _serial(value, epoch)
    if kind is str:
        typed = integers.half_width(value)
        if _DATE_TEXT.fullmatch(typed):
            try:
                return date.fromisoformat(typed)
            except ValueError:
                raise CellError("不是有效的日期") from None
        if _NUMBER_TEXT.fullmatch(typed):
            raise CellError("是文字形式的数字，不是日期", _DATE_HINT)
    raise CellError("必须是日期（Excel 日期或 YYYY-MM-DD 格式的文字）")


def _serial(number, epoch: datetime) -> date:
    # Excel's own range of dates: 1900-01-01 (1904-01-01) to 9999-12-31. A time of day is dropped,
    # as it is from a date cell.
    first, last = (1, 2958465) if epoch == WINDOWS_EPOCH else (0, 2957003)
    if not first <= number < last + 1:
        raise CellError("是数字，不是有效的 Excel 日期", _DATE_HINT)
    if epoch == WINDOWS_EPOCH:
        return from_excel(int(number)).date()  # with Excel's 1900 leap-year quirk before March 1900
    return (epoch + timedelta(days=int(number))).date()


def choice(table: dict) -> Callable:
    """A parser for one of the words of a vocabulary table, giving its code."""
    allowed = "、".join(table)

    def parse(value):
        try:
            return table[value]
        except (KeyError, TypeError):
            raise CellError(f"必须是 {allowed} 之一") from None

    return parse


def options(value) -> tuple[str, ...]:
    """Values separated by ``|``, trimmed; empty pieces (``A||B``) are dropped."""
    values = tuple(piece.strip() for piece in text(value).split("|") if piece.strip())
    if not values:
        raise CellError("没有有效的值（多个值用 | 分隔）")
    seen = set()
    for piece in values:
        if piece in seen:
            raise CellError(f"中的值 “{piece}” 重复")
        seen.add(piece)
    return values


def condition(value) -> str:
    """A condition's text, checked against the grammar; references are checked later."""
    source = text(value)
    try:
        conditions.parse(source)
    except conditions.ConditionError as error:
        raise CellError(f"格式错误：{error}") from None
    return source


def prefill_source(value) -> str:
    """A 预填来源: an applicant or agent attribute, or ``表单.字段编码``, with or without a condition
    (``申请人.姓名（当 Q5=母亲）``, our extension); which field and which questions it names is checked later."""
    word = text(value)
    if "\n" in word or "\r" in word:
        raise CellError("不能换行（条件写在同一行的“（当 …）”中）")
    source, condition = vocabulary.split_prefill_word(word)
    code = vocabulary.prefill_code(source)
    if code is None:
        wrong = f"中的来源 “{source}” 不正确，" if condition is not None else ""
        raise CellError(f"{wrong}必须是 {'、'.join(vocabulary.PREFILL)}、表单.字段编码（如 表单.XSEXM） 之一",
                        "；可在后面加条件，如 申请人.姓名（当 Q5=母亲）")
    if condition is None:
        return code
    if not condition:
        raise CellError(f"的“（当 …）”中缺少条件，如 {source}（当 Q5=母亲）")
    try:
        conditions.parse(condition)
    except conditions.ConditionError as error:
        raise CellError(f"的条件 “{condition}” 格式错误：{error}") from None
    return vocabulary.conditional_prefill(code, condition)


_REGION = re.compile(r"[0-9]{6}|[0-9]{12}")


def region_code(value) -> str:
    """A 6-digit county or 12-digit township code (full-width digits read as digits)."""
    code = integers.half_width(text(value))
    if not _REGION.fullmatch(code):
        raise CellError("必须是 6 位县级或 12 位乡镇级区划代码")
    return code


# --- writers: model value -> cell value (None = blank cell) ---

def plain(value):
    """Most values are written as they are; empty text as a blank cell."""
    return None if value == "" else value


def word(table: dict) -> Callable:
    """A writer giving the vocabulary word of a code (blank for None)."""
    return lambda code: vocabulary.word_for(table, code) or None


def joined(values) -> str | None:
    """Options as ``A|B``."""
    return "|".join(values) or None


@dataclass(frozen=True)
class Column:
    header: str
    attr: str
    parse: Callable = text
    write: Callable = plain
    required: bool = False  # a value is required, so the column must be present
    default: object = ""  # the model value for a blank, optional cell
    width: int = 14

    def read(self, value, epoch: datetime = WINDOWS_EPOCH):
        """The model value of a cell (never None): a plain number in a date column counts from ``epoch``."""
        if self.parse is a_date:
            return a_date(value, epoch)
        return self.parse(value)


@dataclass(frozen=True)
class Sheet:
    name: str
    model: type | None
    columns: tuple[Column, ...]
    required: bool = False  # the workbook must contain the sheet
    holds: str = ""  # the list of Catalogue it fills ("matters" …)

    def header(self, attr: str) -> str:
        """The Chinese header of the column that fills ``attr``."""
        return next(column.header for column in self.columns if column.attr == attr)


def _status(header="状态"):
    return Column(header, "enabled", choice(vocabulary.STATUS), word(vocabulary.STATUS),
                  default=True, width=8)


def _days(header, attr):
    return Column(header, attr, integer(0, None, "必须是不小于 0 的整数（工作日）"),
                  required=True, width=12)


_ORDER = Column("顺序", "position", integer(0, None, "必须是不小于 0 的整数"), default=0, width=8)

INFO = Sheet("目录信息", None, (
    Column("项目", "item", required=True, width=14),
    Column("内容", "value", required=True, width=30),
), required=True)

# The rows of 目录信息 (项目 → model attribute of CatalogueInfo).
INFO_ITEMS = (
    Column("目录版本", "version", required=True),
    Column("发布单位", "issuer"),
    Column("发布日期", "published_on", a_date, default=None),
    Column("适用区划", "region_code", region_code),
)

MATTERS = Sheet("事项", Matter, (
    Column("事项编码", "code", required=True, width=20),
    Column("事项名称", "name", required=True, width=36),
    Column("事项类型", "kind", choice(vocabulary.MATTER_KINDS), word(vocabulary.MATTER_KINDS),
           required=True, width=14),
    Column("实施部门", "department", required=True, width=22),
    Column("办件类型", "handling", choice(vocabulary.HANDLING), word(vocabulary.HANDLING),
           required=True, width=10),
    _days("法定办结时限", "statutory_days"),
    _days("承诺办结时限", "promised_days"),
    Column("到现场次数", "visits", integer(0, 5, "必须是 0 到 5 之间的整数"), default=0, width=10),
    Column("收费标准", "fee", width=16),
    Column("办理结果", "result_name", width=20),
    Column("受理条件", "conditions", width=40),
    Column("设定依据", "legal_basis", width=40),
    _status(),
), required=True, holds="matters")

MATERIALS = Sheet("材料", Material, (
    Column("事项编码", "matter_code", required=True, width=20),
    Column("材料编码", "code", required=True, width=16),
    Column("材料名称", "name", required=True, width=36),
    Column("材料类型", "form", choice(vocabulary.MATERIAL_FORMS), word(vocabulary.MATERIAL_FORMS),
           required=True, width=14),
    Column("份数", "copies", integer(1, None, "必须是正整数"), required=True, width=8),
    Column("材料形式", "medium", choice(vocabulary.MEDIA), word(vocabulary.MEDIA),
           required=True, width=12),
    Column("来源渠道", "source", choice(vocabulary.SOURCES), word(vocabulary.SOURCES),
           required=True, width=14),
    Column("必要性", "necessity", choice(vocabulary.NECESSITY), word(vocabulary.NECESSITY),
           required=True, width=10),
    Column("免提交方式", "waiver", choice(vocabulary.WAIVERS), word(vocabulary.WAIVERS),
           default=None, width=12),
    Column("填报须知", "instructions", width=40),
    Column("适用条件", "condition", condition, width=24),
), required=True, holds="materials")

FIELDS = Sheet("表单", Field, (
    Column("事项编码", "matter_code", required=True, width=20),
    Column("字段编码", "code", required=True, width=16),
    Column("字段名称", "name", required=True, width=24),
    Column("字段类型", "type", choice(vocabulary.FIELD_TYPES), word(vocabulary.FIELD_TYPES),
           required=True, width=16),
    Column("是否必填", "required", choice(vocabulary.YES_NO), word(vocabulary.YES_NO),
           required=True, width=10),
    Column("可选值", "options", options, joined, default=(), width=30),
    Column("预填来源", "prefill", prefill_source, lambda code: vocabulary.prefill_word(code) or None,
           default=None, width=18),
), holds="fields")

BUNDLES = Sheet("一件事", Bundle, (
    Column("一件事编码", "code", required=True, width=16),
    Column("一件事名称", "name", required=True, width=30),
    Column("牵头部门", "lead_department", required=True, width=22),
    Column("服务对象", "audience", choice(vocabulary.AUDIENCES), word(vocabulary.AUDIENCES),
           required=True, width=10),
    Column("说明", "description", width=40),
    _status(),
), holds="bundles")

MEMBERS = Sheet("一件事事项", BundleMember, (
    Column("一件事编码", "bundle_code", required=True, width=16),
    Column("事项编码", "matter_code", required=True, width=20),
    Column("是否必选", "required", choice(vocabulary.MEMBERSHIP), word(vocabulary.MEMBERSHIP),
           required=True, width=10),
    Column("适用条件", "condition", condition, width=30),
    _ORDER,
), holds="members")

QUESTIONS = Sheet("情形问题", Question, (
    Column("一件事编码", "bundle_code", required=True, width=16),
    Column("问题编码", "code", question_code, required=True, width=12),
    Column("问题", "text", required=True, width=40),
    Column("选项", "options", options, joined, required=True, width=24),
    Column("显示条件", "condition", condition, width=30),
    _ORDER,
), holds="questions")

CALENDAR = Sheet("节假日", CalendarDay, (
    Column("日期", "day", a_date, required=True, width=12),
    Column("类型", "kind", choice(vocabulary.DAY_KINDS), word(vocabulary.DAY_KINDS),
           required=True, width=10),
    Column("名称", "name", width=16),
), holds="calendar")

# In workbook order; the writer writes them in this order.
SHEETS = (INFO, MATTERS, MATERIALS, FIELDS, BUNDLES, MEMBERS, QUESTIONS, CALENDAR)
SHEET_ORDER = {sheet.name: index for index, sheet in enumerate(SHEETS)}
