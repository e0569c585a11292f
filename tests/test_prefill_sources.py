"""The extended 预填来源 (表单 sheet): read, checked (errors naming the cell), stored, exported, applied.

A field fills from an applicant attribute (a person's or a company's), an agent attribute or another
field of the merged form. The workbooks are real .xlsx files (``workbooks.Book``), the database a real
SQLite file; ``forms.prefill`` / ``check_form`` are what registration and the intake page apply.
"""
import json

import pytest

from county_app import settings
from county_app.catalogue import store
from county_app.catalogue.merging import FormField, merge
from county_app.catalogue.xlsx_read import read_workbook
from county_app.db import db
from county_app.intake import cases
from county_app.intake.forms import check_form, prefill
from county_app.models import CatalogueVersion, FieldRow

from workbooks import Book, exported_column, messages

WORDS = {
    "申请人.姓名": "name", "申请人.证件号码": "id_number", "申请人.统一社会信用代码": "credit_code",
    "申请人.法定代表人": "legal_representative", "申请人.手机号": "phone", "申请人.地址": "address",
    "代办人.姓名": "agent.name", "代办人.证件号码": "agent.id_number", "代办人.手机号": "agent.phone",
}


def with_field(book, code, name, source, matter="M002", type="文本"):
    """Add a field row with 预填来源 ``source``; gives its Excel row."""
    return book.append("表单", {"事项编码": matter, "字段编码": code, "字段名称": name, "字段类型": type,
                               "是否必填": "是", "预填来源": source})


def cell(book, row):
    return f"表单!{book.ref('表单', row, '预填来源')}"


# --- reading and checking -------------------------------------------------------------

@pytest.mark.parametrize("word, code", WORDS.items())
def test_every_applicant_and_agent_attribute_is_read_as_its_code(tmp_path, word, code):
    book = Book()
    with_field(book, "F09", "某字段", word)
    result = book.read(tmp_path)
    assert messages(result.errors) == []
    assert {f.code: f.prefill for f in result.catalogue.fields}["F09"] == code


def test_a_field_of_the_form_is_read_as_form_and_its_code(tmp_path):
    book = Book()
    with_field(book, "CKRXM", "持卡人姓名", "表单.F01", matter="M001")  # a field of another matter
    result = book.read(tmp_path)
    assert messages(result.errors) == []
    assert [f.prefill for f in result.catalogue.fields if f.code == "CKRXM"] == ["form.F01"]


@pytest.mark.parametrize("source", ["申请人.邮箱", "表单.", "表单", "代办人.地址", "申请人姓名"])
def test_an_unknown_source_names_the_cell_and_what_is_allowed(tmp_path, source):
    book = Book()
    row = with_field(book, "F09", "某字段", source)
    (error,) = messages(book.read(tmp_path).errors)
    assert error.startswith(f"{cell(book, row)}: 预填来源必须是 申请人.姓名、")
    assert f"代办人.手机号、表单.字段编码（如 表单.XSEXM） 之一，实际为 \"{source}\"" in error


def test_a_field_not_in_the_catalogue_is_an_error(tmp_path):
    book = Book()
    row = with_field(book, "CKRXM", "持卡人姓名", "表单.XSEXM")
    assert messages(book.read(tmp_path).errors) == [
        f"{cell(book, row)}: 预填来源 “表单.XSEXM” 引用的字段编码 “XSEXM” 在“表单”表中不存在"]


def test_a_field_filling_from_itself_is_an_error(tmp_path):
    book = Book()
    row = with_field(book, "CKRXM", "持卡人姓名", "表单.CKRXM")
    assert messages(book.read(tmp_path).errors) == [
        f"{cell(book, row)}: 字段 “CKRXM” 的预填来源 “表单.CKRXM” 是它自己"]


