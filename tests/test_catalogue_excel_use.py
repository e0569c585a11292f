"""Excel as county staff use it (issue 8 items 5 and 7): merged cells, hidden sheets, rows and columns,
full-width digits, dates that show as numbers, the 1904 date system, and files re-saved by LibreOffice.

Reported: merging a repeated 一件事编码 gave 70 errors 一件事编码不能为空 that never mentioned
merging; a 说明 merged down over the next bundle silently emptied it; ``２`` in 份数 and a date
stored as 46023 were refused.
"""
import zipfile
from datetime import date, datetime

import pytest

from county_app.catalogue.xlsx_read import read_workbook
from workbooks import Book, libreoffice_resave, messages, rewrite_member, sheet_member

MERGE_RULE = "按 Excel 显示的样子读取：合并区域中的每个单元格都取左上角单元格的值"


def members(catalogue):
    return [(m.bundle_code, m.matter_code) for m in catalogue.members]


# --- merged cells ----------------------------------------------------------------------------------

def test_a_bundle_code_merged_down_over_its_members_is_read_in_every_row(tmp_path):
    book = Book().merge("一件事事项", "A2:A3")  # B01 typed once, merged over both member rows
    result = book.read(tmp_path)
    assert result.errors == [], messages(result.errors)
    assert members(result.catalogue) == [("B01", "M001"), ("B01", "M002")]
    assert messages(result.warnings) == [f"一件事事项: 有合并单元格 A2:A3（共 1 处），{MERGE_RULE}"]


def test_seventy_member_rows_under_one_merged_code(tmp_path):
    book = Book()
    for number in range(3, 73):  # 70 more matters in one bundle, its code typed once and merged down
        code = f"M{number:03d}"
        book.copy_row("事项", 3, 事项编码=code)
        book.append("一件事事项", {"一件事编码": "B01" if number == 3 else None, "事项编码": code,
                                   "是否必选": "可选", "顺序": number})
    book.merge("一件事事项", "A2:A74")
    result = book.read(tmp_path)
    assert result.errors == [], messages(result.errors)[:3]
    assert {bundle for bundle, _ in members(result.catalogue)} == {"B01"}
    assert len(result.catalogue.members) == 72


def test_a_description_merged_over_the_next_bundle_reads_as_excel_shows_it(tmp_path):
    """A merge spanning two records stands for its top-left value in both: that is what Excel shows."""
    book = Book()
    book.append("一件事", ["B02", "另一件事", "县民政局", "个人", "这段说明在合并时被 Excel 丢掉了", "启用"])
    book.merge("一件事", "E2:E3")
    result = book.read(tmp_path)
    assert result.errors == []
    assert [(b.code, b.description) for b in result.catalogue.bundles] == [
        ("B01", "出生医学证明、户口登记一次办"), ("B02", "出生医学证明、户口登记一次办")]
    assert messages(result.warnings) == [f"一件事: 有合并单元格 E2:E3（共 1 处），{MERGE_RULE}"]


def test_errors_in_a_merged_cell_name_the_merge(tmp_path):
    book = Book().set("一件事事项", 2, "一件事编码", "B09").merge("一件事事项", "A2:A3")
    result = book.read(tmp_path)
    note = "（A2:A3 是合并单元格，各格都按左上角 A2 的值读取）"
    assert messages(result.errors) == [
        f"一件事事项!A2: 一件事编码 “B09” 在“一件事”表中不存在{note}",
        f"一件事事项!A3: 一件事编码 “B09” 在“一件事”表中不存在{note}",
    ]


def test_a_merge_reaching_into_empty_rows_adds_no_records(tmp_path):
    book = Book()
    book.append("节假日", ["2026-10-02", "休息日", "国庆节"])
    book.merge("节假日", "B3:B8")  # 类型 merged down past the last day, over empty rows
    result = book.read(tmp_path)
    assert result.errors == [], messages(result.errors)
    assert [(d.day, d.kind) for d in result.catalogue.calendar] == [
        (date(2026, 10, 1), "rest"), (date(2026, 10, 10), "work"), (date(2026, 10, 2), "work")]


