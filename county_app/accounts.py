"""User accounts, passwords, login lockout and API tokens. No Flask here.

Rules kept in this one place:

- A username is 1–64 characters: ASCII letters, digits, ``.``, ``_``, ``-``,
  Chinese characters and the middle dot ``·`` (for names such as
  ``阿依古丽·买买提``). It starts with a letter, digit or Chinese character
  (never ``-``, which a command line would take for an option). ASCII letters
  are stored in lower case, so ``Li`` and ``li`` are one user.
- Passwords are at least 8 characters, are hashed with werkzeug (scrypt), and
  there is no default password anywhere: a generated one is shown once.
- Five wrong passwords in a row lock the account for five minutes; while
  locked even the right password is refused. A successful login clears the
  count; an administrator's password reset clears the lock.
- API tokens are ``secrets.token_urlsafe(32)``; only their SHA-256 is stored,
  with the first 8 characters as a visible prefix to tell them apart.

Every write is audited inside its own transaction (nested in the caller's,
if any). ``authenticate`` commits its bookkeeping before raising, so do not
call it inside a transaction that its ``AccountError`` would roll back.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta, timezone

from werkzeug.security import check_password_hash, generate_password_hash

from . import access, audit
from .db import db
from .models import ApiToken, User, utcnow
from .prepared import Prepared

ROLES = access.ROLES

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
MAX_FAILED_LOGINS = 5
LOCK_DURATION = timedelta(minutes=5)
TOKEN_PREFIX_LENGTH = 8
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
RESERVED_USERNAMES = {"system", "cli", "seed", "anonymous"}

_USERNAME = re.compile(r"[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9._\-\u4e00-\u9fff·]{0,63}")
_PHONE = re.compile(r"[0-9+\-() ]{0,32}")
# Letters and digits that cannot be mistaken for one another when read aloud or copied by hand.
_TOKEN_BY_HASH = Prepared(lambda token_hash: ApiToken.select().where(ApiToken.token_hash == token_hash))
_USER_BY_ID = Prepared(lambda user_id: User.select().where(User.id == user_id))
_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_dummy_hash = None


class AccountError(ValueError):
    """A rule about accounts was broken; the message (in Chinese) says which."""


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``token`` is shown once and never stored."""

    token: str
    prefix: str
    username: str


# ----------------------------------------------------------------------------- helpers


def as_utc(moment):
    """``moment`` as an aware UTC datetime (naive ones are taken as UTC; None is now)."""
    if moment is None:
        return utcnow()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def local_time(moment):
    """``moment`` in this computer's time zone, as shown to people (``HH:MM``)."""
    return as_utc(moment).astimezone().strftime("%H:%M")


def normalise_username(username):
    """The stored form of ``username``: stripped, ASCII letters lower-cased."""
    name = (username or "").strip()
    return "".join(ch.lower() if ch.isascii() else ch for ch in name)


def _check_username(username):
    name = normalise_username(username)
    if not name:
        raise AccountError("用户名不能为空")
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            f"用户名“{name}”不符合要求：1–64 个字符，只能包含字母、数字、汉字、“.”“_”“-”“·”，"
            "且以字母、数字或汉字开头")
    if name in RESERVED_USERNAMES:
        raise AccountError(f"用户名“{name}”为系统保留，请换一个")
    return name


def check_password_rules(password, username=""):
    """Raise AccountError unless ``password`` may be used (length; not the username)."""
    if password is None or len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"密码不能超过 {MAX_PASSWORD_LENGTH} 个字符")
    if not password.strip():
        raise AccountError("密码不能全是空格")
    if username and normalise_username(password) == normalise_username(username):
        raise AccountError("密码不能与用户名相同")


def _check_role(role, department):
    if role not in ROLES:
        raise AccountError(f"未知的角色“{role}”；可选：{'、'.join(f'{k}（{v}）' for k, v in ROLES.items())}")
    department = (department or "").strip() or None
    if role == "department" and not department:
        raise AccountError("部门审批人员必须指定所属部门（--department）")
    if role != "department" and department:
        raise AccountError(f"只有部门审批人员可以指定所属部门，{ROLES[role]}不能指定")
    if department and len(department) > 64:
        raise AccountError("部门名称不能超过 64 个字符")
    return department


