"""User accounts, logging in and API tokens. No Flask here.

What each field may hold (user name, names, phone, role, department) is
account_rules.py. Rules kept here:

- There is no default password anywhere. A password someone else has seen
  — generated and shown once, or a reset — must be changed at the next
  login (``must_change_password``; guard.py lets such a user do nothing
  else).
- Logging in: every failure gets one message and one password-hash check,
  whether the name exists, the password is wrong, the account is deactivated
  or held back by the throttle (throttle.py: per client address and name).
  No hash is computed inside a database transaction: it would hold the write
  lock for tens of milliseconds per attempt. A reset lifts the holds on the
  user's name.
- Sessions (sessions.py): a password change ends the user's other sessions;
  a reset, a deactivation or a change of role or department ends all of them.
- API tokens are ``secrets.token_urlsafe(32)``; only their SHA-256 is stored,
  with the first 8 characters as a visible prefix to tell them apart.

Every write is audited inside its own transaction (nested in the caller's,
if any).
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from . import audit, passwords, sessions, throttle
from .account_rules import (ROLES, AccountError, check_password_rules, check_phone, check_role, check_username,
                            could_be_username, normalise_username, typed)
from .db import db, note_use
from .models import ApiToken, User, as_utc
from .passwords import MIN_PASSWORD_LENGTH, random_password  # noqa: F401  (callers use them from here)
from .prepared import Prepared

TOKEN_PREFIX_LENGTH = 8
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
LOGIN_FAILED = (f"用户名或密码错误。连续输错 {throttle.PAIR_LIMIT} 次须等 {throttle.LOCK_SECONDS // 60} 分钟再试；"
                "忘记密码请联系系统管理员重置")

_TOKEN_BY_HASH = Prepared(lambda token_hash: ApiToken.select().where(ApiToken.token_hash == token_hash))
_USER_BY_NAME = Prepared(lambda username: User.select().where(User.username == username))


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: ``token`` is shown once and never stored."""

    token: str
    prefix: str
    username: str


def _hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


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


def add_user(username, role, password, *, department=None, display_name="", phone="", actor, must_change=False):
    """Create a user; ``department`` is required for the department role and forbidden otherwise.

    ``must_change``: the password was generated and shown to someone, so the
    user must change it at the first login.
    """
    name = check_username(username)
    department = check_role(role, department)
    display_name = typed(display_name, "姓名")
    check_password_rules(password, name, display_name)
    phone = check_phone(phone)
    password_hash = passwords.hash_password(password)  # before the transaction: it is slow
    with db.atomic():
        if User.select().where(User.username == name).exists():
            raise AccountError(f"用户“{name}”已存在")
        user = User.create(username=name, role=role, department=department, display_name=display_name,
                           phone=phone, password_hash=password_hash, must_change_password=must_change)
        audit.record(actor, "user.add", "user", name, role=role, department=department)
    return user


def change_password(username, old_password, new_password, *, actor, keep_session=None, source=""):
    """Change one's own password (the old one must be given); ends the user's other sessions.

    ``keep_session`` is the id of the session the change was made from. A
    wrong old password counts as a failed login from ``source`` (the client
    address): a PC left logged in must not give unlimited guesses.
    """
    user = get_user(username)
    attempt = throttle.Attempt.of(source, user.username)
    if throttle.is_held(attempt):
        raise AccountError(f"原密码连续输错 {throttle.PAIR_LIMIT} 次，请 {throttle.LOCK_SECONDS // 60} 分钟后再试，"
                           "或请系统管理员重置密码")
    if not passwords.verify(user.password_hash, old_password):
        throttle.record_failure(attempt, user)
        raise AccountError("原密码不正确")
    check_password_rules(new_password, user.username, user.display_name)
    if passwords.verify(user.password_hash, new_password):
        raise AccountError("新密码不能与原密码相同")
    new_hash = passwords.hash_password(new_password)
    with db.atomic():
        changed = (User.update(password_hash=new_hash, must_change_password=False)
                   .where(User.id == user.id, User.password_hash == user.password_hash).execute())
        if not changed:  # reset or changed elsewhere while the hashes were computed
            raise AccountError("密码刚刚在别处被修改或重置，请重新登录后再试")
        sessions.end_all(user, keep=keep_session)
        audit.record(actor, "user.password", "user", user.username)
    return get_user(user.username)


def reset_password(username, *, actor, every_address=False):
    """Give the user a new one-time password (returned once; to be changed at the next login).

    Lifts every hold of the login throttle on the user's name and ends all
    the user's sessions; ``every_address`` (the command line on the PC itself)
    also lifts the holds on addresses, which refuse every name.
    """
    user = get_user(username)
    password = random_password()
    password_hash = passwords.hash_password(password)
    with db.atomic():
        user = get_user(user.username)
        User.update(password_hash=password_hash, must_change_password=True).where(User.id == user.id).execute()
        throttle.lift(user)
        addresses = throttle.lift_addresses() if every_address else 0
        sessions.end_all(user)
        audit.record(actor, "user.reset", "user", user.username, **({"addresses": addresses} if addresses else {}))
    return password