def test_a_merged_header_stands_in_every_column_it_covers(tmp_path):
    book = Book().merge("节假日", "A1:B1")
    assert messages(book.read(tmp_path).errors) == [
        "节假日: 缺少必需的列 “类型”",
        "节假日!B1: 列 “日期” 重复（与 A1 相同）（A1:B1 是合并单元格，各格都按左上角 A1 的值读取）",
    ]


def test_a_merged_header_whose_covered_cells_the_file_leaves_out_still_covers_them(tmp_path):
    """openpyxl and some WPS versions do not store a merge's covered cells: 类型 merged over 名称 (the last
    column) read as if 名称 were not there, and every day's name was dropped without a word."""
    book = Book().merge("节假日", "B1:C1")
    path = book.save(tmp_path / "covered.xlsx")
    assert b'r="C1"' not in sheet_xml(path, book, "节假日")  # the covered cell is absent from the file
    result = read_workbook(path)
    assert messages(result.errors) == [
        "节假日!C1: 列 “类型” 重复（与 B1 相同）（B1:C1 是合并单元格，各格都按左上角 B1 的值读取）"]


def sheet_xml(path, book, sheet):
    with zipfile.ZipFile(path) as archive:
        return archive.read(sheet_member(book, sheet))


def test_a_value_hidden_under_a_merge_is_read_as_excel_shows_it_and_reported(tmp_path):
    """LibreOffice can merge and keep the covered cells' contents; Excel shows only the top-left one."""
    book = Book().merge("一件事事项", "A2:A3")
    path = book.save(tmp_path / "kept.xlsx")
    rewrite_member(path, sheet_member(book, "一件事事项"), lambda xml: xml.replace(
        b'<row r="3">', b'<row r="3"><c r="A3" t="inlineStr"><is><t>B77</t></is></c>', 1))
    result = read_workbook(path)
    assert result.errors == [], messages(result.errors)
    assert members(result.catalogue) == [("B01", "M001"), ("B01", "M002")]
    assert '一件事事项!A3: 这格被合并单元格 A2:A3 遮住，它自己的内容 "B77" 在 Excel 中看不到，' \
           "已按 Excel 显示的左上角 A2 的值读取" in messages(result.warnings)


def test_overlapping_merges_are_a_damaged_file(tmp_path):
    book = Book().merge("一件事事项", "A2:A3").merge("一件事事项", "A3:B4")
    assert "一件事事项: 合并单元格 A3:B4 与 A2:A3 重叠，文件已损坏；请在 Excel 中取消这两处合并后重新合并" in messages(
        book.read(tmp_path).errors)


# --- hidden sheets, rows and columns --------------------------------------------------------------

def test_hidden_sheets_rows_and_columns_are_read_and_listed(tmp_path):
    visible = Book().read(tmp_path, "visible.xlsx")
    book = Book().hide_sheet("节假日").hide_sheet("表单", "veryHidden")
    book.hide_rows("材料", 3, 4).hide_column("材料", "填报须知").hide_column("材料", "份数")
    result = book.read(tmp_path)
    assert result.errors == []
    assert result.catalogue == visible.catalogue  # hidden content is read like visible content
    assert messages(result.warnings) == [
        "材料: 第 3–4 行是隐藏的（共 2 行），已和其他行一样读取；请在 Excel 中取消隐藏后核对",
        "材料: E、J 列是隐藏的，已和其他列一样读取；请在 Excel 中取消隐藏后核对",
        "表单: 这个工作表被深度隐藏（Excel 的“取消隐藏”中也不列出），已照常读取；请让制作文件的人取消隐藏后核对",
        "节假日: 这个工作表是隐藏的，已照常读取；请在 Excel 中取消隐藏后核对",
    ]


def test_an_error_in_a_hidden_row_or_column_says_so(tmp_path):
    book = Book().set("材料", 3, "份数", "两份").hide_rows("材料", 3).hide_column("材料", "份数")
    assert "材料!E3: 份数必须是正整数，实际为 \"两份\"（第 3 行是隐藏的；E 列是隐藏的）" in messages(
        book.read(tmp_path).errors)


