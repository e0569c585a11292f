"""Test helper: a valid minimal catalogue workbook as Python lists, to spoil one cell at a time.

    book = Book()
    book.set("材料", 2, "份数", "两份")     # data row 2 = first row under the header
    result = book.read(tmp_path)
    assert str(result.errors[0]) == f'材料!{book.ref("材料", 2, "份数")}: ...'
"""
import copy
import os
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import CALENDAR_MAC_1904

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
         "免提交方式", "填报须知", "适用条件"],
        ["M001", "C01", "父母身份证", "原件", 1, "纸质", "政府部门核发", "必要", "电子证照", "核验后退还", None],
        ["M002", "C01", "父母身份证", "复印件", 2, "纸质或电子", "政府部门核发", "必要", None, None, None],
        ["M002", "C02", "结婚证", "原件和复印件", 1, "纸质", "政府部门核发", "容缺", "数据共享", None, "Q2=是"],
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
        self.merges = []  # (sheet, "A2:A5"): merged as Excel merges, the covered cells emptied
        self.hidden = []  # (sheet, "row" | "column" | "sheet", which) hidden as Excel hides them
        self.formats = []  # (sheet, cell, number format)
        self.date1904 = False  # the workbook's date system (Excel for Mac's old default)

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

    def merge(self, sheet: str, ref: str) -> "Book":
        """Merge the cells of ``ref`` (``A2:A5``) as Excel does: only the top-left value is kept."""
        self.merges.append((sheet, ref))
        return self

    def hide_rows(self, sheet: str, *rows: int) -> "Book":
        self.hidden.extend((sheet, "row", row) for row in rows)
        return self

    def hide_column(self, sheet: str, header: str) -> "Book":
        self.hidden.append((sheet, "column", get_column_letter(self.column(sheet, header) + 1)))
        return self

    def hide_sheet(self, sheet: str, state: str = "hidden") -> "Book":
        self.hidden.append((sheet, "sheet", state))
        return self

    def number_format(self, sheet: str, cell: str, number_format: str) -> "Book":
        """Give a cell a number format: "General" shows a date as the number it is (46023)."""
        self.formats.append((sheet, cell, number_format))
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
        for name, cell, number_format in self.formats:
            workbook[name][cell].number_format = number_format
        for name, ref in self.merges:
            workbook[name].merge_cells(ref)
        for name, kind, which in self.hidden:
            if kind == "row":
                workbook[name].row_dimensions[which].hidden = True
            elif kind == "column":
                workbook[name].column_dimensions[which].hidden = True
            else:
                workbook[name].sheet_state = which
        if self.date1904:
            workbook.epoch = CALENDAR_MAC_1904  # dates are then written as days since 1904-01-01
        workbook.save(path)
        return path

    def read(self, folder, name="catalogue.xlsx", **options):
        """Save under ``folder`` and read back with read_workbook."""
        return read_workbook(self.save(folder / name), **options)


def exported_column(catalogue, path, sheet: str, header: str) -> list:
    """Write ``catalogue`` to ``path`` as the program exports it, check that it reads back the same, and give
    the values of column ``header`` of ``sheet`` as written, below the header row."""
    from county_app.catalogue.xlsx_write import write_workbook

    write_workbook(catalogue, path)
    assert read_workbook(path).catalogue == catalogue
    workbook = openpyxl.load_workbook(path)
    try:
        rows = workbook[sheet]
        column = [c.value for c in rows[1]].index(header)
        return [row[column].value for row in rows.iter_rows(min_row=2)]
    finally:
        workbook.close()


def messages(problems) -> list[str]:
    """Problems as the ``place: message`` lines a user sees."""
    return [str(problem) for problem in problems]


def libreoffice_resave(paths, folder) -> list[Path]:
    """Each workbook opened and saved again by LibreOffice Calc, as a county officer's PC may save it.

    ``libreoffice --headless --convert-to xlsx`` with a profile of its own (so that
    tests running at once do not share one). Skips the test when LibreOffice is not
    installed: ``make test`` installs Debian's libreoffice-calc.
    """
    program = shutil.which("libreoffice") or shutil.which("soffice")
    if program is None:
        pytest.skip("LibreOffice Calc is not installed (make test installs Debian's libreoffice-calc); "
                    "the workbooks could not be re-saved by it")
    folder = Path(folder)
    out = folder / "libreoffice"
    profile = folder / "libreoffice-profile"
    environment = dict(os.environ, HOME=str(folder))  # LibreOffice writes beside HOME too
    subprocess.run([program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "xlsx", "--outdir", str(out), *map(str, paths)],
                   check=True, capture_output=True, timeout=180, env=environment)
    saved = [out / Path(path).name for path in paths]
    missing = [path.name for path in saved if not path.exists()]
    assert not missing, f"LibreOffice did not write {missing}"
    return saved


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


# --- workbooks written directly as XML: far larger than openpyxl could write in a test ---

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def xml_text(value) -> str:
    from xml.sax.saxutils import escape

    return escape(str(value))