def test_a_cycle_is_an_error_on_each_of_its_rows(tmp_path):
    book = Book()
    first = with_field(book, "A1", "甲", "表单.B1")
    second = with_field(book, "B1", "乙", "表单.C1", matter="M001")
    third = with_field(book, "C1", "丙", "表单.A1")
    outside = with_field(book, "D1", "丁", "表单.A1")  # fills from the cycle but is not on it
    assert messages(book.read(tmp_path).errors) == [
        f"{cell(book, first)}: 字段 “A1” 的预填来源 “表单.B1” 形成循环（A1 → B1 → C1 → A1），这些字段无法自动填写",
        f"{cell(book, second)}: 字段 “B1” 的预填来源 “表单.C1” 形成循环（B1 → C1 → A1 → B1），这些字段无法自动填写",
        f"{cell(book, third)}: 字段 “C1” 的预填来源 “表单.A1” 形成循环（C1 → A1 → B1 → C1），这些字段无法自动填写",
    ]
    assert outside > third


def test_a_chain_without_a_cycle_is_accepted(tmp_path):
    book = Book()
    with_field(book, "A1", "甲", "表单.B1")
    with_field(book, "B1", "乙", "表单.F01")  # F01 fills from 申请人.姓名
    assert messages(book.read(tmp_path).errors) == []


# --- writing, storing --------------------------------------------------------------------

def test_export_writes_the_words_and_reads_back_the_same(tmp_path):
    book = Book()
    with_field(book, "JBRXM", "经办人姓名", "代办人.姓名")
    with_field(book, "CKRXM", "持卡人姓名", "表单.F01")
    assert exported_column(book.read(tmp_path).catalogue, tmp_path / "export.xlsx", "表单", "预填来源") == [
        "申请人.姓名", "申请人.姓名", None, "代办人.姓名", "表单.F01"]


def test_stored_and_exported_unchanged(app, tmp_path):
    book = Book()
    with_field(book, "JBRXM", "经办人姓名", "代办人.姓名")
    with_field(book, "CKRXM", "持卡人姓名", "表单.F01")
    path = book.save(tmp_path / "catalogue.xlsx")
    with db.connection_context():
        assert store.import_workbook(path, actor="officer").status == "applied"
        assert {r.code: r.prefill for r in FieldRow.select()} == {
            "F01": "name", "F02": None, "JBRXM": "agent.name", "CKRXM": "form.F01"}
        exported = tmp_path / "exported.xlsx"
        store.export_workbook(exported)
        assert store.load_catalogue(CatalogueVersion.in_force()) == read_workbook(path).catalogue
        assert store.import_workbook(exported, actor="officer").status == "unchanged"


# --- applying ----------------------------------------------------------------------------

def field(code, name, source=None, type="text", required=True):
    return FormField(code, name, type, required, [], source, ["M1"])


COMPANY = {"kind": "company", "name": "安澜县味道面馆有限公司", "id_number": None, "credit_code": "91350100M000100Y43",
           "legal_representative": "赵强", "phone": "13700137000", "address": "安澜县城关镇人民路 12 号"}
AGENT = {"name": "钱小二", "id_number": "11010519491231002X", "phone": "13600136000", "relation": "员工"}
FORM = [
    field("QYMC", "企业名称", "name"),
    field("TYSHXYDM", "统一社会信用代码", "credit_code", type="credit_code"),
    field("FDDBR", "法定代表人", "legal_representative"),
    field("QYZS", "住所（经营场所）", "address"),
    field("JBRXM", "经办人姓名", "agent.name"),
    field("JBRSJ", "经办人手机号", "agent.phone", type="phone", required=False),
    field("XSEXM", "新生儿姓名"),
    field("CKRXM", "持卡人姓名", "form.XSEXM"),
    field("DKR", "代领人姓名", "form.CKRXM"),  # a chain: from a field that fills itself in
    field("CBRXM", "参保人姓名", "form.ELSEWHERE"),  # a field not on this form: nothing
]


def test_a_company_and_its_agent_fill_the_form():
    assert prefill(FORM, COMPANY, AGENT) == {
        "QYMC": "安澜县味道面馆有限公司", "TYSHXYDM": "91350100M000100Y43", "FDDBR": "赵强",
        "QYZS": "安澜县城关镇人民路 12 号", "JBRXM": "钱小二", "JBRSJ": "13600136000"}


