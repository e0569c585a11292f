"""The printed notices: what each carries, as plain data built from a case or a guide.

Case notices (``NOTICE_KINDS``: 收件回执, 受理通知书, 一次性补正告知书, 不予受理通知书,
办结通知书) and the 告知承诺书 carry the number, the applicant (the ID number
masked but for its last four characters, the phone), the agent, the matters,
the materials with how each was supplied, the dates in Chinese, the legal
texts of that kind (``notice_texts``), the clerk with a phone, the centre and
the seal. ``one_time_notice`` is the 一次性告知单 for a guide, before a case
exists. ``notice_page`` and ``commitment_page`` give the content to show
(reading only: opening a notice is not printing it); ``record_print`` logs a
print on the case when the page is printed (the same notice printed again is
a 补打). The blocks they are made of are in ``notice_blocks``. No Flask here.
"""
import json
from datetime import date

from . import notice_texts as texts
from .accounts import as_utc
from .catalogue import vocabulary
from .catalogue.merging import filled_in
from .db import db
from .intake import cases, events
from .intake.errors import Conflict, NotFound
from .intake.records import CaseEvent, CaseItem, CaseMaterial, Notice
from .intake.statuses import CASE_STATUSES, NOTICE_KINDS
from .notice_blocks import (  # noqa: F401  (centre_info, clerk_info and cn_date are part of this module's API)
    agent_block, applicant_block, centre_info, clerk_info, cn_date, items_of, material_requirement, materials_of,
    matters_phrase)
from .prepared import Prepared
from .text import shown

COMMITMENT_TITLE = "证明事项告知承诺书"
GUIDE_TITLE = "一次性告知单"
# The statuses in which each kind may be printed (receipt: any, checked by the domain; correction: once issued).
PRINTABLE = {
    "acceptance": ("accepted", "concluded", "delivered"),
    "rejection": ("rejected",),
    "completion": ("concluded", "delivered"),
}
REFUSED = {
    "acceptance": "尚未受理，还不能打印受理通知书；材料齐全并受理后即可打印",
    "rejection": "没有作出不予受理决定，不能打印不予受理通知书",
    "completion": "尚未办结，还不能打印办结通知书；各事项都录入办理结果后即可打印",
}
WAIVER_HINTS = {"e_licence": "可调取电子证照，免提交", "data_sharing": "可通过数据共享核验，免提交",
                "commitment": "可签署告知承诺书，免提交"}
DELIVERY = {"window": "窗口领取", "mail": "邮寄送达"}


def notice_page(case_no, kind, *, actor):
    """The content of notice ``kind`` of case ``case_no``, to show and print; reads only.

    ``print_count`` is how often it has been printed so far and ``reprint``
    whether printing it now is a 补打. The print itself is logged by
    ``record_print`` when it happens. NotFound for an unknown case or kind, or
    a case ``actor`` may not see; Conflict when the case's state does not allow
    that notice (``check_printable``).
    """
    if kind not in NOTICE_KINDS:
        raise NotFound(f"没有“{shown(kind)}”这种通知书；可打印：{'、'.join(NOTICE_KINDS.values())}")
    case = cases.get_case(case_no, actor=actor)
    content = notice_content(case, kind, check_printable(case, kind))
    _mark_prints(content, print_count(case, content["number"]))
    return content


def commitment_page(case_no, material_code, *, actor, today=None):
    """The 告知承诺书 for material ``material_code`` of case ``case_no``, to show and print; reads only."""
    case = cases.get_case(case_no, actor=actor)
    content = commitment_letter(case, material_code, today=today)
    _mark_prints(content, print_count(case, content["number"]))
    return content


def record_print(case_no, kind, *, actor, material=None):
    """Log one print of notice ``kind`` (``commitment`` with its ``material``), as the page is printed.

    Gives ``{"kind", "number", "print_count", "reprint"}``: this print's
    count, and whether it is a 补打 (the same notice printed before). The same
    checks as showing the notice, so nothing is logged for a notice that
    cannot be printed.
    """
    with db.atomic():
        case = cases.get_case(case_no, actor=actor)
        detail = {}
        if kind == "commitment":
            number = commitment_letter(case, material)["number"]
            detail["material"] = material
        elif kind in NOTICE_KINDS:
            number = check_printable(case, kind).number
        else:
            raise NotFound(f"没有“{shown(kind)}”这种通知书；可打印：{'、'.join(NOTICE_KINDS.values())}")
        events.note(case, "print", actor, kind=kind, number=number, **detail)
        count = print_count(case, number)
    return {"kind": kind, "number": number, "print_count": count, "reprint": count > 1}


