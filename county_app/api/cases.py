"""``/api/v1/cases`` and ``/api/v1/rectifications``: the case lifecycle over JSON (interfaces.md).

A thin adapter: it checks the shape of the request (malformed JSON or a value
of the wrong type → 400) and the role, then calls the intake functions, whose
errors become 404/409/422 answers in ``api/__init__``. Writes take the
version the client saw from ``If-Match`` or ``"version"`` in the body; every
answer about one case carries its current version as ``ETag``.
"""
import re

from flask import Blueprint, jsonify, request

from ..guard import current_user, requires
from ..intake import cases, materials, outcomes, scans, workflow
from ..intake.lists import PER_PAGE
from .errors import ApiError

bp = Blueprint("cases", __name__)

MAX_PER_PAGE = 100


@bp.post("/cases")
@requires("cases.handle")
def register():
    """Register a case: ``{"bundle"?, "matters"?, "answers"?, "applicant", "agent"?, "form"}`` → 201 the case."""
    body = _body()
    case = cases.register_case(
        bundle=_value(body, "bundle", str), matters=_string_list(body, "matters"),
        answers=_value(body, "answers", dict), applicant=_value(body, "applicant", dict),
        agent=_value(body, "agent", dict), form=_value(body, "form", dict), actor=current_user())
    response = _case_answer(cases.case_json(case), 201)
    response.headers["Location"] = f"{request.script_root}/api/v1/cases/{case.case_no}"
    return response


@bp.get("/cases")
@requires("cases.view")
def search():
    """Cases matching ``q`` (case number, name, ID number or phone), ``status``, ``page``; masked."""
    page = _positive_arg("page", 1)
    per_page = min(_positive_arg("per_page", PER_PAGE), MAX_PER_PAGE)
    return jsonify(cases.find_cases(request.args.get("q", ""), request.args.get("status") or None,
                                    page=page, per_page=per_page, actor=current_user()))


@bp.get("/cases/<case_no>")
@requires("cases.view")
def show(case_no):
    """The case: status, applicant (masked), items, materials, events, notices, version."""
    return _case_answer(cases.case_json(cases.get_case(case_no, actor=current_user())))


@bp.post("/cases/<case_no>/id-number")
@requires("cases.view")
def reveal(case_no):
    """The applicant's full ID number; each viewing is logged on the case, hence a POST (a GET answers 405)."""
    number = cases.reveal_id_number(case_no, current_user())
    return jsonify(case_no=case_no, id_number=number)


@bp.post("/cases/<case_no>/materials/<code>")
@requires("cases.handle")
def log_material(case_no, code):
    """JSON ``{"status", "copies"?, "pages"?, "licence_no"?, "note"?, "deferred_until"?}`` or multipart ``scan``."""
    user = current_user()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("scan")
        if upload is None:
            raise ApiError(400, "bad_request", "请以 multipart 字段 scan 上传扫描文件")
        answer = scans.attach_scan(case_no, code, upload.stream, upload.filename, actor=user,
                                   expected_version=_version(request.form))
        return _case_answer(answer, version=answer["case_version"])
    body = _body()
    status = _value(body, "status", str)
    version = _version(body)
    if status == "scanned":  # no file: the newest one in the scanner's folder
        answer = scans.attach_newest_scan(case_no, code, actor=user, expected_version=version)
    else:
        answer = materials.log_material(
            case_no, code, status, actor=user, expected_version=version, copies=_value(body, "copies", int),
            pages=_value(body, "pages", int), licence_no=_value(body, "licence_no", str),
            note=_value(body, "note", str), deferred_until=_value(body, "deferred_until", str))
    return _case_answer(answer, version=answer["case_version"])


@bp.post("/cases/<case_no>/accept")
@requires("cases.view")
def accept(case_no):
    """受理; or 409 ``materials_missing`` with the case now in correction. ``override_reason``: admins only.

    Who may accept or override is decided by ``workflow.accept_case``, for every adapter alike.
    """
    body = _body(optional=True)
    return _case_answer(workflow.accept_case(case_no, actor=current_user(), expected_version=_version(body),
                                             override_reason=_value(body, "override_reason", str)))


@bp.post("/cases/<case_no>/reject")
@requires("cases.handle")
def reject(case_no):
    """不予受理: ``{"reason", "refer_to"?}`` (``refer_to``: the authority to apply to instead)."""
    body = _body()
    return _case_answer(workflow.reject_case(case_no, _value(body, "reason", str), actor=current_user(),
                                             refer_to=_value(body, "refer_to", str),
                                             expected_version=_version(body)))


