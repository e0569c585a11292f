"""Error pages in Chinese; API paths answer JSON instead."""
from flask import render_template, request

from .. import limits
from ..api.errors import json_error

MESSAGES = {
    400: "请求有误，请返回重试。",
    403: "当前账号无权进行此操作。",
    404: "没有找到这个页面或记录。",
    405: "不支持这种操作方式。",
    413: limits.too_large_message,  # names the limit of the route
    500: "系统内部错误，请联系管理员。已发生的操作没有保存。",
}
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 413: "too_large",
         500: "internal"}


def register(app):
    for status, message in MESSAGES.items():
        app.register_error_handler(status, _handler(status, message))


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