def cell_xml(value) -> bytes:
    """One cell without a position (it follows the one before): a number or an inline string."""
    if value is None:
        return b""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return b"<c><v>%s</v></c>" % str(value).encode()
    if isinstance(value, datetime):
        value = value.date().isoformat()
    return b'<c t="inlineStr"><is><t>%s</t></is></c>' % xml_text(value).encode()


def rows_xml(rows, first: int = 1):
    """Rows of Python values as <row> XML, numbered from ``first``; a None stays an empty position."""
    for number, values in enumerate(rows, first):
        cells = []
        for column, value in enumerate(values, 1):
            if value is not None:
                cells.append(cell_xml(value).replace(b"<c", b'<c r="%s%d"' % (
                    get_column_letter(column).encode(), number), 1))
        yield b'<row r="%d">%s</row>' % (number, b"".join(cells))


def raw_workbook(path, sheets: dict, shared_strings=None, level: int = 6):
    """Write an .xlsx from XML pieces, streaming: {sheet name: iterable of <row> bytes}, and the
    shared string table as an iterable of <si> bytes (or None). Gives the path."""
    names = list(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, len(names) + 1))
    if shared_strings is not None:
        overrides += ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                      'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
             '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
             f'sheet.main+xml"/>{overrides}</Types>')
    package = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
               f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    sheet_list = "".join(f'<sheet name="{xml_text(name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, name in enumerate(names, 1))
    workbook = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_NS}" xmlns:r="{_REL}">'
                f'<sheets>{sheet_list}</sheets></workbook>')
    parts = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                    for i in range(1, len(names) + 1))
    if shared_strings is not None:
        parts += f'<Relationship Id="rIdS" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    workbook_rels = f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">{parts}</Relationships>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", package)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for i, name in enumerate(names, 1):
            with archive.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                part.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_NS}"><sheetData>'.encode())
                for row in sheets[name]:
                    part.write(row)
                part.write(b"</sheetData></worksheet>")
        if shared_strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_NS}">'.encode())
                for item in shared_strings:
                    part.write(item)
                part.write(b"</sst>")
    return path


def catalogue_xml(**replaced) -> dict:
    """The MINIMAL catalogue as {sheet: <row> XML}, with some sheets' rows replaced ({name: rows})."""
    return {name: replaced.get(name) or rows_xml(rows) for name, rows in MINIMAL.items()}


def many_shared_strings(path, count: int, level: int = 6):
    """A valid minimal catalogue with a shared string table of ``count`` short, unused texts.

    As reported: 10,000,000 of them (3.4 MB) once took 3 min and 985 MB, and were accepted.
    The texts are drawn from a few letters, so that the file compresses as the reported one did."""
    import random

    chooser = random.Random(7)
    items = [b"<si><t>%s</t></si>" % letter for letter in (b"a", b"b", b"c", b"d")]

    def strings():
        for start in range(0, count, 10_000):
            yield b"".join(chooser.choices(items, k=min(10_000, count - start)))

    return raw_workbook(path, catalogue_xml(), strings(), level)


def wide_material_rows(path, rows: int, cells: int, level: int = 6):
    """A minimal catalogue whose 材料 sheet has ``rows`` rows of ``cells`` cells, each row with errors.

    As reported: 100,000 rows × 110 cells (8.7 MB) once took 3 min, 484 MB and gave an 83 MB error page.
    The values vary (a thousand different rows), so that the file compresses as the reported one did."""
    import random

    header = MINIMAL["材料"][0]
    chooser = random.Random(7)
    pool = []
    for _ in range(1000):
        values = [b"<c><v>%d</v></c>" % chooser.randrange(10) for _ in range(cells)]
        values[0] = b'<c t="inlineStr"><is><t>M9%04d</t></is></c>' % chooser.randrange(10**4)  # no such matter
        pool.append(b"".join(values))

    def material_rows():
        yield from rows_xml([header])
        for number in range(2, rows + 2):
            yield b'<row r="%d">%s</row>' % (number, pool[number % 1000])

    return raw_workbook(path, catalogue_xml(材料=material_rows()), level=level)


def many_materials(path, count: int, level: int = 6):
    """A valid minimal catalogue whose matter M001 asks for ``count`` more materials (C0…): a large, valid file."""
    import random

    codes = random.Random(7).sample(range(10**8), count)  # not in order, so that it compresses as real rows do

    def rows():
        yield from rows_xml(MINIMAL["材料"])
        for code in codes:
            yield ('<row><c t="inlineStr"><is><t>M001</t></is></c><c t="inlineStr"><is><t>C%d</t></is></c>'
                   '<c t="inlineStr"><is><t>证明材料</t></is></c><c t="inlineStr"><is><t>原件</t></is></c>'
                   '<c><v>1</v></c><c t="inlineStr"><is><t>纸质</t></is></c><c t="inlineStr"><is><t>其他'
                   '</t></is></c><c t="inlineStr"><is><t>非必要</t></is></c></row>' % code).encode()

    return raw_workbook(path, catalogue_xml(材料=rows()), level=level)
