"""Identity numbers the window types every day: resident ID, 统一社会信用代码, mobile phone.

Pure functions, no database. Each check normalises what it accepts (spaces
removed, letters upper-cased) and raises ``IdentityError`` with a Chinese
message that says exactly what is wrong: length, format, birth date or the
check character. See domain-facts.md "Identity numbers".
"""
import re
from dataclasses import dataclass
from datetime import date

from .text import quoted, shown

# GB 11643-1999
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)

# GB 32100-2015
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I O S V Z
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Card readers and people paste numbers with spaces; phones also come as 138-0013-8000.
_SPACES = re.compile(r"\s+")
_PHONE_SEPARATORS = re.compile(r"[\s\-－—()（）]+")
_ID_FORMAT = re.compile(r"[0-9]{17}[0-9X]")


class IdentityError(ValueError):
    """A number that is not valid; ``str(error)`` is the Chinese message for the clerk."""


@dataclass(frozen=True)
class IdCard:
    """What an 18-character resident ID number says about its holder."""

    number: str  # normalised: upper-case X
    birth_date: date
    sex: str  # "male" | "female"
    region_code: str  # the 6-digit address code


def id_check_char(first17):
    """The check character (0–9 or X) of the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def check_id_number(text, today=None):
    """Check a GB 11643-1999 resident ID number and give its ``IdCard``.

    Spaces are ignored and a lower-case ``x`` becomes ``X``. The birth date
    must be a real date, not after ``today`` (default: the current date) and
    not before 1900. Raises IdentityError naming the problem.
    """
    number = _SPACES.sub("", str(text or "")).upper()
    if not number:
        raise IdentityError("身份证号码不能为空")
    if len(number) != 18:
        raise IdentityError(f"身份证号码应为 18 位，实际为 {len(number)} 位")
    if not _ID_FORMAT.fullmatch(number):
        raise IdentityError("身份证号码格式不正确：前 17 位应为数字，最后一位为数字或 X")
    birth = _birth_date(number[6:14], today or date.today())
    if id_check_char(number[:17]) != number[17]:
        raise IdentityError("身份证号码校验位不正确，请逐位核对号码")
    sex = "male" if int(number[16]) % 2 else "female"
    return IdCard(number=number, birth_date=birth, sex=sex, region_code=number[:6])


def _birth_date(digits, today):
    shown = f"{digits[:4]}-{digits[4:6]}-{digits[6:]}"
    try:
        birth = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise IdentityError(f"身份证号码中的出生日期 {shown} 不是有效日期") from None
    if birth > today:
        raise IdentityError(f"身份证号码中的出生日期 {shown} 晚于今天")
    if birth < EARLIEST_BIRTH:
        raise IdentityError(f"身份证号码中的出生日期 {shown} 早于 1900 年")
    return birth


def credit_check_char(first17):
    """The check character of the first 17 characters of a 统一社会信用代码."""
    total = sum(CREDIT_ALPHABET.index(char) * weight for char, weight in zip(first17, CREDIT_WEIGHTS))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def check_credit_code(text):
    """Check a GB 32100-2015 统一社会信用代码 and give it normalised (upper case, no spaces).

    Raises IdentityError naming the problem: length, a character outside the
    code's alphabet, a non-digit in the 6-digit division code, or the check character.
    """
    code = _SPACES.sub("", str(text or "")).upper()
    if not code:
        raise IdentityError("统一社会信用代码不能为空")
    if len(code) != 18:
        raise IdentityError(f"统一社会信用代码应为 18 位，实际为 {len(code)} 位")
    wrong = [char for char in dict.fromkeys(code) if char not in CREDIT_ALPHABET]
    if wrong:
        shown_chars = "、".join(f"“{shown(char)}”" for char in wrong)  # at most 18: the length is checked
        raise IdentityError(f"统一社会信用代码含有不允许的字符 {shown_chars}（只用数字和除 I、O、S、V、Z 以外的大写字母）")
    if not code[2:8].isdigit():
        raise IdentityError(f"统一社会信用代码第 3–8 位应为行政区划代码（6 位数字），实际为 {code[2:8]}")
    if credit_check_char(code[:17]) != code[17]:
        raise IdentityError("统一社会信用代码校验位不正确，请逐位核对代码")
    return code


def check_phone(text):
    """Check a mainland mobile number (11 digits, 13–19 first) and give its 11 digits.

    Spaces, dashes and brackets are ignored, and so is a leading +86.
    """
    phone = _PHONE_SEPARATORS.sub("", str(text or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not phone:
        raise IdentityError("手机号码不能为空")
    if not (phone.isascii() and phone.isdigit()):
        raise IdentityError(f"手机号码只能包含数字，实际为 {quoted(phone)}")
    if len(phone) != 11:
        raise IdentityError(f"手机号码应为 11 位数字，实际为 {len(phone)} 位")
    if phone[0] != "1" or phone[1] not in "3456789":
        raise IdentityError(f"手机号码应以 13–19 开头，实际为 {phone[:2]}")
    return phone


def mask_id_number(text):
    """An ID number with all but the first 6 and last 4 characters masked: ``110105********002X``.

    A text of 10 characters or fewer is masked entirely; None gives "".
    """
    value = _SPACES.sub("", str(text or ""))
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(text):
    """A phone number with the middle masked: ``138****5678`` (first 3 and last 4 kept)."""
    value = _SPACES.sub("", str(text or ""))
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
