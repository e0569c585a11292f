"""The forms of the case page: materials, 受理 / 补正, 不予受理, results, suspension, 出件, 好差评.

Each form posts the case version it was rendered with (hidden field
``version``) and a key of its own (``request_key``, new at every rendering),
and calls the same domain function as ``api/cases.py``: a form sent twice
(a double click) is carried out once and both answers are the success. Success
redirects back to the case page with a message; a domain error (invalid
value, wrong state, a stale version) shows the case page again with the
message next to the form and what was typed still in it. A GET of an action
path (after a login that timed out) goes back to the case page.
"""
from flask import Blueprint, flash, redirect, request, url_for

from ..guard import current_user, requires
from ..integers import NumberError, whole_number
from ..intake import cases, deferrals, materials, outcomes, scans, workflow
from ..intake.checks import reason_text
from ..intake.errors import IntakeError, Invalid
from ..intake.records import CaseMaterial
from ..intake.statuses import CASE_STATUSES, MATERIAL_STATUSES, RATINGS
from .cases import material_words, refused, render_case

bp = Blueprint("case_actions", __name__, url_prefix="/cases")
bp.context_processor(material_words)
bp.register_error_handler(IntakeError, refused)

STALE_HINT = "页面已更新为最新内容，请核对后再提交一次。"
BOTH = ("GET", "POST")


@bp.route("/<case_no>/materials/<code>", methods=BOTH)
@requires("cases.handle")
def material(case_no, code):
    """Log how a material was supplied: ``status`` (+ copies, licence_no, deferred_until), or a scan."""
    if request.method == "GET":
        return _back(case_no)
    form, user = request.form, current_user()
    status = form.get("status", "")

    def run():
        if status == "scanned" and form.get("source") == "folder":
            return scans.attach_newest_scan(case_no, code, actor=user, expected_version=_version(), request_key=_key())
        if status == "scanned":
            upload = request.files.get("scan")
            if upload is None or not upload.filename:
                raise _invalid("scan", "请先选择要上传的扫描文件（PDF 或图片）")
            return scans.attach_scan(case_no, code, upload.stream, upload.filename, actor=user,
                                     expected_version=_version(), request_key=_key())
        return materials.log_material(case_no, code, status, actor=user, expected_version=_version(), request_key=_key(),
                                      copies=form.get("copies") or None, licence_no=form.get("licence_no"),
                                      note=form.get("note") or None, deferred_until=form.get("deferred_until"))

    # Then the keyboard goes on to the next paper in the list; after an undo it stays on this one.
    return _act(case_no, f"m-{code}", run,
                lambda entry: (f"已撤销「{entry['name']}」的登记，现为未提交" if status == "missing" else
                               f"「{entry['name']}」：{MATERIAL_STATUSES.get(entry['status'], entry['status'])}"),
                place={"row": code} if status == "missing" else {"after": code})


@bp.route("/<case_no>/accept", methods=BOTH)
@requires("cases.view")
def accept(case_no):
    """受理. Missing 必要 materials send the case to 待补正 with its one-time correction notice instead.

    ``override_reason`` (administrators only) issues a second correction
    notice; who may do which is decided by ``workflow.accept_case``.
    """
    if request.method == "GET":
        return _back(case_no)
    reason = request.form.get("override_reason")
    return _act(case_no, "override" if reason is not None else "accept",
                lambda: workflow.accept_case(case_no, actor=current_user(), expected_version=_version(), request_key=_key(),
                                             override_reason=reason),
                lambda data: f"已受理，承诺办结日期 {data['due_date']}")


@bp.route("/<case_no>/reject", methods=BOTH)
@requires("cases.handle")
def reject(case_no):
    """不予受理, in two steps: the reason (and, optionally, the authority to apply to), then 「确认不予受理」."""
    if request.method == "GET":
        return _back(case_no)
    reason, refer_to = request.form.get("reason", ""), request.form.get("refer_to", "")
    if request.form.get("confirm") != "1":
        try:
            reason_text(reason, "reason", required=True)
        except IntakeError as exc:
            return render_case(case_no, problem=("reject", "不予受理的理由：" + exc.message), typed=request.form,
                               status=exc.status)
        try:
            workflow.refer_to_text(refer_to)
        except IntakeError as exc:
            return render_case(case_no, problem=("reject", exc.message), typed=request.form, status=exc.status,
                               focus="reject-refer-to")
        return render_case(case_no, typed=request.form, confirm_reject=True, focus="reject-confirm")
    return _act(case_no, "reject", lambda: workflow.reject_case(case_no, reason, actor=current_user(),
                                                                 refer_to=refer_to, expected_version=_version(), request_key=_key()),
                lambda data: "已不予受理，请打印不予受理通知书交申请人")


@bp.route("/<case_no>/items/<matter>/result", methods=BOTH)
@requires("cases.result")
def result(case_no, matter):
    """An item's decision: ``outcome`` approved|denied, ``result_no``, ``note``."""
    if request.method == "GET":
        return _back(case_no)
    form = request.form
    return _act(case_no, f"item-{matter}",
                lambda: workflow.record_result(case_no, matter, form.get("outcome", ""), actor=current_user(),
                                               result_no=form.get("result_no", ""), note=form.get("note", ""),
                                               expected_version=_version(), request_key=_key(),
                                               on_behalf=_on_behalf()),
                lambda data: f"已录入办理结果；办件状态：{CASE_STATUSES[data['status']]}" + _warned(data))


