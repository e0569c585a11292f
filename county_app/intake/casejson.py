"""A case as plain JSON data, in the shape of interfaces.md, for the API and the pages.

ID numbers (the applicant's, the agent's and every 身份证号 form field) are
masked unless ``unmask=True``; lists and searches never unmask. Dates are ISO
``YYYY-MM-DD``; times ISO 8601 in this computer's time zone, with its offset.
"""
import json
from datetime import date

from ..accounts import as_utc
from ..catalogue.store import work_calendar
from ..hub import townships
from ..identity import mask_id_number, mask_phone
from ..models import CatalogueVersion
from ..prepared import Prepared
from . import deferrals
from .records import Case, CaseEvent, CaseItem, CaseMaterial, Evaluation, MaterialScan, Notice, Rectification, Scan
from .statuses import CASE_STATUSES, ITEM_STATUSES, MATERIAL_STATUSES, NOTICE_KINDS, SATISFIED

DUE_SOON_DAYS = 2  # yellow at two or fewer working days left


def iso_time(moment):
    """An aware ISO 8601 time in local time, or None."""
    return as_utc(moment).astimezone().isoformat(timespec="seconds") if moment else None


def iso_day(day):
    return day.isoformat() if day else None


def loads(text, default):
    return json.loads(text) if text else default


def urgency(due, today=None, calendar=None):
    """"overdue" (red) before ``today``, "due_soon" (yellow) within DUE_SOON_DAYS working days, else None.

    A mark describes the date it is computed from: an item's from the item's due
    date, a case's from the case's own (its latest item's), never from another
    item's — a case due in a week is not 即将到期 because a 即办 item is due today.
    """
    if due is None:
        return None
    today = today or date.today()
    if due < today:
        return "overdue"
    calendar = calendar or work_calendar()
    if calendar.working_days_between(today, due) <= DUE_SOON_DAYS:
        return "due_soon"
    return None


def applicant_json(case, *, unmask=False):
    """The applicant (and agent) of ``case``; ID numbers masked unless ``unmask``."""
    agent = loads(case.agent, None)
    if agent and not unmask:
        agent = {**agent, "id_number": mask_id_number(agent.get("id_number"))}
    return {
        "kind": case.applicant_kind,
        "name": case.applicant_name,
        "id_number": (case.id_number if unmask else mask_id_number(case.id_number)) if case.id_number else None,
        "credit_code": case.credit_code,
        "legal_representative": case.legal_representative,
        "phone": case.phone,
        "address": case.address,
    }, agent


def item_json(item, today=None, calendar=None):
    """One item: ``matter``, ``name``, ``department``, ``status``, ``due_date`` and its result."""
    open_item = item.status == "pending"
    return {
        "matter": item.matter_code,
        "name": item.name,
        "department": item.department,
        "handling": item.handling,
        "statutory_days": item.statutory_days,
        "promised_days": item.promised_days,
        "status": item.status,
        "status_label": ITEM_STATUSES.get(item.status, item.status),
        "due_date": iso_day(item.due_date),
        "calendar_complete": item.due_complete,
        "urgency": urgency(item.due_date, today, calendar) if open_item else None,
        "suspended_since": iso_day(item.suspended_since),
        "suspended_days": item.suspended_days,
        "result": None if item.status not in ("approved", "denied") else {
            "outcome": item.status, "result_no": item.result_no, "note": item.result_note,
            "at": iso_time(item.result_at), "by": item.result_by},
    }


def material_json(material, scans=None):
    """One checklist entry: ``code``, ``name``, ``required``, ``status`` and how it was supplied."""
    if scans is None:
        scans = _SCANS_OF_MATERIAL.rows(material.id)
    return {
        "code": material.code,
        "name": material.name,
        "required": material.necessity == "required",
        "necessity": material.necessity,
        "form": material.form,
        "copies": material.copies,
        "waiver": material.waiver,
        "instructions": material.instructions,
        "condition_text": material.condition,
        "matters": loads(material.matters, []),
        "status": material.status,
        "status_label": MATERIAL_STATUSES.get(material.status, material.status),
        "satisfied": material.status in SATISFIED,
        "trust_level": material.trust_level,
        "copies_received": material.copies_received,
        "pages": material.pages,
        "licence_no": material.licence_no,
        "note": material.note,
        "deferred_until": iso_day(material.deferred_until),
        "calendar_complete": material.deferred_complete,
        "logged_at": iso_time(material.logged_at),
        "logged_by": material.logged_by,
        "scans": [{"sha256": link.scan.sha256, "kind": link.scan.kind, "pages": link.scan.pages,
                   "size": link.scan.size, "filename": link.filename, "attached_at": iso_time(link.attached_at),
                   "attached_by": link.attached_by} for link in scans],
    }


def event_json(event):
    return {"seq": event.id, "at": iso_time(event.at), "actor": event.actor, "action": event.action,
            "from": event.from_status or None, "to": event.to_status, "detail": loads(event.detail, {})}


def notice_json(notice):
    return {"kind": notice.kind, "name": NOTICE_KINDS.get(notice.kind, notice.kind), "number": notice.number,
            "issued_at": iso_time(notice.issued_at), "issued_on": iso_day(notice.issued_on),
            "issued_by": notice.issued_by, "deadline": iso_day(notice.deadline),
            "content": loads(notice.content, {})}


