"""What a catalogue workbook may contain (issue 7 item 4), and the rule of one version label, one content.

Hostile workbooks are refused by counting their XML before openpyxl reads
them, with a message naming the sheet and the limit; errors are listed up to
a few hundred with their count; the command line uses the same limits.
"""
import random
import zipfile

import pytest

from county_app.catalogue import store
from county_app.catalogue.diff import diff_catalogues
from county_app.catalogue.xlsx_package import DEFAULT_LIMITS, Limits
from county_app.catalogue.xlsx_read import read_workbook
from county_app.catalogue.xlsx_rows import MAX_LISTED, Problems
from county_app.db import db
from county_app.models import CatalogueVersion
from workbooks import (
    MINIMAL, Book, catalogue_xml, many_shared_strings, messages, raw_workbook, rewrite_member, rows_xml,
    sheet_member, wide_material_rows,
)


def only_error(result) -> str:
    assert result.catalogue is None
    assert len(result.errors) == 1, messages(result.errors)
    return str(result.errors[0])


def with_rows(sheet, rows):
    """The minimal catalogue as XML with ``rows`` (<row> bytes) after ``sheet``'s own."""
    def all_rows():
        yield from rows_xml(MINIMAL[sheet])
        yield from rows
    return catalogue_xml(**{sheet: all_rows()})


# --- the workbooks of the report -----------------------------------------------------------------

def test_a_shared_string_table_past_its_limit_is_refused_unread(tmp_path):
    """Reported: 10 million shared strings (3.4 MB) took 3 min 17 s and 985 MB, and were accepted."""
    path = many_shared_strings(tmp_path / "strings.xlsx", DEFAULT_LIMITS.max_strings + 50_000)
    assert only_error(read_workbook(path)) == (
        "文件: 共享字符串表（xl/sharedStrings.xml）中的文字超过 200000 条的上限，已停止读取")


def test_a_sheet_of_too_many_cells_is_refused_unread(tmp_path):
    """Reported: 100,000 rows × 110 cells (8.7 MB) took 3 min and 484 MB, and listed 799,723 errors."""
    path = wide_material_rows(tmp_path / "wide.xlsx", rows=8_000, cells=110)
    message = only_error(read_workbook(path))
    assert message.startswith("材料: 单元格超过 800000 个的上限") and "请删除多余的行和列" in message


def test_cells_and_rows_of_all_sheets_together_are_limited(tmp_path):
    path = raw_workbook(tmp_path / "c.xlsx", catalogue_xml())
    total = sum(len([v for v in row if v is not None]) for rows in MINIMAL.values() for row in rows)
    assert read_workbook(path, limits=Limits(max_cells=total)).errors == []
    assert only_error(read_workbook(path, limits=Limits(max_cells=total - 1))).startswith(
        f"文件: 各工作表的单元格合计超过 {total - 1} 个的上限（到工作表 “节假日” 为止）")
    data_rows = sum(len(rows) - 1 for rows in MINIMAL.values())
    assert read_workbook(path, limits=Limits(max_total_rows=data_rows)).errors == []
    assert "数据行合计超过" in only_error(read_workbook(path, limits=Limits(max_total_rows=data_rows - 1)))


def test_rows_past_the_limit_are_refused_before_openpyxl_counts_them(tmp_path):
    path = raw_workbook(tmp_path / "c.xlsx", with_rows("材料", [b'<row r="100002"><c><v>1</v></c></row>']))
    assert only_error(read_workbook(path)) == "材料: 数据超过 100000 行的上限，已停止读取"


def test_a_cell_past_the_last_column_is_refused(tmp_path):
    path = raw_workbook(tmp_path / "c.xlsx", with_rows("事项", [b'<row r="9"><c r="XFD9"><v>1</v></c></row>']))
    assert only_error(read_workbook(path)) == (
        "事项: 第 9 行用到了第 16384 列（XFD 列），超过 1000 列的上限，已停止读取")


