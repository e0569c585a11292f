"""一次告知 (county_app.intake.guide): the progressive questionnaire, the matters, one material list, one form.

First over a small workbook (tests/workbooks.py plus a few rows) imported by
the real importer, then the window stories over the bundled seed catalogue.
"""
from contextlib import contextmanager

import pytest

from county_app.catalogue import store
from county_app.db import db
from county_app.intake.errors import Invalid, NotFound
from county_app.intake.guide import guide_bundle, guide_matters
from county_app.models import CatalogueVersion, MatterRow

from workbooks import Book


@contextmanager
def database():
    with db.connection_context():
        yield


def build_book():
    """B01: M001 必选 always, M002 可选 when Q1=是;Q2!=否, M003 必选 when Q2=是, M004 停用.

    Q1 is always asked, Q2 only when Q1=是. M005 is a single matter outside any
    bundle; B02 is a 停用 bundle.
    """
    book = Book()
    book.append("事项", ["M003", "城乡居民医保参保登记", "公共服务", "县医疗保障局", "承诺件", 15, 10, 1,
                       "不收费", "参保凭证", "", "", "启用"])
    book.append("事项", ["M004", "生育登记", "公共服务", "县卫生健康局", "即办件", 0, 0, 1, "", "", "", "", "停用"])
    book.append("事项", ["M005", "预防接种证办理", "公共服务", "县卫生健康局", "即办件", 0, 0, 1, "", "", "", "", "启用"])
    book.append("材料", ["M003", "C01", "父母身份证", "复印件", 3, "纸质", "政府部门核发", "必要", None, None])
    book.append("材料", ["M003", "C03", "新生儿照片", "原件", 1, "电子", "申请人自备", "容缺", None, "白底"])
    book.append("材料", ["M004", "C02", "结婚证", "原件", 1, "纸质", "政府部门核发", "必要", None, None])
    book.append("材料", ["M005", "C01", "父母身份证", "原件", 1, "纸质", "政府部门核发", "必要", "电子证照", None])
    book.append("表单", ["M003", "F01", "母亲姓名", "文本", "否", None, "申请人.姓名"])
    book.append("表单", ["M003", "F03", "联系电话", "手机号", "是", None, "申请人.手机号"])
    book.append("表单", ["M005", "F02", "新生儿性别", "单选", "是", "男|女", None])
    book.append("一件事", ["B02", "开办餐饮店一件事", "县市场监督管理局", "企业", "", "停用"])
    book.append("一件事事项", ["B01", "M003", "必选", "Q2=是", 3])
    book.append("一件事事项", ["B01", "M004", "可选", None, 4])
    book.append("一件事事项", ["B02", "M005", "必选", None, 1])
    return book


@pytest.fixture
def catalogued(app, tmp_path):
    with database():
        outcome = store.import_workbook(build_book().save(tmp_path / "catalogue.xlsx"), actor="test")
    assert not outcome.errors, outcome.errors
    return app


def codes(items):
    return [item.code for item in items]


def invalid(call, *args, **kwargs):
    with database(), pytest.raises(Invalid) as caught:
        call(*args, **kwargs)
    return caught.value.details


def guide(*args, **kwargs):
    with database():
        return guide_bundle(*args, **kwargs)


# ----------------------------------------------------------------------------- the small workbook


def test_questions_come_one_step_at_a_time(catalogued):
    first = guide("B01", {})
    assert codes(first.questions) == ["Q1"] and first.answered == [] and not first.complete
    assert codes(first.matters) == ["M001"]  # the others wait for answers; 停用 M004 is never offered
    second = guide("B01", {"Q1": "是"})
    assert codes(second.questions) == ["Q2"] and second.questions[0].options == ["是", "否", "不确定"]
    assert [(q.code, q.answer) for q in second.answered] == [("Q1", "是")]
    assert codes(second.matters) == ["M001"]
    third = guide("B01", {"Q1": "是", "Q2": "是"})
    assert third.questions == [] and third.complete and third.answers == {"Q1": "是", "Q2": "是"}
    assert codes(third.matters) == ["M001", "M002", "M003"]
    assert [m.required for m in third.matters] == [True, False, True]


def test_an_answer_to_a_question_not_asked_counts_for_nothing(catalogued):
    result = guide("B01", {"Q1": "否", "Q2": "是"})
    assert result.ignored == ["Q2"] and result.answers == {"Q1": "否"}
    assert result.complete and codes(result.matters) == ["M001"]  # M003 needs Q2=是, but Q2 is not asked
    assert guide("B01", {"Q1": "是", "Q2": None}).questions[0].code == "Q2"  # null = not answered yet


