"""办结, 出件, 好差评 and the 差评 rectification list.

- ``record_result``: each item's decision (approved or denied, result number,
  note), on accepted cases only; a department user only for its own
  department's items. When every item has one, the case is ``concluded``.
- ``deliver_case``: at the window or by post (with the tracking number).
- ``evaluate_case``: the 好差评 rating 1–5 with a comment, once, after
  conclusion or delivery; 2 or below opens a rectification task due in five
  working days on the administrators' list (国办发〔2019〕51号).
"""
from datetime import date

from .. import audit
from ..catalogue.store import work_calendar
from ..db import db
from ..integers import NumberError, whole_number
from ..models import utcnow
from ..text import quoted, shown
from . import events, visibility
from .casejson import case_json, iso_day, iso_time
from .cases import issue_notice
from .checks import case_item, check_department, check_permission, reason_text, require_item
from .errors import Conflict, Invalid, NotFound
from .records import Case, CaseItem, Evaluation, Rectification
from .statuses import RATINGS

RECTIFICATION_DAYS = 5
BAD_RATING = 2  # 不满意 or 非常不满意
DELIVERY_METHODS = {"window": "窗口领取", "mail": "邮寄送达"}


def record_result(case_no, matter_code, outcome, *, actor, result_no="", note="", expected_version=None,
                  request_key=None, on_behalf=False):
    """Record the decision on one item; the case is concluded once every item has one. Gives the case JSON.

    ``on_behalf``: a clerk says this is 窗口代录 of the department's decision (``checks.check_department``)."""
    if not outcome:
        raise _invalid("outcome", "请选择办理结果：准予或不予")
    if outcome not in ("approved", "denied"):
        raise _invalid("outcome", f"办理结果应为 approved（准予）或 denied（不予），实际为 {quoted(outcome)}")
    result_no = reason_text(result_no, "result_no", required=False)
    note = reason_text(note, "note", required=False)
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        if events.repeated(case, ("result",), matter=matter_code, outcome=outcome):
            return case_json(case)
        item = case_item(case, matter_code)
        proxy = check_department(actor, item, on_behalf)
        events.require_status(case, "result", ("accepted",))
        require_item(item, "result", ("pending",))
        item.status, item.result_no, item.result_note = outcome, result_no, note
        item.result_at, item.result_by = utcnow(), events.actor_name(actor)
        item.save()
        events.transition(case, "result", case.status, actor, matter=item.matter_code, outcome=outcome,
                          result_no=result_no, **proxy)
        open_items = CaseItem.select().where((CaseItem.case == case.id)
                                             & CaseItem.status.not_in(("approved", "denied")))
        if not open_items.exists():
            case.concluded_at, case.concluded_on = utcnow(), date.today()
            notice = issue_notice(case, "completion", actor)
            events.transition(case, "conclude", "concluded", actor, notice=notice.number)
    return case_json(case)


def deliver_case(case_no, method, *, actor, tracking_no=None, expected_version=None, request_key=None):
    """出件: a concluded case becomes ``delivered``, at the window or by post (``tracking_no`` required)."""
    check_permission(actor, "cases.handle")
    if method not in DELIVERY_METHODS:
        raise _invalid("method", f"送达方式应为 window（窗口领取）或 mail（邮寄），实际为 {quoted(method)}")
    tracking_no = reason_text(tracking_no, "tracking_no", required=False)
    if method == "mail" and not tracking_no:
        raise _invalid("tracking_no", "邮寄送达须填写快递单号")
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        if events.repeated(case, ("deliver",), method=method):
            return case_json(case)
        events.require_status(case, "deliver", ("concluded",))
        case.delivery_method, case.tracking_no, case.delivered_at = method, tracking_no, utcnow()
        events.transition(case, "deliver", "delivered", actor, method=method, tracking_no=tracking_no)
    return case_json(case)


