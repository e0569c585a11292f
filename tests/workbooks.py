"""Test helper: a valid minimal catalogue workbook as Python lists, to spoil one cell at a time.

    book = Book()
    book.set("材料", 2, "份数", "两份")     # data row 2 = first row under the header
    result = book.read(tmp_path)
    assert str(result.errors[0]) == f'材料!{book.ref("材料", 2, "份数")}: ...'
"""
import copy
import zipfile
from datetime import datetime

import openpyxl
from openpyxl.utils import get_column_letter

from county_app.catalogue.xlsx_read import read_workbook

MINIMAL = {
    "目录信息": [
        ["项目", "内容"],
        ["目录版本", "2026.11-02"],
        ["发布单位", "示例县政务服务管理办公室"],
        ["发布日期", datetime(2026, 11, 2)],
        ["适用区划", "330102"],
    ],
    "事项": [
        ["事项编码", "事项名称", "事项类型", "实施部门", "办件类型", "法定办结时限", "承诺办结时限",
         "到现场次数", "收费标准", "办理结果", "受理条件", "设定依据", "状态"],
        ["M001", "出生医学证明签发", "行政确认", "县卫生健康局", "承诺件", 20, 5, 2, "不收费",
         "出生医学证明", "新生儿在本县出生", "《母婴保健法》", "启用"],
        ["M002", "出生登记", "行政确认", "县公安局", "即办件", 10, 0, 1, None, "户口簿", None, None, None],
    ],
    "材料": [
        ["事项编码", "材料编码", "材料名称", "材料类型", "份数", "材料形式", "来源渠道", "必要性",
         "免提交方式", "填报须知"],
        ["M001", "C01", "父母身份证", "原件", 1, "纸质", "政府部门核发", "必要", "电子证照", "核验后退还"],
        ["M002", "C01", "父母身份证", "复印件", 2, "纸质或电子", "政府部门核发", "必要", None, None],
        ["M002", "C02", "结婚证", "原件和复印件", 1, "纸质", "政府部门核发", "容缺", "数据共享", None],
    ],
    "表单": [
        ["事项编码", "字段编码", "字段名称", "字段类型", "是否必填", "可选值", "预填来源"],
        ["M001", "F01", "母亲姓名", "文本", "是", None, "申请人.姓名"],
        ["M002", "F01", "母亲姓名", "文本", "是", None, "申请人.姓名"],
        ["M002", "F02", "新生儿性别", "单选", "是", "男|女", None],
    ],
    "一件事": [
        ["一件事编码", "一件事名称", "牵头部门", "服务对象", "说明", "状态"],
        ["B01", "新生儿出生一件事", "县卫生健康局", "个人", "出生医学证明、户口登记一次办", "启用"],
    ],
    "一件事事项": [
        ["一件事编码", "事项编码", "是否必选", "适用条件", "顺序"],
        ["B01", "M001", "必选", None, 1],
        ["B01", "M002", "可选", "Q1=是;Q2!=否", 2],
    ],
    "情形问题": [
        ["一件事编码", "问题编码", "问题", "选项", "显示条件", "顺序"],
        ["B01", "Q1", "是否在本县落户？", "是|否", None, 1],
        ["B01", "Q2", "父母是否已婚？", "是|否|不确定", "Q1=是", 2],
    ],
    "节假日": [
        ["日期", "类型", "名称"],
        [datetime(2026, 10, 1), "休息日", "国庆节"],
        ["2026-10-10", "工作日", "国庆调休"],
    ],
}


class Book:
    """A catalogue workbook being prepared for a test; rows are numbered as in Excel."""

    def __init__(self):
        self.sheets = copy.deepcopy(MINIMAL)
        self.formulas = []  # (sheet, cell, formula) written as formulas without cached values

    def column(self, sheet: str, header: str) -> int:
        """The 0-based position of ``header`` in ``sheet``."""
        return self.sheets[sheet][0].index(header)

    def ref(self, sheet: str, row: int, header: str) -> str:
        """The cell address (``F2``) of ``header`` in Excel row ``row``."""
        return f"{get_column_letter(self.column(sheet, header) + 1)}{row}"

    def set(self, sheet: str, row: int, header: str, value) -> "Book":
        """Put ``value`` in the cell of ``header`` on Excel row ``row`` (the row is created if needed)."""
        rows = self.sheets[sheet]
        while len(rows) < row:
            rows.append([None] * len(rows[0]))
        rows[row - 1][self.column(sheet, header)] = value
        return self

    def append(self, sheet: str, values: dict | list) -> int:
        """Add a row (a list in header order, or {header: value}); gives its Excel row number."""
        rows = self.sheets[sheet]
        if isinstance(values, dict):
            row = [None] * len(rows[0])
            for header, value in values.items():
                row[rows[0].index(header)] = value
            values = row
        rows.append(list(values))
        return len(rows)

    def copy_row(self, sheet: str, row: int, **changes) -> int:
        """Append a copy of Excel row ``row`` with {header: value} changes; gives the new row number."""
        values = dict(zip(self.sheets[sheet][0], self.sheets[sheet][row - 1]))
        values.update(changes)
        return self.append(sheet, values)

    def drop_sheet(self, sheet: str) -> "Book":
        """Remove a whole sheet."""
        del self.sheets[sheet]
        return self

    def drop_column(self, sheet: str, header: str) -> "Book":
        """Remove a column, header and all."""
        position = self.column(sheet, header)
        for row in self.sheets[sheet]:
            del row[position]
        return self

    def rename_column(self, sheet: str, header: str, new: str) -> "Book":
        """Give a column another header."""
        self.sheets[sheet][0][self.column(sheet, header)] = new
        return self

    def formula(self, sheet: str, cell: str, formula: str) -> "Book":
        """Write a formula; openpyxl stores no cached value for it."""
        self.formulas.append((sheet, cell, formula))
        return self

    def save(self, path):
        """Write the workbook to ``path`` (a normal, not write-only, openpyxl workbook) and give the path."""
        workbook = openpyxl.Workbook()
        workbook.remove(workbook.active)
        for name, rows in self.sheets.items():
            sheet = workbook.create_sheet(name)
            for row in rows:
                sheet.append(row)
        for name, cell, formula in self.formulas:
            workbook[name][cell] = formula
        workbook.save(path)
        return path

    def read(self, folder, name="catalogue.xlsx", **options):
        """Save under ``folder`` and read back with read_workbook."""
        return read_workbook(self.save(folder / name), **options)


def messages(problems) -> list[str]:
    """Problems as the ``place: message`` lines a user sees."""
    return [str(problem) for problem in problems]


def sheet_member(book: Book, sheet: str) -> str:
    """The zip member that holds ``sheet`` in a file written by Book.save."""
    return f"xl/worksheets/sheet{list(book.sheets).index(sheet) + 1}.xml"


def rewrite_member(path, member: str, change) -> None:
    """Replace one zip member's bytes by ``change(bytes)``, keeping the others as they are."""
    with zipfile.ZipFile(path) as source:
        contents = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in contents:
            target.writestr(info, change(data) if info.filename == member else data)