@bp.post("/cases/<case_no>/items/<matter>/result")
@requires("cases.result")
def result(case_no, matter):
    """An item's decision: ``{"outcome": "approved"|"denied", "result_no"?, "note"?}``."""
    body = _body()
    return _case_answer(workflow.record_result(
        case_no, matter, _value(body, "outcome", str), actor=current_user(),
        result_no=_value(body, "result_no", str), note=_value(body, "note", str),
        expected_version=_version(body)))


@bp.post("/cases/<case_no>/items/<matter>/suspend")
@requires("cases.result")
def suspend(case_no, matter):
    """Stop an item's clock: ``{"reason": 听证|检验|…, "note"?}``."""
    body = _body()
    return _case_answer(workflow.suspend_item(case_no, matter, _value(body, "reason", str), actor=current_user(),
                                              note=_value(body, "note", str), expected_version=_version(body)))


@bp.post("/cases/<case_no>/items/<matter>/resume")
@requires("cases.result")
def resume(case_no, matter):
    """Restart an item's clock; its due date moves by the working days it stood still."""
    body = _body(optional=True)
    return _case_answer(workflow.resume_item(case_no, matter, actor=current_user(),
                                             expected_version=_version(body)))


@bp.post("/cases/<case_no>/deliver")
@requires("cases.handle")
def deliver(case_no):
    """出件: ``{"method": "window"|"mail", "tracking_no"?}``."""
    body = _body()
    return _case_answer(workflow.deliver_case(case_no, _value(body, "method", str), actor=current_user(),
                                              tracking_no=_value(body, "tracking_no", str),
                                              expected_version=_version(body)))


@bp.post("/cases/<case_no>/evaluation")
@requires("cases.handle")
def evaluation(case_no):
    """好差评: ``{"rating": 1..5, "comment"?}``."""
    body = _body()
    return _case_answer(workflow.evaluate_case(case_no, _value(body, "rating", int), actor=current_user(),
                                               comment=_value(body, "comment", str),
                                               expected_version=_version(body)))


@bp.get("/rectifications")
@requires("rectification.manage")
def list_rectifications():
    """The 差评 rectification tasks: ``?status=open`` (default) | ``closed`` | ``all``."""
    status = request.args.get("status", "open")
    return jsonify(outcomes.rectifications(None if status == "all" else status, actor=current_user()))


@bp.post("/rectifications/<int:task_id>/close")
@requires("rectification.manage")
def close_rectification(task_id):
    """Close a rectification task: ``{"resolution"}``."""
    body = _body()
    return jsonify(outcomes.close_rectification(task_id, _value(body, "resolution", str), actor=current_user()))


# ----------------------------------------------------------------------------- request shape


def _body(optional=False):
    """The JSON object of the request; 400 when it is not one (an empty body is ``{}`` if ``optional``)."""
    if optional and not request.get_data(cache=True).strip():
        return {}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "请求体应为 JSON 对象")
    return body


def _value(body, key, kind):
    """``body[key]`` if it is of ``kind`` (None when absent); 400 for a value of another type."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        names = {str: "文字", int: "整数", dict: "对象", list: "列表"}
        raise ApiError(400, "bad_request", f"字段 {key} 应为{names[kind]}",
                       [{"field": key, "message": f"应为{names[kind]}"}])
    return value


def _string_list(body, key):
    value = _value(body, key, list)
    if value is not None and not all(isinstance(item, str) for item in value):
        raise ApiError(400, "bad_request", f"字段 {key} 应为文字列表", [{"field": key, "message": "应为文字列表"}])
    return value


def _version(source):
    """The version the client saw: ``If-Match`` (``"7"`` or ``W/"7"``) or ``version`` in the body; 400 if malformed."""
    header = request.headers.get("If-Match", "").strip()
    if header and header != "*":
        match = re.fullmatch(r'(?:W/)?"?(\d{1,9})"?', header)
        if not match:
            raise ApiError(400, "bad_request", "If-Match 应为办件的版本号，例如 \"7\"")
        return int(match.group(1))
    value = source.get("version") if source else None
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, "bad_request", "version 应为整数", [{"field": "version", "message": "应为整数"}])
    return value


def _positive_arg(name, default):
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, "bad_request", f"{name} 必须是正整数")
    return int(raw)


def _case_answer(data, status=200, version=None):
    response = jsonify(data)
    response.status_code = status
    version = version if version is not None else data.get("version")
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return response
