"""A material's 适用条件 in the catalogue: read, checked (errors naming the cell), stored, exported, diffed.

The workbooks are real .xlsx files (``workbooks.Book``); the database a real SQLite file.
"""
import sqlite3

import openpyxl
import pytest

from county_app.bootstrap import initialise
from county_app.catalogue import query, store
from county_app.catalogue.diff import diff_catalogues
from county_app.catalogue.xlsx_read import read_workbook
from county_app.catalogue.xlsx_write import write_workbook
from county_app.db import bind, database_path, db
from county_app.intake.facts import case_facts
from county_app.intake.guide import guide_bundle
from county_app.models import CatalogueVersion, MaterialRow

from workbooks import Book, messages

FACTS = "代办、申请人类型"


def condition_cell(book, row=4):
    """``材料!K4``: the 适用条件 cell of the 结婚证 row of the minimal workbook."""
    return f"材料!{book.ref('材料', row, '适用条件')}"


def errors_for(tmp_path, condition, book=None):
    book = book or Book()
    book.set("材料", 4, "适用条件", condition)
    return book, messages(book.read(tmp_path).errors)


# --- reading and checking -------------------------------------------------------------

def test_the_column_is_read_and_blank_means_always(tmp_path):
    catalogue = Book().read(tmp_path).catalogue
    assert [(m.code, m.condition) for m in catalogue.materials] == [("C01", ""), ("C01", ""), ("C02", "Q2=是")]


@pytest.mark.parametrize("condition", ["代办=是", "申请人类型!=个人", "Q1=是;代办=否", "Q2=是|不确定;申请人类型=企业"])
def test_questions_of_the_bundle_and_the_two_facts_are_accepted(tmp_path, condition):
    assert errors_for(tmp_path, condition)[1] == []


@pytest.mark.parametrize("condition, message", [
    ("Q9=是", "适用条件引用了问题 “Q9”，但包含事项 “M002” 的一件事（B01）都没有这个问题（也可以用 代办、申请人类型）"),
    ("Q2=离异", "适用条件中问题 “Q2” 没有选项 “离异”（可选：是|否|不确定）"),
    ("代办=也许", "适用条件中 “代办” 只能是 是|否，实际为 “也许”"),
    ("申请人类型=公司;代办=是", "适用条件中 “申请人类型” 只能是 个人|企业，实际为 “公司”"),
])
def test_unknown_questions_values_and_facts_are_errors_naming_the_cell(tmp_path, condition, message):
    book, errors = errors_for(tmp_path, condition)
    assert errors == [f"{condition_cell(book)}: {message}"]


def test_a_grammar_error_names_the_cell(tmp_path):
    book, errors = errors_for(tmp_path, "代办 是")
    assert len(errors) == 1 and errors[0].startswith(f"{condition_cell(book)}: 适用条件格式错误：第 1 个子句")


def test_a_matter_in_no_bundle_may_name_only_the_facts(tmp_path):
    book = Book()
    book.copy_row("事项", 2, 事项编码="M003", 事项名称="单独办理的事项")
    row = book.copy_row("材料", 2, 事项编码="M003", 适用条件="Q1=是")
    book.copy_row("材料", 2, 事项编码="M003", 材料编码="C03", 材料名称="授权委托书", 适用条件="代办=是")
    assert messages(book.read(tmp_path).errors) == [
        f"材料!{book.ref('材料', row, '适用条件')}: 适用条件引用了问题 “Q1”，但事项 “M003” 不属于任何一件事"
        f"（单独办理的事项只能以 {FACTS} 为条件）"]


def test_a_shared_matter_may_name_the_questions_of_any_bundle_holding_it(tmp_path):
    """Bundle B02 also holds M002 and asks Q7: M002's paper may be asked by Q7 (in B02 only)."""
    book = Book()
    book.copy_row("一件事", 2, 一件事编码="B02", 一件事名称="另一件事")
    book.copy_row("一件事事项", 3, 一件事编码="B02", 适用条件=None)
    book.copy_row("情形问题", 2, 一件事编码="B02", 问题编码="Q7", 选项="有|无")
    assert errors_for(tmp_path, "Q7=有", book)[1] == []
    assert errors_for(tmp_path, "Q7=是", book)[1] == [
        f"{condition_cell(book)}: 适用条件中问题 “Q7” 没有选项 “是”（可选：有|无）"]


