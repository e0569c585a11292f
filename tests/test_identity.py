"""Resident ID numbers, 统一社会信用代码 and mobile phones (county_app.identity)."""
from datetime import date

import pytest

from county_app.identity import (
    CREDIT_ALPHABET,
    IdCard,
    IdentityError,
    check_credit_code,
    check_id_number,
    check_phone,
    id_check_char,
    mask_id_number,
    mask_phone,
)

VALID_ID = "11010519491231002X"
VALID_CREDIT = "91350100M000100Y43"
TODAY = date(2026, 11, 20)


def with_check(first17):
    """A resident ID number whose check character is right, so only the part under test can be wrong."""
    return first17 + id_check_char(first17)


def error_of(check, text, **kwargs):
    with pytest.raises(IdentityError) as caught:
        check(text, **kwargs)
    return str(caught.value)


# ----------------------------------------------------------------------------- resident ID


def test_the_standard_example_is_valid_and_read():
    card = check_id_number(VALID_ID, today=TODAY)
    assert card == IdCard(number=VALID_ID, birth_date=date(1949, 12, 31), sex="female", region_code="110105")


def test_lower_case_x_and_spaces_are_normalised():
    assert check_id_number(" 110105 19491231 002x ").number == VALID_ID


def test_odd_sequence_digit_is_male():
    number = with_check("11010519800101003")
    assert check_id_number(number, today=TODAY).sex == "male"


@pytest.mark.parametrize("position", range(18))
def test_every_single_character_corruption_is_rejected(position):
    for replacement in "0123456789X":
        if replacement == VALID_ID[position]:
            continue
        corrupted = VALID_ID[:position] + replacement + VALID_ID[position + 1:]
        with pytest.raises(IdentityError):
            check_id_number(corrupted, today=TODAY)


def test_wrong_check_character_says_so():
    assert "校验位" in error_of(check_id_number, "110105194912310021", today=TODAY)


@pytest.mark.parametrize("text, length", [("11010519491231002", 17), ("11010519491231002XX", 19), ("1", 1)])
def test_wrong_length_says_the_length(text, length):
    assert error_of(check_id_number, text) == f"身份证号码应为 18 位，实际为 {length} 位"


@pytest.mark.parametrize("text", ["1101051949123100XX", "X1010519491231002X", "11010519491231002Y", "1101051949１231002X"])
def test_letters_outside_the_last_place_are_a_format_error(text):
    assert "格式" in error_of(check_id_number, text)


def test_blank_is_rejected():
    assert error_of(check_id_number, "  ") == "身份证号码不能为空"
    assert error_of(check_id_number, None) == "身份证号码不能为空"


def test_birth_date_in_the_future_is_rejected():
    number = with_check("11010520261121001")
    assert "晚于今天" in error_of(check_id_number, number, today=TODAY)
    assert check_id_number(number, today=date(2026, 11, 21)).birth_date == date(2026, 11, 21)


@pytest.mark.parametrize("digits, shown", [("19490229", "1949-02-29"), ("19000229", "1900-02-29"),
                                           ("20231301", "2023-13-01"), ("20230431", "2023-04-31"),
                                           ("20230100", "2023-01-00")])
def test_birth_date_must_be_a_real_date(digits, shown):
    number = with_check(f"110105{digits}001")
    assert error_of(check_id_number, number, today=TODAY) == f"身份证号码中的出生日期 {shown} 不是有效日期"


def test_february_29_of_a_leap_year_is_fine():
    assert check_id_number(with_check("11010520000229001"), today=TODAY).birth_date == date(2000, 2, 29)


def test_birth_before_1900_is_rejected():
    number = with_check("11010518991231001")
    assert "早于 1900 年" in error_of(check_id_number, number, today=TODAY)
    assert check_id_number(with_check("11010519000101001"), today=TODAY).birth_date == date(1900, 1, 1)


# ----------------------------------------------------------------------------- 统一社会信用代码


def test_the_standard_credit_code_is_valid():
    assert check_credit_code(VALID_CREDIT) == VALID_CREDIT


def test_credit_code_is_upper_cased_and_trimmed():
    assert check_credit_code(" 91350100m000100y43 ") == VALID_CREDIT


@pytest.mark.parametrize("position", range(18))
def test_every_single_character_corruption_of_a_credit_code_is_rejected(position):
    for replacement in CREDIT_ALPHABET + "IOSVZ":
        if replacement == VALID_CREDIT[position]:
            continue
        corrupted = VALID_CREDIT[:position] + replacement + VALID_CREDIT[position + 1:]
        with pytest.raises(IdentityError):
            check_credit_code(corrupted)


def test_credit_code_messages_name_the_problem():
    assert error_of(check_credit_code, "91350100M000100Y4") == "统一社会信用代码应为 18 位，实际为 17 位"
    assert "“I”" in error_of(check_credit_code, "91350100M000100I43")
    assert "“O”、“-”" in error_of(check_credit_code, "9135010OM00010-Y43")
    assert "行政区划代码" in error_of(check_credit_code, "913501A0M000100Y43")
    assert "校验位" in error_of(check_credit_code, "91350100M000100Y44")
    assert error_of(check_credit_code, "") == "统一社会信用代码不能为空"


# ----------------------------------------------------------------------------- phones and masks


@pytest.mark.parametrize("text", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", " 13800138000 "])
def test_phone_separators_are_ignored(text):
    assert check_phone(text) == "13800138000"


@pytest.mark.parametrize("text, words", [
    ("1380013800", "应为 11 位数字，实际为 10 位"),
    ("138001380001", "实际为 12 位"),
    ("12800138000", "应以 13–19 开头"),
    ("23800138000", "应以 13–19 开头"),
    ("1380013800a", "只能包含数字"),
    ("", "不能为空"),
])
def test_bad_phones_say_why(text, words):
    assert words in error_of(check_phone, text)


def test_masks():
    assert mask_id_number(VALID_ID) == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number(None) == "" and mask_phone("") == ""
    assert mask_id_number("12345") == "*****"