def random_password():
    """A new random password of 12 easily read characters (about 69 bits)."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(12))


def _hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_stamp(user):
    """A short value that changes whenever the user's password changes.

    Stored in the login session beside the user id: a password change or reset
    then ends every other session of that user.
    """
    return hashlib.sha256((user.password_hash or "").encode("ascii")).hexdigest()[:16]


# ----------------------------------------------------------------------------- users


def get_user(username):
    """The user called ``username``, or raise AccountError."""
    user = User.get_or_none(User.username == normalise_username(username))
    if user is None:
        raise AccountError(f"没有用户“{normalise_username(username)}”")
    return user


def list_users():
    """Every user, administrators first, then by name."""
    order = {role: i for i, role in enumerate(("admin", "county", "department", "clerk"))}
    return sorted(User.select(), key=lambda u: (order.get(u.role, 9), u.username))


def is_locked(user, now=None):
    """Whether ``user`` is locked out by failed logins at ``now``."""
    return user.locked_until is not None and as_utc(user.locked_until) > as_utc(now)


def add_user(username, role, password, *, department=None, display_name="", phone="", actor):
    """Create a user; ``department`` is required for the department role and forbidden otherwise."""
    name = _check_username(username)
    department = _check_role(role, department)
    check_password_rules(password, name)
    display_name = (display_name or "").strip()
    if len(display_name) > 64:
        raise AccountError("姓名不能超过 64 个字符")
    phone = (phone or "").strip()
    if not _PHONE.fullmatch(phone):
        raise AccountError(f"联系电话“{phone}”格式不对：只能包含数字、空格和 + - ( )，不超过 32 个字符")
    with db.atomic():
        if User.select().where(User.username == name).exists():
            raise AccountError(f"用户“{name}”已存在")
        user = User.create(username=name, role=role, department=department, display_name=display_name,
                           phone=phone, password_hash=generate_password_hash(password))
        audit.record(actor, "user.add", "user", name, role=role, department=department)
    return user


def change_password(username, old_password, new_password, *, actor):
    """Change one's own password; the old one must be given."""
    with db.atomic():
        user = get_user(username)
        if not user.password_hash or not check_password_hash(user.password_hash, old_password or ""):
            raise AccountError("原密码不正确")
        check_password_rules(new_password, user.username)
        if check_password_hash(user.password_hash, new_password):
            raise AccountError("新密码不能与原密码相同")
        user.password_hash = generate_password_hash(new_password)
        user.save()
        audit.record(actor, "user.password", "user", user.username)
    return user


def reset_password(username, *, actor):
    """Give the user a new random password (returned once) and clear any lockout."""
    password = random_password()
    with db.atomic():
        user = get_user(username)
        user.password_hash = generate_password_hash(password)
        _clear_lockout(user)
        audit.record(actor, "user.reset", "user", user.username)
    return password


def _clear_lockout(user):
    """Forget failed logins and any lock they caused, and save the user."""
    user.failed_logins = 0
    user.locked_until = None
    user.save()


def unlock_user(username, *, actor):
    """Lift a lockout caused by failed logins."""
    with db.atomic():
        user = get_user(username)
        _clear_lockout(user)
        audit.record(actor, "user.unlock", "user", user.username)
    return user


def deactivate_user(username, *, actor):
    """Stop the user from logging in or using tokens; the last active administrator stays."""
    with db.atomic():
        user = get_user(username)
        if not user.active:
            raise AccountError(f"用户“{user.username}”已经是停用状态")
        if normalise_username(actor) == user.username:
            raise AccountError("不能停用自己的账号")
        if user.role == "admin":
            others = User.select().where(User.role == "admin", User.active == True, User.id != user.id)  # noqa: E712
            if not others.exists():
                raise AccountError("这是唯一可用的系统管理员账号，不能停用")
        user.active = False
        user.save()
        audit.record(actor, "user.deactivate", "user", user.username)
    return user


def reactivate_user(username, *, actor):
    """Let a deactivated user log in again."""
    with db.atomic():
        user = get_user(username)
        if user.active:
            raise AccountError(f"用户“{user.username}”已经是启用状态")
        user.active = True
        _clear_lockout(user)
        audit.record(actor, "user.reactivate", "user", user.username)
    return user


# ----------------------------------------------------------------------------- login


def _dummy():
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_hex(16))
    return _dummy_hash