def test_a_question_code_asked_by_two_bundles_holding_the_matter_is_warned_about(tmp_path):
    """B01 and B02 both hold M002 and both have a Q2: 「Q2=是」 on M002's paper is ambiguous (a warning naming
    the material, the matter and both bundles); Q7, asked only by B02, is not."""
    book = Book()
    book.copy_row("一件事", 2, 一件事编码="B02", 一件事名称="另一件事")
    book.copy_row("一件事事项", 3, 一件事编码="B02", 适用条件=None)
    book.copy_row("情形问题", 2, 一件事编码="B02", 问题编码="Q2", 选项="是|否")
    book.copy_row("情形问题", 2, 一件事编码="B02", 问题编码="Q7", 选项="有|无")
    book.set("材料", 4, "适用条件", "Q2=是")
    read = book.read(tmp_path)
    assert messages(read.errors) == []
    assert messages(read.warnings) == [
        f"{condition_cell(book)}: 材料 “C02” 的适用条件引用的问题 “Q2” 在包含事项 “M002” 的多个一件事（B01、B02）"
        "中都有：同一编码在各一件事中可能是不同的问题，条件含义不明确；请确认在每个一件事中都应这样判断，"
        "或改用只有一个一件事才有的问题编码"]
    book.set("材料", 4, "适用条件", "Q7=有;代办=是")
    assert messages(book.read(tmp_path).warnings) == []


def test_a_question_may_not_be_named_like_a_fact(tmp_path):
    book = Book()
    row = book.copy_row("情形问题", 2, 问题编码="代办")
    book.set("一件事事项", 3, "适用条件", "代办=是")
    errors = messages(book.read(tmp_path).errors)
    assert f"情形问题!{book.ref('情形问题', row, '问题编码')}: 问题编码不能用 “代办”：它是材料适用条件中的办件事实，请换一个编码" \
        in errors


def test_a_bundle_member_condition_may_not_name_a_fact(tmp_path):
    """The facts belong to materials: which matters a bundle takes is the answers' business."""
    book = Book().set("一件事事项", 3, "适用条件", "代办=是")
    assert messages(book.read(tmp_path).errors) == ["一件事事项!D3: 适用条件引用了一件事 “B01” 中不存在的问题 “代办”"]


# --- writing, storing, comparing ----------------------------------------------------------

def test_export_writes_the_column_and_reads_back_the_same(tmp_path):
    book = Book().set("材料", 2, "适用条件", "代办=是").set("材料", 4, "适用条件", "Q1=是;Q2!=否")
    original = book.read(tmp_path).catalogue
    path = tmp_path / "export.xlsx"
    write_workbook(original, path)
    assert read_workbook(path).catalogue == original
    workbook = openpyxl.load_workbook(path)
    try:
        sheet = workbook["材料"]
        headers = [cell.value for cell in sheet[1]]
        column = headers.index("适用条件")
        assert [row[column].value for row in sheet.iter_rows(min_row=2)] == ["代办=是", None, "Q1=是;Q2!=否"]
    finally:
        workbook.close()


def test_stored_exported_and_imported_again_unchanged(app, tmp_path):
    path = Book().set("材料", 2, "适用条件", "代办=是").save(tmp_path / "catalogue.xlsx")
    with db.connection_context():
        assert store.import_workbook(path, actor="officer").status == "applied"
        rows = {(r.matter.code, r.code): r.condition for r in MaterialRow.select()}
        assert rows == {("M001", "C01"): "代办=是", ("M002", "C01"): "", ("M002", "C02"): "Q2=是"}
        exported = tmp_path / "exported.xlsx"
        store.export_workbook(exported)
        assert store.load_catalogue(CatalogueVersion.in_force()) == read_workbook(path).catalogue
        assert store.import_workbook(exported, actor="officer").status == "unchanged"  # the same content


def test_a_changed_condition_is_a_difference_in_the_preview(tmp_path):
    old = Book().read(tmp_path).catalogue
    new = Book().set("材料", 4, "适用条件", "Q2=是;代办=否").read(tmp_path).catalogue
    assert list(diff_catalogues(old, new).lines()) == ["材料：新增 0，修改 1，删除 0", "  ~ 出生登记 / C02 结婚证（条件）"]


def test_a_database_from_before_the_column_asks_every_material_as_before(data_dir):
    """Migration 0006 on a database holding a catalogue: its materials have no condition, so all are asked."""
    initialise(data_dir)  # the seed catalogue, every migration
    con = sqlite3.connect(database_path(data_dir))
    with con:
        con.execute('ALTER TABLE "material" DROP COLUMN "condition"')
        con.execute("DELETE FROM schema_migration WHERE name = '0006_material_conditions'")
    con.close()
    report = initialise(data_dir)
    assert report.applied == ["0006_material_conditions"]
    # The process caches a version's rows by its workbook's SHA-256; this test gives the seed's rows other
    # content than the seed workbook has, which no real database does: no cached rows in, none out.
    query._materials_and_fields_of.cache_clear()
    bind(data_dir)
    try:
        with db.connection_context():
            assert MaterialRow.select().where(MaterialRow.condition != "").count() == 0
            guide = guide_bundle("YJS-TX", {"Q1": "企业职工基本养老保险", "Q2": "否", "Q3": "否"},
                                 facts=case_facts(kind="person", agent=False))
            assert "WTS" in {m.code for m in guide.materials}  # the old catalogue asked it of everyone
    finally:
        query._materials_and_fields_of.cache_clear()
        db.close()
