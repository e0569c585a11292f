"""The one place where requests are authenticated and authorised.

- A request is authenticated by ``Authorization: Bearer TOKEN`` (scripts,
  county systems) or by the login session (the browser UI).
- Only PUBLIC_ENDPOINTS answer without that; other API paths answer 401 JSON,
  other pages redirect to the login form with ``next``.
- Every state-changing request that is not bearer-authenticated (the login
  form included) must carry the CSRF token (form field ``csrf_token`` or the
  ``X-CSRFToken`` header). Bearer requests carry no cookie, so need none.
- ``requires(permission)`` guards a view through ``access.check``.

The session holds the user id, a stamp derived from the password hash (a
password change or reset ends all other sessions) and the login time (a
session lasts at most SESSION_MAX_AGE); a deactivated user's sessions and
tokens stop working at once.
"""
import time
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from . import access, accounts, settings

PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.health.health", "static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_MAX_AGE = 12 * 3600  # one working day, then log in again
SECRET_FIELDS = ("password", "token", "csrf")

csrf = CSRFProtect()


def init_app(app):
    """Install CSRF protection, the authentication gate and the template helpers on ``app``."""
    csrf.init_app(app)
    app.before_request(_gate)
    app.context_processor(_template_helpers)
    app.register_error_handler(CSRFError, _csrf_failed)


def is_api_request():
    """Whether the current request is for the JSON API (answers are JSON, never pages)."""
    return request.path.startswith("/api/")


def current_user():
    """The authenticated user of the current request, or None."""
    return g.get("user")


def login_session(user):
    """Start a fresh login session for ``user`` (after the password was checked)."""
    session.clear()
    session["uid"] = user.id
    session["stamp"] = accounts.session_stamp(user)
    session["at"] = int(time.time())


def refresh_session(user):
    """Keep the current session valid after the user changed their own password."""
    if session.get("uid") == user.id:
        session["stamp"] = accounts.session_stamp(user)


def logout_session():
    """End the login session."""
    session.clear()


def requires(permission):
    """Decorate a view or API route: 403 unless the user's role has ``permission``."""
    access.PERMISSIONS[permission]  # a misspelt permission fails at import, not at request time

    def decorate(view):
        @wraps(view)
        def guarded(*args, **kwargs):
            user = current_user()
            if user is None:
                return _unauthenticated()
            try:
                access.check(user.role, permission)
            except access.AccessDenied as exc:
                return forbidden(str(exc))
            return view(*args, **kwargs)

        return guarded

    return decorate


def forbidden(message):
    """A 403 answer: JSON on API paths, the error page otherwise."""
    if is_api_request():
        return json_error(403, "forbidden", message)
    return render_template("error.html", status=403, message=message), 403


# ----------------------------------------------------------------------------- internals


def json_error(status, code, message):
    # imported here: the API modules import this one for ``requires``
    from .api.errors import json_error as answer

    return answer(status, code, message)


def _bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _session_user():
    uid = session.get("uid")
    if uid is None:
        return None
    user = accounts.user_by_id(uid)
    started = session.get("at", 0)
    if (user is None or not user.active or session.get("stamp") != accounts.session_stamp(user)
            or not isinstance(started, int) or time.time() - started > SESSION_MAX_AGE):
        session.clear()
        return None
    return user


def _gate():
    """before_request: resolve the user, refuse the unauthenticated, check CSRF on session writes."""
    g.user, g.auth_via = None, None
    token = _bearer_token()
    if token is not None:
        g.user = accounts.user_for_token(token)
        g.auth_via = "token" if g.user else None
        if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
            return _unauthenticated(bad_token=True)
    else:
        g.user = _session_user()
        g.auth_via = "session" if g.user else None
    # request.endpoint is None for an unknown URL or method: let the 404/405 handler answer
    if g.user is None and request.endpoint is not None and request.endpoint not in PUBLIC_ENDPOINTS:
        return _unauthenticated()
    if (request.method not in SAFE_METHODS and g.auth_via != "token"
            and current_app.config.get("WTF_CSRF_ENABLED", True)):
        csrf.protect()


def _unauthenticated(bad_token=False):
    message = "接口令牌无效、已吊销或账号已停用" if bad_token else "请先登录或提供有效的接口令牌"
    if is_api_request():
        response, status = json_error(401, "unauthorized", message)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response, status
    if bad_token:
        return render_template("error.html", status=401, message=message), 401
    target = request.full_path.rstrip("?") if request.method in SAFE_METHODS else request.path
    return redirect(url_for("auth.login", next=target))


def _template_helpers():
    user = current_user()
    return {
        "current_user": user,
        "can": lambda permission: user is not None and access.allowed(user.role, permission),
        "role_label": access.ROLES.get(user.role, user.role) if user else "",
        "centre_name": _centre_name(),
    }


def _centre_name():
    try:
        return settings.get("centre.name")
    except Exception:  # an error page must still render when the database is the problem
        return ""


def _csrf_failed(exc):
    """A form whose CSRF token expired: say so in Chinese and keep what was typed."""
    message = "页面已过期，请刷新后重试"
    if is_api_request():
        return json_error(400, "csrf_failed", message + "（缺少或无效的 X-CSRFToken 请求头）")
    if request.endpoint == "auth.login":
        from .views.auth import local_target

        return render_template("auth/login.html", error=message + "：请重新输入密码登录",
                               username=request.form.get("username", ""),
                               next=local_target(request.form.get("next")) or ""), 400
    # Shown for copying, not re-posted: a one-click resubmit would undo the protection.
    typed = [(key, value) for key, value in request.form.items(multi=True)
             if value.strip() and not any(word in key.lower() for word in SECRET_FIELDS)]
    return render_template("auth/expired.html", message=message, typed=typed, back=_back_link()), 400


def _back_link():
    """The page the form was on (same site only), else this path."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return request.path
