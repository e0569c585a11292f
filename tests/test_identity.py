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
    compact,
    credit_check_char,
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


# As a Chinese input method types them (full-width), as people group them (spaces, dashes of every
# kind, the ideographic space U+3000), with what a chat program pastes (a zero-width space).
TYPED_IDS = ["１１０１０５１９４９１２３１００２Ｘ", "１１０１０５１９４９１２３１００２ｘ", "110105\u300019491231\u3000002X",
             "110105-19491231-002X", "110105－19491231－002X", "110105—19491231—002X", "110105–19491231–002x",
             "110105\u201019491231\u2212002X", "\u3000１１０１０５ １９４９ １２３１ ００２Ｘ\u3000", "1101051949\u200b1231002X",
             "110105\t19491231\n002X"]


@pytest.mark.parametrize("typed", TYPED_IDS)
def test_id_numbers_are_read_as_people_type_them(typed):
    assert check_id_number(typed, today=TODAY).number == VALID_ID


def test_compact_is_the_one_reading_of_a_typed_number():
    assert compact("１３８　００１３－８０００") == "13800138000"
    assert compact("９１３５０１００ｍ０００１００ｙ４３") == VALID_CREDIT
    assert compact("李娜") == "李娜"  # nothing but numbers changes: names are searched as typed


def test_invisible_characters_other_than_zero_width_are_refused_naming_the_field():
    assert "身份证号码含有看不见的控制字符 U+202E" in error_of(check_id_number, "110105\u202e19491231002X")
    assert "手机号码含有看不见的控制字符 U+0000" in error_of(check_phone, "138\x0000138000")
    assert error_of(check_credit_code, "9" * 70) == "统一社会信用代码不能超过 64 个字，实际为 70 个字"


@pytest.mark.parametrize("prefix", ["00", "99", "10", "16", "20", "24", "30", "38", "40", "47", "49", "55", "60",
                                    "66", "70", "71", "80", "84", "90"])
def test_a_region_code_outside_the_provinces_is_refused_naming_it(prefix):
    number = with_check(f"{prefix}0426" + "19491231002")
    assert error_of(check_id_number, number, today=TODAY) == (
        f"身份证号码的地址码 {prefix}0426 不正确：前两位 {prefix} 不是省、自治区、直辖市的代码（港澳台居民居住证为 81、82、83）")


def test_the_issues_examples_of_bad_region_codes():
    assert "地址码 000000" in error_of(check_id_number, with_check("00000019491231002"), today=TODAY)
    assert "地址码 990426" in error_of(check_id_number, with_check("99042619491231002"), today=TODAY)


@pytest.mark.parametrize("region", ["110105", "150102", "230102", "370102", "460105", "500101", "540102", "650102",
                                    "810000", "820000", "830000"])
def test_provinces_and_residence_permits_are_accepted(region):
    assert check_id_number(with_check(f"{region}20050101002"), today=TODAY).region_code == region


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


@pytest.mark.parametrize("text", ["1101051949123100XX", "X1010519491231002X", "11010519491231002Y", "1101051949٣231002X"])
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


@pytest.mark.parametrize("typed", ["９１３５０１００Ｍ０００１００Ｙ４３", "９１３５０１００ｍ０００１００ｙ４３", "91-350100-M000100Y4-3",
                                   "9135\u30000100\u3000M000\u3000100Y\u300043", "913501００－Ｍ０００１００—Ｙ４３"])
def test_credit_codes_are_read_as_people_type_them(typed):
    assert check_credit_code(typed) == VALID_CREDIT


@pytest.mark.parametrize("head", ["N1", "N2", "N3", "Y1", "A1", "A9", "11", "12", "51", "52", "91", "92", "93"])
def test_letter_registration_authorities_are_kept(head):
    # GB 32100 gives letters to some 登记管理部门 (N 农业, Y 其他, A …): python-stdnum refuses them, we must not.
    code = head + "350100M000100Y" + "4"
    code = code[:17] + credit_check_char(code[:17])
    assert check_credit_code(code) == code


def test_credit_code_messages_name_the_problem():
    assert error_of(check_credit_code, "91350100M000100Y4") == "统一社会信用代码应为 18 位，实际为 17 位"
    assert "“I”" in error_of(check_credit_code, "91350100M000100I43")
    assert "“O”、“*”" in error_of(check_credit_code, "9135010OM00010*Y43")
    assert "行政区划代码" in error_of(check_credit_code, "913501A0M000100Y43")
    assert "校验位" in error_of(check_credit_code, "91350100M000100Y44")
    assert error_of(check_credit_code, "") == "统一社会信用代码不能为空"


# ----------------------------------------------------------------------------- phones and masks


@pytest.mark.parametrize("text", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", " 13800138000 ",
                                  "１３８００１３８０００", "１３８　００１３　８０００", "１３８－００１３－８０００", "１３８—００１３—８０００",
                                  "＋８６　１３８００１３８０００", "（＋８６）１３８００１３８０００", "138\u30000013\u30008000"])
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
