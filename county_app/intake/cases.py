"""Registering a case (一表申请 → 办件) and reading it back.

Registration checks everything at once — the applicant, the agent, the bundle
and answers (through ``guide``), the form (through ``forms``) — and reports
every problem in one Invalid. The checklist is the merged materials of the
chosen matters that the answers and the case's facts ask for: the applicant's
kind and whether an agent applies decide a material's 适用条件. A registered case pins the catalogue version in
force, one item per matter (pinned to its ``MatterRow``) and one checklist
entry per merged material code, all in one transaction with its number, its
first event and its 收件回执 (numbered ``<case number>-01``). A case is read
back only as its reader may see it (``visibility``).
"""
import json
from datetime import date

from peewee import fn

from .. import audit
from ..db import db
from ..identity import IdentityError, check_credit_code, check_id_number, check_phone
from ..models import CatalogueVersion
from ..prepared import Prepared, insert_new
from ..text import TextError, typed_text
from . import events, namesearch, numbers
from .casejson import case_json, summary_json
from .checks import check_permission
from .errors import Conflict, Invalid, NotFound
from .forms import check_form, id_number_fields
from .facts import KINDS, agent_named, case_facts
from .guide import guide_bundle, guide_matters
from .lists import due_soon, find_cases, overdue, today
from .records import Case, CaseItem, CaseMaterial, Notice

__all__ = ["register_case", "get_case", "case_json", "summary_json", "reveal_id_number", "issue_notice",
           "find_cases", "overdue", "due_soon", "today"]

NAME_MAX_LENGTH = 200
ADDRESS_MAX_LENGTH = 500
LABELS = {
    "applicant.name": "申请人姓名（名称）",
    "applicant.address": "地址",
    "applicant.legal_representative": "法定代表人",
    "agent.name": "代办人姓名",
    "agent.relation": "代办人与申请人关系",
    "applicant.phone": "手机号码",
    "applicant.id_number": "身份证号码",
    "applicant.credit_code": "统一社会信用代码",
    "agent.phone": "代办人手机号码",
    "agent.id_number": "代办人身份证号码",
}