def check_printable(case, kind):
    """The latest ``Notice`` of ``kind`` of ``case``, if it may be printed now.

    Conflict (in Chinese, saying what to do) when the case's state does not
    allow it; a 收件回执 after 不予受理 only if it was printed before.
    """
    label = CASE_STATUSES.get(case.status, case.status)
    if kind in PRINTABLE and case.status not in PRINTABLE[kind]:
        raise Conflict(f"办件 {case.case_no} 当前状态为「{label}」，{REFUSED[kind]}。", code="wrong_state")
    notice = (Notice.select().where((Notice.case == case.id) & (Notice.kind == kind))
              .order_by(Notice.id.desc()).first())
    if kind == "correction" and notice is None:
        raise Conflict(f"办件 {case.case_no} 没有出具过一次性补正告知书（材料齐全，或尚未作受理审查），无需打印。",
                       code="wrong_state")
    if kind == "receipt" and case.status == "rejected" and (notice is None or not print_count(case, notice.number)):
        raise Conflict(f"办件 {case.case_no} 已不予受理，不再出具收件回执；请打印不予受理通知书。", code="wrong_state")
    if notice is None:
        raise NotFound(f"办件 {case.case_no} 还没有{NOTICE_KINDS[kind]}")
    return notice


def printable_kinds(status, notices, events):
    """The notice kinds a case shows to print, from its ``case_json`` status, notices and events."""
    kinds = {n["kind"] for n in notices}
    if status == "rejected" and not any(e["action"] == "print" and e["detail"].get("kind") == "receipt"
                                        for e in events):
        kinds.discard("receipt")  # as check_printable: never printed before 不予受理, not printed after
    return [kind for kind in NOTICE_KINDS if kind in kinds]


def notice_content(case, kind, notice=None):
    """The content of notice ``kind`` of ``case`` (``notice``: its ``Notice``, else the latest one)."""
    if notice is None:
        notice = (Notice.select().where((Notice.case == case.id) & (Notice.kind == kind))
                  .order_by(Notice.id.desc()).first())
    if notice is None:
        raise NotFound(f"办件 {case.case_no} 还没有{NOTICE_KINDS[kind]}")
    centre = centre_info()
    items = items_of(case)
    content = {
        "kind": kind, "title": NOTICE_KINDS[kind], "number": notice.number,
        "case_no": case.case_no, "status": CASE_STATUSES.get(case.status, case.status), "centre": centre,
        "applicant": applicant_block(case), "agent": agent_block(case), "bundle_name": case.bundle_name,
        "matters": items, "matters_phrase": matters_phrase(case, items), "applied_on": cn_date(case.registered_on),
        "issued_on": cn_date(notice.issued_on), "materials": [], "paragraphs": [],
        "legal": [], "notes": [], "signature": "", "seal": True, "reprint": False, "print_count": 0,
        "clerk": clerk_info(case.registered_by if kind in ("receipt", "completion") else notice.issued_by, centre),
        "progress": (f"凭办件编号{case.case_no}（或扫描右上角二维码）到本中心窗口查询办理进度"
                     + (f"，或拨打咨询电话{centre['phone']}" if centre["phone"] else "") + "。"),
    }
    details = json.loads(notice.content) if notice.content else {}
    BUILDERS[kind](content, case, notice, details)
    return content


# ----------------------------------------------------------------------------- the five kinds


def _receipt(content, case, notice, details):
    received = as_utc(case.registered_at).astimezone()
    content["materials"] = materials_of(case, received_only=True)
    content["received_at"] = f"{cn_date(received)} {received:%H:%M}"
    content["paragraphs"] = [f"本中心于{content['received_at']}收到您提交的{content['matters_phrase']}申请材料，"
                             f"共{len(content['materials'])}项，清单如下。"]
    content["notes"] = [texts.RECEIPT_NOTE]
    content["signature"] = "申请人（签字）"


def _acceptance(content, case, notice, details):
    content["materials"] = materials_of(case, received_only=True)
    content["accepted_on"], content["due_date"] = cn_date(case.accepted_on), cn_date(case.due_date)
    content["paragraphs"] = [
        f"您（单位）于{content['applied_on']}提出的{content['matters_phrase']}申请，申请材料齐全、符合法定形式，"
        f"本中心决定予以受理。"]
    content["due_note"] = "" if case.due_complete else texts.CALENDAR_NOTE
    content["notes"] = [texts.TIME_LIMIT_NOTE]
    if any(m["status"] == "deferred" for m in content["materials"]):
        content["notes"].append(texts.DEFERRED_NOTE)