def unlock_user(username, *, actor):
    """Lift the holds of the login throttle on the user's name, at every address."""
    with db.atomic():
        user = get_user(username)
        throttle.lift(user)
        audit.record(actor, "user.unlock", "user", user.username)
    return user


def _refuse_last_admin(user, actor, own, last):
    """Refuse (with message ``own``) an action on one's own account, or (``last``) on the last active admin."""
    if normalise_username(actor) == user.username:
        raise AccountError(own)
    if user.role == "admin":
        others = User.select().where(User.role == "admin", User.active == True, User.id != user.id)  # noqa: E712
        if not others.exists():
            raise AccountError(last)


def deactivate_user(username, *, actor):
    """Stop the user from logging in or using tokens and end their sessions; the last active administrator stays."""
    with db.atomic():
        user = get_user(username)
        if not user.active:
            raise AccountError(f"用户“{user.username}”已经是停用状态")
        _refuse_last_admin(user, actor, "不能停用自己的账号", "这是唯一可用的系统管理员账号，不能停用")
        User.update(active=False).where(User.id == user.id).execute()
        sessions.end_all(user)
        audit.record(actor, "user.deactivate", "user", user.username)
    return get_user(user.username)


def reactivate_user(username, *, actor):
    """Let a deactivated user log in again."""
    with db.atomic():
        user = get_user(username)
        if user.active:
            raise AccountError(f"用户“{user.username}”已经是启用状态")
        User.update(active=True).where(User.id == user.id).execute()
        throttle.lift(user)
        audit.record(actor, "user.reactivate", "user", user.username)
    return get_user(user.username)


def change_role(username, role, department=None, *, actor):
    """Give the user another role (and department); ends all the user's sessions."""
    user, changed = update_user(username, role=role, department=department, actor=actor)
    if not changed:
        raise AccountError(f"用户“{user.username}”已经是{ROLES[role]}" + (f"（{user.department}）" if user.department else ""))
    return user


def update_user(username, *, actor, display_name=None, phone=None, role=None, department=None):
    """Change the user's display name, phone, role and department (those given); ``(user, changed fields)``.

    ``department`` is read with ``role`` (required for a department user,
    from the catalogue in force). A change of role or department ends all
    the user's sessions: what they may see and do changes at once.
    """
    with db.atomic():
        user = get_user(username)
        wanted = {}
        if display_name is not None:
            wanted["display_name"] = typed(display_name, "姓名")
        if phone is not None:
            wanted["phone"] = check_phone(phone)
        if role is not None:
            wanted["role"] = role
            wanted["department"] = check_role(role, department, kept=user.department)
        changed = {field: value for field, value in wanted.items() if getattr(user, field) != value}
        if not changed:
            return user, {}
        if "role" in changed:
            _refuse_last_admin(user, actor, "不能更改自己的角色", "这是唯一可用的系统管理员账号，不能改为其他角色")
        User.update(**changed).where(User.id == user.id).execute()
        if "role" in changed or "department" in changed:
            sessions.end_all(user)
            audit.record(actor, "user.role", "user", user.username, role=wanted["role"],
                         department=wanted["department"], was=user.role, was_department=user.department)
        named = {field: changed[field] for field in ("display_name", "phone") if field in changed}
        if named:
            audit.record(actor, "user.edit", "user", user.username, **named)
    return get_user(user.username), changed


# ----------------------------------------------------------------------------- login


def authenticate(username, password, now=None, *, source=""):
    """The active user whose name and password these are, or raise AccountError(LOGIN_FAILED).

    ``source`` is the client address. Every failure — an unknown name, a
    wrong password, a deactivated account, a name or address held back by
    the throttle — costs one password-hash check, computed outside any
    transaction, and gets the same message; the throttle's bookkeeping is
    one short transaction afterwards.
    """
    moment = as_utc(now)
    epoch = moment.timestamp()
    name = normalise_username(username)[:64]
    attempt = throttle.Attempt.of(source, name)
    user = _USER_BY_NAME.first(name) if could_be_username(name) else None
    held = throttle.is_held(attempt, epoch)
    right = passwords.verify(user.password_hash if user is not None else None, password)
    if right and user.active and not held:
        with db.atomic():
            if not throttle.is_held(attempt, epoch):  # held back meanwhile by a concurrent failure
                throttle.forget(attempt)
                audit.record(user.username, "login.ok", "user", user.username, source=source)
                return user
    throttle.record_failure(attempt, user, epoch)
    raise AccountError(LOGIN_FAILED)


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
    user = User.by_id(record.user_id)
    if user is None or not user.active:
        return None
    now = as_utc(now)
    if record.last_used_at is None or now - as_utc(record.last_used_at) >= TOKEN_TOUCH_INTERVAL:
        note_use(lambda: ApiToken.update(last_used_at=now).where(ApiToken.id == record.id).execute())
    return user

