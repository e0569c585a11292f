"""The printed notices: what each carries, as plain data built from a case or a guide.

Case notices (``NOTICE_KINDS``: 收件回执, 受理通知书, 一次性补正告知书, 不予受理通知书,
办结通知书) and the 告知承诺书 carry the number, the applicant (the ID number
masked but for its last four characters, the phone), the agent, the matters,
the materials with how each was supplied, the dates in Chinese, the legal
texts of that kind (``notice_texts``), the clerk with a phone, the centre and
the seal. The 一次性告知单 is in ``notice_guide``. ``notice_page`` and ``commitment_page`` give the content to show
(reading only: opening a notice is not printing it); ``record_print`` logs a
print on the case when the page is printed (the same notice printed again is
a 补打). The blocks they are made of are in ``notice_blocks``. No Flask here.
"""
import json
from datetime import date
from types import SimpleNamespace

from . import notice_texts as texts
from .accounts import as_utc
from .db import db
from .intake import cases, events
from .intake.errors import Conflict, NotFound
from .intake.records import CaseEvent, CaseItem, CaseMaterial, Notice
from .intake.statuses import CASE_STATUSES, NOTICE_KINDS
from .notice_blocks import (  # noqa: F401  (centre_info, clerk_info and cn_date are part of this module's API)
    agent_block, applicant_block, centre_info, clerk_info, cn_date, distinct_notes, form_of_address, items_of,
    deferred_of, material_requirement, materials_of, matters_phrase)
from .prepared import Prepared
from .text import shown

COMMITMENT_TITLE = "证明事项告知承诺书"
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
        number, detail = _printed_notice(case, kind, material)
        events.note(case, "print", actor, kind=kind, number=number, **detail)
        count = print_count(case, number)
    return {"kind": kind, "number": number, "print_count": count, "reprint": count > 1}


def withdraw_print(case_no, kind, *, actor, count, material=None):
    """Take back print number ``count`` of notice ``kind``: the clerk says the dialog printed nothing.

    A browser raises the same print events whether its dialog printed or was
    cancelled, so the page logs each closed dialog as a print and the clerk
    takes back the one that did not come out. Only the latest print, and only
    by the user who logged it: Conflict otherwise. Logged as its own event
    (``print_withdrawn``), so the history keeps both. Gives the counts as
    ``record_print`` does, after the withdrawal.
    """
    with db.atomic():
        case = cases.get_case(case_no, actor=actor)
        number, detail = _printed_notice(case, kind, material)
        printed = print_count(case, number)
        last = _last_print(case, number)
        if printed == 0 or printed != count or last is None or last.actor != events.actor_name(actor):
            raise Conflict(f"{number} 的第{count}次打印不是您最近的一次打印记录，不能撤销；请刷新本页后再看。",
                           code="stale")
        events.note(case, "print_withdrawn", actor, kind=kind, number=number, count=count, **detail)
    return {"kind": kind, "number": number, "print_count": printed - 1, "reprint": printed - 1 > 0}


def prints_of(case_no, kind, *, actor, material=None):
    """How often notice ``kind`` of case ``case_no`` has been printed so far, as ``{"number", "print_count"}``.

    Reads only: the page asks just before it goes to paper whether this print is a 补打.
    """
    case = cases.get_case(case_no, actor=actor)
    number, _ = _printed_notice(case, kind, material)
    return {"kind": kind, "number": number, "print_count": print_count(case, number)}


def _printed_notice(case, kind, material):
    """The number of the notice a print is about and the detail its events carry; the checks of showing it."""
    if kind == "commitment":
        return commitment_letter(case, material)["number"], {"material": material}
    if kind in NOTICE_KINDS:
        return check_printable(case, kind).number, {}
    raise NotFound(f"没有“{shown(kind)}”这种通知书；可打印：{'、'.join(NOTICE_KINDS.values())}")


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
    receipts = sum(PRINT_EVENTS.get(e["action"], 0) for e in events if e["detail"].get("kind") == "receipt")
    if status == "rejected" and receipts <= 0:
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
    content["deferred"] = deferred_of(case)
    content["received_at"] = f"{cn_date(received)} {received:%H:%M}"
    you = content["applicant"]["you"]
    later = f"（另有容缺待补材料{len(content['deferred'])}项，见后表）" if content["deferred"] else ""
    content["paragraphs"] = [f"本中心于{content['received_at']}收到{you}提交的{content['matters_phrase']}申请材料，"
                             f"共{len(content['materials'])}项{later}，清单如下。"]
    content["notes"] = [texts.RECEIPT_NOTE]
    content["signature"] = "申请人（签字）"