def _correction(content, case, notice, details):
    checklist = {m.code: m for m in CaseMaterial.of_case(case.id)}
    wanted = []
    for entry in details.get("materials", []):
        row = checklist.get(entry.get("code"))
        wanted.append({"code": entry.get("code"), "name": entry.get("name", ""),
                       "requirement": material_requirement(row.form, row.copies) if row else "",
                       "instructions": entry.get("instructions") or (row.instructions if row else "")})
    content["missing"] = wanted
    content["deadline"] = cn_date(notice.deadline)
    kept = [m for m in materials_of(case, received_only=True) if m["code"] not in {w["code"] for w in wanted}]
    content["kept"] = "；".join(f"{m['name']}，{m['supplied']}" for m in kept)
    content["paragraphs"] = [
        f"您（单位）于{content['applied_on']}提出的{content['matters_phrase']}申请，经审查，申请材料不齐全或者"
        f"不符合法定形式。根据《中华人民共和国行政许可法》第三十二条的规定，现一次性告知您需要补正的全部材料如下：",
        f"请于{content['deadline']}前将上述材料补正齐全，到本中心窗口提交。"]
    if details.get("override_reason"):
        content["paragraphs"].append(f"再次出具补正告知的原因：{details['override_reason']}")
    content["notes"] = [texts.CORRECTION_NOTE]
    content["legal"] = [texts.ARTICLE_32_CORRECTION]
    content["signature"] = "申请人（签字）"


def _rejection(content, case, notice, details):
    content["reason"] = details.get("reason") or case.rejected_reason
    content["refer_to"] = details.get("refer_to") or ""  # where the matter belongs, when the domain records it
    content["paragraphs"] = [
        f"您（单位）于{content['applied_on']}提出的{content['matters_phrase']}申请，经审查，本中心决定不予受理。",
        f"不予受理的理由：{content['reason'].rstrip('。.')}。"]
    content["legal"] = [texts.ARTICLE_32_WRITTEN, texts.REVIEW_BASIS]
    if content["refer_to"]:
        content["paragraphs"].append(f"该申请事项依法不属于本机关职权范围，请向{content['refer_to']}申请。")
        content["legal"].insert(0, texts.ARTICLE_32_ELSEWHERE)
    content["paragraphs"].append(texts.REMEDY)
    content["signature"] = "申请人（签收）"


def _completion(content, case, notice, details):
    concluded = as_utc(case.concluded_at).astimezone() if case.concluded_at else None
    content["concluded_on"] = cn_date(concluded)
    content["paragraphs"] = [
        f"您（单位）于{content['applied_on']}提出、本中心于{cn_date(case.accepted_on)}受理的"
        f"{content['matters_phrase']}申请，已于{content['concluded_on']}办理完毕，各事项的办理结果如下。"]
    if case.delivery_method:
        delivered = cn_date(as_utc(case.delivered_at).astimezone()) if case.delivered_at else ""
        tracking = f"，快递单号：{case.tracking_no}" if case.tracking_no else ""
        content["delivery"] = f"{DELIVERY.get(case.delivery_method, case.delivery_method)}{tracking}（{delivered}）"
    else:
        content["delivery"] = texts.DELIVERY_PENDING
    if any(item["status"] == "denied" for item in content["matters"]):
        content["paragraphs"].append(texts.DENIAL_REMEDY)
        content["legal"] = [texts.ARTICLE_38_DENIAL, texts.REVIEW_BASIS]
    content["signature"] = "" if case.delivery_method == "mail" else "领取人（签字）"


BUILDERS = {"receipt": _receipt, "acceptance": _acceptance, "correction": _correction, "rejection": _rejection,
            "completion": _completion}


# ----------------------------------------------------------------------------- 告知承诺书 and 一次性告知单


def commitment_letter(case, material_code, *, today=None):
    """The 告知承诺书 (国办发〔2020〕42号) for material ``material_code`` of ``case``.

    NotFound when the checklist has no such material; Conflict when the
    catalogue does not allow 告知承诺 for it, or when the case is past
    acceptance and the applicant did not choose it.
    """
    material = CaseMaterial.get_or_none((CaseMaterial.case == case.id) & (CaseMaterial.code == material_code))
    if material is None:
        raise NotFound(f"办件 {case.case_no} 的材料清单中没有编码为 {shown(material_code)} 的材料")
    if material.waiver != "commitment":
        raise Conflict(f"「{material.name}」按事项目录不适用告知承诺，请申请人提交该材料。", code="wrong_state")
    if case.status not in ("registered", "correction") and material.status != "commitment":
        label = CASE_STATUSES.get(case.status, case.status)
        raise Conflict(f"办件 {case.case_no} 当前状态为「{label}」，且申请人未对「{material.name}」选择告知承诺，"
                       "不能再出具告知承诺书。", code="wrong_state")
    codes = json.loads(material.matters or "[]")
    names = [i.name for i in CaseItem.select().where((CaseItem.case == case.id) & CaseItem.matter_code.in_(codes))
             .order_by(CaseItem.position)]
    centre = centre_info()
    return {
        "kind": "commitment", "title": COMMITMENT_TITLE, "number": f"{case.case_no}-{material.code}",
        "case_no": case.case_no, "centre": centre, "applicant": applicant_block(case), "agent": agent_block(case),
        "bundle_name": case.bundle_name, "matter_names": names,
        "proof": {"name": material.name, "requirement": material_requirement(material.form, material.copies),
                  "instructions": material.instructions},
        "basis": texts.COMMITMENT_BASIS, "choice": texts.COMMITMENT_CHOICE, "check": texts.COMMITMENT_CHECK,
        "liability": list(texts.COMMITMENT_LIABILITY), "commitments": list(texts.COMMITMENTS),
        "copies_note": texts.COMMITMENT_COPIES, "issued_on": cn_date(today or date.today()),
        "clerk": clerk_info(case.registered_by, centre), "signature": "申请人（签字或盖章）", "seal": True,
        "reprint": False, "print_count": 0,
    }


