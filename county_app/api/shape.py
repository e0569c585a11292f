"""The shape of an API request: its JSON body, values of the right type, the version, page numbers.

Checked here once, before any domain call, so that what reaches the domain
is plain JSON of a sane shape: a body that is not a JSON object, nests
deeper than MAX_DEPTH (Python's parser would otherwise hit its recursion
limit: a 500) or holds a lone surrogate (``"\\ud800"``: valid JSON, but text
no database or answer can encode) is refused with a 4xx naming where.
"""
import json
import re

from flask import request

from ..integers import MAX_PAGE, NumberError, whole_number
from ..text import encodable, shown
from .errors import ApiError

MAX_DEPTH = 8  # the deepest request (a case: body → form → a 多选 list) has 3 levels
KINDS = {str: "文字", int: "整数", dict: "对象", list: "列表", bool: "true 或 false"}


def json_body(optional=False):
    """The JSON object of the request; 400 when it is not one (an empty body is ``{}`` if ``optional``)."""
    data = request.get_data(cache=True)
    if optional and not data.strip():
        return {}
    try:
        body = json.loads(data)
    except RecursionError:
        raise ApiError(400, "bad_request", f"请求体的 JSON 嵌套过深（最多 {MAX_DEPTH} 层）") from None
    except ValueError:  # also bytes that are not UTF-8
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "请求体应为 JSON 对象，例如 {\"bundle\": \"…\"}")
    _check_text(body)
    return body


def value(body, key, kind):
    """``body[key]`` if it is of ``kind`` (None when absent); 400 for a value of another type."""
    found = body.get(key)
    if found is None:
        return None
    if not isinstance(found, kind) or (kind is int and isinstance(found, bool)):
        raise ApiError(400, "bad_request", f"字段 {key} 应为{KINDS[kind]}",
                       [{"field": key, "message": f"应为{KINDS[kind]}"}])
    return found


def string_list(body, key):
    """``body[key]`` if it is a list of strings (None when absent); 400 otherwise."""
    found = value(body, key, list)
    if found is not None and not all(isinstance(item, str) for item in found):
        raise ApiError(400, "bad_request", f"字段 {key} 应为文字列表", [{"field": key, "message": "应为文字列表"}])
    return found


def version(source):
    """The version the client saw: ``If-Match`` (``"7"`` or ``W/"7"``) or ``version`` in the body; 400 if malformed."""
    header = request.headers.get("If-Match", "").strip()
    if header and header != "*":
        match = re.fullmatch(r'(?:W/)?"?([0-9]{1,18})"?', header)
        if not match:
            raise ApiError(400, "bad_request", "If-Match 应为办件的版本号，例如 \"7\"")
        return int(match.group(1))
    found = source.get("version") if source else None
    if found is None or found == "":
        return None
    try:
        return whole_number(found, "version ")
    except NumberError as exc:
        raise ApiError(400, "bad_request", str(exc), [{"field": "version", "message": str(exc)}]) from None


def positive_arg(name, default, high=MAX_PAGE):
    """The query argument ``name`` as a whole number 1…``high`` (``default`` when absent); 400 otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return whole_number(raw, f"{name} ", high=high)
    except NumberError as exc:
        raise ApiError(400, "bad_request", str(exc), [{"field": name, "message": str(exc)}]) from None


def _check_text(body):
    """422 for a lone surrogate in any key or string; 400 for nesting deeper than MAX_DEPTH."""
    stack = [(body, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, "bad_request", f"请求体的 JSON 嵌套过深（最多 {MAX_DEPTH} 层）")
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            where = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
            where = where.lstrip(".")
            if isinstance(key, str) and not encodable(key):
                _refuse(path or "请求体", "的字段名")
            if isinstance(item, str):
                if not encodable(item):
                    _refuse(where, "")
            elif isinstance(item, (dict, list)):
                stack.append((item, where, depth + 1))


def _refuse(where, what):
    field = shown(where, 60)
    message = f"{field}{what}含有无法识别的字符（编码不完整），请重新输入"
    raise ApiError(422, "invalid", message, [{"field": field, "message": message}])

