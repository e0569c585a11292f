"""The 一次性告知单 (one-time notice), as plain data: for a guide before a case exists, or again for a case.

``one_time_notice`` builds it from an ``intake.guide.Guide``; ``case_guide``
rebuilds the guide of a registered case from what the case recorded — its
catalogue version, bundle, answers, chosen matters, the applicant's kind and
whether an agent applies — so that it can be printed again (in large type for
someone who cannot read small print) without asking the questions again. It
is not numbered and its prints are not counted. No Flask here.
"""
import json
from datetime import date

from . import notice_texts as texts
from .catalogue import conditions, vocabulary
from .catalogue.merging import filled_in
from .intake import cases
from .intake.facts import KINDS, case_facts
from .intake.guide import guide_bundle, guide_matters
from .intake.records import CaseItem
from .notice_blocks import cn_date, form_of_address, material_requirement

GUIDE_TITLE = "一次性告知单"
WAIVER_HINTS = {"e_licence": "可调取电子证照，免提交", "data_sharing": "可通过数据共享核验，免提交",
                "commitment": "可签署告知承诺书，免提交"}


def case_guide(case_no, *, actor):
    """The guide of case ``case_no`` as registered (NotFound for a case ``actor`` may not see).

    The case's own catalogue version, not the one in force: the notice repeats
    what the applicant was told and what the case is held to.
    """
    case = cases.get_case(case_no, actor=actor)
    chosen = [code for (code,) in CaseItem.select(CaseItem.matter_code).where(CaseItem.case == case.id)
              .order_by(CaseItem.position, CaseItem.id).tuples()]
    facts = case_facts(kind=case.applicant_kind, agent=bool(case.agent and json.loads(case.agent)))
    if case.bundle_code:
        guide = guide_bundle(case.bundle_code, json.loads(case.answers or "{}"), chosen, version=case.catalogue,
                             facts=facts)
    else:
        guide = guide_matters(chosen, version=case.catalogue, facts=facts)
    return case, guide


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
    # 您 or 贵单位: the applicant's kind once it is known (a case's notice), else whom the bundle serves
    known = {word: kind for kind, word in KINDS.items()}.get(guide.facts.get(conditions.APPLICANT_KIND))
    return {
        "kind": "guide", "title": GUIDE_TITLE, "bundle_name": guide.bundle.name if guide.bundle else "",
        "you": form_of_address(known or (guide.bundle.audience if guide.bundle else "person"))["you"],
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
