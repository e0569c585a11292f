"""``/api/v1/cases`` and ``/api/v1/rectifications``: the case lifecycle over JSON (interfaces.md).

A thin adapter: it checks the shape of the request (``shape``: malformed JSON
or a value of the wrong type → 400) and the role, then calls the intake functions, whose
errors become 404/409/422 answers in ``api/__init__``. Writes take the
version the client saw from ``If-Match`` or ``"version"`` in the body; every
answer about one case carries its current version as ``ETag``. A write with
an ``Idempotency-Key`` header sent again (a retry after a lost answer) gets
the answer of the first instead of a 409 ``stale`` (``events.repeated``).
"""
from flask import Blueprint, jsonify, request

from ..guard import current_user, requires
from ..intake import cases, materials, outcomes, scans, workflow
from ..intake.lists import PER_PAGE
from . import shape
from .errors import ApiError

bp = Blueprint("cases", __name__)

MAX_PER_PAGE = 100


@bp.post("/cases")
@requires("cases.handle")
def register():
    """Register a case: ``{"bundle"?, "matters"?, "answers"?, "applicant", "agent"?, "form"}`` → 201 the case."""
    body = shape.json_body()
    case = cases.register_case(
        bundle=shape.value(body, "bundle", str), matters=shape.string_list(body, "matters"),
        answers=shape.value(body, "answers", dict), applicant=shape.value(body, "applicant", dict),
        agent=shape.value(body, "agent", dict), form=shape.value(body, "form", dict), actor=current_user(),
        request_key=_key())
    response = _case_answer(cases.case_json(case), 201)
    response.headers["Location"] = f"{request.script_root}/api/v1/cases/{case.case_no}"
    return response


@bp.get("/cases")
@requires("cases.view")
def search():
    """Cases matching ``q`` (case number, name, ID number or phone), ``status``, ``page``; masked."""
    page = shape.positive_arg("page", 1)
    per_page = min(shape.positive_arg("per_page", PER_PAGE), MAX_PER_PAGE)
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
                                   expected_version=shape.version(request.form), request_key=_key())
        return _case_answer(answer, version=answer["case_version"])
    body = shape.json_body()
    status = shape.value(body, "status", str)
    version = shape.version(body)
    if status == "scanned":  # no file: the newest one in the scanner's folder
        answer = scans.attach_newest_scan(case_no, code, actor=user, expected_version=version, request_key=_key())
    else:
        answer = materials.log_material(
            case_no, code, status, actor=user, expected_version=version, request_key=_key(), copies=shape.value(body, "copies", int),
            pages=shape.value(body, "pages", int), licence_no=shape.value(body, "licence_no", str),
            note=shape.value(body, "note", str), deferred_until=shape.value(body, "deferred_until", str))
    return _case_answer(answer, version=answer["case_version"])


@bp.post("/cases/<case_no>/accept")
@requires("cases.view")
def accept(case_no):
    """受理; or 409 ``materials_missing`` with the case now in correction. ``override_reason``: admins only.

    Who may accept or override is decided by ``workflow.accept_case``, for every adapter alike.
    """
    body = shape.json_body(optional=True)
    return _case_answer(workflow.accept_case(case_no, actor=current_user(), expected_version=shape.version(body), request_key=_key(),
                                             override_reason=shape.value(body, "override_reason", str)))


@bp.post("/cases/<case_no>/reject")
@requires("cases.handle")
def reject(case_no):
    """不予受理: ``{"reason", "refer_to"?}`` (``refer_to``: the authority to apply to instead)."""
    body = shape.json_body()
    return _case_answer(workflow.reject_case(case_no, shape.value(body, "reason", str), actor=current_user(),
                                             refer_to=shape.value(body, "refer_to", str),
                                             expected_version=shape.version(body), request_key=_key()))


@bp.post("/cases/<case_no>/items/<matter>/result")
@requires("cases.result")
def result(case_no, matter):
    """An item's decision: ``{"outcome": "approved"|"denied", "result_no"?, "note"?, "on_behalf"?}``.

    ``on_behalf``: a clerk records the department's decision handed over on paper (窗口代录), and the case
    records the department's name with the entry. interfaces.md's body has no such key, so a clerk's call
    without it is taken as 窗口代录 (a clerk can record nothing else); ``false`` from a clerk is 422."""
    body = shape.json_body()
    return _case_answer(workflow.record_result(
        case_no, matter, shape.value(body, "outcome", str), actor=current_user(),
        result_no=shape.value(body, "result_no", str), note=shape.value(body, "note", str),
        expected_version=shape.version(body), request_key=_key(), on_behalf=_on_behalf(body)))


@bp.post("/cases/<case_no>/items/<matter>/suspend")
@requires("cases.result")
def suspend(case_no, matter):
    """Stop an item's clock: ``{"reason": 听证|检验|…, "note"?, "on_behalf"?}`` (``on_behalf`` as for a result)."""
    body = shape.json_body()
    return _case_answer(workflow.suspend_item(case_no, matter, shape.value(body, "reason", str),
                                              actor=current_user(), note=shape.value(body, "note", str),
                                              expected_version=shape.version(body), request_key=_key(),
                                              on_behalf=_on_behalf(body)))


@bp.post("/cases/<case_no>/items/<matter>/resume")
@requires("cases.result")
def resume(case_no, matter):
    """Restart an item's clock; its due date moves by the working days it stood still. ``{"on_behalf"?}``."""
    body = shape.json_body(optional=True)
    return _case_answer(workflow.resume_item(case_no, matter, actor=current_user(),
                                             expected_version=shape.version(body), request_key=_key(),
                                             on_behalf=_on_behalf(body)))


@bp.post("/cases/<case_no>/deliver")
@requires("cases.handle")
def deliver(case_no):
    """出件: ``{"method": "window"|"mail", "tracking_no"?}``."""
    body = shape.json_body()
    return _case_answer(workflow.deliver_case(case_no, shape.value(body, "method", str), actor=current_user(),
                                              tracking_no=shape.value(body, "tracking_no", str),
                                              expected_version=shape.version(body), request_key=_key()))


@bp.post("/cases/<case_no>/evaluation")
@requires("cases.handle")
def evaluation(case_no):
    """好差评: ``{"rating": 1..5, "comment"?}``."""
    body = shape.json_body()
    return _case_answer(workflow.evaluate_case(case_no, shape.value(body, "rating", int), actor=current_user(),
                                               comment=shape.value(body, "comment", str),
                                               expected_version=shape.version(body), request_key=_key()))


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
    body = shape.json_body()
    return jsonify(outcomes.close_rectification(task_id, shape.value(body, "resolution", str), actor=current_user()))


def _on_behalf(body):
    """``on_behalf`` of the body: whether a clerk records a department's decision (窗口代录); absent: yes."""
    return shape.value(body, "on_behalf", bool) is not False


def _key():
    """``Idempotency-Key``: the client's key for this request; the same request sent again is answered, not redone."""
    return request.headers.get("Idempotency-Key", "").strip() or None


def _case_answer(data, status=200, version=None):
    response = jsonify(data)
    response.status_code = status
    version = version if version is not None else data.get("version")
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return response