def test_materials_and_fields_are_merged_once_per_code(catalogued):
    result = guide("B01", {"Q1": "是", "Q2": "是"})
    assert codes(result.materials) == ["C01", "C02", "C03"]
    identity = result.materials[0]
    assert identity.matters == ["M001", "M002", "M003"] and identity.copies == 3
    assert identity.waiver is None  # M002 and M003 still want the paper
    assert identity.form == "original_and_copy" and identity.necessity == "required"
    assert result.materials[2].necessity == "deferrable"
    assert codes(result.fields) == ["F01", "F02", "F03"]
    assert result.fields[0].prefill == "name" and result.fields[0].required
    t = result.totals
    assert (t.materials_before, t.materials_after, t.fields_before, t.fields_after) == (5, 3, 5, 3)
    assert (t.statutory_days_serial, t.promised_days_parallel, t.visits_before, t.visits_after) == (45, 10, 4, 1)
    assert (t.materials_fetched, t.fields_prefilled, t.matters) == (1, 2, 3)  # C02 数据共享; F01, F03


def test_matters_carry_their_row_id_of_the_guides_version(catalogued):
    result = guide("B01", {"Q1": "是", "Q2": "是"})
    with database():
        version = CatalogueVersion.in_force()
        assert result.catalogue_id == version.id and result.catalogue_version == "2026.11-02"
        for matter in result.matters:
            row = MatterRow.get_by_id(matter.matter_id)
            assert (row.code, row.catalogue_id) == (matter.code, version.id)


def test_chosen_matters_are_exactly_those(catalogued):
    result = guide("B01", {"Q1": "是", "Q2": "是"}, ["M003", "M001"])
    assert codes(result.matters) == ["M001", "M003"]  # bundle order
    assert codes(result.materials) == ["C01", "C03"] and result.totals.materials_before == 3


@pytest.mark.parametrize("chosen, message", [
    (["M001", "M002"], "必选事项「城乡居民医保参保登记」（M003）不能不选"),
    (["M001", "M003", "M004"], "事项「生育登记」（M004）已停用，不能申请"),
    (["M001", "M003", "M005"], "事项 M005 不属于「新生儿出生一件事」"),
    (["M001", "M003", "NOPE"], "事项 NOPE 不属于「新生儿出生一件事」"),
])
def test_choices_the_rules_forbid_are_invalid(catalogued, chosen, message):
    assert invalid(guide_bundle, "B01", {"Q1": "是", "Q2": "是"}, chosen) == [{"field": "matters", "message": message}]


def test_a_matter_whose_condition_does_not_hold_cannot_be_chosen(catalogued):
    details = invalid(guide_bundle, "B01", {"Q1": "是", "Q2": "否"}, ["M001", "M002"])
    assert details == [{"field": "matters", "message": "事项「出生登记」（M002）按情形问题的回答不适用"
                        "（适用条件：Q1「是否在本县落户？」答“是”，且 Q2「父母是否已婚？」答的不是“否”）"}]


def test_every_problem_of_a_choice_is_reported(catalogued):
    details = invalid(guide_bundle, "B01", {"Q1": "是", "Q2": "是"}, [])
    assert [d["message"] for d in details] == ["必选事项「出生医学证明签发」（M001）不能不选",
                                               "必选事项「城乡居民医保参保登记」（M003）不能不选"]
    assert invalid(guide_bundle, "B01", {"Q1": "是"}, "M001") == [{"field": "matters", "message": "请以列表给出事项编码"}]


def test_bad_answers_name_the_question(catalogued):
    details = invalid(guide_bundle, "B01", {"Q1": "也许", "Q9": "是", "Q2": 1})
    assert details == [
        {"field": "answers.Q1", "message": '问题 Q1「是否在本县落户？」的回答应为 是、否 之一，实际为 "也许"'},
        {"field": "answers.Q9", "message": "「新生儿出生一件事」没有编码为 Q9 的问题"},
        {"field": "answers.Q2", "message": '问题 Q2「父母是否已婚？」的回答应为 是、否、不确定 之一，实际为 "1"'},
    ]


def test_unknown_and_disabled_bundles(catalogued):
    with database(), pytest.raises(NotFound):
        guide_bundle("B99", {})
    assert invalid(guide_bundle, "B02", {}) == [{"field": "bundle", "message": "一件事「开办餐饮店一件事」已停用，不能办理"}]


def test_single_matters_outside_any_bundle(catalogued):
    with database():
        result = guide_matters(["M005", "M001", "M005"])
    assert result.bundle is None and result.complete and result.questions == []
    assert codes(result.matters) == ["M005", "M001"] and all(m.required for m in result.matters)
    assert codes(result.materials) == ["C01"] and result.materials[0].waiver == "e_licence"
    assert result.totals.statutory_days_serial == 20 and result.totals.promised_days_parallel == 5


@pytest.mark.parametrize("matters, message", [
    (["M004"], "事项「生育登记」（M004）已停用，不能申请"),
    (["NOPE"], "没有编码为 NOPE 的事项"),
    ([], "请至少选择一个事项"),
])
def test_single_matters_that_cannot_be_applied_for(catalogued, matters, message):
    assert invalid(guide_matters, matters) == [{"field": "matters", "message": message}]


