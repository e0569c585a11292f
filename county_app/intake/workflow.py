"""受理或补正, 不予受理, and stopping an item's clock.

- ``accept_case`` accepts only when every 必要 material is satisfied; a 容缺
  one not yet supplied is recorded as deferred with its date. Otherwise the
  case goes to ``correction`` with ONE one-time correction notice (行政许可法
  第32条) listing every missing material and a deadline, and the call answers
  Conflict ``materials_missing`` (the correction is committed first). A second
  correction notice for the same case needs an administrator's reason, audited.
- On acceptance each item is due its promised working days after the
  acceptance date (the start day not counted; a 即办件 the same day); the case
  is due when its latest item is.
- ``suspend_item``/``resume_item``: time for 听证, 检验, 鉴定, 现场踏勘 … is not
  counted (第45条): the working days an item stood still extend its due date.

Results, delivery and ratings are in ``outcomes``.
"""
import json
from datetime import date

from .. import audit
from ..catalogue.store import work_calendar
from ..db import db
from ..models import utcnow
from ..prepared import Prepared
from . import events
from .casejson import case_json
from .cases import issue_notice
from .checks import case_item, check_department, check_permission, reason_text, require_item
from .errors import Conflict, Invalid
from .materials import default_deferral
from .outcomes import close_rectification, deliver_case, evaluate_case, record_result, rectifications
from .records import CaseItem, CaseMaterial, Notice, Suspension
from .statuses import SATISFIED, SUSPENSION_REASONS, dated

CORRECTION_DAYS = 5

__all__ = ["accept_case", "reject_case", "suspend_item", "resume_item", "record_result", "deliver_case",
           "evaluate_case", "rectifications", "close_rectification"]


def accept_case(case_no, *, actor, expected_version=None, override_reason=None, today=None, request_key=None):
    """Accept the case (受理) and give it as JSON, or send it to correction and raise ``materials_missing``.

    Who may do which is decided here, for every adapter: accepting (and the
    first correction it may lead to) needs ``cases.handle``; an
    ``override_reason`` — given at all, even blank — asks for a second
    correction notice for a case already in correction whose materials are
    still missing, which needs ``cases.override`` and a reason that is not
    blank (Invalid otherwise).
    """
    today = today or date.today()
    override = override_reason is not None
    if override:
        check_permission(actor, "cases.override", "再次出具一次性补正告知书须由系统管理员填写理由")
    else:
        check_permission(actor, "cases.handle")
    reason = reason_text(override_reason, "override_reason", required=override)
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        if events.repeated(case, ("accept", "correction")):
            if case.repeat_of.action == "correction":
                raise _refusal(case, events.prior_detail(case))
            return case_json(case)
        events.require_status(case, "accept", ("registered", "correction"))
        if override and case.status != "correction":
            raise Conflict("只有待补正的办件才需要再次出具补正告知书；请窗口人员先受理", code="wrong_state")
        materials = CaseMaterial.of_case(case.id)
        missing = [m for m in materials if m.necessity == "required" and m.status not in SATISFIED]
        if missing:
            refusal = _correction(case, missing, actor, today, reason)
        elif override:
            raise Conflict("材料已齐全，无需再次补正；请窗口人员直接受理", code="wrong_state")
        else:
            _accept(case, materials, actor, today)
            refusal = None
    if refusal is not None:
        raise refusal  # after the commit: the correction and its notice stay
    return case_json(case)


def reject_case(case_no, reason, *, actor, refer_to=None, expected_version=None, today=None, request_key=None):
    """不予受理 with ``reason``: a registered or correction case becomes ``rejected``, with its notice.

    ``refer_to``: the authority to apply to when the matter is not this
    office's business (行政许可法 第32条); the notice says so.
    """
    check_permission(actor, "cases.handle")
    reason = reason_text(reason, "reason", required=True)
    refer_to = refer_to_text(refer_to)
    referral = {"refer_to": refer_to} if refer_to else {}
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        if events.repeated(case, ("reject",)):
            return case_json(case)
        events.require_status(case, "reject", ("registered", "correction"))
        case.rejected_reason = reason
        notice = issue_notice(case, "rejection", actor, day=today, reason=reason, **referral)
        events.transition(case, "reject", "rejected", actor, reason=reason, notice=notice.number, **referral)
    return case_json(case)


def refer_to_text(value):
    """``value`` trimmed, as the authority a rejected applicant should apply to; Invalid if not short text."""
    return reason_text(value, "refer_to", required=False)


def suspend_item(case_no, matter_code, reason, *, actor, note="", expected_version=None, today=None,
                 request_key=None, on_behalf=False):
    """Stop the clock of one item of an accepted case for ``reason`` (one of SUSPENSION_REASONS).

    ``on_behalf``: a clerk says this is 窗口代录 of the department's decision (``checks.check_department``)."""
    today = today or date.today()
    if reason not in SUSPENSION_REASONS:
        message = f"暂停计时的理由应为 {'、'.join(SUSPENSION_REASONS)} 之一（行政许可法 第45条）"
        raise Invalid(message, [{"field": "reason", "message": message}])
    note = reason_text(note, "note", required=False)
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        if events.repeated(case, ("suspend",), matter=matter_code):
            return case_json(case)
        events.require_status(case, "suspend", ("accepted",))
        item = case_item(case, matter_code)
        proxy = check_department(actor, item, on_behalf)
        require_item(item, "suspend", ("pending",))
        item.status, item.suspended_since = "suspended", today
        item.save()
        Suspension.create(item=item.id, reason=reason, note=note, started_on=today,
                          started_by=events.actor_name(actor))
        events.transition(case, "suspend", case.status, actor, matter=item.matter_code, reason=reason, note=note,
                          **proxy)
    return case_json(case)


