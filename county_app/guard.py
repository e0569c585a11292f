"""The one place where requests are authenticated and authorised.

- A request is authenticated by ``Authorization: Bearer TOKEN`` (scripts,
  county systems) or by the login session (the browser UI).
- Only PUBLIC_ENDPOINTS answer without that; other API paths answer 401 JSON,
  other pages redirect to the login form with ``next``.
- Every state-changing request that is not bearer-authenticated (the login
  form included) must carry the CSRF token (form field ``csrf_token`` or the
  ``X-CSRFToken`` header). Bearer requests carry no cookie, so need none.
- ``requires(permission)`` guards a view through ``access.check``.

The signed session cookie holds only the id of a server-side login session
(sessions.py), so that logging out, a password change, a reset, a
deactivation or a role change ends it wherever the cookie was copied to; a
session lasts at most sessions.MAX_AGE. A deactivated user's tokens stop
working at once too.

A user whose password is a one-time one (``must_change_password``) may only
change it or log out: pages lead to 修改密码, the API answers 403
``password_change_required``. Bearer tokens are not passwords and are not
held back.
"""
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from . import access, accounts, clock, sessions, settings, throttle

PUBLIC_ENDPOINTS = frozenset({"auth.login", "api.health.health", "static"})
SIGNED_ENDPOINTS = frozenset({"api.sync.push", "api.sync.pull", "api.sync.scan_offset",
                              "api.sync.scan_chunk", "api.sync.reconcile"})  # api/sync.py: HMAC-signed, no user
# What a user with a one-time password may still do.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.password", "auth.logout", "static"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = "sid"
SECRET_FIELDS = ("password", "token", "csrf")

csrf = CSRFProtect()


def init_app(app):
    """Install CSRF protection, the authentication gate and the template helpers on ``app``."""
    csrf.init_app(app)
    throttle.use_key(app.config["SECRET_KEY"])  # so that the login throttle's counts survive a restart
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
    """Start a fresh login session for ``user`` (after the password was checked).

    A session this browser still had (another user's, or the same user's)
    is ended first: a copy of its cookie must not outlive it.
    """
    sessions.end(session.get(SESSION_KEY))
    token = sessions.start(user, source=request.remote_addr or "")
    session.clear()
    session[SESSION_KEY] = token


def current_session_id():
    """The id of the current request's login session (to keep it when ending the user's others), or None."""
    return session.get(SESSION_KEY) if g.get("auth_via") == "session" else None


def logout_session():
    """End the login session, on the server too: a copy of the cookie stops working."""
    sessions.end(session.get(SESSION_KEY))
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
                access.check(user.role, permission, at_hub=at_hub())
            except access.AccessDenied as exc:
                return forbidden(str(exc))
            return view(*args, **kwargs)

        return guarded

    return decorate


def at_hub():
    """Whether this node is the county hub (read once per request)."""
    if "at_hub" not in g:
        g.at_hub = settings.is_hub()
    return g.at_hub


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
    token = session.get(SESSION_KEY)
    if token is None:
        return None
    found = sessions.find(token)
    if found is None:
        session.clear()
        g.session_expired = True  # the browser had a login that has ended: the login page says so
        return None
    return found[1]


def _gate():
    """before_request: resolve the user, refuse the unauthenticated, check CSRF on session writes."""
    g.user, g.auth_via = None, None
    if request.endpoint in SIGNED_ENDPOINTS:
        return None  # a township's signed sync request: the endpoint checks its signature, no login
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
    if (g.auth_via == "session" and g.user.must_change_password and request.endpoint is not None
            and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS):
        return _password_change_required()
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
    # A form posted without a login was shown to someone logged in: that login has ended too.
    expired = g.get("session_expired") or request.method not in SAFE_METHODS
    return redirect(url_for("auth.login", next=target, **({"expired": 1} if expired else {})))


def _password_change_required():
    message = "请先修改密码：当前密码是一次性密码（重置或系统生成），修改后才能继续使用"
    if is_api_request():
        return json_error(403, "password_change_required", message)
    return redirect(url_for("auth.password"))


def _template_helpers():
    user = current_user()
    return {
        "current_user": user,
        "can": lambda permission: user is not None and access.allowed(user.role, permission, at_hub=_hub_or_not()),
        "at_hub": _hub_or_not,
        "role_label": access.ROLES.get(user.role, user.role) if user else "",
        "centre_name": _centre_name(),
        "setup_missing": lambda: _setup_missing(user),
        "clock_problem": lambda: _clock_problem(user),
    }


def _clock_problem(user):
    """clock.problem for a logged-in user: the PC's clock cannot date a change now."""
    if user is None:
        return ""
    try:
        return clock.problem()
    except Exception:  # an error page must still render when the database is the problem
        return ""


def _setup_missing(user):
    """The settings still missing before cases can be registered, for those who can set or need them."""
    if user is None or not (access.allowed(user.role, "settings.manage") or access.allowed(user.role, "cases.handle")):
        return []
    try:
        return settings.missing_for_cases()
    except Exception:  # an error page must still render when the database is the problem
        return []


def _hub_or_not():
    try:
        return at_hub()
    except Exception:  # an error page must still render when the database is the problem
        return False


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
    return render_template("auth/expired.html", message=message, typed=typed, back=back_link()), 400


def back_link(default=None):
    """The page the request came from (same site only), else ``default`` (this path)."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return default or request.path