def test_a_cell_longer_than_excel_allows_is_named(tmp_path):
    text = ("填报须知" * 9000).encode()
    path = raw_workbook(tmp_path / "c.xlsx", with_rows(
        "材料", [b'<row r="9"><c r="J9" t="inlineStr"><is><t>%s</t></is></c></row>' % text]))
    assert only_error(read_workbook(path)).startswith("材料!J9: 单元格的内容超过 32767 个字符")


def test_all_text_together_is_limited(tmp_path):
    path = raw_workbook(tmp_path / "c.xlsx", catalogue_xml())
    assert read_workbook(path, limits=Limits(max_text_chars=2000)).errors == []
    assert only_error(read_workbook(path, limits=Limits(max_text_chars=100))) == (
        "文件: 文件中的文字合计超过 100 个字符的上限，已停止读取")


def test_distinct_texts_kept_from_the_cells_are_limited(tmp_path):
    path = Book().save(tmp_path / "c.xlsx")
    assert read_workbook(path, limits=Limits(max_texts=200)).errors == []
    assert only_error(read_workbook(path, limits=Limits(max_texts=10))).endswith(
        "不同的文字超过 10 条的上限，已停止读取")


# --- hostile XML ---------------------------------------------------------------------------------

def test_a_document_type_declaration_is_refused(tmp_path):
    book = Book()
    path = book.save(tmp_path / "c.xlsx")
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>')
    rewrite_member(path, sheet_member(book, "事项"),
                   lambda data: laughs + data.replace(b"M001", b"&lol2;", 1))
    message = only_error(read_workbook(path))
    assert "DOCTYPE" in message and "恶意" in message


def test_one_endless_tag_is_refused(tmp_path):
    attributes = b"".join(b' a%d="%d"' % (n, n * 7919 % 10007) for n in range(60_000))
    path = raw_workbook(tmp_path / "c.xlsx", with_rows("材料", [b'<row r="9"><c r="A9"%s/></row>' % attributes]))
    assert read_workbook(path).errors == []  # 0.9 MB: a long tag, but not endless
    message = only_error(read_workbook(path, limits=Limits(max_tag_bytes=256 * 1024)))
    assert "xl/worksheets/sheet3.xml" in message and "标签或文字" in message


def test_nesting_too_deep_is_refused(tmp_path):
    path = raw_workbook(tmp_path / "c.xlsx", with_rows(
        "材料", [b'<row r="9"><c r="J9" t="inlineStr"><is>' + b"<r>" * 100 + b"</r>" * 100 + b"</is></c></row>"]))
    assert "嵌套超过 64 层" in only_error(read_workbook(path))


def test_a_part_with_too_many_elements_is_refused(tmp_path):
    path = Book().save(tmp_path / "c.xlsx")
    message = only_error(read_workbook(path, limits=Limits(max_part_elements=20)))
    assert "中的 XML 元素超过 20 个的上限" in message


def test_too_many_zip_members_are_refused_from_the_end_record(tmp_path):
    path = Book().save(tmp_path / "c.xlsx")
    with zipfile.ZipFile(path, "a") as archive:
        for number in range(DEFAULT_LIMITS.max_members):
            archive.writestr(f"m/{number}", b"")
    assert only_error(read_workbook(path)).startswith("文件: 压缩包中有 10")


def test_a_limit_on_a_sheet_is_reported_at_that_sheet(tmp_path):
    book = Book()
    for number in range(40):
        book.copy_row("节假日", 2, 日期=f"2027-01-{number % 28 + 1:02d}")
    message = only_error(book.read(tmp_path, limits=Limits(max_sheet_cells=100)))
    assert message.startswith("节假日: 单元格超过 100 个的上限")


# --- errors listed up to a few hundred, with their count ---------------------------------------------

