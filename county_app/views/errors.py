"""Error pages in Chinese; API paths answer JSON instead.

An unexpected error (an exception no code handles) gets an error number,
``E-YYYYMMDD-xxxxxx``: the user sees a friendly page (or the API's JSON
error, code ``internal``) naming it and nothing of the exception, and the
log (operations/logs.py) has the traceback under the same number, so that
the administrator can find it from what the user reports.
"""
import logging
import secrets
from datetime import datetime

from flask import g, render_template, request
from markupsafe import escape

from .. import limits
from ..api.errors import json_error

MESSAGES = {
    400: "请求有误，请返回重试。",
    403: "当前账号无权进行此操作。",
    404: "没有找到这个页面或记录。",
    405: "不支持这种操作方式。",
    413: limits.too_large_message,  # names the limit of the route
}
UNEXPECTED = "系统内部错误，这次操作没有保存。请把错误编号 {number} 告诉系统管理员（详情已记入日志），然后返回重试。"
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


log = logging.getLogger(__name__)


def register(app):
    for status, message in MESSAGES.items():
        app.register_error_handler(status, _handler(status, message))
    app.register_error_handler(500, _unexpected)
    # Flask logs an unhandled exception just before it calls the 500 handler: it is logged here
    # instead, under the number the handler then shows (one entry, not two).
    app.log_exception = _log_unexpected


def error_number(now=None):
    """A new error number: the day and six random hex digits, e.g. ``E-20261201-ab12cd``."""
    return f"E-{(now or datetime.now()):%Y%m%d}-{secrets.token_hex(3)}"


def _log_unexpected(exc_info):
    g.error_number = number = error_number()
    log.error("%s: unexpected error on %s %s", number, request.method, request.path, exc_info=exc_info)


def _unexpected(exc):
    number = g.get("error_number")
    if number is None:  # a 500 raised on purpose (abort(500)), not an exception: nothing logged yet
        number = g.error_number = error_number()
        log.error("%s: error 500 on %s %s: %s", number, request.method, request.path, exc)
    message = UNEXPECTED.format(number=number)
    if request.path.startswith("/api/"):
        return json_error(500, "internal", message, error_number=number)
    try:
        return render_template("error.html", status=500, message=message, error_number=number), 500
    except Exception:  # the page's frame failed too (e.g. its templates): the number still reaches the user
        log.exception("%s: the error page could not be rendered", number)
        return (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>出错了</title>'
                f"<h1>出错了（500）</h1><p>{escape(message)}</p>"), 500, {"Content-Type": "text/html; charset=utf-8"}


def _handler(status, message):
    def handle(exc):
        text, headers = (message() if callable(message) else message), {}
        allowed = [m for m in getattr(exc, "valid_methods", None) or () if m not in ("HEAD", "OPTIONS")]
        if status == 405 and allowed:  # e.g. a GET of a route that records something: say to POST
            text = f"此地址不接受 {request.method} 请求，请使用 {'、'.join(allowed)} 请求。"
            headers["Allow"] = ", ".join(getattr(exc, "valid_methods"))
        if request.path.startswith("/api/"):
            answer, code = json_error(status, CODES[status], text)
            answer.headers.update(headers)
            return answer, code
        return render_template("error.html", status=status, message=text), status, headers
    return handle