def _acceptance(content, case, notice, details):
    content["materials"] = materials_of(case, received_only=True)
    content["deferred"] = deferred_of(case)  # listed apart: accepted without them, to be brought by a date
    content["accepted_on"], content["due_date"] = cn_date(case.accepted_on), cn_date(case.due_date)
    complete = ("主要申请材料齐全、符合法定形式，暂缺的材料实行容缺受理（见“容缺待补材料”，请按期补交）"
                if content["deferred"] else "申请材料齐全、符合法定形式")
    content["paragraphs"] = [
        f"{content['applicant']['you']}于{content['applied_on']}提出的{content['matters_phrase']}申请，{complete}，"
        f"本中心决定予以受理。"]
    content["due_note"] = "" if case.due_complete else texts.CALENDAR_NOTE
    content["notes"] = [texts.TIME_LIMIT_NOTE]
    if content["deferred"]:
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
    deadline_note = "" if details.get("calendar_complete", True) else texts.CALENDAR_NOTE
    # Grouped by how each was supplied: twelve papers all 原件核验 are one line, not twelve repeats of it.
    kept = {}
    for m in materials_of(case, received_only=False):  # the 容缺 ones too, with the date to bring them
        if m["status"] != "missing" and m["code"] not in {w["code"] for w in wanted}:
            kept.setdefault(m["supplied"], []).append(m["name"])
    content["kept"] = "；".join(f"{'、'.join(names)}，{how}" for how, names in kept.items())
    content["paragraphs"] = [
        f"{content['applicant']['you']}于{content['applied_on']}提出的{content['matters_phrase']}申请，经审查，申请材料不齐全或者"
        f"不符合法定形式。根据《中华人民共和国行政许可法》第三十二条的规定，现一次性告知{content['applicant']['you']}需要补正的全部材料如下：",
        f"请于{content['deadline']}前将上述材料补正齐全，到本中心窗口提交{deadline_note}。"]
    if details.get("override_reason"):
        content["paragraphs"].append(f"再次出具补正告知的原因：{details['override_reason']}")
    content["notes"] = [texts.CORRECTION_NOTE]
    content["legal"] = [texts.ARTICLE_32_CORRECTION]
    content["signature"] = "申请人（签字）"


def _rejection(content, case, notice, details):
    content["reason"] = details.get("reason") or case.rejected_reason
    content["refer_to"] = details.get("refer_to") or ""  # where the matter belongs, when the domain records it
    content["paragraphs"] = [
        f"{content['applicant']['you']}于{content['applied_on']}提出的{content['matters_phrase']}申请，经审查，本中心决定不予受理。",
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
        f"{content['applicant']['you']}于{content['applied_on']}提出、本中心于{cn_date(case.accepted_on)}受理的"
        f"{content['matters_phrase']}申请，已于{content['concluded_on']}办理完毕，各事项的办理结果如下。"]
    if case.delivery_method:
        delivered = cn_date(as_utc(case.delivered_at).astimezone()) if case.delivered_at else ""
        tracking = f"，快递单号：{case.tracking_no}" if case.tracking_no else ""
        content["delivery"] = f"{DELIVERY.get(case.delivery_method, case.delivery_method)}{tracking}（{delivered}）"
    else:
        content["delivery"] = texts.DELIVERY_PENDING.format(you=content["applicant"]["you"])
    if any(item["status"] == "denied" for item in content["matters"]):
        content["paragraphs"].append(texts.DENIAL_REMEDY)
        content["legal"] = [texts.ARTICLE_38_DENIAL, texts.REVIEW_BASIS]
    content["signature"] = "" if case.delivery_method == "mail" else "领取人（签字）"


BUILDERS = {"receipt": _receipt, "acceptance": _acceptance, "correction": _correction, "rejection": _rejection,
            "completion": _completion}


# ----------------------------------------------------------------------------- 告知承诺书


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
                  "instructions": distinct_notes(material.instructions)},
        "basis": texts.COMMITMENT_BASIS, "choice": texts.COMMITMENT_CHOICE, "check": texts.COMMITMENT_CHECK,
        "liability": list(texts.COMMITMENT_LIABILITY),
        "commitments": [text.format(self=form_of_address(case.applicant_kind)["self"]) for text in texts.COMMITMENTS],
        "copies_note": texts.COMMITMENT_COPIES, "issued_on": cn_date(today or date.today()),
        "clerk": clerk_info(case.registered_by, centre), "signature": "申请人（签字或盖章）", "seal": True,
        "reprint": False, "print_count": 0,
    }


# ----------------------------------------------------------------------------- internals


def print_count(case, number):
    """How often the notice numbered ``number`` of ``case`` has been printed: its prints less those withdrawn."""
    count = 0
    for action, detail, _ in _PRINTS.rows(case.id):
        if detail and json.loads(detail).get("number") == number:
            count += PRINT_EVENTS[action]
    return count


def _last_print(case, number):
    """The latest print event of the notice numbered ``number`` still standing, or None."""
    standing = []
    for action, detail, actor in _PRINTS.rows(case.id):
        if detail and json.loads(detail).get("number") == number:
            if action == "print":
                standing.append(actor)
            elif standing:
                standing.pop()
    return SimpleNamespace(actor=standing[-1]) if standing else None


def _mark_prints(content, printed):
    """Set ``print_count`` (prints so far) and ``reprint`` (printing it now is a 补打)."""
    content["print_count"], content["reprint"] = printed, printed > 0


# A print counts one, a withdrawn print (the clerk says the dialog printed nothing) takes one back.
PRINT_EVENTS = {"print": 1, "print_withdrawn": -1}
_PRINTS = Prepared(lambda case_id: CaseEvent.select(CaseEvent.action, CaseEvent.detail, CaseEvent.actor)
                   .where((CaseEvent.case == case_id) & CaseEvent.action.in_(list(PRINT_EVENTS)))
                   .order_by(CaseEvent.id).tuples())