def authenticate(username, password, now=None, *, source=""):
    """The user whose name and password these are, or raise AccountError.

    Counts failures and locks the account after MAX_FAILED_LOGINS in a row;
    the bookkeeping and its audit entries are committed before raising.
    ``source`` (e.g. the client address) is kept in the audit detail.
    """
    now = as_utc(now)
    name = normalise_username(username)[:64]
    error = None
    with db.atomic():
        user = User.get_or_none(User.username == name) if name else None
        if user is None or not user.password_hash:
            check_password_hash(_dummy(), password or "")  # same time as a real check
            audit.record(name or "anonymous", "login.failed", "user", name, reason="unknown", source=source)
            error = "用户名或密码错误"
        elif is_locked(user, now):
            audit.record(name, "login.failed", "user", name, reason="locked", source=source)
            error = _locked_message(user.locked_until)
        elif not check_password_hash(user.password_hash, password or ""):
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.failed_logins = 0
                user.locked_until = now + LOCK_DURATION
                audit.record(name, "login.locked", "user", name, until=user.locked_until, source=source)
                error = _locked_message(user.locked_until)
            else:
                audit.record(name, "login.failed", "user", name, reason="password",
                             count=user.failed_logins, source=source)
                left = MAX_FAILED_LOGINS - user.failed_logins
                error = f"用户名或密码错误（再错 {left} 次账号将被锁定 {_minutes(LOCK_DURATION)} 分钟）"
            user.save()
        elif not user.active:
            audit.record(name, "login.failed", "user", name, reason="inactive", source=source)
            error = "账号已停用，请联系系统管理员"
        else:
            _clear_lockout(user)
            audit.record(name, "login.ok", "user", name, source=source)
    if error:
        raise AccountError(error)
    return user


def _minutes(delta):
    return int(delta.total_seconds() // 60)


def _locked_message(until):
    # rounded up to the minute, so that trying again at the time shown works
    shown = local_time(as_utc(until) + timedelta(seconds=59))
    return (f"连续 {MAX_FAILED_LOGINS} 次密码错误，账号已锁定至 {shown}，"
            "届时可再试，或请系统管理员重置密码")


# ----------------------------------------------------------------------------- API tokens


def issue_token(username, *, actor):
    """A new API token for the user; the plain token is returned once and never stored."""
    with db.atomic():
        user = get_user(username)
        if not user.active:
            raise AccountError(f"用户“{user.username}”已停用，不能签发令牌")
        while True:
            token = secrets.token_urlsafe(32)
            prefix = token[:TOKEN_PREFIX_LENGTH]
            # a leading "-" would read as an option on the command line (token revoke PREFIX)
            if token[0].isalnum() and not ApiToken.select().where(ApiToken.prefix == prefix).exists():
                break
        ApiToken.create(user=user, token_hash=_hash_token(token), prefix=prefix)
        audit.record(actor, "token.issue", "api_token", prefix, user=user.username)
    return IssuedToken(token=token, prefix=prefix, username=user.username)


def revoke_token(prefix, *, actor, now=None):
    """Revoke the token whose prefix is ``prefix``."""
    prefix = (prefix or "").strip()
    with db.atomic():
        record = ApiToken.get_or_none(ApiToken.prefix == prefix) if prefix else None
        if record is None:
            raise AccountError(f"没有编号为“{prefix}”的令牌")
        if record.revoked_at is not None:
            raise AccountError(f"令牌“{prefix}”已于 {as_utc(record.revoked_at).astimezone():%Y-%m-%d %H:%M} 吊销")
        record.revoked_at = as_utc(now)
        record.save()
        audit.record(actor, "token.revoke", "api_token", prefix, user=record.user.username)
    return record


def tokens_of(username):
    """The user's tokens, newest first (revoked ones included)."""
    user = get_user(username)
    return list(ApiToken.select().where(ApiToken.user == user).order_by(ApiToken.id.desc()))


def get_token(prefix):
    """The token record with this prefix, or raise AccountError."""
    record = ApiToken.get_or_none(ApiToken.prefix == (prefix or "").strip())
    if record is None:
        raise AccountError(f"没有编号为“{prefix}”的令牌")
    return record


def user_by_id(user_id):
    """The user with this id (active or not), or None: the lookup of every logged-in request."""
    return _USER_BY_ID.first(user_id)


def user_for_token(token, now=None):
    """The active user holding ``token``; None for an unknown or revoked token or an inactive user.

    Notes when the token was last used, at most once per TOKEN_TOUCH_INTERVAL,
    so that a busy script does not cause a write per request.
    """
    if not token or len(token) > 200:
        return None
    record = _TOKEN_BY_HASH.first(_hash_token(token))
    if record is None or record.revoked_at is not None:
        return None
    user = user_by_id(record.user_id)
    if user is None or not user.active:
        return None
    now = as_utc(now)
    if record.last_used_at is None or now - as_utc(record.last_used_at) >= TOKEN_TOUCH_INTERVAL:
        ApiToken.update(last_used_at=now).where(ApiToken.id == record.id).execute()
    return user