@bp.route("/<case_no>/items/<matter>/suspend", methods=BOTH)
@requires("cases.result")
def suspend(case_no, matter):
    """Stop an item's clock for a reason of 行政许可法 第45条."""
    if request.method == "GET":
        return _back(case_no)
    form = request.form
    return _act(case_no, f"item-{matter}",
                lambda: workflow.suspend_item(case_no, matter, form.get("reason", ""), actor=current_user(),
                                              note=form.get("note", ""), expected_version=_version(), request_key=_key(),
                                              on_behalf=_on_behalf()),
                lambda data: "已暂停计时")


@bp.route("/<case_no>/items/<matter>/resume", methods=BOTH)
@requires("cases.result")
def resume(case_no, matter):
    """Restart an item's clock."""
    if request.method == "GET":
        return _back(case_no)
    return _act(case_no, f"item-{matter}",
                lambda: workflow.resume_item(case_no, matter, actor=current_user(), expected_version=_version(),
                                             request_key=_key(), on_behalf=_on_behalf()),
                resumed)


def resumed(data):
    """The message after 恢复计时: how long the clock stood still, and the due date only if it moved."""
    detail = next((e["detail"] for e in reversed(data["events"]) if e["action"] == "resume"), {})
    days = detail.get("working_days") or 0
    if not days:  # suspended and resumed before another working day passed: nothing moved
        return "已恢复计时；暂停 0 个工作日，办结日期不变"
    return f"已恢复计时；暂停 {days} 个工作日，该事项办结日期顺延至 {detail.get('due_date')}"


@bp.route("/<case_no>/deliver", methods=BOTH)
@requires("cases.handle")
def deliver(case_no):
    """出件: ``method`` window|mail (+ ``tracking_no``). With 容缺 papers still to come, only once the clerk
    ticked ``deferred_told`` (the applicant was told to bring them); else the page says so, nothing changes."""
    if request.method == "GET":
        return _back(case_no)
    form = request.form
    papers = deferrals.outstanding(*_status_and_materials(case_no))
    if papers and form.get("deferred_told") != "1":
        return render_case(case_no, problem=("deliver", f"容缺受理的材料尚未补交：{deferrals.listed(papers)}。请先收取"
                                                        "（在材料清单中登记），或勾选“已告知申请人按期补交”后再出件。"),
                           typed=form, status=422)
    return _act(case_no, "deliver",
                lambda: workflow.deliver_case(case_no, form.get("method", ""), actor=current_user(),
                                              tracking_no=form.get("tracking_no", ""), expected_version=_version(), request_key=_key()),
                lambda data: "已出件" + _warned(data))


def _status_and_materials(case_no):
    case = cases.get_case(case_no, actor=current_user())
    return case.status, CaseMaterial.of_case(case.id)


def _warned(data):
    """The warnings of a case's answer (容缺 papers still to come), after the message of what was done."""
    return "".join(f"。注意：{w['message']}" for w in data.get("warnings", []))


@bp.route("/<case_no>/evaluation", methods=BOTH)
@requires("cases.handle")
def evaluation(case_no):
    """好差评: ``rating`` 1–5 and a ``comment``. A 差评 (``outcomes.BAD_RATING`` or less) is recorded only
    with ``confirm`` naming the same rating: its first post shows the confirmation, nothing recorded."""
    if request.method == "GET":
        return _back(case_no)
    form = request.form
    try:
        rating = whole_number(form.get("rating", ""), "评价等级", low=min(RATINGS), high=max(RATINGS))
    except NumberError:
        return render_case(case_no, problem=("evaluate", "请先选择评价等级（按 Alt+E，再按 5 非常满意 … 1 非常不满意）"),
                           typed=form, status=422)
    if rating <= outcomes.BAD_RATING and form.get("confirm") != str(rating):
        return render_case(case_no, typed=form, confirm_rating=True)
    return _act(case_no, "evaluate",
                lambda: workflow.evaluate_case(case_no, rating, actor=current_user(),
                                               comment=form.get("comment", ""), expected_version=_version(), request_key=_key()),
                lambda data: f"已记录评价：{RATINGS[rating]}")


def _act(case_no, form_id, run, done, place=None):
    """Run a domain action; redirect with ``done(answer)`` as the message, or show the case with the error.

    ``place`` (query arguments of the case page) says where the keyboard goes next (``cases.show``).
    """
    try:
        answer = run()
    except IntakeError as exc:
        if exc.code == "materials_missing":  # the case is now 待补正, committed with its notice
            flash(exc.message, "error")
            return _back(case_no, after="accept")  # the status and this message stay in view
        message = exc.message + (STALE_HINT if exc.code == "stale" else "")
        return render_case(case_no, problem=(form_id, message), typed=request.form, status=exc.status)
    flash(done(answer), "ok")
    return _back(case_no, **(place or {}))


def _back(case_no, **place):
    return redirect(url_for("cases.show", case_no=case_no, **place))


def _on_behalf():
    """The box 「依……书面决定代录」 ticked: a clerk records a department's decision (窗口代录)."""
    return request.form.get("on_behalf") == "1"


def _key():
    """The key of the form as rendered (hidden ``request_key``): the same form posted twice is one change."""
    return request.form.get("request_key") or None


def _version():
    """The case version the form was rendered with (None when absent: no concurrency check)."""
    raw = request.form.get("version", "").strip()
    if not raw:
        return None
    try:
        return whole_number(raw, "页面的版本号")
    except NumberError as exc:  # only a tampered form gets here
        raise IntakeError(f"{exc}，请刷新页面后重试", [{"field": "version", "message": str(exc)}]) from None


def _invalid(field, message):
    return Invalid(message, [{"field": field, "message": message}])