def register_case(*, bundle=None, matters=None, answers=None, applicant, agent=None, form=None, actor,
                  day=None, request_key=None):
    """Register a case and give its ``Case`` row (status ``registered``).

    ``bundle`` (a bundle code) with ``answers`` takes every matter the answers
    make applicable, or exactly ``matters`` when given; ``matters`` alone
    registers single matters. ``applicant``: ``kind`` person|company, ``name``,
    ``id_number`` (person) or ``credit_code`` (+ ``legal_representative``)
    (company), ``phone``, ``address``. ``agent`` (帮办代办): ``name``,
    ``id_number``, ``phone``, ``relation``. Raises Invalid listing every
    problem (fields like ``applicant.id_number``, ``answers.Q1``, ``matters``,
    ``form.SFZH``), Conflict ``not_configured`` without a centre code.
    ``day`` is the registration date (default today). A ``request_key``
    already registered by ``actor`` gives that case again (a form sent twice,
    or again after Back): one form, one case.
    """
    check_permission(actor, "cases.handle")
    key = events.checked_key(request_key)
    repeated = events.registered_with(key, actor)
    if repeated is not None:
        return repeated
    numbers.centre_code()
    day = day or date.today()
    # Checked before the write transaction, so that other writers do not wait
    # on the guide and the form checks; the version is re-checked inside.
    version = CatalogueVersion.in_force()
    if version is None:
        raise Conflict("还没有导入事项目录，不能登记办件", code="not_configured")
    problems = []
    person = _checked_applicant(applicant, problems)
    helper = _checked_agent(agent, problems)
    # The applicant's kind and the agent's presence decide the materials that hinge on them (材料 适用条件).
    known_kind = person["kind"] if isinstance(person["kind"], str) and person["kind"] in KINDS else None
    facts = case_facts(kind=known_kind, agent=helper is not None)
    guide = _guide(bundle, matters, answers, version, facts, problems)
    clean = {}
    if guide is not None:
        # Fields with a 预填来源 left blank take the applicant's, the agent's or another field's value.
        clean, errors = check_form(guide.fields, form if isinstance(form, dict) else {}, applicant=person,
                                   agent=helper)
        if form is not None and not isinstance(form, dict):
            errors.insert(0, {"field": "form", "message": "表单应为 {字段编码: 值}"})
        problems.extend(errors)
    if problems:
        raise Invalid(f"登记信息有 {len(problems)} 处问题，请逐项改正：" +
                      "；".join(p["message"] for p in problems[:5]), problems)
    with db.atomic():
        repeated = events.registered_with(key, actor)  # its twin, sent at the same moment, was first
        if repeated is not None:
            return repeated
        if CatalogueVersion.in_force().id != version.id:
            raise Conflict("事项目录刚刚更新，请重新核对办理事项和材料后再登记", code="stale")
        case_no = numbers.allocate(day)
        case = insert_new(Case(
            case_no=case_no, case_no_reversed=numbers.reversed_number(case_no), catalogue=version.id,
            bundle_code=guide.bundle.code if guide.bundle else None,
            bundle_name=guide.bundle.name if guide.bundle else "", status="registered",
            applicant_kind=person["kind"], applicant_name=person["name"], id_number=person["id_number"],
            credit_code=person["credit_code"], legal_representative=person["legal_representative"],
            phone=person["phone"], address=person["address"],
            agent=json.dumps(helper, ensure_ascii=False) if helper else "",
            agent_phone=helper["phone"] if helper else "",
            answers=json.dumps(guide.answers if guide.bundle else {}, ensure_ascii=False),
            form=json.dumps(clean, ensure_ascii=False),
            id_fields=json.dumps(id_number_fields(guide.fields)),
            registered_on=day, registered_by=events.actor_name(actor)))
        namesearch.index_case(case.id, person["name"], helper["name"] if helper else "")
        for position, matter in enumerate(guide.matters):
            insert_new(CaseItem(case=case.id, matter=matter.matter_id, matter_code=matter.code, name=matter.name,
                                department=matter.department, handling=matter.handling,
                                statutory_days=matter.statutory_days, promised_days=matter.promised_days,
                                position=position))
        for position, m in enumerate(guide.materials):
            # The facts are known now: a condition still open is a single matter's situation, which
            # nobody was asked about — the clerk sees the paper with it, but acceptance does not wait for it.
            necessity = "optional" if m.conditions else m.necessity
            insert_new(CaseMaterial(case=case.id, code=m.code, name=m.name, necessity=necessity, form=m.form,
                                    copies=m.copies, waiver=m.waiver, instructions=m.instructions,
                                    matters=json.dumps(list(m.matters)), position=position,
                                    condition=m.condition_text if m.conditions else ""))
        case.request_key = key
        events.start(case, actor, bundle=case.bundle_code, matters=[m.code for m in guide.matters],
                     catalogue_version=version.version)
        # The 收件回执 is numbered now, when the papers are received: printing it later only logs the print.
        issue_notice(case, "receipt", actor, day=day)
    return case


def get_case(case_no, *, actor):
    """The ``Case`` row with number ``case_no`` as ``actor`` may see it; NotFound if unknown or not visible."""
    return events.load_case(case_no, actor=actor)


def reveal_id_number(case_no, actor):
    """The applicant's full ID number; the viewing is logged as an event ``view_id`` (so: a POST, never a GET)."""
    with db.atomic():
        case = events.load_case(case_no, actor=actor)
        if not case.id_number:
            raise NotFound(f"办件 {case.case_no} 的申请人没有身份证号码")
        if events.note(case, "view_id", actor) is not None:
            # Also in the 操作日志 (at the hub it is only there): who looked at whose full number is what
            # an administrator audits.
            audit.record(events.actor_name(actor), "case.view_id", "case", case.case_no)
    return case.id_number


def issue_notice(case, kind, actor, *, deadline=None, day=None, **content):
    """Record a notice of ``kind`` for ``case``, numbered case number + "-" + per-case sequence."""
    count = _NOTICE_COUNT.scalar(case.id)
    return insert_new(Notice(case=case.id, kind=kind, number=f"{case.case_no}-{count + 1:02d}",
                             issued_on=day or date.today(), issued_by=events.actor_name(actor), deadline=deadline,
                             content=json.dumps(content, ensure_ascii=False, default=str)))