def test_a_hidden_unknown_sheet_is_named_as_hidden(tmp_path):
    book = Book()
    book.sheets["草稿"] = [["随便写写"]]
    book.hide_sheet("草稿")
    assert messages(book.read(tmp_path).warnings) == ["草稿: 未知的工作表，已忽略（隐藏的工作表）"]


# --- numbers and dates typed as people type them -------------------------------------------------

def full_width_book() -> Book:
    """Every number and date of the minimal catalogue typed with a Chinese input method's full-width digits."""
    book = Book()
    book.set("事项", 2, "法定办结时限", "２０").set("事项", 2, "承诺办结时限", "５").set("事项", 2, "到现场次数", "２")
    book.set("材料", 3, "份数", "２").set("一件事事项", 3, "顺序", "２").set("情形问题", 3, "顺序", " ２ ")
    book.set("目录信息", 4, "内容", "２０２６－１１－０２").set("目录信息", 5, "内容", "３３０１０２")
    book.set("节假日", 2, "日期", "２０２６-１０-０１").set("节假日", 3, "日期", "２０２６－１０－１０")
    return book


def test_full_width_digits_are_the_same_numbers_and_dates(tmp_path):
    plain = Book().read(tmp_path, "plain.xlsx")
    result = full_width_book().read(tmp_path)
    assert result.errors == [], messages(result.errors)
    assert result.catalogue == plain.catalogue


@pytest.mark.parametrize("value", [1e20, "99999999999999999999", "²", "٥", 2.0 ** 70])
def test_numbers_beyond_reason_or_in_other_scripts_are_refused(tmp_path, value):
    result = Book().set("材料", 2, "份数", value).read(tmp_path)
    assert [str(e).split("，实际为")[0] for e in result.errors] == ["材料!E2: 份数必须是正整数"]


def test_a_date_shown_as_a_number_is_the_excel_date_it_is(tmp_path):
    """A date column whose cell is formatted 常规 (General) holds the date's serial: 46023 is 2026-01-01."""
    book = Book().set("目录信息", 4, "内容", 46023).set("节假日", 2, "日期", 46023)
    book.set("节假日", 3, "日期", 46024.75)  # a date and time, shown as a number
    result = book.read(tmp_path)
    assert result.errors == [], messages(result.errors)
    assert result.catalogue.info.published_on == date(2026, 1, 1)
    assert [d.day for d in result.catalogue.calendar] == [date(2026, 1, 1), date(2026, 1, 2)]


def test_the_1904_date_system(tmp_path):
    """Excel for Mac's old default counts from 1904-01-01: the same date is another number."""
    book = Book()
    book.date1904 = True
    book.set("节假日", 3, "日期", 44561)  # 2026-01-01 from 1904, in a General cell
    result = book.read(tmp_path)
    assert result.errors == [], messages(result.errors)
    assert result.catalogue.info.published_on == date(2026, 11, 2)  # a date cell, stored from 1904 too
    assert [d.day for d in result.catalogue.calendar] == [date(2026, 10, 1), date(2026, 1, 1)]


FIX = "；请把单元格格式设为“日期”后重新输入，或输入 YYYY-MM-DD 格式的文字（如 2026-10-01）"


@pytest.mark.parametrize("value, message", [
    (-3, "日期是数字，不是有效的 Excel 日期，实际为 -3" + FIX),
    (20261001, "日期是数字，不是有效的 Excel 日期，实际为 20261001" + FIX),
    ("46023", '日期是文字形式的数字，不是日期，实际为 "46023"' + FIX),
    ("４６０２３", '日期是文字形式的数字，不是日期，实际为 "４６０２３"' + FIX),
])
def test_a_number_that_cannot_be_a_date_says_how_to_fix_it(tmp_path, value, message):
    result = Book().set("节假日", 2, "日期", value).read(tmp_path)
    assert messages(result.errors) == [f"节假日!A2: {message}"]


def test_a_published_date_typed_into_a_text_cell_says_how_to_fix_it(tmp_path):
    result = Book().set("目录信息", 4, "内容", "46023").read(tmp_path)
    assert messages(result.errors) == [f'目录信息!B4: 发布日期是文字形式的数字，不是日期，实际为 "46023"{FIX}']


