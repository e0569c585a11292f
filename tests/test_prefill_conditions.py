"""A 预填来源 under a condition — 申请人.姓名（当 Q1=是） — our extension of the catalogue format.

Read from a real .xlsx (``workbooks.Book``), checked with errors naming the cell like a material's
适用条件, stored in a real SQLite file, exported and read back, and settled by the guide
(``facts.settled_fields``) before ``forms.prefill`` applies it.
"""
import pytest

from county_app.catalogue import store, vocabulary
from county_app.catalogue.merging import FormField, merge
from county_app.catalogue.xlsx_read import read_workbook
from county_app.db import db
from county_app.intake.facts import case_facts, settled_fields
from county_app.intake.forms import prefill
from county_app.intake.guide import guide_bundle
from county_app.models import CatalogueVersion, FieldRow

from workbooks import Book, exported_column, messages

FACTS = "代办、申请人类型"


def mother_filled_when(book, source):
    """The 预填来源 of 母亲姓名 (F01) in M002, a member of bundle B01 (questions Q1 是|否, Q2 是|否|不确定)."""
    book.set("表单", 3, "预填来源", source)
    return f"表单!{book.ref('表单', 3, '预填来源')}"


def read(tmp_path, source, book=None):
    book = book or Book()
    place = mother_filled_when(book, source)
    result = book.read(tmp_path)
    return place, result


# --- reading and checking -------------------------------------------------------------

@pytest.mark.parametrize("source, code", [
    ("申请人.姓名（当 Q1=是）", "name\nQ1=是"),
    ("申请人.姓名(当 Q2=是|不确定;代办=否)", "name\nQ2=是|不确定;代办=否"),  # ASCII parentheses, several clauses
    ("申请人.证件号码 （当申请人类型=个人）", "id_number\n申请人类型=个人"),
    ("代办人.姓名（当 代办=是）", "agent.name\n代办=是"),
    ("表单.F02（当 Q1!=否）", "form.F02\nQ1!=否"),
])
def test_a_source_with_a_condition_is_read_as_its_code_and_the_condition(tmp_path, source, code):
    _, result = read(tmp_path, source)
    assert messages(result.errors) == []
    assert [f.prefill for f in result.catalogue.fields if f.matter_code == "M002" and f.code == "F01"] == [code]
    assert vocabulary.prefill_parts(code) == tuple(code.split("\n"))


@pytest.mark.parametrize("source, message", [
    ("申请人.姓名（当 Q9=是）", "预填来源的条件引用了问题 “Q9”，但包含事项 “M002” 的一件事（B01）都没有这个问题"
                            f"（也可以用 {FACTS}）"),
    ("申请人.姓名（当 Q2=离异）", "预填来源的条件中问题 “Q2” 没有选项 “离异”（可选：是|否|不确定）"),
    ("申请人.姓名（当 代办=也许）", "预填来源的条件中 “代办” 只能是 是|否，实际为 “也许”"),
    ("申请人.姓名（当 申请人类型=公司）", "预填来源的条件中 “申请人类型” 只能是 个人|企业，实际为 “公司”"),
])
def test_unknown_questions_values_and_facts_are_errors_naming_the_cell(tmp_path, source, message):
    place, result = read(tmp_path, source)
    assert messages(result.errors) == [f"{place}: {message}"]


@pytest.mark.parametrize("source, message", [
    ("申请人.姓名（当 Q1＝是）", "预填来源的条件 “Q1＝是” 格式错误：条件中请使用半角符号（“＝”应为“=”）"),
    ("申请人.姓名（当 Q1 是）", "预填来源的条件 “Q1 是” 格式错误：第 1 个子句 “Q1 是” 不是 问题编码=值 或 问题编码!=值 的形式"),
    ("申请人.姓名（当 ）", "预填来源的“（当 …）”中缺少条件，如 申请人.姓名（当 Q5=母亲）"),
    ("申请人.名字（当 Q1=是）", "预填来源中的来源 “申请人.名字” 不正确，必须是 申请人.姓名、"),
    ("申请人.姓名\n（当 Q1=是）", "预填来源不能换行（条件写在同一行的“（当 …）”中）"),
])
def test_a_malformed_condition_names_the_cell_the_part_and_what_is_wrong(tmp_path, source, message):
    place, result = read(tmp_path, source)
    (error,) = messages(result.errors)
    assert error.startswith(f"{place}: {message}"), error
    assert f"实际为 \"{source}\"" in error


def test_a_matter_in_no_bundle_may_name_only_the_facts(tmp_path):
    book = Book()
    book.copy_row("事项", 2, 事项编码="M003", 事项名称="单独办理的事项")
    row = book.append("表单", {"事项编码": "M003", "字段编码": "F09", "字段名称": "母亲姓名", "字段类型": "文本",
                              "是否必填": "是", "预填来源": "申请人.姓名（当 Q1=是）"})
    book.append("表单", {"事项编码": "M003", "字段编码": "F10", "字段名称": "经办人", "字段类型": "文本",
                        "是否必填": "否", "预填来源": "代办人.姓名（当 申请人类型=企业）"})
    assert messages(book.read(tmp_path).errors) == [
        f"表单!{book.ref('表单', row, '预填来源')}: 预填来源的条件引用了问题 “Q1”，但事项 “M003” 不属于任何一件事"
        f"（单独办理的事项只能以 {FACTS} 为条件）"]


