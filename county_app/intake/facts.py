"""The facts of a case that a material's 适用条件 may name, and the materials a bundle's answers and they ask for
(and the form fields they fill in: a conditional 预填来源).

Two facts (catalogue-xlsx.md, 材料): ``代办`` — 是 when an agent (帮办代办)
applies for the applicant — and ``申请人类型`` — 个人 or 企业. Before the
applicant and the agent are known a fact is None, and a paper that hinges on
it stays listed with what is still open (see ``intake.guide``).
"""
from collections.abc import Mapping
from dataclasses import replace

from ..catalogue import conditions, vocabulary
from .errors import Invalid

KINDS = {"person": "个人", "company": "企业"}


def case_facts(*, kind=None, agent=None):
    """The facts a material's 适用条件 may name, None where not known yet.

    ``kind``: the applicant's kind, ``person`` or ``company`` (None: not
    known); ``agent``: whether an agent (帮办代办) applies for the applicant —
    True or False, or an agent's details (present when any value is filled
    in), None when not known. Raises Invalid (``applicant.kind``) for another kind.
    """
    if kind is not None and kind not in KINDS:
        message = "申请人类型应为 person（个人）或 company（企业）"
        raise Invalid(message, [{"field": "applicant.kind", "message": message}])
    if isinstance(agent, Mapping):
        agent = agent_named(agent)
    return {conditions.AGENT: None if agent is None else ("是" if agent else "否"),
            conditions.APPLICANT_KIND: KINDS.get(kind)}


def agent_named(details):
    """Whether an agent's details (a mapping of what was typed) name an agent: any value filled in.

    The one rule for "is there an agent" — registration, the guide and the
    intake page (static/intake.js mirrors it) — so that a blank agent section
    is no agent everywhere.
    """
    return any(value not in (None, "") and not (isinstance(value, str) and not value.strip())
               for value in details.values())


def asked_materials(materials, answers, facts):
    """The materials (each a row of one matter) that ``answers`` and ``facts`` ask for, or still may.

    A material whose condition fails is left out; one whose condition holds
    loses it; one that hinges on an unknown fact keeps only the clauses over
    the facts still open, as its one condition. ``answers`` None: no bundle
    asks its situation questions (a single matter), so a clause over a question
    stays open like an unknown fact — the paper is listed with its situation
    (出生登记 alone still lists 结婚证 for married parents), never dropped.
    """
    asked = []
    for material in materials:
        if not material.conditions:
            asked.append(material)
            continue
        (condition,) = material.conditions  # one matter's row carries its own condition only
        clauses = conditions.parse(condition)
        situations = () if answers is not None else tuple(c for c in clauses if c.question not in conditions.FACTS)
        if situations:
            clauses = tuple(c for c in clauses if c.question in conditions.FACTS)
        holds = conditions.verdict(clauses, answers or {}, facts)
        if holds is False:
            continue
        still_open = situations + (() if holds else conditions.open_clauses(clauses, facts))
        still_open = (conditions.unparse(still_open),) if still_open else ()
        asked.append(replace(material, conditions=still_open))  # the rows are cached and shared
    return asked


def settled_fields(fields, answers, facts):
    """The form fields (each a row of one matter) with their conditional 预填来源 settled.

    A source whose condition holds (申请人.姓名（当 Q5=母亲） with Q5 answered 母亲)
    fills as if written without it; one whose condition fails, or names a
    question that is not asked (``answers`` None: a single matter), fills
    nothing. One that hinges on a fact not known yet keeps its condition and
    fills nothing until the fact is known (``forms.prefill``).
    """
    settled = []
    for field in fields:
        source, condition = vocabulary.prefill_parts(field.prefill)
        if not condition:
            settled.append(field)
            continue
        clauses = conditions.parse(condition)
        if answers is None and any(c.question not in conditions.FACTS for c in clauses):
            holds = False
        else:
            holds = conditions.verdict(clauses, answers or {}, facts)
        if holds is not conditions.UNDECIDED:
            field = replace(field, prefill=source if holds else None)  # the rows are cached and shared
        settled.append(field)
    return settled