_NOTICE_COUNT = Prepared(lambda case_id: Notice.select(fn.COUNT(Notice.id)).where(Notice.case == case_id))


# ----------------------------------------------------------------------------- checks


def _guide(bundle, matters, answers, version, facts, problems):
    """The guide for the request and the case's ``facts``, or None with the problems noted."""
    try:
        if bundle:
            guide = guide_bundle(str(bundle), answers or {}, matters, version=version, facts=facts)
        elif matters is not None:
            guide = guide_matters(matters, version=version, facts=facts)
        else:
            problems.append({"field": "bundle", "message": "请选择一件事，或给出要办理的事项"})
            return None
    except NotFound as exc:
        problems.append({"field": "bundle", "message": exc.message})
        return None
    except Invalid as exc:
        problems.extend(exc.details or [{"field": "matters", "message": exc.message}])
        return None
    if guide.questions:
        problems.extend({"field": f"answers.{q.code}", "message": f"请先回答情形问题 {q.code}「{q.text}」"}
                        for q in guide.questions)
        return None
    if not guide.matters:
        problems.append({"field": "matters", "message": "按情形问题的回答，没有需要办理的事项"})
        return None
    return guide


def _checked_applicant(applicant, problems):
    """The applicant normalised; problems noted as ``applicant.<field>``."""
    if not isinstance(applicant, dict):
        problems.append({"field": "applicant", "message": "缺少申请人信息"})
        applicant = {}
    kind = applicant.get("kind") or "person"
    person = {"kind": kind, "name": _text(applicant, "name", "applicant", problems, required=True),
              "id_number": None, "credit_code": None, "legal_representative": "",
              "address": _text(applicant, "address", "applicant", problems, limit=ADDRESS_MAX_LENGTH),
              "phone": _identity(check_phone, applicant.get("phone"), "applicant.phone", problems)}
    if kind == "person":
        card = _identity(check_id_number, applicant.get("id_number"), "applicant.id_number", problems)
        person["id_number"] = card.number if card else None
    elif kind == "company":
        person["credit_code"] = _identity(check_credit_code, applicant.get("credit_code"),
                                          "applicant.credit_code", problems)
        person["legal_representative"] = _text(applicant, "legal_representative", "applicant", problems)
    else:
        problems.append({"field": "applicant.kind", "message": "申请人类型应为 person（个人）或 company（企业）"})
    return person


def _checked_agent(agent, problems):
    """The agent (帮办代办) normalised, or None; problems noted as ``agent.<field>``."""
    if agent in (None, ""):
        return None
    if not isinstance(agent, dict):
        problems.append({"field": "agent", "message": "代办人信息格式不正确"})
        return None
    if not agent_named(agent):  # a blank agent section is no agent, as for the guide
        return None
    card = _identity(check_id_number, agent.get("id_number"), "agent.id_number", problems)
    phone = agent.get("phone")
    return {"name": _text(agent, "name", "agent", problems, required=True),
            "id_number": card.number if card else None,
            "phone": _identity(check_phone, phone, "agent.phone", problems) if phone else "",
            "relation": _text(agent, "relation", "agent", problems)}


def _identity(check, value, field, problems):
    if isinstance(value, bool) or not isinstance(value, (str, int, type(None))):
        problems.append({"field": field, "message": f"{LABELS.get(field, field)}应为文字"})
        return None
    try:
        return check(value if isinstance(value, str) else ("" if value is None else str(value)))
    except IdentityError as exc:
        problems.append({"field": field, "message": str(exc)})
        return None


def _text(data, key, prefix, problems, *, required=False, limit=NAME_MAX_LENGTH):
    """``data[key]`` through ``typed_text`` (the one rule for typed text); problems noted as ``prefix.key``."""
    field = f"{prefix}.{key}"
    label = LABELS.get(field, field)
    try:
        return typed_text(data.get(key), label, max_length=limit, required=required)
    except TextError as exc:
        problems.append({"field": field, "message": str(exc)})
        return ""
