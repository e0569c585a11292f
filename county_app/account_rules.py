"""What an account's fields may hold: user name, display name, phone, role and department. No Flask here.

- A username is 1–64 characters: ASCII letters, digits, ``.``, ``_``, ``-``,
  Chinese characters and the middle dot ``·`` (for names such as
  ``阿依古丽·买买提``). It starts with a letter, digit or Chinese character
  (never ``-``, which a command line would take for an option). ASCII letters
  are stored in lower case, so ``Li`` and ``li`` are one user. Names, display
  names and departments are typed text (text.py): zero-width characters are
  dropped, control characters, right-to-left overrides and NUL refused.
- Passwords follow passwords.py (length, not guessable, not the user's names).
- A department user's department is one of the departments of the
  catalogue in force (chosen, never typed freely), so that it matches the
  matters whose cases it is to see; other roles have none.

accounts.py applies these rules when it writes; each raises AccountError with
a Chinese message naming the field.
"""
import re

from . import access, passwords
from .catalogue import query
from .text import TextError, typed_text

ROLES = access.ROLES
RESERVED_USERNAMES = {"system", "cli", "seed", "anonymous"}

_USERNAME = re.compile(r"[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9._\-\u4e00-\u9fff·]{0,63}")
_PHONE = re.compile(r"[0-9+\-() ]{0,32}")


class AccountError(ValueError):
    """A rule about accounts was broken; the message (in Chinese) says which."""


def normalise_username(username):
    """The stored form of ``username``: stripped, ASCII letters lower-cased."""
    name = (username or "").strip() if isinstance(username, str) else ""
    return "".join(ch.lower() if ch.isascii() else ch for ch in name)


def could_be_username(name):
    """Whether the normalised ``name`` has the form of a user name (a login looks up no other)."""
    return bool(name) and _USERNAME.fullmatch(name) is not None


def typed(value, label, max_length=64):
    """``value`` as typed text (text.py) for the field ``label``, or AccountError."""
    try:
        return typed_text(value, label, max_length=max_length)
    except TextError as exc:
        raise AccountError(str(exc)) from None


def check_username(username):
    """The stored form of a new user's name, or AccountError."""
    name = normalise_username(typed(username, "用户名"))
    if not name:
        raise AccountError("用户名不能为空")
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            f"用户名“{name}”不符合要求：1–64 个字符，只能包含字母、数字、汉字、“.”“_”“-”“·”，"
            "且以字母、数字或汉字开头")
    if name in RESERVED_USERNAMES:
        raise AccountError(f"用户名“{name}”为系统保留，请换一个")
    return name


def check_password_rules(password, username="", display_name=""):
    """Raise AccountError unless ``password`` may be used by this user (passwords.check_rules)."""
    try:
        passwords.check_rules(password, words=(username, display_name))
    except passwords.PasswordError as exc:
        raise AccountError(str(exc)) from None


def check_role(role, department, kept=None):
    """The department to store for ``role``: required for a department user and one of the catalogue in force's.

    ``kept`` is the user's present department, which stays allowed even when
    the catalogue in force no longer names it (so that the rest of the
    account can still be edited).
    """
    if role not in ROLES:
        raise AccountError(f"未知的角色“{role}”；可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}")
    department = typed(department, "所属部门") or None
    if role == "department" and not department:
        raise AccountError("部门审批人员必须指定所属部门")
    if role != "department" and department:
        raise AccountError(f"只有部门审批人员可以指定所属部门，{ROLES[role]}不能指定")
    if department and department != kept:
        _check_department(department)
    return department


def _check_department(department):
    # A department user sees the cases holding its department's matters: a name the catalogue does not
    # use (县城管局 for 县城市管理局) would make an approver who silently sees nothing.
    known = query.departments()
    if not known:
        raise AccountError("还没有导入事项目录，无法指定所属部门；请先导入目录")
    if department not in known:
        raise AccountError(f"所属部门“{department}”不是现行事项目录中的部门，请从中选择：{'、'.join(known)}")


def check_phone(phone):
    """A user's phone as stored, or AccountError."""
    phone = typed(phone, "联系电话", max_length=32)
    if not _PHONE.fullmatch(phone):
        raise AccountError(f"联系电话“{phone}”格式不对：只能包含数字、空格和 + - ( )，不超过 32 个字符")
    return phone
