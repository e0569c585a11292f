"""The administrator's pages for users and API tokens (part of the ``auth`` blueprint).

Destructive actions (deactivate, reset password, revoke token) have a
confirmation page (GET) whose form performs them (POST). A new password or
token is shown once, on a page the browser is told not to store; a generated
or reset password is a one-time one, changed by its user at the next login.
"""
from flask import flash, make_response, redirect, render_template, request, url_for

from .. import access, accounts, guard, sessions, throttle
from ..catalogue import query


def register(bp):
    """Add the user and token pages to blueprint ``bp``."""
    rules = [
        ("/admin/users", "users", users, ["GET", "POST"]),
        ("/admin/users/<username>", "user_detail", user_detail, ["GET"]),
        ("/admin/users/<username>/deactivate", "deactivate", deactivate, ["GET", "POST"]),
        ("/admin/users/<username>/reactivate", "reactivate", reactivate, ["POST"]),
        ("/admin/users/<username>/unlock", "unlock", unlock, ["POST"]),
        ("/admin/users/<username>/edit", "edit_user", edit_user, ["POST"]),
        ("/admin/users/<username>/reset", "reset", reset, ["GET", "POST"]),
        ("/admin/users/<username>/tokens", "issue_token", issue_token, ["POST"]),
        ("/admin/tokens/<prefix>/revoke", "revoke_token", revoke_token, ["GET", "POST"]),
    ]
    for rule, endpoint, view, methods in rules:
        bp.add_url_rule(rule, endpoint, guard.requires("users.manage")(view), methods=methods)


def _actor():
    return guard.current_user().username


def _shown_once(template, **context):
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


def _user_or_404(username):
    try:
        return accounts.get_user(username)
    except accounts.AccountError:
        return None


def _not_found(message):
    return render_template("error.html", status=404, message=message), 404


def users():
    """List every user with role and state; POST adds one (a blank password is generated and shown once)."""
    form, error = {}, None
    if request.method == "POST":
        form = {key: request.form.get(key, "").strip()
                for key in ("username", "display_name", "role", "department", "phone")}
        password = request.form.get("password", "")
        generated = not password
        if generated:
            password = accounts.random_password()
        try:
            user = accounts.add_user(form["username"], form["role"], password, department=_department(form["role"]),
                                     display_name=form["display_name"], phone=form["phone"], actor=_actor(),
                                     must_change=generated)
        except accounts.AccountError as exc:
            error = str(exc)
        else:
            if generated:
                return _shown_once("auth/password_shown.html", user=user, password=password, created=True)
            flash(f"已创建用户 {user.username}", "ok")
            return redirect(url_for("auth.users"))
    return render_template("auth/users.html", users=accounts.list_users(), held=throttle.held_users(),
                           roles=access.ROLES, departments=query.departments(), form=form, error=error,
                           min_length=accounts.MIN_PASSWORD_LENGTH), (422 if error else 200)


def user_detail(username):
    """One user: state, the form to edit it, actions and API tokens."""
    user = _user_or_404(username)
    if user is None:
        return _not_found(f"没有用户“{username}”")
    return _user_page(user)


def _user_page(user, form=None, error=None):
    holds = [(address or "未知地址", until) for address, until in throttle.holds_on(user)]
    form = form or {"display_name": user.display_name, "phone": user.phone, "role": user.role,
                    "department": user.department}
    return render_template("auth/user.html", user=user, holds=holds, open_sessions=sessions.open_sessions(user),
                           tokens=accounts.tokens_of(user.username), roles=access.ROLES,
                           departments=query.departments(), form=form, error=error)


def _confirm(title, message, button, cancel):
    return render_template("auth/confirm.html", title=title, message=message, button=button,
                           action=request.path, cancel=cancel)


def _act(username, action, done):
    """Run ``action(username, actor=…)``; flash ``done`` or the error; back to the user's page."""
    try:
        action(username, actor=_actor())
    except accounts.AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "ok")
    return redirect(url_for("auth.user_detail", username=username))


def deactivate(username):
    """Confirm (GET), then deactivate (POST): the user can no longer log in or use tokens."""
    user = _user_or_404(username)
    if user is None:
        return _not_found(f"没有用户“{username}”")
    if request.method == "GET":
        return _confirm(f"停用用户 {user.username}",
                        f"停用后，{user.display_name or user.username} 将无法登录，其接口令牌也立即失效。可随时重新启用。",
                        "确认停用", url_for("auth.user_detail", username=user.username))
    return _act(user.username, accounts.deactivate_user, f"已停用用户 {user.username}")


def reactivate(username):
    """Let a deactivated user log in again."""
    return _act(username, accounts.reactivate_user, f"已重新启用用户 {username}")


def unlock(username):
    """Lift the login throttle's holds on the user's name (at every address)."""
    return _act(username, accounts.unlock_user, f"已解除用户 {username} 的锁定")


def _department(role):
    # the select keeps its value whatever the role: it means something for a department user only
    return (request.form.get("department") or None) if role == "department" else None


def edit_user(username):
    """Change the user's display name, phone, role and department (the fields sent); a new role or department ends their sessions."""
    user = _user_or_404(username)
    if user is None:
        return _not_found(f"没有用户“{username}”")
    form = {key: request.form.get(key) for key in ("display_name", "phone", "role", "department")}
    try:
        user, changed = accounts.update_user(user.username, display_name=form["display_name"], phone=form["phone"],
                                             role=form["role"], department=_department(form["role"]),
                                             actor=_actor())
    except accounts.AccountError as exc:
        return _user_page(user, form=form, error=str(exc)), 422
    if not changed:
        flash(f"用户 {user.username} 的信息没有更改", "ok")
    elif "role" in changed or "department" in changed:
        flash(f"已更改用户 {user.username} 的信息；角色或部门已变，其在各处的登录已失效，需重新登录", "ok")
    else:
        flash(f"已更改用户 {user.username} 的信息", "ok")
    return redirect(url_for("auth.user_detail", username=user.username))


def reset(username):
    """Confirm (GET), then give the user a new random password, shown once (POST)."""
    user = _user_or_404(username)
    if user is None:
        return _not_found(f"没有用户“{username}”")
    if request.method == "GET":
        return _confirm(f"重置 {user.username} 的密码",
                        "将生成一个新的一次性密码并解除锁定：原密码立即失效，该用户在各处的登录也会失效，"
                        "用新密码登录后须先改成自己的密码。新密码只显示一次。",
                        "确认重置", url_for("auth.user_detail", username=user.username))
    password = accounts.reset_password(user.username, actor=_actor())
    return _shown_once("auth/password_shown.html", user=user, password=password, created=False)


def issue_token(username):
    """Issue an API token for the user, shown once."""
    try:
        issued = accounts.issue_token(username, actor=_actor())
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return redirect(url_for("auth.user_detail", username=username))
    return _shown_once("auth/token_shown.html", issued=issued)


def revoke_token(prefix):
    """Confirm (GET), then revoke the token with this prefix (POST)."""
    try:
        record = accounts.get_token(prefix)
    except accounts.AccountError as exc:
        return _not_found(str(exc))
    owner = record.user.username
    if request.method == "GET":
        return _confirm(f"吊销令牌 {record.prefix}",
                        f"吊销后，使用这个令牌（属于 {owner}）的程序将立即无法访问接口。此操作不能撤销。",
                        "确认吊销", url_for("auth.user_detail", username=owner))
    try:
        accounts.revoke_token(record.prefix, actor=_actor())
    except accounts.AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(f"已吊销令牌 {record.prefix}", "ok")
    return redirect(url_for("auth.user_detail", username=owner))