def one_time_notice(guide, answers, centre):
    """The 一次性告知单 for ``guide`` (an ``intake.guide.Guide``), the ``answers`` given and ``centre``.

    Matters with their departments, time limits, fees and results; the one
    merged material list with each requirement and 填报须知; the form's fields;
    the time limit of the whole; where and when to come.
    """
    names = {m.code: m.name for m in guide.matters}
    situations = [f"{q.text}{'' if q.text.endswith(('？', '?')) else '：'}{q.answer}" for q in guide.answered] or [
        f"{code}：{value}" for code, value in (answers or {}).items() if value]
    materials = [{
        "code": m.code, "name": m.name, "requirement": material_requirement(m.form, m.copies),
        "necessity": vocabulary.word_for(vocabulary.NECESSITY, m.necessity), "waiver": WAIVER_HINTS.get(m.waiver, ""),
        "instructions": m.instructions, "shared": len(m.matters) if len(m.matters) > 1 else 0,
        "matters": [names.get(code, code) for code in m.matters],
        # Before the applicant and agent are known, a paper that hinges on them says when it is needed.
        "condition": m.condition_text} for m in guide.materials]
    filled = {f.code for f in filled_in(guide.fields)}
    fields = [{"name": f.name, "required": f.required, "prefilled": f.code in filled,
               "type": vocabulary.word_for(vocabulary.FIELD_TYPES, f.type)} for f in guide.fields]
    matters = [{"code": m.code, "name": m.name, "department": m.department, "required": m.required,
                "handling": vocabulary.word_for(vocabulary.HANDLING, m.handling),
                "time_limit": "即办" if m.handling == "instant" else f"承诺{m.promised_days}个工作日",
                "statutory_days": m.statutory_days, "fee": m.fee or "不收费", "result_name": m.result_name}
               for m in guide.matters]
    totals = guide.totals
    free = all(m["fee"].startswith("不收费") for m in matters)
    fee_notes = [f"{m['name']}：{m['fee'][4:].strip('（）()')}" for m in matters if free and m["fee"] != "不收费"]
    if totals.promised_days_parallel:
        time_limit = (f"各事项并联办理，材料齐全受理后{totals.promised_days_parallel}个工作日内全部办结"
                      f"（逐项单独办理的法定时限合计{totals.statutory_days_serial}个工作日）；即办事项当场办结。")
    else:
        time_limit = "均为即办事项，材料齐全的当场办结。"
    return {
        "kind": "guide", "title": GUIDE_TITLE, "bundle_name": guide.bundle.name if guide.bundle else "",
        "lead_department": guide.bundle.lead_department if guide.bundle else "",
        "situations": situations, "pending": [q.text for q in guide.questions], "matters": matters,
        "materials": materials, "fields": fields, "required_fields": sum(1 for f in fields if f["required"]),
        "time_limit": time_limit, "time_note": texts.TIME_LIMIT_NOTE,
        "fee_summary": ("以上事项均不收取行政事业性收费" + (f"（{'；'.join(fee_notes)}）" if fee_notes else "") + "。"
                        if free else ""),
        "totals": {"matters": totals.matters, "materials": totals.materials_after,
                   "materials_before": totals.materials_before, "fields": totals.fields_after},
        "centre": centre, "hours": texts.OFFICE_HOURS, "issued_on": cn_date(date.today()),
        "catalogue_version": guide.catalogue_version,
    }


# ----------------------------------------------------------------------------- internals


def print_count(case, number):
    """How often the notice numbered ``number`` of ``case`` has been printed (its print events)."""
    count = 0
    for (detail,) in _PRINTS.rows(case.id):
        if detail and json.loads(detail).get("number") == number:
            count += 1
    return count


def _mark_prints(content, printed):
    """Set ``print_count`` (prints so far) and ``reprint`` (printing it now is a 补打)."""
    content["print_count"], content["reprint"] = printed, printed > 0


_PRINTS = Prepared(lambda case_id: CaseEvent.select(CaseEvent.detail)
                   .where((CaseEvent.case == case_id) & (CaseEvent.action == "print")).tuples())