def test_errors_are_listed_up_to_a_few_hundred_with_their_count(tmp_path):
    rows = (b'<row><c t="inlineStr"><is><t>M%d</t></is></c><c t="inlineStr"><is><t>C1</t></is></c></row>' % n
            for n in range(3000))
    result = read_workbook(raw_workbook(tmp_path / "c.xlsx", with_rows("材料", rows)))
    assert len(result.errors) == MAX_LISTED == 200
    assert result.error_count > 3000 * 5
    # The first ones in file order: row 5 (the first added row), column by column.
    assert messages(result.errors[:2]) == ["材料!A5: 事项编码 “M0” 在“事项”表中不存在", "材料!C5: 材料名称不能为空"]


def test_problems_keep_the_first_in_file_order_whatever_order_they_come_in():
    chooser = random.Random(11)
    for _ in range(200):
        listed, count = chooser.randrange(1, 30), chooser.randrange(0, 700)
        orders = [(chooser.randrange(4), chooser.randrange(30), chooser.randrange(4)) for _ in range(count)]
        problems = Problems(listed)
        for number, order in enumerate(orders):
            problems.error(str(number), "x", order)
        expected = sorted((order, number) for number, order in enumerate(orders))[:listed]
        assert [(p.order, int(p.place)) for p in problems.errors] == expected
        assert problems.error_count == count


def test_the_differences_listed_are_capped_with_a_count(tmp_path):
    book = Book()
    for number in range(30):
        book.copy_row("事项", 2, 事项编码=f"M1{number:02d}")
    new = book.read(tmp_path).catalogue
    lines = list(diff_catalogues(None, new).lines(10))
    assert lines[0] == "事项：新增 32，修改 0，删除 0"
    assert lines[11] == "  ……另有 22 处事项的差异未列出"


# --- the command line --------------------------------------------------------------------------------

def test_cli_import_refuses_a_hostile_workbook_with_the_same_limits(app, run_cli, tmp_path):
    path = many_shared_strings(tmp_path / "strings.xlsx", DEFAULT_LIMITS.max_strings + 1)
    result = run_cli("catalogue", "import", str(path))
    assert result.exit_code == 1
    assert "中的文字超过 200000 条的上限" in result.output
    with db.connection_context():
        assert CatalogueVersion.select().count() == 0


def test_cli_import_lists_200_errors_and_counts_the_rest(app, run_cli, tmp_path):
    rows = (b'<row><c t="inlineStr"><is><t>X%d</t></is></c></row>' % n for n in range(1000))
    result = run_cli("catalogue", "import", str(raw_workbook(tmp_path / "c.xlsx", with_rows("材料", rows))))
    assert result.exit_code == 1
    listed = [line for line in result.output.splitlines() if line.startswith("错误 ")]
    assert len(listed) == 200
    total = 1000 * 8
    assert f"另有 {total - 200} 处错误未列出" in result.output and f"目录有 {total} 处错误" in result.output


# --- one version label, one content (issue 7 item 10) -------------------------------------------------

def test_cli_refuses_the_label_in_force_with_other_content(app, run_cli, tmp_path):
    first = Book().save(tmp_path / "v1.xlsx")
    assert run_cli("catalogue", "import", str(first)).exit_code == 0
    again = run_cli("catalogue", "import", str(first))
    assert again.exit_code == 0 and "内容相同，未做任何更改" in again.output
    edited = Book().set("事项", 2, "承诺办结时限", 3).save(tmp_path / "edited.xlsx")
    refused = run_cli("catalogue", "import", str(edited))
    assert refused.exit_code == 1
    assert ("错误 目录信息!B2: 目录版本 “2026.11-02” 正在使用，但这个文件的内容与它不同；"
            "如要发布修改，请把“目录信息”表中的“目录版本”改为新的版本号") in refused.output
    with db.connection_context():
        assert CatalogueVersion.select().count() == 1


def test_a_re_exported_catalogue_is_the_same_content(app, run_cli, tmp_path):
    assert run_cli("catalogue", "import", str(Book().save(tmp_path / "v1.xlsx"))).exit_code == 0
    exported = tmp_path / "exported.xlsx"
    assert run_cli("catalogue", "export", str(exported)).exit_code == 0
    again = run_cli("catalogue", "import", str(exported))
    assert again.exit_code == 0 and "内容相同" in again.output


