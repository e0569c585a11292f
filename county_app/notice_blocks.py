"""The blocks every printed notice is made of, as plain data: dates, the applicant, the agent,
the matters, the materials with how each was supplied, the clerk and the centre.

The applicant's ID number is printed masked but for its last four characters
(the credit code of a company is public and printed whole); dates are written
the Chinese way, ``2026年10月13日``. No Flask here.
"""
import json
import re

from . import settings
from .catalogue import vocabulary
from .intake.records import CaseItem, CaseMaterial
from .intake.statuses import ITEM_STATUSES, WAIVER_LABELS, dated
from .models import MatterRow, User


def cn_date(day):
    """``2026年10月13日`` for a date (or datetime); "" for None."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def print_mask(number):
    """An ID number as printed for the applicant: all but the last four characters masked."""
    value = str(number or "").strip()
    return "*" * max(len(value) - 4, 0) + value[-4:] if value else ""


def centre_info():
    """The centre's name, address, phone and office hours from the settings (the name has a plain default)."""
    return {"name": settings.get("centre.name") or "便民服务中心", "address": settings.get("centre.address"),
            "phone": settings.get("centre.phone"), "hours": settings.get("centre.hours")}


def form_of_address(kind):
    """How a notice speaks to the applicant of ``kind`` ("person" | "company"), and how the applicant signs.

    ``{"you": "您" | "贵单位", "self": "本人" | "本单位"}``: a company is 贵单位 and
    declares as 本单位; a person (and a notice for nobody yet) is 您 and 本人.
    """
    company = kind == "company"
    return {"you": "贵单位" if company else "您", "self": "本单位" if company else "本人"}


def distinct_notes(text):
    """``text`` with each note once: a merged material's 填报须知 repeats what each matter says.

    Notes are the clauses between "；", "。" and line ends; the first of equal
    ones stays where it was, and they are joined again by "；" into one sentence.
    """
    notes = [note.strip() for note in re.split(r"[；;。\n]+", text or "") if note.strip()]
    notes = list(dict.fromkeys(notes))
    return "；".join(notes) + "。" if notes else ""


def applicant_block(case):
    """The applicant as printed: label, name, ID (masked but the last four) or credit code, phone, address.

    ``you`` and ``self`` are the applicant's ``form_of_address``.
    """
    person = case.applicant_kind == "person"
    return {**form_of_address(case.applicant_kind), "label": "申请人" if person else "申请单位", "name": case.applicant_name,
            "id_label": "身份证号码" if person else "统一社会信用代码",
            "id_number": print_mask(case.id_number) if person else (case.credit_code or ""),
            "legal_representative": case.legal_representative, "phone": case.phone, "address": case.address}


def agent_block(case):
    """The agent (帮办代办) as printed, or None."""
    agent = json.loads(case.agent) if case.agent else None
    if not agent:
        return None
    return {"name": agent.get("name", ""), "relation": agent.get("relation", ""),
            "id_number": print_mask(agent.get("id_number")), "phone": agent.get("phone", "")}


def supplied_text(material):
    """How a checklist entry was supplied, as printed: 原件核验 / 复印件 N 份 / 扫描 N 页 / 免提交 … / 告知承诺 / 容缺."""
    status = material.status
    if status == "original_verified":
        kept = f"，留存复印件{material.copies_received}份" if material.copies_received else ""
        return "原件核验" + kept
    if status == "copy_received":
        return f"复印件{material.copies_received or material.copies}份"
    if status == "scanned":
        return f"扫描件{material.pages or 0}页"
    if status == "exempt":
        number = f"，编号：{material.licence_no}" if material.licence_no else ""
        return f"免提交（{WAIVER_LABELS.get(material.waiver, '数据共享')}{number}）"
    if status == "commitment":
        return "告知承诺（已签署承诺书）"
    if status == "deferred":
        return f"容缺后补，须于{dated(cn_date(material.deferred_until), material.deferred_complete)}前补交"
    return "未提交"


def material_requirement(form, copies):
    """``原件1份`` / ``复印件2份`` / ``原件（核验）和复印件1份`` for a catalogue form and copies."""
    if form == "original_and_copy":
        return f"原件（核验）和复印件{copies}份"
    return f"{vocabulary.word_for(vocabulary.MATERIAL_FORMS, form) or '原件'}{copies}份"


def items_of(case):
    """The items of ``case`` in order: name, department, time limit, due date, outcome and result."""
    rows = (CaseItem.select(CaseItem, MatterRow.result_name).join(MatterRow)
            .where(CaseItem.case == case.id).order_by(CaseItem.position, CaseItem.id))
    return [{"code": i.matter_code, "name": i.name, "department": i.department, "status": i.status,
             "time_limit": "即办" if i.handling == "instant" else f"{i.promised_days}个工作日",
             "due_date": cn_date(i.due_date), "outcome": ITEM_STATUSES.get(i.status, i.status),
             "result_name": i.matter.result_name, "result_no": i.result_no, "note": i.result_note} for i in rows]


NOT_RECEIVED = ("missing", "deferred")  # a 容缺 paper accepted without it is still to come, not received


def materials_of(case, *, received_only):
    """The checklist of ``case`` in order, with how each was supplied (``received_only``: only those handed
    in or otherwise supplied — neither missing nor 容缺 still to come, see ``deferred_of``)."""
    rows = CaseMaterial.of_case(case.id)
    return [{"code": m.code, "name": m.name, "status": m.status, "supplied": supplied_text(m),
             "necessity": vocabulary.word_for(vocabulary.NECESSITY, m.necessity)}
            for m in rows if not (received_only and m.status in NOT_RECEIVED)]


def deferred_of(case):
    """The 容缺 papers of ``case`` still to come (容缺待补), in order, with the date to bring each by."""
    return [{"code": m.code, "name": m.name, "until": dated(cn_date(m.deferred_until), m.deferred_complete)}
            for m in CaseMaterial.of_case(case.id) if m.status == "deferred"]


def matters_phrase(case, items):
    """“新生儿出生一件事”（共5个事项）, or the matters' names in quotes for single matters."""
    if case.bundle_name:
        return f"“{case.bundle_name}”（共{len(items)}个事项）"
    return "“" + "”“".join(i["name"] for i in items) + "”"


def clerk_info(username, centre):
    """The clerk's name and phone (``User.display_name``/``phone``; the centre's phone when none)."""
    user = User.get_or_none(User.username == username) if username else None
    name = (user.display_name or user.username) if user else (username or "")
    return {"name": name, "phone": (user.phone if user else "") or centre["phone"]}