def case_json(case, *, unmask=False, today=None):
    """The whole case as interfaces.md shows it (``GET /api/v1/cases/{case_no}``)."""
    items = CaseItem.of_case(case.id)
    materials = CaseMaterial.of_case(case.id)
    scans = {}
    for link in _SCANS_OF_CASE.rows(case.id):
        scans.setdefault(link.material_id, []).append(link)
    applicant, agent = applicant_json(case, unmask=unmask)
    form = loads(case.form, {})
    if not unmask:
        for code in loads(case.id_fields, []):
            if form.get(code):
                form[code] = mask_id_number(form[code])
    evaluation = _EVALUATION.first(case.id)
    events = [event_json(e) for e in _EVENTS.rows(case.id)]
    proxies = {(e["detail"].get("matter"), e["actor"], e["detail"].get("result_no")): e["detail"].get("on_behalf")
               for e in events if e["action"] == "result"}
    open_dues = [item.due_date for item in items if item.status == "pending" and item.due_date]
    calendar = work_calendar() if open_dues else None  # only open items are coloured
    return {
        "case_no": case.case_no,
        **_township(townships.of_case(case.case_no)),
        "version": case.version,
        "status": case.status,
        "status_label": CASE_STATUSES.get(case.status, case.status),
        "catalogue_version": CatalogueVersion.by_id(case.catalogue_id).version,
        "bundle": {"code": case.bundle_code, "name": case.bundle_name} if case.bundle_code else None,
        "applicant": applicant,
        "agent": agent,
        "answers": loads(case.answers, {}),
        "form": form,
        "registered_at": iso_time(case.registered_at),
        "registered_on": iso_day(case.registered_on),
        "registered_by": case.registered_by,
        "accepted_on": iso_day(case.accepted_on),
        "due_date": iso_day(case.due_date),
        "calendar_complete": case.due_complete,
        "urgency": urgency(case.due_date, today, calendar) if open_dues else None,
        "rejected_reason": case.rejected_reason or None,
        "delivery": {"method": case.delivery_method, "tracking_no": case.tracking_no or None,
                     "at": iso_time(case.delivered_at)} if case.delivery_method else None,
        "items": [_with_proxy(item_json(item, today, calendar), proxies) for item in items],
        "materials": [material_json(m, scans.get(m.id, [])) for m in materials],
        "events": events,
        "notices": [notice_json(n) for n in _NOTICES.rows(case.id)],
        "evaluation": _evaluation_json(evaluation),
        "warnings": deferrals.warnings(case.status, materials, today),
    }


# What summary_json reads of a case: a search selects only these (a case's form and
# answers are kilobytes of JSON a list never shows).
SUMMARY_COLUMNS = (Case.id, Case.case_no, Case.status, Case.applicant_kind, Case.applicant_name, Case.id_number,
                   Case.credit_code, Case.phone, Case.bundle_code, Case.bundle_name, Case.registered_on,
                   Case.accepted_on, Case.due_date, Case.due_complete, Case.version)


def summary_json(case, next_due=None, today=None, calendar=None, township=None):
    """A case in a list or search result: masked, without items and materials.

    ``next_due``: the earliest due date of its open items, if any is open; the
    case's mark is then that of its own due date (``urgency``). ``township``:
    at the hub, the township it came from (``hub.townships``).
    """
    return {
        "case_no": case.case_no,
        **_township(township),
        "status": case.status,
        "status_label": CASE_STATUSES.get(case.status, case.status),
        "applicant_kind": case.applicant_kind,
        "applicant_name": case.applicant_name,
        "id_number": mask_id_number(case.id_number) if case.id_number else None,
        "credit_code": case.credit_code,
        "phone": mask_phone(case.phone),
        "bundle": {"code": case.bundle_code, "name": case.bundle_name} if case.bundle_code else None,
        "registered_on": iso_day(case.registered_on),
        "accepted_on": iso_day(case.accepted_on),
        "due_date": iso_day(case.due_date),
        "calendar_complete": case.due_complete,
        "urgency": urgency(case.due_date, today, calendar) if next_due else None,
        "version": case.version,
    }


def _township(township):
    """The ``township`` key of a case at the hub (``{"code", "name"}``); nothing at a township."""
    return {} if township is None else {"township": township}


def _with_proxy(item, proxies):
    """``item`` whose result says ``on_behalf``: the department whose decision the window recorded (窗口代录), or None.

    Found by the result event that wrote the result (its author and number): after a sync conflict the
    history also holds the other side's result event, which was not applied."""
    result = item["result"]
    if result is not None:
        result["on_behalf"] = proxies.get((item["matter"], result["by"], result["result_no"]))
    return item


def _evaluation_json(evaluation):
    if evaluation is None:
        return None
    rectification = _RECTIFICATION.first(evaluation.id)
    return {"rating": evaluation.rating, "comment": evaluation.comment, "at": iso_time(evaluation.at),
            "rectification": None if rectification is None else {
                "id": rectification.id, "status": rectification.status,
                "due_date": iso_day(rectification.due_date), "calendar_complete": rectification.due_complete}}


_SCANS_OF_CASE = Prepared(lambda case_id: MaterialScan.select(MaterialScan, Scan).join(Scan)
                          .join_from(MaterialScan, CaseMaterial).where(CaseMaterial.case == case_id)
                          .order_by(MaterialScan.id))
_SCANS_OF_MATERIAL = Prepared(lambda material_id: MaterialScan.select(MaterialScan, Scan).join(Scan)
                              .where(MaterialScan.material == material_id).order_by(MaterialScan.id))
_EVALUATION = Prepared(lambda case_id: Evaluation.select().where(Evaluation.case == case_id))
_RECTIFICATION = Prepared(lambda evaluation_id: Rectification.select()
                          .where(Rectification.evaluation == evaluation_id))
_EVENTS = Prepared(lambda case_id: CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id))
_NOTICES = Prepared(lambda case_id: Notice.select().where(Notice.case == case_id).order_by(Notice.id))