def test_a_field_fills_from_another_as_typed_and_along_a_chain():
    filled = prefill(FORM, COMPANY, None, {"XSEXM": " 张小宝 "})
    assert filled["CKRXM"] == "张小宝" and filled["DKR"] == "张小宝"
    assert "JBRXM" not in filled and "CBRXM" not in filled  # no agent; a field not on the form
    # what was typed into the middle of the chain is what the rest follows
    assert prefill(FORM, COMPANY, None, {"XSEXM": "张小宝", "CKRXM": "张宝"})["DKR"] == "张宝"


def test_check_form_fills_blank_fields_and_keeps_typed_ones():
    clean, errors = check_form(FORM[:-1], {"XSEXM": "张小宝", "FDDBR": "赵四", "JBRXM": ""}, COMPANY, AGENT)
    assert errors == []
    assert clean["FDDBR"] == "赵四" and clean["JBRXM"] == "钱小二" and clean["DKR"] == "张小宝"
    _, errors = check_form(FORM[:-1], {"XSEXM": "张小宝"}, COMPANY, None)
    assert errors == [{"field": "form.JBRXM", "message": "经办人姓名：此项必填"}]  # no agent to fill it


def test_the_counts_say_which_fields_fill_themselves():
    counts = merge([], FORM)[2]
    assert counts["fields_prefilled"] == 8  # all with a source but 参保人姓名, whose field is not on the form


def test_long_chains_and_a_long_cycle_are_checked_in_bounded_work(tmp_path):
    """A hostile workbook chaining thousands of fields: checked without recursion or quadratic work."""
    book = Book()
    count = 3000
    for i in range(count):  # a chain L0 ← L1 ← … ← L2999, then a cycle C0 → C1 → … → C2999 → C0
        with_field(book, f"L{i}", f"链{i}", f"表单.L{i - 1}" if i else "申请人.姓名")
    first = None
    for i in range(count):
        row = with_field(book, f"C{i}", f"环{i}", f"表单.C{(i + 1) % count}")
        first = first or row
    result = book.read(tmp_path)
    assert result.error_count == count
    assert messages(result.errors)[0] == (f"{cell(book, first)}: 字段 “C0” 的预填来源 “表单.C1” 形成循环"
                                          f"（共 {count} 个字段互相引用），这些字段无法自动填写")

    chain = [field(f"L{i}", f"链{i}", f"form.L{i - 1}" if i else "name") for i in range(count)]
    filled = prefill(chain, {"name": "李娜"})
    assert len(filled) == count and set(filled.values()) == {"李娜"}
    assert prefill(chain, {"name": "李娜"}, None, {"L1500": "王强"})["L2999"] == "王强"


def test_a_text_field_filled_with_an_id_number_is_masked_like_one(app, tmp_path):
    """A county may put 代办人.证件号码 into a 文本 field: the case shows it masked, as a 身份证号 field."""
    book = Book()
    with_field(book, "DBRZJ", "代办人证件", "代办人.证件号码", matter="M001")
    with_field(book, "ZJFB", "证件号码（副本）", "表单.DBRZJ", matter="M001")
    path = book.save(tmp_path / "catalogue.xlsx")
    with db.connection_context():
        assert store.import_workbook(path, actor="officer").status == "applied"
        with db.atomic():
            settings.put("centre.code", "331128101000")
        case = cases.register_case(
            matters=["M001"], applicant={"kind": "person", "name": "王建国", "id_number": "11010519491231002X",
                                         "phone": "13900139000"},
            agent={"name": "王小红", "id_number": AGENT["id_number"], "phone": ""}, form={}, actor="clerk")
        stored = json.loads(case.form)
        assert stored["DBRZJ"] == stored["ZJFB"] == AGENT["id_number"]
        shown = cases.case_json(cases.get_case(case.case_no, actor="test"))["form"]
        assert shown["DBRZJ"] == shown["ZJFB"] == "110105********002X"
