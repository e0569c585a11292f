"""Login, logout, one's own password, and the audit log page.

The administrator's user and token pages live in ``users.py`` and are added
to this same blueprint (endpoints ``auth.users`` and so on).
"""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import access, accounts, audit, guard, record_words, settings
from . import users

bp = Blueprint("auth", __name__)
users.register(bp)

AUDIT_PAGE_SIZE = 200


@bp.app_template_filter("local_datetime")
def local_datetime(moment):
    """A stored (UTC) time as this computer's local time, ``YYYY-MM-DD HH:MM``."""
    if not moment:
        return ""
    return accounts.as_utc(moment).astimezone().strftime("%Y-%m-%d %H:%M")


def local_target(value):
    """``value`` if it is a path on this site, else None (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success go to ``next`` (a local path only) or the home page."""
    target = local_target(request.values.get("next"))
    if request.method == "GET" and guard.current_user() is not None:
        return redirect(target or url_for("browse.index"))
    error, username = None, ""
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            user = accounts.authenticate(username, request.form.get("password", ""),
                                         source=request.remote_addr or "")
        except accounts.AccountError as exc:
            error = str(exc)
        else:
            guard.login_session(user)
            if user.must_change_password:
                return redirect(url_for("auth.password"))
            return redirect(_landing(user, target))
    return render_template("auth/login.html", error=error, username=username, next=target or "",
                           expired=request.values.get("expired") == "1")


def _landing(user, target=None):
    """Where a login leads: an administrator of a centre not yet set up goes to 系统设置 first."""
    if access.allowed(user.role, "settings.manage") and settings.missing_for_cases():
        return url_for("settings.edit")  # the page says what is missing and why
    return target or url_for("browse.index")


@bp.post("/logout")
def logout():
    """End the session (POST only, so that a link or a prefetch cannot log anyone out)."""
    guard.logout_session()
    flash("已退出登录", "ok")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    """Change one's own password (the old one is required); other sessions of the user end."""
    user = guard.current_user()
    error = None
    if request.method == "POST":
        new = request.form.get("new_password", "")
        if new != request.form.get("confirm_password", ""):
            error = "两次输入的新密码不一致"
        else:
            try:
                accounts.change_password(user.username, request.form.get("old_password", ""), new,
                                         actor=user.username, keep_session=guard.current_session_id(),
                                         source=request.remote_addr or "")
            except accounts.AccountError as exc:
                error = str(exc)
            else:
                flash("密码已修改；在其他电脑上的登录已失效", "ok")
                return redirect(_landing(user))
    return render_template("auth/password.html", error=error, min_length=accounts.MIN_PASSWORD_LENGTH,
                           one_time=user.must_change_password), (422 if error else 200)


@bp.get("/admin/audit")
@guard.requires("audit.view")
def audit_log():
    """The latest audit entries, filtered by actor (contains) and action (exact)."""
    actor = request.args.get("actor", "").strip()
    action = request.args.get("action", "").strip()
    found = audit.recent(actor=actor, action=action, limit=AUDIT_PAGE_SIZE)
    names = audit.display_names({entry.actor for entry in found})
    entries = [(entry, audit.readable(entry, names)) for entry in found]
    return render_template("auth/audit.html", entries=entries, actor=actor, action=action,
                           actions=[(name, record_words.audit_word(name)) for name in audit.actions()],
                           limit=AUDIT_PAGE_SIZE)