# --- files as LibreOffice Calc saves them ------------------------------------------------------------

def county_book() -> Book:
    """What a county officer's workbook looks like after a day in a spreadsheet: all of the above at once."""
    book = full_width_book()
    book.set("节假日", 2, "日期", 46023).set("节假日", 2, "名称", "元旦").number_format("节假日", "A2", "General")
    book.append("一件事", ["B02", "另一件事", "县民政局", "个人", None, "启用"])
    book.merge("一件事", "E2:E3").merge("一件事事项", "A2:A3").merge("材料", "A3:A4")
    book.hide_rows("材料", 3).hide_column("事项", "设定依据").hide_sheet("情形问题")
    return book


def test_workbooks_re_saved_by_libreoffice_read_the_same(tmp_path):
    book = county_book()
    mac = county_book()
    mac.date1904 = True
    mac.set("节假日", 2, "日期", 44561)  # the same 2026-01-01, counted from 1904
    paths = [book.save(tmp_path / "county.xlsx"), mac.save(tmp_path / "county-1904.xlsx")]
    ours = [read_workbook(path) for path in paths]
    theirs = [read_workbook(path) for path in libreoffice_resave(paths, tmp_path)]
    for before, after in zip(ours, theirs):
        assert before.errors == [] and after.errors == [], messages(after.errors)
        assert after.catalogue == before.catalogue
        assert messages(after.warnings) == messages(before.warnings)
    catalogue = theirs[0].catalogue
    assert theirs[1].catalogue == catalogue
    assert catalogue.calendar[0].day == date(2026, 1, 1)
    assert [b.description for b in catalogue.bundles] == ["出生医学证明、户口登记一次办"] * 2
    assert [(m.matter_code, m.code, m.copies) for m in catalogue.materials] == [
        ("M001", "C01", 1), ("M002", "C01", 2), ("M002", "C02", 1)]
    assert any("有合并单元格 A2:A3" in w for w in messages(theirs[0].warnings))
    assert "情形问题: 这个工作表是隐藏的，已照常读取；请在 Excel 中取消隐藏后核对" in messages(theirs[0].warnings)
    assert theirs[0].catalogue.info.published_on == date(2026, 11, 2)


def test_a_dated_cell_in_a_1904_workbook_re_saved_by_libreoffice(tmp_path):
    book = Book()
    book.date1904 = True
    book.set("节假日", 2, "日期", datetime(2027, 2, 6))
    [path] = libreoffice_resave([book.save(tmp_path / "mac.xlsx")], tmp_path)
    result = read_workbook(path)
    assert result.errors == [], messages(result.errors)
    assert result.catalogue.calendar[0].day == date(2027, 2, 6)


# --- the command line ----------------------------------------------------------------------------------

def test_cli_lists_merged_and_hidden_content_and_imports_it(app, run_cli, tmp_path):
    from county_app.catalogue import store
    from county_app.db import db
    from county_app.models import CatalogueVersion

    path = str(county_book().save(tmp_path / "county.xlsx"))
    for args, head in (((path, "--dry-run"), "检查通过（未导入）"), ((path,), "已导入目录版本 2026.11-02")):
        result = run_cli("catalogue", "import", *args)
        assert result.exit_code == 0 and head in result.output, result.output
        for said in ("警告 一件事: 有合并单元格 E2:E3（共 1 处）", "警告 一件事事项: 有合并单元格 A2:A3（共 1 处）",
                     "警告 材料: 第 3 行是隐藏的（共 1 行）", "警告 事项: L 列是隐藏的",
                     "警告 情形问题: 这个工作表是隐藏的"):
            assert said in result.output, said
    with db.connection_context():
        catalogue = store.load_catalogue(CatalogueVersion.in_force())
    assert [b.description for b in catalogue.bundles] == ["出生医学证明、户口登记一次办"] * 2
    assert catalogue.calendar[0].day == date(2026, 1, 1) and catalogue.materials[1].copies == 2