def resume_item(case_no, matter_code, *, actor, expected_version=None, today=None, request_key=None,
                on_behalf=False):
    """Restart the clock of a suspended item; its due date moves by the working days it stood still."""
    today = today or date.today()
    with db.atomic():
        case = events.load_case(case_no, expected_version, actor=actor, request_key=request_key)
        if events.repeated(case, ("resume",), matter=matter_code):
            return case_json(case)
        events.require_status(case, "resume", ("accepted",))
        item = case_item(case, matter_code)
        proxy = check_department(actor, item, on_behalf)
        require_item(item, "resume", ("suspended",))
        calendar = work_calendar()
        stood = max(0, calendar.working_days_between(item.suspended_since, today))
        due = calendar.working_days_after(item.due_date, stood)
        item.due_date, item.due_complete = due.day, item.due_complete and due.complete
        item.status, item.suspended_since = "pending", None
        item.suspended_days += stood
        item.save()
        (Suspension.update(ended_on=today, ended_by=events.actor_name(actor), working_days=stood)
         .where((Suspension.item == item.id) & Suspension.ended_on.is_null()).execute())
        case.due_date = max(i.due_date for i in CaseItem.of_case(case.id))
        case.due_complete = case.due_complete and due.complete
        events.transition(case, "resume", case.status, actor, matter=item.matter_code, working_days=stood,
                          due_date=item.due_date, **_flag(due.complete), **proxy)
    return case_json(case)


def _accept(case, materials, actor, today):
    deferred = []
    for material in materials:
        if material.necessity == "deferrable" and material.status == "missing":
            due = default_deferral(today)
            material.status, material.deferred_until, material.deferred_complete = "deferred", due.day, due.complete
            material.logged_at, material.logged_by = utcnow(), events.actor_name(actor)
            material.save()
            deferred.append({"code": material.code, "until": material.deferred_until, **_flag(due.complete)})
    calendar, complete, dues = work_calendar(), True, []
    for item in CaseItem.of_case(case.id):
        due = calendar.working_days_after(today, 0 if item.handling == "instant" else item.promised_days)
        item.due_date, item.due_complete, complete = due.day, due.complete, complete and due.complete
        _SET_DUE_DATE.execute(item.due_date, item.due_complete, item.id)
        dues.append(due.day)
    case.accepted_on, case.due_date, case.due_complete = today, max(dues), complete
    notice = issue_notice(case, "acceptance", actor, day=today, due_date=case.due_date)
    events.transition(case, "accept", "accepted", actor, accepted_on=today, due_date=case.due_date,
                      deferred=deferred, notice=notice.number, **_flag(complete))


def _correction(case, missing, actor, today, reason):
    """Send the case to correction (once; again only with an override); give the Conflict to raise."""
    listed = [{"material": m.code, "name": m.name} for m in missing]
    names = "、".join(f"「{m.name}」" for m in missing)
    if case.status == "correction" and not reason:
        notice = (Notice.select().where((Notice.case == case.id) & (Notice.kind == "correction"))
                  .order_by(Notice.id.desc()).first())
        shown = f"（{notice.number}，补正期限 {deadline_text(notice)}）" if notice else ""
        return Conflict(f"材料仍不齐：{names}。一次性补正告知书已出具{shown}，请申请人补齐后再受理；"
                        "如确需再次出具补正告知书，须由系统管理员填写理由", listed, code="materials_missing")
    due = work_calendar().working_days_after(today, CORRECTION_DAYS)
    deadline = due.day
    content = {"materials": [{"code": m.code, "name": m.name, "instructions": m.instructions} for m in missing],
               **_flag(due.complete)}
    if reason:
        content["override_reason"] = reason
    notice = issue_notice(case, "correction", actor, deadline=deadline, day=today, **content)
    case.correction_count += 1
    detail = {"notice": notice.number, "deadline": deadline, "materials": [m.code for m in missing],
              **_flag(due.complete)}
    if reason:
        detail["override_reason"] = reason
        audit.record(events.actor_name(actor), "case.correction_override", "case", case.case_no,
                     reason=reason, notice=notice.number)
    events.transition(case, "correction", "correction", actor, **detail)
    return _refusal(case, detail)


def _refusal(case, detail):
    """The ``materials_missing`` answer for the correction an event recorded (also when a request comes twice)."""
    names = {m.code: m.name for m in CaseMaterial.of_case(case.id)}
    listed = [{"material": code, "name": names.get(code, code)} for code in detail["materials"]]
    missing = "、".join("「" + m["name"] + "」" for m in listed)
    return Conflict(f"材料不齐，办件已转为待补正，并出具一次性补正告知书（{detail['notice']}）：请申请人在 "
                    f"{dated(detail['deadline'], detail.get('calendar_complete', True))} 前补齐{missing}", listed,
                    code="materials_missing")


def _flag(complete):
    """What an event or notice records of a counted date: ``calendar_complete: False`` only when it was not."""
    return {} if complete else {"calendar_complete": False}


def deadline_text(notice):
    """A correction notice's deadline as shown, flagged when counted into a year without its 调休."""
    content = json.loads(notice.content) if notice.content else {}
    return dated(notice.deadline, content.get("calendar_complete", True))


_SET_DUE_DATE = Prepared(lambda due_date, complete, item_id: CaseItem.update(due_date=due_date, due_complete=complete)
                         .where(CaseItem.id == item_id))
