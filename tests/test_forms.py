"""The merged application form: prefill, required fields, and each field type (county_app.intake.forms)."""
from datetime import date, datetime

import pytest

from county_app.catalogue.merging import FormField
from county_app.intake.forms import check_form, prefill

APPLICANT = {"name": "李芳", "id_number": "11010519491231002x", "phone": "138-1234-5678", "address": "安澜县城关镇 1 号"}


def field(code, name, type, required=True, options=(), prefill=None):
    return FormField(code, name, type, required, list(options), prefill, ["M1"])


FORM = [
    field("SQRXM", "申请人姓名", "text", prefill="name"),
    field("SFZH", "身份证号", "id_number", prefill="id_number"),
    field("SJH", "手机号", "phone", prefill="phone"),
    field("ZZ", "住址", "text", required=False, prefill="address"),
    field("XSECSRQ", "新生儿出生日期", "date"),
    field("XSEXB", "新生儿性别", "single", options=["男", "女"]),
    field("JYXM", "食品经营项目", "multi", required=False, options=["热食类", "冷食类", "自制饮品"]),
    field("MJ", "经营场所面积（平方米）", "integer", required=False),
    field("ZCZB", "注册资本（万元）", "money", required=False),
    field("XYDM", "统一社会信用代码", "credit_code", required=False),
]


def one_error(fields, values, applicant=None):
    clean, errors = check_form(fields, values, applicant)
    assert len(errors) == 1, errors
    return errors[0]


def test_prefill_takes_the_applicant_attributes_of_prefilled_fields():
    assert prefill(FORM, APPLICANT) == {"SQRXM": "李芳", "SFZH": "11010519491231002x", "SJH": "138-1234-5678",
                                        "ZZ": "安澜县城关镇 1 号"}
    assert prefill(FORM, {"name": "  ", "phone": None}) == {}


def test_a_complete_form_is_normalised():
    clean, errors = check_form(FORM, {
        "XSECSRQ": "2026-11-02", "XSEXB": "女", "JYXM": "自制饮品|热食类", "MJ": "１２０", "ZCZB": "1,200.5",
        "XYDM": "91350100m000100y43", "SQRXM": "  李芳  "}, APPLICANT)
    assert errors == []
    assert clean == {
        "SQRXM": "李芳", "SFZH": "11010519491231002X", "SJH": "13812345678", "ZZ": "安澜县城关镇 1 号",
        "XSECSRQ": "2026-11-02", "XSEXB": "女", "JYXM": ["热食类", "自制饮品"], "MJ": 120, "ZCZB": "1200.50",
        "XYDM": "91350100M000100Y43"}


def test_typed_values_win_over_prefill_and_blank_ones_do_not():
    clean, errors = check_form(FORM, {"SQRXM": "王强", "SJH": "  ", "XSECSRQ": date(2026, 1, 2), "XSEXB": "男"},
                               APPLICANT)
    assert errors == []
    assert clean["SQRXM"] == "王强" and clean["SJH"] == "13812345678" and clean["XSECSRQ"] == "2026-01-02"


def test_missing_required_fields_are_all_reported_and_optional_ones_left_out():
    clean, errors = check_form(FORM, {"JYXM": [], "MJ": ""})
    assert [e["field"] for e in errors] == ["form.SQRXM", "form.SFZH", "form.SJH", "form.XSECSRQ", "form.XSEXB"]
    assert errors[0]["message"] == "申请人姓名：此项必填"
    assert clean == {}


def test_unknown_field_codes_are_errors():
    error = one_error(FORM, {"NOPE": "x", "XSECSRQ": "2026-01-02", "XSEXB": "男"}, APPLICANT)
    assert error == {"field": "form.NOPE", "message": "表单中没有编码为 NOPE 的字段"}


DATE = [field("XSECSRQ", "新生儿出生日期", "date")]


def test_date_format_message_names_the_field_and_the_value():
    assert one_error(DATE, {"XSECSRQ": "2026/13/01"}) == {
        "field": "form.XSECSRQ", "message": '新生儿出生日期：日期格式应为 YYYY-MM-DD，实际为 "2026/13/01"'}
    assert one_error(DATE, {"XSECSRQ": "2026-02-30"})["message"] == '新生儿出生日期：日期 "2026-02-30" 不存在'
    assert check_form(DATE, {"XSECSRQ": datetime(2026, 2, 3, 10, 30)})[0] == {"XSECSRQ": "2026-02-03"}


@pytest.mark.parametrize("value, expected", [
    ("0", "0.00"), ("1200", "1200.00"), ("1200.5", "1200.50"), (1200.5, "1200.50"), (30, "30.00"), ("0.01", "0.01"),
])
def test_money_is_a_two_decimal_string(value, expected):
    money = [field("JE", "金额", "money")]
    assert check_form(money, {"JE": value}) == ({"JE": expected}, [])


@pytest.mark.parametrize("value, words", [
    ("-5", "不能为负数"), ("1.005", "最多保留两位小数"), ("十元", "应为金额数字"), ("1e3", "应为金额数字"),
    (True, "应为金额数字"), ([1], "应为金额数字"),
])
def test_bad_money(value, words):
    message = one_error([field("JE", "家庭月收入（元）", "money")], {"JE": value})["message"]
    assert message.startswith("家庭月收入（元）：") and words in message


@pytest.mark.parametrize("value, expected", [("120", 120), (" -3 ", -3), (7, 7), (8.0, 8), ("+4", 4)])
def test_integers(value, expected):
    assert check_form([field("N", "人数", "integer")], {"N": value}) == ({"N": expected}, [])


@pytest.mark.parametrize("value", ["12.5", "十二", True, 2.5, "1 2"])
def test_bad_integers(value):
    assert "人数：应为整数" in one_error([field("N", "人数", "integer")], {"N": value})["message"]


def test_text_is_trimmed_and_limited_to_500_characters():
    text = [field("T", "经营范围", "text")]
    assert check_form(text, {"T": "字" * 500})[1] == []
    assert one_error(text, {"T": "字" * 501})["message"] == "经营范围：不能超过 500 个字，实际为 501 个字"
    assert one_error(text, {"T": {"a": 1}})["message"] == "经营范围：应为文字"


def test_single_and_multiple_choice():
    assert one_error(FORM[5:6], {"XSEXB": "未知"})["message"] == '新生儿性别：应为 男、女 之一，实际为 "未知"'
    multi = [FORM[6]]
    assert check_form(multi, {"JYXM": ["冷食类", "热食类", "冷食类"]}) == ({"JYXM": ["热食类", "冷食类"]}, [])
    assert "\"生食类\" 不是可选值" in one_error(multi, {"JYXM": "热食类|生食类"})["message"]
    assert "应为选项列表" in one_error(multi, {"JYXM": 3})["message"]


def test_identity_fields_use_the_identity_checks():
    ids = [field("SFZH", "母亲身份证号", "id_number"), field("SJH", "手机号", "phone"),
           field("XYDM", "统一社会信用代码", "credit_code")]
    clean, errors = check_form(ids, {"SFZH": "110105194912310021", "SJH": "1380013800", "XYDM": "91350100M000100Y44"})
    assert clean == {}
    assert errors == [
        {"field": "form.SFZH", "message": "母亲身份证号：身份证号码校验位不正确，请逐位核对号码"},
        {"field": "form.SJH", "message": "手机号：手机号码应为 11 位数字，实际为 10 位"},
        {"field": "form.XYDM", "message": "统一社会信用代码：统一社会信用代码校验位不正确，请逐位核对代码"},
    ]
