"""Identity numbers the window types every day: resident ID, 统一社会信用代码, mobile phone.

Pure functions, no database. Numbers are taken as people type them: a
Chinese input method gives full-width digits and letters (``１３８００１３８０００``,
``…００２Ｘ``), a clerk types spaces or dashes between groups, a chat program
adds an ideographic space. ``compact`` is the one rule that turns all of that
into the canonical ASCII form (NFKC, separators dropped, letters upper-cased);
every check, and the case search, goes through it, and what is stored is
always that form. ``intake.js`` does the same (``normalize("NFKC")``) before
its instant check, and the server's answer is what the box then shows.

Each check raises ``IdentityError`` with a Chinese message that says exactly
what is wrong: length, format, region, birth date or the check character. See
domain-facts.md "Identity numbers".
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .text import TextError, quoted, shown, typed_text

# GB 11643-1999
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)

# GB 32100-2015
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I O S V Z
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB/T 2260 provinces (the first two digits of an address code), and 81/82/83: the residence
# permits of Hong Kong, Macao and Taiwan residents (港澳台居民居住证) carry 810000/820000/830000.
# Only the province is checked: counties are renamed and merged, and the old numbers stay valid.
PROVINCE_CODES = frozenset(str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
                                            *range(50, 55), *range(61, 66), 81, 82, 83))

TYPED_MAX_LENGTH = 64  # characters a number may be typed with, separators included
_SPACES = re.compile(r"\s+")
_MINUS = "\u2212"  # the minus sign is a math symbol (Sm), not a dash; superscript and small minus become it
_PHONE_BRACKETS = re.compile(r"[()]")  # （0）138… after NFKC
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


def compact(text):
    """``text`` as the canonical ASCII form of a number: NFKC, then spaces and dashes dropped, upper case.

    NFKC turns full-width digits and letters into ASCII and the ideographic
    space U+3000 into a space; every whitespace and dash character (Unicode
    category Pd: ``-``, ``－``, ``—``, ``–`` …) and the minus sign are
    separators. Nothing is refused here: the checks decide what is valid.
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not _separator(ch)).upper()


def _separator(ch):
    return ch.isspace() or ch == _MINUS or unicodedata.category(ch) == "Pd"


def typed_number(value, label):
    """``value`` as typed into the field called ``label``, compacted (``compact``).

    It goes through ``typed_text`` first, the one rule for typed text:
    zero-width characters pasted with a number are dropped, other invisible
    characters are refused with a message naming the field. None is "".
    """
    try:
        text = typed_text(value, label, max_length=TYPED_MAX_LENGTH, multiline=True)
    except TextError as exc:
        raise IdentityError(str(exc)) from None
    return compact(text)


def id_check_char(first17):
    """The check character (0–9 or X) of the first 17 digits of a resident ID number."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def check_id_number(text, today=None):
    """Check a GB 11643-1999 resident ID number and give its ``IdCard``.

    The number is read as typed (``typed_number``: full-width, spaces and
    dashes; a lower-case ``x`` becomes ``X``). The first two digits must be a
    province (``PROVINCE_CODES``). The birth date must be a real date, not
    after ``today`` (default: the current date) and not before 1900. Raises
    IdentityError naming the problem.
    """
    number = typed_number(text, "身份证号码")
    if not number:
        raise IdentityError("身份证号码不能为空")
    if len(number) != 18:
        raise IdentityError(f"身份证号码应为 18 位，实际为 {len(number)} 位")
    if not _ID_FORMAT.fullmatch(number):
        raise IdentityError("身份证号码格式不正确：前 17 位应为数字，最后一位为数字或 X")
    if number[:2] not in PROVINCE_CODES:
        raise IdentityError(f"身份证号码的地址码 {number[:6]} 不正确：前两位 {number[:2]} 不是省、自治区、直辖市的代码"
                            "（港澳台居民居住证为 81、82、83）")
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
    """Check a GB 32100-2015 统一社会信用代码 and give its canonical form (``typed_number``).

    Raises IdentityError naming the problem: length, a character outside the
    code's alphabet, a non-digit in the 6-digit division code, or the check
    character. The first two characters (登记管理部门 and 机构类别) may be any
    character of the alphabet: GB 32100 gives letters to some authorities
    (A, N 农业, Y 其他 …), so they are not required to be digits.
    """
    code = typed_number(text, "统一社会信用代码")
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

    Read as typed (``typed_number``: full-width, spaces and dashes); brackets
    and a leading +86 are ignored too.
    """
    phone = phone_digits(typed_number(text, "手机号码"))
    if not phone:
        raise IdentityError("手机号码不能为空")
    if not (phone.isascii() and phone.isdigit()):
        raise IdentityError(f"手机号码只能包含数字，实际为 {quoted(phone)}")
    if len(phone) != 11:
        raise IdentityError(f"手机号码应为 11 位数字，实际为 {len(phone)} 位")
    if phone[0] != "1" or phone[1] not in "3456789":
        raise IdentityError(f"手机号码应以 13–19 开头，实际为 {phone[:2]}")
    return phone


def phone_digits(number):
    """A compacted number (``compact``) without the brackets and the +86 that a phone may be written with."""
    phone = _PHONE_BRACKETS.sub("", number)
    return phone[3:] if phone.startswith("+86") else phone


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