def evaluate_case(case_no, rating, *, actor, comment="", expected_version=None, today=None, request_key=None):
    """好差评: rate a concluded or delivered case once, 5 非常满意 … 1 非常不满意; ≤ 2 opens a rectification."""
    check_permission(actor, "cases.handle")
    today = today or date.today()
    if isinstance(rating, bool) or not isinstance(rating, int) or rating not in RATINGS:
        raise _invalid("rating", f"评价应为 1–5 的整数（5 非常满意 … 1 非常不满意），实际为 {quoted(rating)}")
    comment = reason_text(comment, "comment", required=False)
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        if events.repeated(case, ("evaluate",), rating=rating):
            return case_json(case)
        events.require_status(case, "evaluate", ("concluded", "delivered"))
        if Evaluation.select().where(Evaluation.case == case.id).exists():
            raise Conflict("该办件已评价过（一事一评），不能重复评价", code="wrong_state")
        evaluation = Evaluation.create(case=case.id, rating=rating, comment=comment,
                                       recorded_by=events.actor_name(actor))
        detail = {"rating": rating}
        if rating <= BAD_RATING:
            due = work_calendar().working_days_after(today, RECTIFICATION_DAYS)
            task = Rectification.create(case=case.id, evaluation=evaluation.id, opened_on=today, due_date=due.day,
                                        due_complete=due.complete)
            detail.update(rectification=task.id, due_date=due.day)
            if not due.complete:
                detail["calendar_complete"] = False
        events.transition(case, "evaluate", case.status, actor, **detail)
    return case_json(case)


def rectifications(status="open", today=None, *, actor):
    """The 差评 rectification tasks of the cases ``actor`` may see (``status`` open|closed|None for all)."""
    today = today or date.today()
    if status not in ("open", "closed", None):
        raise _invalid("status", "状态应为 open 或 closed")
    query = (Rectification.select(Rectification, Case, Evaluation).join_from(Rectification, Case)
             .join_from(Rectification, Evaluation).order_by(Rectification.due_date, Rectification.id))
    if status:
        query = query.where(Rectification.status == status)
    scope = visibility.scope_of(actor)
    if not scope.every:
        query = query.where(visibility.condition(scope))
    return [rectification_json(task, today) for task in query]


def close_rectification(task_id, resolution, *, actor, today=None):
    """Close a rectification task with what was done (administrators); audited and logged on the case."""
    check_permission(actor, "rectification.manage", "只有系统管理员可以办结差评整改")
    resolution = reason_text(resolution, "resolution", required=True)
    try:
        task_id = whole_number(task_id, "整改任务编号")
    except NumberError:  # also beyond SQLite's integers, which no query can compare
        raise NotFound(f"没有编号为 {shown(task_id)} 的整改任务") from None
    with db.atomic():
        task = Rectification.get_or_none(Rectification.id == task_id)
        if task is None or not visibility.may_see(actor, Case.get_by_id(task.case_id)):
            raise NotFound(f"没有编号为 {task_id} 的整改任务")
        if task.status != "open":
            raise Conflict("该整改任务已办结", code="wrong_state")
        task.status, task.resolution = "closed", resolution
        task.closed_at, task.closed_by = utcnow(), events.actor_name(actor)
        task.save()
        case = Case.get_by_id(task.case_id)
        audit.record(events.actor_name(actor), "rectification.close", "rectification", task.id,
                     case=case.case_no, resolution=resolution)
        events.transition(case, "rectify", case.status, actor, rectification=task.id, resolution=resolution)
    return rectification_json(task, today or date.today())


def rectification_json(task, today):
    """One rectification task as JSON, with its case and rating."""
    case, evaluation = task.case, task.evaluation
    return {"id": task.id, "case_no": case.case_no, "applicant_name": case.applicant_name,
            "phone": case.phone, "rating": evaluation.rating, "rating_label": RATINGS[evaluation.rating],
            "comment": evaluation.comment, "opened_on": iso_day(task.opened_on), "due_date": iso_day(task.due_date),
            "calendar_complete": task.due_complete,
            "overdue": task.status == "open" and task.due_date < today, "status": task.status,
            "closed_at": iso_time(task.closed_at), "closed_by": task.closed_by or None,
            "resolution": task.resolution or None}


def _invalid(field, message):
    return Invalid(message, [{"field": field, "message": message}])