def test_cli_refuses_an_earlier_label_with_other_content_but_allows_going_back(app, run_cli, tmp_path):
    first = Book().save(tmp_path / "v1.xlsx")
    assert run_cli("catalogue", "import", str(first)).exit_code == 0
    second = Book().set("目录信息", 2, "内容", "2026.12-01").set("事项", 2, "承诺办结时限", 3)
    assert run_cli("catalogue", "import", str(second.save(tmp_path / "v2.xlsx"))).exit_code == 0
    reused = Book().set("事项", 2, "承诺办结时限", 4).save(tmp_path / "reused.xlsx")  # label 2026.11-02
    refused = run_cli("catalogue", "import", str(reused))
    assert refused.exit_code == 1
    assert "目录信息!B2: 目录版本 “2026.11-02” 已于" in refused.output
    assert "请把“目录信息”表中的“目录版本”改为新的版本号" in refused.output
    back = run_cli("catalogue", "import", str(first))  # the earlier version as it was
    assert back.exit_code == 0 and "已导入目录版本 2026.11-02" in back.output
    with db.connection_context():
        assert [v.version for v in store.versions()] == ["2026.11-02", "2026.12-01", "2026.11-02"]


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_label_rule_holds_for_a_dry_run_too(app, tmp_path, dry_run):
    with db.connection_context():
        store.import_workbook(Book().save(tmp_path / "v1.xlsx"), actor="a")
        edited = Book().set("材料", 2, "份数", 3).save(tmp_path / "edited.xlsx")
        outcome = store.import_workbook(edited, actor="a", dry_run=dry_run)
        assert outcome.status == "invalid" and outcome.errors[0].place == "目录信息!B2"


# --- merged ranges (issue 8 item 5): kept by the scan, so they are counted too -------------------------

def with_merges(tmp_path, refs, name="merged.xlsx"):
    """The minimal catalogue with ``refs`` merged on 一件事事项, written as the XML Excel writes."""
    book = Book()
    path = book.save(tmp_path / name)
    cells = b"".join(b'<mergeCell ref="%s"/>' % ref.encode() for ref in refs)
    rewrite_member(path, sheet_member(book, "一件事事项"), lambda xml: xml.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="%d">%s</mergeCells>' % (len(refs), cells), 1))
    return path


def test_merged_ranges_past_their_limit_are_refused_unread(tmp_path):
    refs = [f"Z{row}:Z{row + 1}" for row in range(2, 22, 2)]  # ten merges in a column nobody reads
    path = with_merges(tmp_path, refs)
    result = read_workbook(path, limits=Limits(max_merges=10))
    assert result.errors == [] and "一件事事项: 有合并单元格 Z2:Z3、Z4:Z5" in messages(result.warnings)[0]
    assert only_error(read_workbook(path, limits=Limits(max_merges=9))) == (
        "文件: 合并单元格超过 9 处的上限（到工作表 “一件事事项” 为止），已停止读取；请取消不必要的合并后再导入")


def test_a_damaged_merge_reference_is_refused(tmp_path):
    assert only_error(read_workbook(with_merges(tmp_path, ["A2:?"]))) == (
        "一件事事项: 工作表内容已损坏，无法读取（合并单元格 “A2:?” 无效）")


def test_as_many_overlapping_merges_as_allowed_give_a_short_answer(tmp_path):
    """Excel cannot make overlapping merges; a hostile file of 50,000 over the columns read is counted, not listed."""
    refs = ["A1:M100000"] + [f"A{row}:M{row + 50_000}" for row in range(2, DEFAULT_LIMITS.max_merges + 1)]
    result = read_workbook(with_merges(tmp_path, refs))
    # Every other range overlaps the first; the first, a merged header, makes its columns repeat.
    assert result.error_count >= DEFAULT_LIMITS.max_merges - 1 and len(result.errors) == MAX_LISTED
    assert str(result.errors[0]) == (
        "一件事事项: 合并单元格 A2:M50002 与 A1:M100000 重叠，文件已损坏；请在 Excel 中取消这两处合并后重新合并")