def test_a_question_code_asked_by_two_bundles_holding_the_matter_is_warned_about(tmp_path):
    book = Book()
    book.copy_row("一件事", 2, 一件事编码="B02", 一件事名称="另一件事")
    book.copy_row("一件事事项", 3, 一件事编码="B02", 适用条件=None)
    book.copy_row("情形问题", 2, 一件事编码="B02")
    place, result = read(tmp_path, "申请人.姓名（当 Q1=是）", book)
    assert messages(result.errors) == []
    assert f"{place}: 字段 “F01” 的预填来源的条件引用的问题 “Q1” 在包含事项 “M002” 的多个一件事（B01、B02）中都有" \
           in "\n".join(messages(result.warnings))


# --- writing, storing --------------------------------------------------------------------

def test_export_writes_the_condition_as_typed_and_reads_back_the_same(tmp_path):
    book = Book()
    mother_filled_when(book, "申请人.姓名(当 Q2=是|不确定)")
    assert exported_column(book.read(tmp_path).catalogue, tmp_path / "export.xlsx", "表单", "预填来源") == [
        "申请人.姓名", "申请人.姓名（当 Q2=是|不确定）", None]


def test_stored_and_exported_unchanged_and_a_changed_condition_is_a_difference(app, tmp_path):
    book = Book()
    mother_filled_when(book, "申请人.姓名（当 Q2=是）")
    path = book.save(tmp_path / "catalogue.xlsx")
    with db.connection_context():
        assert store.import_workbook(path, actor="officer").status == "applied"
        assert [r.prefill for r in FieldRow.select().order_by(FieldRow.position)] == ["name", "name\nQ2=是", None]
        exported = tmp_path / "exported.xlsx"
        store.export_workbook(exported)
        assert store.load_catalogue(CatalogueVersion.in_force()) == read_workbook(path).catalogue
        assert store.import_workbook(exported, actor="officer").status == "unchanged"
        book.set("目录信息", 2, "内容", "2026.11-03")
        mother_filled_when(book, "申请人.姓名（当 Q2=否）")
        outcome = store.import_workbook(book.save(tmp_path / "changed.xlsx"), actor="officer", dry_run=True)
        assert "  ~ 出生登记 / F01 母亲姓名（预填来源）" in list(outcome.diff.lines(50))


# --- settling and applying -----------------------------------------------------------------

def field(code, source, matter="M1"):
    return FormField(code, code, "text", True, [], source, [matter])


FORM = [field("MQXM", "name\nQ5=母亲"), field("FQXM", "name\nQ5=父亲"), field("JBR", "agent.name\n申请人类型=企业"),
        field("XSEXM", None), field("CKRXM", "form.XSEXM")]
MOTHER = {"kind": "person", "name": "李娜"}


def test_the_guide_settles_each_condition_by_the_answers_and_the_facts():
    known = case_facts(kind="person", agent=True)
    settled = {f.code: f.prefill for f in settled_fields(FORM, {"Q5": "母亲"}, known)}
    assert settled == {"MQXM": "name", "FQXM": None, "JBR": None, "XSEXM": None, "CKRXM": "form.XSEXM"}
    # the applicant's kind not known yet: that source waits, and fills nothing meanwhile
    waiting = settled_fields(FORM, {"Q5": "父亲"}, case_facts())
    assert {f.code: f.prefill for f in waiting}["JBR"] == "agent.name\n申请人类型=企业"
    assert prefill(waiting, MOTHER, {"name": "钱小二"}, {"XSEXM": "张小宝"}) == {"FQXM": "李娜", "CKRXM": "张小宝"}
    # a single matter: no question is asked, so a source that hinges on one never fills
    assert {f.code: f.prefill for f in settled_fields(FORM, None, known)}["MQXM"] is None
    # the fields on the way are the catalogue's cached rows: settling leaves them as they were
    assert FORM[0].prefill == "name\nQ5=母亲"


def test_only_settled_sources_count_as_filling_themselves():
    assert merge([], FORM)[2]["fields_prefilled"] == 1  # 持卡人姓名; the others hinge on who applies
    settled = settled_fields(FORM, {"Q5": "母亲"}, case_facts(kind="company", agent=True))
    assert merge([], settled)[2]["fields_prefilled"] == 3


def test_the_guide_over_the_minimal_catalogue_fills_the_mother_only_when_the_condition_holds(app, tmp_path):
    book = Book()
    book.set("表单", 2, "预填来源", "申请人.姓名（当 Q2=是）")
    mother_filled_when(book, "申请人.姓名（当 Q2=是）")
    with db.connection_context():
        assert store.import_workbook(book.save(tmp_path / "c.xlsx"), actor="officer").status == "applied"
        facts = case_facts(kind="person", agent=False)
        married = guide_bundle("B01", {"Q1": "是", "Q2": "是"}, facts=facts).to_json()
        unsure = guide_bundle("B01", {"Q1": "是", "Q2": "不确定"}, facts=facts).to_json()
    mother = lambda guide: next((f["prefill"], f["prefill_condition"]) for f in guide["fields"] if f["code"] == "F01")  # noqa: E731
    assert mother(married) == ("name", "") and married["totals"]["fields_prefilled"] == 1
    assert mother(unsure) == (None, "") and unsure["totals"]["fields_prefilled"] == 0