def test_an_older_version_keeps_its_rules(catalogued, tmp_path):
    book = build_book().set("目录信息", 2, "内容", "2026.12-01").set("事项", 2, "承诺办结时限", 8)
    with database():
        old = CatalogueVersion.in_force()
        assert not store.import_workbook(book.save(tmp_path / "new.xlsx"), actor="test").errors
        now, before = guide_bundle("B01", {}), guide_bundle("B01", {}, version=old)
    assert now.matters[0].promised_days == 8 and before.matters[0].promised_days == 5
    assert now.matters[0].matter_id != before.matters[0].matter_id
    assert before.catalogue_version == "2026.11-02"


def test_no_catalogue_is_not_found(app):
    with database(), pytest.raises(NotFound):
        guide_bundle("B01", {})


def test_to_json_has_the_shape_of_the_api(catalogued):
    answer = guide("B01", {"Q1": "是"}).to_json()
    assert {"questions", "matters", "materials", "fields", "totals"} <= set(answer)
    assert answer["questions"] == [{"code": "Q2", "text": "父母是否已婚？", "options": ["是", "否", "不确定"],
                                    "condition": "Q1=是"}]
    assert {"code", "name", "department", "required", "statutory_days", "promised_days"} <= set(answer["matters"][0])
    assert "matter_id" not in answer["matters"][0]
    assert {"code", "name", "required", "copies", "waiver", "matters"} <= set(answer["materials"][0])
    assert {"code", "name", "type", "required", "options", "prefill"} <= set(answer["fields"][0])


# ----------------------------------------------------------------------------- the window stories (seed)


def test_story_1_newborn_step_by_step_without_medical_insurance(seeded_app):
    steps = [{}, {"Q1": "是"}, {"Q1": "是", "Q2": "是"}, {"Q1": "是", "Q2": "是", "Q3": "是"},
             {"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "已婚"},
             {"Q1": "是", "Q2": "是", "Q3": "是", "Q4": "已婚", "Q5": "母亲"}]
    asked = [codes(guide("YJS-XSECS", answers).questions) for answers in steps]
    # The parents' marriage is asked once the birth is registered here (出生登记 asks for 结婚证 or not);
    # who applies (Q5) decides whose fields fill from the applicant.
    assert asked == [["Q1", "Q2", "Q3", "Q5"], ["Q2", "Q3", "Q5"], ["Q3", "Q5"], ["Q4", "Q5"], ["Q5"], []]
    everything = guide("YJS-XSECS", steps[-1])
    assert everything.complete
    assert codes(everything.matters) == ["WJ-0101", "WJ-0102", "GA-0101", "RS-0101", "YB-0101", "WJ-0103"]
    chosen = [code for code in codes(everything.matters) if code != "YB-0101"]
    result = guide("YJS-XSECS", steps[-1], chosen)
    assert codes(result.matters) == chosen
    assert all("YB-0101" not in m.matters for m in result.materials)
    assert "CBRXM" not in codes(result.fields)  # the insured person's name belongs to 医保 only
    materials = {m.code: m for m in result.materials}
    assert materials["CSYXZM"].waiver == "e_licence"  # the birth certificate is fetched
    assert materials["JHZ"].necessity == "required" and materials["JHZ"].waiver is None
    fields = {f.code: f for f in result.fields}
    assert fields["XSECSRQ"].matters == ["WJ-0101", "WJ-0102", "GA-0101"]  # asked once, not five times
    assert fields["SJH"].prefill == "phone" and fields["ZZ"].prefill == "address"
    assert (fields["MQXM"].prefill, fields["FQXM"].prefill) == ("name", None)  # the mother applies


def test_story_2_noodle_shop_without_tobacco(seeded_app):
    answers = {"Q1": "新办个体工商户", "Q2": "是", "Q3": "否", "Q4": "否"}
    result = guide("YJS-KBCY", answers)
    assert result.complete
    assert codes(result.matters) == ["SJ-0202", "SJ-0301", "CG-0101"]  # no 消防 XF-0101, no 烟草 YC-0101
    leases = [m for m in result.materials if m.code == "CSSYZM"]
    assert len(leases) == 1
    assert leases[0].matters == ["SJ-0202", "SJ-0301", "CG-0101"] and leases[0].waiver == "commitment"
    assert result.to_json()["materials"][codes(result.materials).index("CSSYZM")]["waiver"] == "commitment"
    assert result.totals.promised_days_parallel == 5 and result.totals.visits_after == 1


def test_story_2_the_fire_inspection_cannot_be_chosen_for_a_small_shop(seeded_app):
    answers = {"Q1": "新办个体工商户", "Q2": "是", "Q3": "否", "Q4": "否"}
    details = invalid(guide_bundle, "YJS-KBCY", answers, ["SJ-0202", "SJ-0301", "CG-0101", "XF-0101"])
    assert [d["field"] for d in details] == ["matters"] and "XF-0101" in details[0]["message"]
